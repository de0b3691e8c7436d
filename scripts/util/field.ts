/** BN254 scalar field modulus: every public signal and circuit value lives below it. */
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Signed integer -> field element (a negative v becomes r - |v|). */
export function toField(v: bigint): bigint {
  const m = v % SNARK_FIELD;
  return m < 0n ? m + SNARK_FIELD : m;
}

/** Field element -> signed integer, reading values above r/2 as negative. */
export function fromField(x: bigint): bigint {
  return x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x;
}

/** base^exp mod m (square and multiply). */
export function modPow(base: bigint, exp: bigint, m: bigint = SNARK_FIELD): bigint {
  let r = 1n;
  let b = ((base % m) + m) % m;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/**
 * Inverse mod a prime m.
 * @throws if a is 0 mod m.
 */
export function modInv(a: bigint, m: bigint = SNARK_FIELD): bigint {
  const x = ((a % m) + m) % m;
  if (x === 0n) throw new Error("modInv: 0 has no inverse");
  return modPow(x, m - 2n, m);
}

/**
 * Inverses of every value mod the prime m with one modular inversion (Montgomery's trick), in place order.
 * @throws if a value is 0 mod m.
 */
export function batchInverse(values: bigint[], m: bigint = SNARK_FIELD): bigint[] {
  const n = values.length;
  const prefix: bigint[] = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * values[i]) % m;
  }
  let inv = modInv(acc, m);
  const out: bigint[] = new Array<bigint>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (inv * prefix[i]) % m;
    inv = (inv * values[i]) % m;
  }
  return out;
}

const MASK64 = (1n << 64n) - 1n;

/** Writes a non-negative x < 2^256 as 32 little-endian bytes at `offset`. */
export function writeU256LE(buf: Buffer, offset: number, x: bigint): void {
  buf.writeBigUInt64LE(x & MASK64, offset);
  buf.writeBigUInt64LE((x >> 64n) & MASK64, offset + 8);
  buf.writeBigUInt64LE((x >> 128n) & MASK64, offset + 16);
  buf.writeBigUInt64LE(x >> 192n, offset + 24);
}

/** Reads 32 little-endian bytes at `offset` as a non-negative integer. */
export function readU256LE(buf: Buffer, offset: number): bigint {
  const w0 = buf.readBigUInt64LE(offset);
  const w1 = buf.readBigUInt64LE(offset + 8);
  const w2 = buf.readBigUInt64LE(offset + 16);
  const w3 = buf.readBigUInt64LE(offset + 24);
  if (w1 === 0n && w2 === 0n && w3 === 0n) return w0;
  return w0 | (w1 << 64n) | (w2 << 128n) | (w3 << 192n);
}
