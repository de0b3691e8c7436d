/**
 * The softmax probability head's integer form (circuits/lib/softmax.circom `SoftmaxValues`; docs/circuits.md,
 * "Softmax"): its parameters, its bit-exact twin, the bounds its templates are sized by and its constraint cost.
 * Browser-safe.
 */
import { type PiecewisePoly, piecewiseAccBits, piecewiseConstraints, piecewiseEval, piecewiseOutRange } from "./activations";
import { type Interval, accumulatorBits, differenceBits, requantize, requantizeConstraints } from "./fixed-point";

/**
 * The last layer of a model whose head reads probabilities: with m the largest logit, d = requantize(z - m, diffShift,
 * diffBits) (<= 0, saturating where exp is 0), e = exp(d) by the piecewise polynomial `exp` (diffBits-bit input at
 * `exp.inFrac`, eBits-bit output at `exp.outFrac`), and p_i = round(e_i * 2^outFrac / sum_j e_j).
 */
export interface SoftmaxParams {
  /** Logits: width and scale (the previous layer's outBits and outFrac). */
  inBits: number;
  inFrac: number;
  /** The difference z - m is rounded by diffShift bits to a diffBits-bit value at scale 2^-(inFrac - diffShift). */
  diffShift: number;
  diffBits: number;
  /** exp on the difference: a PiecewisePoly with inBits = diffBits, and its scales. */
  exp: Omit<PiecewisePoly, "inBits"> & { inFrac: number; outFrac: number };
  /** Probabilities: width and scale (1.0 = 2^outFrac). */
  outBits: number;
  outFrac: number;
}

/** The exponential as the PiecewisePoly it is. */
export function expPoly(s: SoftmaxParams): PiecewisePoly {
  const { segmentBits, degree, shift, coeffs, outBits } = s.exp;
  return { inBits: s.diffBits, segmentBits, degree, shift, coeffs, outBits };
}

/** Round half up of num / den (den > 0): DivRound's twin. */
export function divRound(num: bigint, den: bigint): bigint {
  if (num < 0n || den <= 0n) throw new RangeError(`divRound: needs num >= 0 and den > 0, got ${num} / ${den}`);
  return (2n * num + den) / (2n * den);
}

/** Twin of `SoftmaxValues`: the probabilities (at 2^-outFrac) of the logits z. */
export function softmaxEval(s: SoftmaxParams, z: readonly bigint[]): bigint[] {
  const m = z.reduce((a, b) => (b > a ? b : a));
  const poly = expPoly(s);
  const e = z.map((v) => piecewiseEval(poly, requantize(v - m, s.diffShift, s.diffBits, false)));
  const sum = e.reduce((a, b) => a + b, 0n);
  return e.map((v) => divRound(v << BigInt(s.outFrac), sum));
}

/** The widths SoftmaxValues is instantiated with, for n logits in `logits` (their hull). */
export interface SoftmaxBounds {
  D: number;
  Ad: number;
  Ae: number;
  Bq: number;
  Br: number;
  /** Range of exp's output over the differences that can occur. */
  e: Interval;
}

export function softmaxBounds(s: SoftmaxParams, n: number, logits: Interval): SoftmaxBounds {
  const D = differenceBits(logits);
  const span = logits.hi - logits.lo;
  const Ad = accumulatorBits({ lo: -span, hi: 0n });
  const poly = expPoly(s);
  const dLo = requantize(-span, s.diffShift, s.diffBits, false);
  const e = piecewiseOutRange(poly, { lo: dLo, hi: 0n });
  const twiceSum = 2n * BigInt(n) * (e.hi > 0n ? e.hi : 1n);
  return { D, Ad, Ae: piecewiseAccBits(poly), Bq: s.outFrac + 1, Br: twiceSum.toString(2).length, e };
}

/** --O2 constraints of SoftmaxValues over n logits: the maximum, then per logit the difference, exp and division. */
export function softmaxConstraints(s: SoftmaxParams, n: number, b: SoftmaxBounds): number {
  const poly = expPoly(s);
  return (
    (n - 1) * (b.D + 2) +
    n * (requantizeConstraints(b.Ad, s.diffShift, s.diffBits, false) + piecewiseConstraints(poly, b.Ae) + 1 + b.Bq + 2 * b.Br)
  );
}
