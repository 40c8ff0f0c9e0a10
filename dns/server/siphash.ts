/**
 * SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018 §4.4 uses for DNS server cookies.
 * 64-bit words are kept as pairs of unsigned 32-bit halves so no BigInt is allocated per packet.
 */

// State: v0..v3 as [hi, lo] pairs, in one typed array to avoid allocation.
const v = new Uint32Array(8);

function add(a: number, b: number): void {
  const lo = (v[a + 1]! + v[b + 1]!) >>> 0;
  v[a] = (v[a]! + v[b]! + (lo < v[a + 1]! ? 1 : 0)) >>> 0;
  v[a + 1] = lo;
}

function rotl(a: number, n: number): void {
  const hi = v[a]!;
  const lo = v[a + 1]!;
  if (n === 32) {
    v[a] = lo;
    v[a + 1] = hi;
  } else if (n < 32) {
    v[a] = ((hi << n) | (lo >>> (32 - n))) >>> 0;
    v[a + 1] = ((lo << n) | (hi >>> (32 - n))) >>> 0;
  } else {
    const m = n - 32;
    v[a] = ((lo << m) | (hi >>> (32 - m))) >>> 0;
    v[a + 1] = ((hi << m) | (lo >>> (32 - m))) >>> 0;
  }
}

function xor(a: number, b: number): void {
  v[a] = (v[a]! ^ v[b]!) >>> 0;
  v[a + 1] = (v[a + 1]! ^ v[b + 1]!) >>> 0;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function round(): void {
  add(V0, V1); rotl(V1, 13); xor(V1, V0); rotl(V0, 32);
  add(V2, V3); rotl(V3, 16); xor(V3, V2);
  add(V0, V3); rotl(V3, 21); xor(V3, V0);
  add(V2, V1); rotl(V1, 17); xor(V1, V2); rotl(V2, 32);
}

/** Little-endian u32 of `b` at `i`, reading zero past `end`. */
function le32(b: Uint8Array, i: number, end: number): number {
  let x = 0;
  for (let k = 3; k >= 0; k--) x = (x * 256) + (i + k < end ? b[i + k]! : 0);
  return x >>> 0;
}

/** SipHash-2-4 of `data[start..end)` under the 16-byte `key`, written as 8 bytes (little-endian, as the reference) into `out` at `at`. */
export function sipHash24(key: Uint8Array, data: Uint8Array, out: Uint8Array, at = 0, start = 0, end = data.length): void {
  const k0lo = le32(key, 0, 16);
  const k0hi = le32(key, 4, 16);
  const k1lo = le32(key, 8, 16);
  const k1hi = le32(key, 12, 16);
  // "somepseudorandomlygeneratedbytes"
  v[0] = (0x736f6d65 ^ k0hi) >>> 0; v[1] = (0x70736575 ^ k0lo) >>> 0;
  v[2] = (0x646f7261 ^ k1hi) >>> 0; v[3] = (0x6e646f6d ^ k1lo) >>> 0;
  v[4] = (0x6c796765 ^ k0hi) >>> 0; v[5] = (0x6e657261 ^ k0lo) >>> 0;
  v[6] = (0x74656462 ^ k1hi) >>> 0; v[7] = (0x79746573 ^ k1lo) >>> 0;
  const len = end - start;
  const full = start + (len & ~7);
  let i = start;
  for (; i < full; i += 8) {
    const mlo = le32(data, i, end);
    const mhi = le32(data, i + 4, end);
    v[6] = (v[6]! ^ mhi) >>> 0; v[7] = (v[7]! ^ mlo) >>> 0;
    round(); round();
    v[0] = (v[0]! ^ mhi) >>> 0; v[1] = (v[1]! ^ mlo) >>> 0;
  }
  // Last block: the remaining bytes, and the length's low byte in the top byte.
  const mlo = le32(data, i, end);
  const mhi = ((le32(data, i + 4, end) & 0x00ffffff) | ((len & 0xff) << 24)) >>> 0;
  v[6] = (v[6]! ^ mhi) >>> 0; v[7] = (v[7]! ^ mlo) >>> 0;
  round(); round();
  v[0] = (v[0]! ^ mhi) >>> 0; v[1] = (v[1]! ^ mlo) >>> 0;
  v[4] = (v[4]! ^ 0) >>> 0; v[5] = (v[5]! ^ 0xff) >>> 0;
  round(); round(); round(); round();
  const hi = (v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0;
  const lo = (v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0;
  for (let k = 0; k < 4; k++) {
    out[at + k] = (lo >>> (8 * k)) & 0xff;
    out[at + 4 + k] = (hi >>> (8 * k)) & 0xff;
  }
}
