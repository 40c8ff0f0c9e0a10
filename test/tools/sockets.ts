/** What this process's sockets look like to the kernel (Linux /proc), for tests of binding and closing. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One socket of `/proc/self/net/{udp,udp6,tcp,tcp6}`. */
export interface KernelSocket {
  readonly protocol: 'udp' | 'tcp';
  readonly localPort: number;
  /** Kernel state: for TCP 0x0A is LISTEN; UDP sockets show 0x07. */
  readonly state: number;
  /** Bytes queued for reading (the kernel's rx_queue, in buffer units). */
  readonly rxQueueBytes: number;
  readonly inode: number;
}

/** Every socket the kernel lists for this network namespace (IPv4 and IPv6). */
export function kernelSockets(): KernelSocket[] {
  const out: KernelSocket[] = [];
  for (const file of ['udp', 'udp6', 'tcp', 'tcp6'] as const) {
    const protocol = file.startsWith('udp') ? 'udp' : 'tcp';
    let text = '';
    try { text = readFileSync(`/proc/self/net/${file}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const [, local, , state, queues, , , , , inode] = f;
      out.push({
        protocol, localPort: parseInt(local!.split(':').pop()!, 16), state: parseInt(state!, 16),
        rxQueueBytes: parseInt(queues!.split(':')[1]!, 16), inode: Number(inode),
      });
    }
  }
  return out;
}

/** Inodes of the sockets this process holds a descriptor of. */
export function ownSocketInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(Number(m[1]));
    } catch { /* closed while listing */ }
  }
  return inodes;
}

/**
 * Sockets of this process bound to `port` (UDP, and TCP in any state but TIME_WAIT, which holds no
 * descriptor). Empty once every socket on the port is closed: the port is free again, shown
 * without binding it (which could race another process for it).
 */
export function ownSocketsOn(port: number): KernelSocket[] {
  const own = ownSocketInodes();
  return kernelSockets().filter((s) => s.localPort === port && s.inode !== 0 && own.has(s.inode));
}

/**
 * The ports of the IPv4 UDP sockets bound to `address` as the kernel lists them: how a daemon told to
 * listen on port 0 of a loopback address of its own is found, since it does not print the port.
 */
export function udpPortsOn(address: string): number[] {
  // /proc/net/udp writes the address as the u32 in host (little-endian) order, in hex.
  const hex = address.split('.').reverse().map((o) => Number(o).toString(16).padStart(2, '0')).join('').toUpperCase();
  let text = '';
  try { text = readFileSync('/proc/net/udp', 'utf8'); } catch { return []; }
  const out: number[] = [];
  for (const line of text.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (local?.toUpperCase().startsWith(`${hex}:`)) out.push(parseInt(local.split(':')[1]!, 16));
  }
  return out;
}
