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
export function expPoly(s: Pick<SoftmaxParams, "diffBits" | "exp">): PiecewisePoly {
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

/**
 * The last layer of a model whose head reads log-probabilities (PyTorch's log_softmax; circuit `LogSoftmaxValues`):
 * d and e as in the softmax, S = sum_j e_j, S' = requantize(S, sumShift, log.inBits) and lse = log(S') by the
 * piecewise polynomial `log` (at the scale of d), out_i = d_i - lse: log p_i at 2^-(inFrac - diffShift).
 */
export interface LogSoftmaxParams extends Omit<SoftmaxParams, "outBits" | "outFrac"> {
  /** The sum of the exponentials is shifted right by sumShift bits to log.inBits bits. */
  sumShift: number;
  /** log on the shifted sum: a PiecewisePoly with its input width and scales (outFrac = the difference's scale). */
  log: PiecewisePoly & { inFrac: number; outFrac: number };
  /** Log-probabilities: width and scale (outFrac = inFrac - diffShift). */
  outBits: number;
  outFrac: number;
}

/** Twin of `LogSoftmaxValues`: the log-probabilities (at 2^-outFrac) of the logits z. */
export function logSoftmaxEval(s: LogSoftmaxParams, z: readonly bigint[]): bigint[] {
  const m = z.reduce((a, b) => (b > a ? b : a));
  const poly = expPoly(s);
  const d = z.map((v) => requantize(v - m, s.diffShift, s.diffBits, false));
  const sum = d.reduce((a, v) => a + piecewiseEval(poly, v), 0n);
  const lse = piecewiseEval(s.log, requantize(sum, s.sumShift, s.log.inBits, false));
  return d.map((v) => v - lse);
}

/** The widths LogSoftmaxValues is instantiated with, for n logits in `logits`. */
export interface LogSoftmaxBounds {
  D: number;
  Ad: number;
  Ae: number;
  /** Accumulator width of the sum's requantization. */
  As: number;
  /** Accumulator width of the log's polynomial. */
  Al: number;
  /** Range of the outputs. */
  out: Interval;
}

export function logSoftmaxBounds(s: LogSoftmaxParams, n: number, logits: Interval): LogSoftmaxBounds {
  const sm = softmaxBounds({ ...s, outBits: 3, outFrac: 0 }, n, logits);
  const eHi = sm.e.hi > 0n ? sm.e.hi : 0n;
  const sumIv = { lo: 0n, hi: BigInt(n) * eHi };
  const shifted = { lo: requantize(sumIv.lo, s.sumShift, s.log.inBits, false), hi: requantize(sumIv.hi, s.sumShift, s.log.inBits, false) };
  const lse = piecewiseOutRange(s.log, shifted);
  const span = logits.hi - logits.lo;
  const dLo = requantize(-span, s.diffShift, s.diffBits, false);
  return { D: sm.D, Ad: sm.Ad, Ae: sm.Ae, As: accumulatorBits(sumIv), Al: piecewiseAccBits(s.log), out: { lo: dLo - lse.hi, hi: -lse.lo } };
}

/** --O2 constraints of LogSoftmaxValues over n logits. */
export function logSoftmaxConstraints(s: LogSoftmaxParams, n: number, b: LogSoftmaxBounds): number {
  const poly = expPoly(s);
  return (
    (n - 1) * (b.D + 2) +
    n * (requantizeConstraints(b.Ad, s.diffShift, s.diffBits, false) + piecewiseConstraints(poly, b.Ae)) +
    requantizeConstraints(b.As, s.sumShift, s.log.inBits, false) +
    piecewiseConstraints(s.log, b.Al)
  );
}
