import { randomUUID } from 'node:crypto';
import type { EmuResponse } from '../core';

/** A parsed Azure Resource Manager path the emulator serves. Segment names are matched case-insensitively, like ARM. */
export type ArmRoute =
  | { readonly kind: 'vm'; readonly sub: string; readonly rg: string; readonly name: string }
  | { readonly kind: 'vmInstanceView'; readonly sub: string; readonly rg: string; readonly name: string }
  | { readonly kind: 'vmAction'; readonly sub: string; readonly rg: string; readonly name: string; readonly action: string }
  | { readonly kind: 'skus'; readonly sub: string }
  | { readonly kind: 'locations'; readonly sub: string }
  | { readonly kind: 'vmList'; readonly sub: string; readonly rg: string }
  | { readonly kind: 'vmLocationList'; readonly sub: string; readonly location: string }
  | { readonly kind: 'operation'; readonly sub: string; readonly location: string; readonly id: string }
  | { readonly kind: 'nic'; readonly sub: string; readonly rg: string; readonly name: string }
  | { readonly kind: 'nicList'; readonly sub: string; readonly rg: string }
  | { readonly kind: 'pip'; readonly sub: string; readonly rg: string; readonly name: string }
  | { readonly kind: 'pipList'; readonly sub: string; readonly rg: string };

const SEG = '([^/]+)';
const RG = `^/subscriptions/${SEG}/resourcegroups/${SEG}/providers/`;
const ROUTES: ReadonlyArray<readonly [RegExp, (m: string[]) => ArmRoute]> = [
  [new RegExp(`${RG}microsoft\\.compute/virtualmachines/${SEG}/(start|poweroff|deallocate|restart)/?$`, 'i'),
    (m) => ({ kind: 'vmAction', sub: m[1], rg: m[2], name: m[3], action: m[4].toLowerCase() })],
  [new RegExp(`^/subscriptions/${SEG}/providers/microsoft\\.compute/skus/?$`, 'i'), (m) => ({ kind: 'skus', sub: m[1] })],
  [new RegExp(`^/subscriptions/${SEG}/locations/?$`, 'i'), (m) => ({ kind: 'locations', sub: m[1] })],
  [new RegExp(`${RG}microsoft\\.compute/virtualmachines/${SEG}/instanceview/?$`, 'i'), (m) => ({ kind: 'vmInstanceView', sub: m[1], rg: m[2], name: m[3] })],
  [new RegExp(`${RG}microsoft\\.compute/virtualmachines/${SEG}/?$`, 'i'), (m) => ({ kind: 'vm', sub: m[1], rg: m[2], name: m[3] })],
  [new RegExp(`${RG}microsoft\\.compute/virtualmachines/?$`, 'i'), (m) => ({ kind: 'vmList', sub: m[1], rg: m[2] })],
  [new RegExp(`^/subscriptions/${SEG}/providers/microsoft\\.compute/locations/${SEG}/virtualmachines/?$`, 'i'),
    (m) => ({ kind: 'vmLocationList', sub: m[1], location: m[2] })],
  [new RegExp(`^/subscriptions/${SEG}/providers/microsoft\\.compute/locations/${SEG}/operations/${SEG}/?$`, 'i'),
    (m) => ({ kind: 'operation', sub: m[1], location: m[2], id: m[3] })],
  [new RegExp(`${RG}microsoft\\.network/networkinterfaces/${SEG}/?$`, 'i'), (m) => ({ kind: 'nic', sub: m[1], rg: m[2], name: m[3] })],
  [new RegExp(`${RG}microsoft\\.network/networkinterfaces/?$`, 'i'), (m) => ({ kind: 'nicList', sub: m[1], rg: m[2] })],
  [new RegExp(`${RG}microsoft\\.network/publicipaddresses/${SEG}/?$`, 'i'), (m) => ({ kind: 'pip', sub: m[1], rg: m[2], name: m[3] })],
  [new RegExp(`${RG}microsoft\\.network/publicipaddresses/?$`, 'i'), (m) => ({ kind: 'pipList', sub: m[1], rg: m[2] })],
];

/** The route of an ARM path, or undefined when the emulator does not serve it. */
export function parseArmPath(path: string): ArmRoute | undefined {
  for (const [re, make] of ROUTES) {
    const m = re.exec(path);
    if (m) return make(m.map((s) => decodeURIComponent(s)));
  }
  return undefined;
}

/** ARM's per-request headers: every answer carries a request id and a correlation id. */
export function armHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'x-ms-request-id': randomUUID(), 'x-ms-correlation-request-id': randomUUID(), ...extra };
}

/** A JSON answer with ARM's headers. */
export function armJson(status: number, body: unknown, headers: Record<string, string> = {}): EmuResponse {
  return { status, headers: armHeaders({ 'content-type': 'application/json; charset=utf-8', ...headers }), body: JSON.stringify(body) };
}

/** An empty answer with ARM's headers (204 of a DELETE, 202 of a poll). */
export function armEmpty(status: number, headers: Record<string, string> = {}): EmuResponse {
  return { status, headers: armHeaders(headers) };
}

/** ARM's error envelope `{ "error": { "code", "message", "target"? } }`. */
export function armError(status: number, code: string, message: string, options: { target?: string; headers?: Record<string, string> } = {}): EmuResponse {
  const error = options.target === undefined ? { code, message } : { code, message, target: options.target };
  return armJson(status, { error }, options.headers);
}

/** ARM's canonical resource id of a resource in a resource group. */
export function resourceId(sub: string, rg: string, provider: string, type: string, name: string): string {
  return `/subscriptions/${sub}/resourceGroups/${rg}/providers/${provider}/${type}/${name}`;
}

/** The key the emulator stores a resource under: ARM ids are case-insensitive. */
export function resourceKey(sub: string, rg: string, name: string): string {
  return resourceId(sub, rg, 'Microsoft.Compute', 'virtualMachines', name).toLowerCase();
}

/** ARM location names are lower case without spaces (`West Europe` is `westeurope`). */
export function normalizeLocation(location: string): string {
  return location.replace(/\s+/g, '').toLowerCase();
}
