/**
 * Bit-exact TypeScript twins of the circuit templates in circuits/lib (BigInt arithmetic). Each function computes
 * exactly what its template constrains; the circuit tests compare witnesses against these.
 */

/** floor(a / 2^k) for signed a (BigInt division truncates toward zero, this floors). */
export function floorShift(a: bigint, k: number): bigint {
  const d = 1n << BigInt(k);
  const q = a / d;
  return a < 0n && q * d !== a ? q - 1n : q;
}

/** Output range of a requantization: [lo, hi]. */
export function requantRange(outBits: number, relu: boolean): { lo: bigint; hi: bigint } {
  return relu ? { lo: 0n, hi: (1n << BigInt(outBits - 1)) - 1n } : { lo: -(1n << BigInt(outBits - 1)), hi: (1n << BigInt(outBits - 1)) - 1n };
}

/** Twin of `Requantize(A, k, outBits, relu)`: clamp(floor((acc + 2^(k-1)) / 2^k), lo, hi). */
export function requantize(acc: bigint, k: number, outBits: number, relu: boolean): bigint {
  const half = k > 0 ? 1n << BigInt(k - 1) : 0n;
  const q = floorShift(acc + half, k);
  const { lo, hi } = requantRange(outBits, relu);
  return q < lo ? lo : q > hi ? hi : q;
}

/** Twin of `Argmax(n, bits)`: index of the maximum, lowest index on ties. */
export function argmax(v: readonly bigint[]): number {
  if (v.length === 0) throw new Error("argmax of an empty vector");
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Signed range of a `bits`-bit value. */
export function signedRange(bits: number): { lo: bigint; hi: bigint } {
  return { lo: -(1n << BigInt(bits - 1)), hi: (1n << BigInt(bits - 1)) - 1n };
}

/** Integer interval [lo, hi]. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

/** Bounds of sum_i w[i] * x_i + b for every x_i in `x` (interval arithmetic, exact for independent inputs). */
export function affineBounds(w: readonly bigint[], b: bigint, x: Interval): Interval {
  let lo = b;
  let hi = b;
  for (const wi of w) {
    if (wi >= 0n) {
      lo += wi * x.lo;
      hi += wi * x.hi;
    } else {
      lo += wi * x.hi;
      hi += wi * x.lo;
    }
  }
  return { lo, hi };
}

/** Smallest A with [lo, hi] inside [-2^(A-1), 2^(A-1)): the `A` parameter of Requantize. */
export function accumulatorBits(iv: Interval): number {
  let a = 1;
  while (-(1n << BigInt(a - 1)) > iv.lo || (1n << BigInt(a - 1)) <= iv.hi) a++;
  return a;
}

/** Twin of `DenseOpen`: requantize(W x + B) per output. */
export function denseOpen(x: readonly bigint[], W: readonly (readonly bigint[])[], B: readonly bigint[], k: number, outBits: number, relu: boolean): bigint[] {
  return W.map((row, j) => {
    if (row.length !== x.length) throw new Error(`dense: weight row ${j} has ${row.length} entries, input has ${x.length}`);
    let acc = B[j];
    for (let i = 0; i < x.length; i++) acc += row[i] * x[i];
    return requantize(acc, k, outBits, relu);
  });
}
