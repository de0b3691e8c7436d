/**
 * The transformer layers (docs/circuits.md, "Layer normalization" and "Attention"): LayerNorm over the channels of
 * each position and multi-head self-attention on a [E, L] sequence (index e * L + l, the tracked shape [E, 1, L] of
 * conv1d), each in its float form (what the ONNX importer builds and PyTorch computes), its integer form (the
 * quantized layer), its bit-exact twin of the circuit (circuits/lib/attention.circom) and the bounds and constraint
 * counts the generator and the size estimate use. Browser-safe.
 */
import {
  type Interval,
  accumulatorBits,
  hull,
  productBounds,
  requantize,
  requantizeBounds,
  requantizeConstraints,
  signedRange,
} from "./fixed-point";
import { type SoftmaxParams, softmaxBounds, softmaxConstraints, softmaxEval } from "./softmax";

// ---------------------------------------------------------------- float forms

/**
 * LayerNorm over the C channels of each of L positions (a vector is [n, 1]): gamma * (x - mean) / sqrt(var + eps) +
 * beta; with `center: false` (absent = true) the mean is not subtracted: gamma * x / sqrt(mean(x^2) + eps) + beta
 * (RMSNorm; ONNX-ML's L2 Normalizer is gamma = 1 / sqrt(C)).
 */
export interface LayerNormSpec {
  inShape: [number, number];
  gamma: number[];
  beta: number[];
  eps: number;
  center?: boolean;
}

/**
 * Multi-head self-attention on a [E, L] sequence (PyTorch's nn.MultiheadAttention with q = k = v = x): per head h of
 * hd = E / heads channels, p = softmax(q_h k_h^T) over the keys, ctx_h = p v_h, out = Wo ctx + Bo. The query
 * projection is stored already divided by sqrt(hd) (PyTorch scales q after projecting it), so the scores are plain
 * dot products. Every W is [E out][E in].
 */
export interface AttentionSpec {
  inShape: [number, number];
  heads: number;
  Wq: number[][];
  Bq: number[];
  Wk: number[][];
  Bk: number[];
  Wv: number[][];
  Bv: number[];
  Wo: number[][];
  Bo: number[];
}

export function layerNormFloat(l: LayerNormSpec, x: ArrayLike<number>): number[] {
  const [C, L] = l.inShape;
  const out = new Array<number>(C * L);
  for (let p = 0; p < L; p++) {
    let mean = 0;
    if (l.center !== false) for (let c = 0; c < C; c++) mean += x[c * L + p];
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[c * L + p] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / C + l.eps);
    for (let c = 0; c < C; c++) out[c * L + p] = l.gamma[c] * (x[c * L + p] - mean) * inv + l.beta[c];
  }
  return out;
}

/** W x + B at every position of a [C, L] sequence (a kernel-1 conv1d): out[o * L + p]. */
function projectFloat(W: readonly (readonly number[])[], B: readonly number[], x: ArrayLike<number>, L: number): number[] {
  const out = new Array<number>(W.length * L);
  W.forEach((row, o) => {
    for (let p = 0; p < L; p++) {
      let s = B[o];
      for (let c = 0; c < row.length; c++) s += row[c] * x[c * L + p];
      out[o * L + p] = s;
    }
  });
  return out;
}

/** Every intermediate of the float attention: q, k, v and ctx as [E, L]; scores and probabilities as [heads][L][L]. */
export interface AttentionParts {
  q: number[];
  k: number[];
  v: number[];
  scores: number[];
  p: number[];
  ctx: number[];
  out: number[];
}

export function attentionFloatParts(l: AttentionSpec, x: ArrayLike<number>): AttentionParts {
  const [E, L] = l.inShape;
  const H = l.heads;
  const hd = E / H;
  const q = projectFloat(l.Wq, l.Bq, x, L);
  const k = projectFloat(l.Wk, l.Bk, x, L);
  const v = projectFloat(l.Wv, l.Bv, x, L);
  const scores = new Array<number>(H * L * L).fill(0);
  const p = new Array<number>(H * L * L);
  const ctx = new Array<number>(E * L).fill(0);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < L; i++) {
      const row = (h * L + i) * L;
      for (let j = 0; j < L; j++) {
        let s = 0;
        for (let d = 0; d < hd; d++) s += q[(h * hd + d) * L + i] * k[(h * hd + d) * L + j];
        scores[row + j] = s;
      }
      const m = Math.max(...scores.slice(row, row + L));
      let sum = 0;
      for (let j = 0; j < L; j++) sum += p[row + j] = Math.exp(scores[row + j] - m);
      for (let j = 0; j < L; j++) p[row + j] /= sum;
      for (let d = 0; d < hd; d++) {
        let s = 0;
        for (let j = 0; j < L; j++) s += p[row + j] * v[(h * hd + d) * L + j];
        ctx[(h * hd + d) * L + i] = s;
      }
    }
  return { q, k, v, scores, p, ctx, out: projectFloat(l.Wo, l.Bo, ctx, L) };
}

function matrixError(f: string, W: unknown, rows: number, cols: number): string | undefined {
  if (!Array.isArray(W) || W.length !== rows) return `${f} must have ${rows} rows`;
  for (const [r, row] of W.entries()) {
    if (!Array.isArray(row) || row.length !== cols) return `${f}[${r}] must have ${cols} entries`;
    const bad = row.findIndex((w) => typeof w !== "number" || !Number.isFinite(w));
    if (bad >= 0) return `${f}[${r}][${bad}] must be a finite number, got ${String(row[bad])}`;
  }
  return undefined;
}

function vectorError(f: string, v: unknown, n: number): string | undefined {
  if (!Array.isArray(v) || v.length !== n) return `${f} must have ${n} entries`;
  const bad = v.findIndex((w) => typeof w !== "number" || !Number.isFinite(w));
  return bad >= 0 ? `${f}[${bad}] must be a finite number, got ${String(v[bad])}` : undefined;
}

/** The shape check both layers share: inShape [C, L] against the tracked shape ([C, 1, L], or [n] = [n, 1]). */
export function seqShapeError(f: string, inShape: unknown, shape: readonly number[]): string | undefined {
  const s = inShape as number[];
  if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1))
    return `${f}.inShape must be [channels, length] of positive integers, got ${JSON.stringify(inShape)}`;
  const ok = shape.length === 1 ? s[0] === shape[0] && s[1] === 1 : shape[0] === s[0] && shape[1] === 1 && shape[2] === s[1];
  return ok
    ? undefined
    : `${f}.inShape is [${s}] but the previous layer outputs shape [${shape}] (a sequence is [C, 1, L], a vector [n] is [n, 1])`;
}

/** The first problem of a float LayerNorm against the tracked shape, or undefined. */
export function layerNormSpecError(f: string, l: LayerNormSpec, shape: readonly number[]): string | undefined {
  const e = seqShapeError(f, l.inShape, shape);
  if (e) return e;
  const C = l.inShape[0];
  if (C < 2) return `${f}.inShape normalizes over ${C} channel; LayerNorm needs at least 2`;
  if (!(typeof l.eps === "number" && l.eps > 0 && Number.isFinite(l.eps)))
    return `${f}.eps must be a positive number, got ${String(l.eps)}`;
  if (l.center !== undefined && typeof l.center !== "boolean") return `${f}.center must be true or false (absent = true)`;
  return vectorError(`${f}.gamma`, l.gamma, C) ?? vectorError(`${f}.beta`, l.beta, C);
}

/** The first problem of a float attention against the tracked shape, or undefined. */
export function attentionSpecError(f: string, l: AttentionSpec, shape: readonly number[]): string | undefined {
  if (shape.length !== 3) return `${f} reads a sequence [E, 1, L], not shape [${shape}]`;
  const e = seqShapeError(f, l.inShape, shape);
  if (e) return e;
  const [E] = l.inShape;
  if (!Number.isInteger(l.heads) || l.heads < 1 || E % l.heads !== 0)
    return `${f}.heads = ${String(l.heads)} must be a positive integer dividing the ${E} channels`;
  const r = l as unknown as Record<string, unknown>;
  for (const n of ["q", "k", "v", "o"]) {
    const err = matrixError(`${f}.W${n}`, r[`W${n}`], E, E) ?? vectorError(`${f}.B${n}`, r[`B${n}`], E);
    if (err) return err;
  }
  return undefined;
}

// ---------------------------------------------------------------- integer forms

/** Integer square root: the largest r with r * r <= n (n >= 0). */
export function isqrt(n: bigint): bigint {
  if (n < 0n) throw new RangeError(`isqrt of a negative number ${n}`);
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return x;
}

/**
 * LayerNorm in integers (circuit `LayerNorm`): at position p, with s = sum_c x[c], d_c = C x_c - s, W = sum_c d_c^2 +
 * eps, the scale r = the largest integer with r^2 W <= 2^(2R) (so r = floor(2^R / sqrt(W))), and
 * out_c = requantize(g_c * d_c * r + B_c, shift, outBits, signed clamp). With x at 2^-inFrac, (x - mean) / sigma =
 * sqrt(C) d / sqrt(W) exactly when eps = round(eps_float * C^3 * 4^inFrac) (at least 1), so g_c = gamma_c sqrt(C)
 * 2^gFrac and B_c = beta_c 2^(R + gFrac); |d_c r| <= 2^R for every input, which bounds the accumulator.
 */
export interface LayerNormParams {
  inShape: [number, number];
  /** false: no mean subtracted, d_c = x_c (RMSNorm, the L2 Normalizer); absent = true. */
  center?: boolean;
  /** d is scaled by 2^dShift (absent = 0), so that a small float eps keeps its weight in W instead of rounding to 1. */
  dShift?: number;
  inBits: number;
  inFrac: number;
  /** eps at the scale of W (>= 1, so W > 0 on a constant input). */
  eps: number;
  /** r = floor(2^R / sqrt(W)). */
  R: number;
  gBits: number;
  gFrac: number;
  g: number[];
  bBits: number;
  B: number[];
  shift: number;
  outBits: number;
  outFrac: number;
}

/** LayerNorm's scale r: the largest r >= 0 with r^2 * W <= 2^(2R) (W > 0). */
export function normScale(R: number, W: bigint): bigint {
  return isqrt((1n << BigInt(2 * R)) / W);
}

/** Twin of `LayerNorm`: the normalized, scaled and requantized [C, L] tensor. */
export function layerNormEval(l: LayerNormParams, x: readonly bigint[]): bigint[] {
  const [C, L] = l.inShape;
  if (x.length !== C * L) throw new Error(`layernorm: input has ${x.length} values, shape [${C}, ${L}] needs ${C * L}`);
  const out = new Array<bigint>(C * L);
  const n = BigInt(C);
  for (let p = 0; p < L; p++) {
    let s = 0n;
    for (let c = 0; c < C; c++) s += x[c * L + p];
    const k = BigInt(l.dShift ?? 0);
    const d = Array.from({ length: C }, (_, c) => (l.center === false ? x[c * L + p] : n * x[c * L + p] - s) << k);
    const W = d.reduce((a, v) => a + v * v, 0n) + BigInt(l.eps);
    const r = normScale(l.R, W);
    for (let c = 0; c < C; c++) out[c * L + p] = requantize(BigInt(l.g[c]) * d[c] * r + BigInt(l.B[c]), l.shift, l.outBits, false);
  }
  return out;
}

/** The widths `LayerNorm` is instantiated with, given the hull of its inputs. */
export interface LayerNormBounds {
  /** r < 2^rBits. */
  rBits: number;
  /** Both slacks of r's definition are < 2^tBits. */
  tBits: number;
  /** Accumulator width of the requantization. */
  A: number;
  /** Largest W (for the field-size check: 2 rBits + bits(Wmax) + 2 must stay below the decomposition limit). */
  wBits: number;
  acc: Interval[];
}

export function layerNormBounds(l: LayerNormParams, inputs: Interval): LayerNormBounds {
  const C = BigInt(l.inShape[0]);
  const absMax = -inputs.lo > inputs.hi ? -inputs.lo : inputs.hi;
  const dmax = (l.center === false ? absMax : (C - 1n) * (inputs.hi - inputs.lo)) << BigInt(l.dShift ?? 0);
  const Wmax = C * dmax * dmax + BigInt(l.eps);
  const rmax = normScale(l.R, BigInt(l.eps));
  const four = 1n << BigInt(2 * l.R);
  const t = (2n * rmax + 1n) * Wmax > four ? (2n * rmax + 1n) * Wmax : four;
  const one = 1n << BigInt(l.R);
  const acc = l.g.map((g, c) => {
    const a = BigInt(Math.abs(g)) * one;
    return { lo: BigInt(l.B[c]) - a, hi: BigInt(l.B[c]) + a };
  });
  return {
    rBits: rmax.toString(2).length,
    tBits: t.toString(2).length,
    A: Math.max(...acc.map(accumulatorBits)),
    wBits: Wmax.toString(2).length,
    acc,
  };
}

/** Constraints of `LayerNorm`: per position C squares, r's range check, 3 products, two slack checks, C products and C requantizations. */
export function layerNormConstraints(l: LayerNormParams, b: LayerNormBounds): number {
  const [C, L] = l.inShape;
  return L * (C + b.rBits + 3 + 2 * b.tBits + C + C * requantizeConstraints(b.A, l.shift, l.outBits, false));
}

/** A kernel-1 projection of an attention layer: requantize(W x + B, shift, outBits) at every position. */
export interface Projection {
  /** [E out][E in], wBits-wide at wFrac. */
  W: number[][];
  /** At the input's scale + wFrac, bBits-wide. */
  B: number[];
  wFrac: number;
  shift: number;
  outBits: number;
  outFrac: number;
}

/**
 * Multi-head self-attention in integers (circuit: three kernel-1 `Conv1dAccOpen` + `RequantizeEach` for q, k, v;
 * `HeadScores` + `RequantizeEach`; a `SoftmaxValues` per row; `HeadMix` + `RequantizeEach`; the output projection).
 * scores = requantize(q_h . k_h, scores.shift, scores.outBits); p = softmaxEval(softmax, a row of scores) at
 * 2^-softmax.outFrac; ctx = requantize(sum_j p_ij v_j, ctx.shift, ctx.outBits); out = o's projection of ctx.
 */
export interface AttentionParams {
  inShape: [number, number];
  heads: number;
  inBits: number;
  inFrac: number;
  wBits: number;
  bBits: number;
  q: Projection;
  k: Projection;
  v: Projection;
  scores: { shift: number; outBits: number; outFrac: number };
  softmax: SoftmaxParams;
  ctx: { shift: number; outBits: number; outFrac: number };
  /** The output projection; its output is the layer's (outBits, outFrac). */
  o: Omit<Projection, "outBits" | "outFrac">;
  outBits: number;
  outFrac: number;
}

/** The output projection with the layer's output width and scale. */
export function outProjection(l: AttentionParams): Projection {
  return { ...l.o, outBits: l.outBits, outFrac: l.outFrac };
}

function projectAcc(P: Projection, x: readonly bigint[], L: number): bigint[] {
  const out = new Array<bigint>(P.W.length * L);
  P.W.forEach((row, o) => {
    for (let p = 0; p < L; p++) {
      let s = BigInt(P.B[o]);
      for (let c = 0; c < row.length; c++) s += BigInt(row[c]) * x[c * L + p];
      out[o * L + p] = s;
    }
  });
  return out;
}

/** Every intermediate of the integer attention (the twin's parts, for the circuit tests). */
export interface AttentionIntParts {
  q: bigint[];
  k: bigint[];
  v: bigint[];
  scores: bigint[];
  p: bigint[];
  ctx: bigint[];
  out: bigint[];
}

/** Twin of the attention layer's circuit, with every intermediate. */
export function attentionParts(l: AttentionParams, x: readonly bigint[]): AttentionIntParts {
  const [E, L] = l.inShape;
  if (x.length !== E * L) throw new Error(`attention: input has ${x.length} values, shape [${E}, ${L}] needs ${E * L}`);
  const H = l.heads;
  const hd = E / H;
  const proj = (P: Projection, a: readonly bigint[]) => projectAcc(P, a, L).map((v) => requantize(v, P.shift, P.outBits, false));
  const q = proj(l.q, x);
  const k = proj(l.k, x);
  const v = proj(l.v, x);
  const scores = headScores(q, k, H, L, hd).map((a) => requantize(a, l.scores.shift, l.scores.outBits, false));
  const p: bigint[] = [];
  for (let r = 0; r < H * L; r++) p.push(...softmaxEval(l.softmax, scores.slice(r * L, (r + 1) * L)));
  const ctx = headMix(p, v, H, L, hd).map((a) => requantize(a, l.ctx.shift, l.ctx.outBits, false));
  return { q, k, v, scores, p, ctx, out: proj(outProjection(l), ctx) };
}

/** Twin of `HeadScores(H, L, hd)`: acc[(h * L + i) * L + j] = sum_d q[(h hd + d) L + i] k[(h hd + d) L + j]. */
export function headScores(q: readonly bigint[], k: readonly bigint[], H: number, L: number, hd: number): bigint[] {
  const out: bigint[] = [];
  for (let h = 0; h < H; h++)
    for (let i = 0; i < L; i++)
      for (let j = 0; j < L; j++) {
        let s = 0n;
        for (let d = 0; d < hd; d++) s += q[(h * hd + d) * L + i] * k[(h * hd + d) * L + j];
        out.push(s);
      }
  return out;
}

/** Twin of `HeadMix(H, L, hd)`: acc[(h hd + d) L + i] = sum_j p[(h L + i) L + j] v[(h hd + d) L + j]. */
export function headMix(p: readonly bigint[], v: readonly bigint[], H: number, L: number, hd: number): bigint[] {
  const out = new Array<bigint>(H * hd * L);
  for (let h = 0; h < H; h++)
    for (let d = 0; d < hd; d++)
      for (let i = 0; i < L; i++) {
        let s = 0n;
        for (let j = 0; j < L; j++) s += p[(h * L + i) * L + j] * v[(h * hd + d) * L + j];
        out[(h * hd + d) * L + i] = s;
      }
  return out;
}

/** The attention layer's output (the twin). */
export function attentionEval(l: AttentionParams, x: readonly bigint[]): bigint[] {
  return attentionParts(l, x).out;
}

/** Accumulator widths and output ranges of every stage of an attention layer, from its inputs' ranges. */
export interface AttentionPlan {
  Aq: number;
  Ak: number;
  Av: number;
  As: number;
  Ac: number;
  Ao: number;
  softmax: ReturnType<typeof softmaxBounds>;
  out: Interval[];
}

function projectBounds(P: Projection, x: readonly Interval[], L: number): Interval[] {
  const out: Interval[] = [];
  P.W.forEach((row, o) => {
    for (let p = 0; p < L; p++) {
      const iv = { lo: BigInt(P.B[o]), hi: BigInt(P.B[o]) };
      row.forEach((w, c) => {
        const b = productBounds({ lo: BigInt(w), hi: BigInt(w) }, x[c * L + p]);
        iv.lo += b.lo;
        iv.hi += b.hi;
      });
      out.push(iv);
    }
  });
  return out;
}

export function attentionPlan(l: AttentionParams, inputs: readonly Interval[]): AttentionPlan {
  const [E, L] = l.inShape;
  const H = l.heads;
  const hd = E / H;
  const stage = (P: Projection, x: readonly Interval[]) => {
    const acc = projectBounds(P, x, L);
    return { A: Math.max(...acc.map(accumulatorBits)), out: acc.map((iv) => requantizeBounds(iv, P.shift, P.outBits, false)) };
  };
  const q = stage(l.q, inputs);
  const k = stage(l.k, inputs);
  const v = stage(l.v, inputs);
  const qh = hull(q.out);
  const kh = hull(k.out);
  const vh = hull(v.out);
  const sum = (iv: Interval, n: number): Interval => ({ lo: iv.lo * BigInt(n), hi: iv.hi * BigInt(n) });
  const sAcc = sum(productBounds(qh, kh), hd);
  const sOut = requantizeBounds(sAcc, l.scores.shift, l.scores.outBits, false);
  const pIv = { lo: 0n, hi: 1n << BigInt(l.softmax.outFrac) };
  const cAcc = sum(productBounds(pIv, vh), L);
  const cOut = requantizeBounds(cAcc, l.ctx.shift, l.ctx.outBits, false);
  const o = stage(
    outProjection(l),
    Array.from({ length: E * L }, () => cOut),
  );
  return {
    Aq: q.A,
    Ak: k.A,
    Av: v.A,
    As: accumulatorBits(sAcc),
    Ac: accumulatorBits(cAcc),
    Ao: o.A,
    softmax: softmaxBounds(l.softmax, L, sOut),
    out: o.out,
  };
}

/** Constraints of the attention layer: requantizations, the two batches of products and one softmax per row. */
export function attentionConstraints(l: AttentionParams, b: AttentionPlan): number {
  const [E, L] = l.inShape;
  const H = l.heads;
  const rq = (A: number, P: { shift: number; outBits: number }) => requantizeConstraints(A, P.shift, P.outBits, false);
  return (
    E * L * (rq(b.Aq, l.q) + rq(b.Ak, l.k) + rq(b.Av, l.v) + rq(b.Ac, l.ctx) + rq(b.Ao, outProjection(l))) +
    H * L * L * rq(b.As, l.scores) +
    2 * H * L * L * (E / H) +
    H * L * softmaxConstraints(l.softmax, L, b.softmax)
  );
}

/** The commitment record of an attention layer's weights: W and B of q, k, v, o in that order. */
export function attentionRecord(l: AttentionParams): { W: number[]; B: number[] } {
  const ps = [l.q, l.k, l.v, l.o];
  return { W: ps.flatMap((p) => p.W.flat()), B: ps.flatMap((p) => p.B) };
}

/** Signed range check of every integer of a projection (the quantized model's validation). */
export function projectionError(f: string, P: Projection, E: number, wBits: number, bBits: number): string | undefined {
  const w = signedRange(wBits);
  const b = signedRange(bBits);
  if (!Array.isArray(P.W) || P.W.length !== E) return `${f}.W must have ${E} rows`;
  for (const [r, row] of P.W.entries()) {
    if (!Array.isArray(row) || row.length !== E) return `${f}.W[${r}] must have ${E} entries`;
    const bad = row.findIndex((v) => !Number.isSafeInteger(v) || BigInt(v) < w.lo || BigInt(v) > w.hi);
    if (bad >= 0) return `${f}.W[${r}][${bad}] = ${row[bad]} must be an integer in the ${wBits}-bit signed range`;
  }
  if (!Array.isArray(P.B) || P.B.length !== E) return `${f}.B must have ${E} entries`;
  const bad = P.B.findIndex((v) => !Number.isSafeInteger(v) || BigInt(v) < b.lo || BigInt(v) > b.hi);
  if (bad >= 0) return `${f}.B[${bad}] = ${P.B[bad]} must be an integer in the ${bBits}-bit signed range`;
  for (const k of ["shift", "outBits"] as const)
    if (!Number.isInteger(P[k]) || P[k] < (k === "outBits" ? 2 : 0) || P[k] > (k === "outBits" ? 32 : 64))
      return `${f}.${k} must be an integer in ${k === "outBits" ? "2..32" : "0..64"}, got ${String(P[k])}`;
  return undefined;
}

/**
 * The integer form of a float LayerNorm reading inBits-bit values at 2^-inFrac, output at outBits / 2^-outFrac:
 * eps at W's scale (at least 1), R with outBits + 6 bits of precision in r at the largest W the inputs allow,
 * g at gBits, B at 2^-(R + gFrac).
 * @throws Error naming the layer when beta does not fit a safe integer at that scale.
 */
export function layerNormParams(
  f: string,
  spec: LayerNormSpec,
  inBits: number,
  inFrac: number,
  outBits: number,
  outFrac: number,
  gBits = 10,
): LayerNormParams {
  const [C, L] = spec.inShape;
  const inIv = signedRange(inBits);
  // W = sum d^2 + eps: d_c = C (x_c - mean) at 2^-inFrac gives W = C^3 4^f var; d_c = x_c gives W = C 4^f mean(x^2)
  // d is scaled by 2^dShift (W by 4^dShift) until eps is at least 2^10 at W's scale (at most 16 bits), so eps rounds
  // finely instead of to its floor of 1 (which would weigh on tiny inputs where the float eps does not)
  const centered = spec.center !== false;
  const epsAt = (k: number) => spec.eps * (centered ? C ** 3 : C) * 4 ** (inFrac + k);
  let dShift = 0;
  while (dShift < 16 && epsAt(dShift) < 1024) dShift++;
  const eps = Math.max(1, Math.round(epsAt(dShift)));
  const dmax = (centered ? BigInt(C - 1) * (inIv.hi - inIv.lo) : -inIv.lo) << BigInt(dShift);
  const Wmax = BigInt(C) * dmax * dmax + BigInt(eps);
  const R = outBits + 6 + Math.ceil(Wmax.toString(2).length / 2);
  const gMax = Math.max(...spec.gamma.map((v) => Math.abs(v) * Math.sqrt(C)));
  let gFrac = 0;
  while (gMax * 2 ** (gFrac + 1) <= 2 ** (gBits - 1) - 1 && gFrac < 40) gFrac++;
  while (gMax * 2 ** gFrac > 2 ** (gBits - 1) - 1) gFrac--;
  const g = spec.gamma.map((v) => Math.round(v * Math.sqrt(C) * 2 ** gFrac));
  const B = spec.beta.map((v, c) => {
    const q = Math.round(v * 2 ** (R + gFrac));
    if (!Number.isSafeInteger(q))
      throw new Error(`${f}.beta[${c}]: ${v} does not fit a safe integer at scale 2^${R + gFrac}; lower the input bits`);
    return q;
  });
  const bBits = Math.max(2, ...B.map((v) => (v < 0 ? (-v - 1).toString(2).length : v.toString(2).length) + 1));
  let out = outFrac;
  let shift = R + gFrac - out;
  if (shift < 0) {
    out = R + gFrac;
    shift = 0;
  }
  return {
    inShape: [C, L],
    ...(centered ? {} : { center: false }),
    ...(dShift ? { dShift } : {}),
    inBits,
    inFrac,
    eps,
    R,
    gBits,
    gFrac,
    g,
    bBits,
    B,
    shift,
    outBits,
    outFrac: out,
  };
}
