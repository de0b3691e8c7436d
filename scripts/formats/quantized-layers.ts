/**
 * The layer types of the quantized model format (zkml-quantized-v1, docs/model-format.md) and the checks of each
 * layer's fields, which validateModel (./quantized-model.ts) runs in order with the shapes it tracks; plus the tree
 * ensemble's commitment record. Split from ./quantized-model.ts, which plans, runs and commits to a whole model.
 */
import { type Shape3, accumulatorBits, outSide, signedRange } from "./fixed-point";
import {
  type ActivationFn,
  type PiecewisePoly,
  activationSpecError,
  piecewiseAccRange,
  piecewiseEval,
  piecewiseOutRange,
  piecewiseRounds,
} from "./activations";
import { type LogSoftmaxParams, type SoftmaxParams, expPoly } from "./softmax";
import { type IntTreeEnsemble, treesError } from "./trees";
import { type AttentionParams, type LayerNormParams, outProjection, projectionError } from "./transformer";

/** The widths and scales every weighted layer (dense, conv2d, conv1d) carries: its requantization's parameters. */
export interface WeightScales {
  wBits: number;
  /** Fractional bits of W (informational: the circuit only needs shift). */
  wFrac: number;
  bBits: number;
  /** Right shift applied by the requantization. */
  shift: number;
  outBits: number;
  outFrac: number;
  relu: boolean;
}

export interface DenseLayer extends WeightScales {
  type: "dense";
  nIn: number;
  nOut: number;
  /** nOut x nIn weights, each in the wBits signed range. */
  W: number[][];
  /** nOut biases at the accumulator scale (input frac + weight frac), each in the bBits signed range. */
  B: number[];
}

/**
 * 2-D convolution on a CHW tensor (flattened row-major: index = (c * H + y) * W + x). Output shape:
 * [outChannels, floor((H + 2*padding - kernel) / stride) + 1, same for W]. Zero padding. `groups` (absent = 1):
 * grouped convolution, output channel o reads only the inShape[0] / groups input channels of its group
 * floor(o / (outChannels / groups)); groups = inShape[0] is a depthwise convolution.
 */
export interface Conv2dLayer extends WeightScales {
  type: "conv2d";
  inShape: [number, number, number];
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** Absent = 1; must divide inShape[0] and outChannels. */
  groups?: number;
  /** [outChannels][inChannels / groups][kernel][kernel] */
  W: number[][][][];
  B: number[];
}

/**
 * Max pooling on a CHW tensor; values keep their bits and scale. `padding` (absent = 0): padding on every side
 * whose taps never win (-infinity: the maximum is over the window's in-range taps, as PyTorch's MaxPool2d(padding=p)).
 */
export interface MaxPoolLayer {
  type: "maxpool";
  inShape: [number, number, number];
  kernel: number;
  stride: number;
  padding?: number;
}

/**
 * Average pooling as a sum over the window followed by Requantize(shift) (round-half-up, clamp to outBits);
 * an exact average when kernel*kernel = 2^shift, otherwise the scale change is recorded in outFrac. `padding`
 * (absent = 0): zero padding on every side, counted in the average (the padded taps add 0 to the sum).
 */
export interface AvgPoolLayer {
  type: "avgpool";
  inShape: [number, number, number];
  kernel: number;
  stride: number;
  padding?: number;
  shift: number;
  outBits: number;
  outFrac: number;
}

/** CHW -> flat vector (a no-op on the flattened layout; kept so shapes are explicit). */
export interface FlattenLayer {
  type: "flatten";
  inShape: [number, number, number];
}

/**
 * Residual Add: the current tensor (the previous layer's output, scale 2^-fa) plus the saved output of the earlier
 * layer `from` (-1 = the model input; scale 2^-fb), both left-shifted to a common scale, then requantized:
 * out[i] = requantize(cur[i] * 2^alignCur + saved[i] * 2^alignFrom, shift, outBits, relu). The quantizer aligns to
 * F = max(fa, fb) (alignCur = F - fa, alignFrom = F - fb), so outFrac = F - shift. Both operands have the same
 * size (and the same [C, H, W] when both are images); the output keeps the current tensor's shape.
 */
export interface AddLayer {
  type: "add";
  /** Index of an earlier layer (< this layer's index) whose output is the second operand; -1 = the model input. */
  from: number;
  alignCur: number;
  alignFrom: number;
  shift: number;
  outBits: number;
  outFrac: number;
  relu: boolean;
}

/**
 * An elementwise activation as a piecewise polynomial on its input's bit decomposition (docs/circuits.md,
 * "Activations"; circuit `PiecewisePolyEach`): with u = x + 2^(inBits-1) = s * 2^l + t, l = inBits -
 * segmentBits, out = requantize(sum_j coeffs[s][j] * t^j, shift, outBits, signed clamp) (a degree-0 table with shift
 * 0 is its own output). The integers define the layer; `fn` and `params` say which float function they were fitted
 * to (`maxError`: the worst |out / 2^outFrac - fn(x / 2^inFrac)| over every input, measured by the quantizer).
 */
export interface ActivationLayer extends PiecewisePoly {
  type: "activation";
  fn: ActivationFn;
  params?: { alpha?: number; beta?: number; min?: number; max?: number };
  inFrac: number;
  outFrac: number;
  maxError?: number;
}

/**
 * Softmax probabilities of the previous layer's logits, as the last layer under a values head (scripts/formats/
 * softmax.ts; circuit `SoftmaxValues`; docs/circuits.md, "Softmax"): p_i = round(e_i * 2^outFrac / sum_j e_j) with
 * e = exp(requantize(z - max z)) by a fitted piecewise polynomial. `maxError`: the quantizer's measured worst error of
 * the exponential (informational).
 */
export interface SoftmaxLayer extends SoftmaxParams {
  type: "softmax";
  maxError?: number;
}

/**
 * A tree ensemble with every node evaluated (docs/circuits.md, "Tree ensembles"; circuit: `LessEqConst` per distinct
 * split, one product per internal node below the root, one Requantize per output): thresholds are integers at the
 * input's scale (yes when x[feature] <= threshold), leaves (`leafBits` wide) and base (safe integers) at `leafFrac`;
 * out_k = requantize(base_k + sum of the reached leaves' k-th values, shift, outBits, signed clamp).
 */
export interface TreesLayer extends IntTreeEnsemble {
  type: "trees";
  inFrac: number;
  leafBits: number;
  leafFrac: number;
  shift: number;
  outBits: number;
  outFrac: number;
}

/**
 * 1-D convolution on a [C, L] sequence (index = c * L + x; the tensor's tracked shape is [C, 1, L]), zero padding,
 * optional groups: requantize(B[o] + sum over o's in-range taps of W[o][c][k] * x, shift, outBits, relu); output
 * [outChannels, floor((L + 2*padding - kernel) / stride) + 1]. Circuit `Conv1dAcc{Open,Private}` + `RequantizeEach`.
 */
export interface Conv1dLayer extends WeightScales {
  type: "conv1d";
  inShape: [number, number];
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  groups?: number;
  /** [outChannels][inChannels / groups][kernel] */
  W: number[][][];
  B: number[];
}

/** Max pooling on a [C, L] sequence (padded taps never win); bits and scale kept. Circuit `MaxPool1d`. */
export interface MaxPool1dLayer {
  type: "maxpool1d";
  inShape: [number, number];
  kernel: number;
  stride: number;
  padding?: number;
}

/** Average pooling on a [C, L] sequence: requantize(window sum, shift, outBits, signed clamp). Circuit `AvgPool1d`. */
export interface AvgPool1dLayer {
  type: "avgpool1d";
  inShape: [number, number];
  kernel: number;
  stride: number;
  padding?: number;
  shift: number;
  outBits: number;
  outFrac: number;
}

/**
 * Token embeddings, as the first layer: the model's input is `seq` token ids (integers at frac 0, each checked to be in
 * [0, vocab) by the circuit), the output their rows of E laid out [dim, seq] (index j * seq + t; the tracked shape is
 * [dim, 1, seq], a sequence a conv1d or avgpool1d reads). Circuit `Embedding` (a multilinear lookup on the id's bits,
 * docs/circuits.md, "Embeddings"). Open weights only.
 */
export interface EmbeddingLayer {
  type: "embedding";
  vocab: number;
  dim: number;
  seq: number;
  /** [vocab][dim], wBits-wide integers at wFrac. */
  E: number[][];
  wBits: number;
  wFrac: number;
  /** = wBits and wFrac: the rows are the outputs. */
  outBits: number;
  outFrac: number;
}

/** Bits of a token id of a vocabulary of `vocab` tokens (ids 0 .. vocab - 1 fit them unsigned). */
export function idBits(vocab: number): number {
  return Math.max(1, Math.ceil(Math.log2(vocab)));
}

/**
 * LayerNorm over the channels of each position (scripts/formats/transformer.ts LayerNormParams; circuit `LayerNorm`;
 * docs/circuits.md, "Layer normalization"). Open weights only.
 */
export interface LayerNormLayer extends LayerNormParams {
  type: "layernorm";
}

/**
 * Multi-head self-attention on a [E, 1, L] sequence (scripts/formats/transformer.ts AttentionParams; circuits
 * `HeadScores`, `SoftmaxValues` per row, `HeadMix`; docs/circuits.md, "Attention"). Its output is the o projection's
 * (outBits, outFrac). Open weights only.
 */
export interface AttentionLayer extends AttentionParams {
  type: "attention";
}

/**
 * Log-probabilities of the previous layer's logits, as the last layer under a values head (scripts/formats/softmax.ts
 * LogSoftmaxParams; circuit `LogSoftmaxValues`; docs/circuits.md, "Softmax").
 */
export interface LogSoftmaxLayer extends LogSoftmaxParams {
  type: "logsoftmax";
  maxError?: number;
}

export type QuantizedLayer =
  | LogSoftmaxLayer
  | LayerNormLayer
  | AttentionLayer
  | EmbeddingLayer
  | Conv1dLayer
  | MaxPool1dLayer
  | AvgPool1dLayer
  | DenseLayer
  | Conv2dLayer
  | MaxPoolLayer
  | AvgPoolLayer
  | FlattenLayer
  | AddLayer
  | ActivationLayer
  | SoftmaxLayer
  | TreesLayer;

/** The layer types whose outputs a head can read (signed, with a declared width and scale). */
export type HeadLayer = DenseLayer | ActivationLayer | SoftmaxLayer | LogSoftmaxLayer | TreesLayer;

export function fail(field: string, msg: string): never {
  throw new Error(`quantized model: ${field} ${msg}`);
}

export function checkInt(field: string, v: unknown, bits: number): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, `must be an integer, got ${String(v)}`);
  const { lo, hi } = signedRange(bits);
  if (BigInt(v) < lo || BigInt(v) > hi) fail(field, `= ${v} is outside the ${bits}-bit signed range [${lo}, ${hi}]`);
}

export function checkRangeInt(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    fail(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
}

export const SUPPORTED = [
  "embedding",
  "dense",
  "conv2d",
  "conv1d",
  "maxpool",
  "maxpool1d",
  "avgpool",
  "avgpool1d",
  "flatten",
  "add",
  "activation",
  "layernorm",
  "attention",
  "softmax",
  "logsoftmax",
  "trees",
];

/** A 1-D layer's checks against the tracked shape (a sequence is [C, 1, L]); returns its output shape. */
export function checkSeq(f: string, l: Conv1dLayer | MaxPool1dLayer | AvgPool1dLayer, shape: Shape3 | undefined, width: number): Shape3 {
  const s = l.inShape;
  if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1))
    fail(`${f}.inShape`, `must be [channels, length] of positive integers, got ${JSON.stringify(s)}`);
  const [C, L] = s;
  if (C * L !== width) fail(`${f}.inShape`, `[${C}, ${L}] holds ${C * L} values but the previous layer outputs ${width}`);
  if (shape && (shape[0] !== C || shape[1] !== 1 || shape[2] !== L))
    fail(`${f}.inShape`, `is [${C}, ${L}] but the previous layer outputs shape [${shape.join(", ")}]`);
  checkRangeInt(`${f}.stride`, l.stride, 1, 1 << 16);
  checkRangeInt(`${f}.kernel`, l.kernel, l.type === "maxpool1d" ? 2 : 1, 64);
  const P = l.padding ?? 0;
  checkRangeInt(`${f}.padding`, P, 0, l.kernel - 1);
  if (l.kernel > L + 2 * P) fail(`${f}.kernel`, `${l.kernel} is longer than the ${P ? "padded " : ""}sequence ${L + 2 * P}`);
  if (l.type === "avgpool1d") {
    checkRangeInt(`${f}.shift`, l.shift, 0, 64);
    checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
  }
  const OL = outSide(L, l.kernel, l.stride, P);
  if (l.type !== "conv1d") return [C, 1, OL];
  checkRangeInt(`${f}.outChannels`, l.outChannels, 1, 1 << 16);
  const G = l.groups ?? 1;
  if (l.groups !== undefined) {
    checkRangeInt(`${f}.groups`, l.groups, 1, C);
    if (C % G !== 0 || l.outChannels % G !== 0)
      fail(`${f}.groups`, `= ${G} must divide both inShape[0] = ${C} and outChannels = ${l.outChannels}; omit it for 1`);
  }
  checkWeighted(f, l);
  if (!Array.isArray(l.W) || l.W.length !== l.outChannels) fail(`${f}.W`, `must have outChannels = ${l.outChannels} filters`);
  l.W.forEach((fo, o) => {
    if (!Array.isArray(fo) || fo.length !== C / G) fail(`${f}.W[${o}]`, `must have ${C / G} channels`);
    fo.forEach((ch, c) => {
      if (!Array.isArray(ch) || ch.length !== l.kernel) fail(`${f}.W[${o}][${c}]`, `must have kernel = ${l.kernel} entries`);
      ch.forEach((w, k) => checkInt(`${f}.W[${o}][${c}][${k}]`, w, l.wBits));
    });
  });
  if (!Array.isArray(l.B) || l.B.length !== l.outChannels) fail(`${f}.B`, `must have outChannels = ${l.outChannels} entries`);
  l.B.forEach((b, j) => checkInt(`${f}.B[${j}]`, b, l.bBits));
  return [l.outChannels, 1, OL];
}

export function checkTrees(f: string, l: TreesLayer, width: number, weights: "open" | "private", inBits: number): void {
  const e = treesError(f, l, width, true);
  if (e) throw new Error(`quantized model: ${e}`);
  if (weights === "private") {
    // committed thresholds are packed at inBits + 1 bits: the quantizer clamps them into [lo - 1, hi] of the input
    const { lo, hi } = signedRange(inBits);
    l.trees.forEach((t, ti) =>
      t.nodes.forEach((n, ni) => {
        if (!("leaf" in n) && (BigInt(n.threshold) < lo - 1n || BigInt(n.threshold) > hi))
          fail(`${f}.trees[${ti}].nodes[${ni}].threshold`, `= ${n.threshold} must be in [${lo - 1n}, ${hi}] (the input's range, clamped)`);
      }),
    );
  }
  const rec = signedRange(TREE_RECORD_BITS);
  if (!treesRecord(l).every((v) => BigInt(v) >= rec.lo && BigInt(v) <= rec.hi))
    fail(`${f}.base`, `and every threshold must fit ${TREE_RECORD_BITS} signed bits (the commitment record)`);
  checkRangeInt(`${f}.leafBits`, l.leafBits, 2, 48);
  checkRangeInt(`${f}.shift`, l.shift, 0, 64);
  checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
  if (!Number.isInteger(l.inFrac) || !Number.isInteger(l.leafFrac) || !Number.isInteger(l.outFrac))
    fail(`${f}.inFrac`, ", leafFrac and outFrac must be integers");
  const { lo, hi } = signedRange(l.leafBits);
  const inRange = (v: number) => BigInt(v) >= lo && BigInt(v) <= hi;
  l.trees.forEach((t, ti) =>
    t.nodes.forEach((n, ni) => {
      if ("leaf" in n && !n.leaf.every(inRange))
        fail(`${f}.trees[${ti}].nodes[${ni}].leaf`, `must be in the leafBits = ${l.leafBits} signed range`);
    }),
  );
}

export function checkSoftmax(f: string, l: SoftmaxLayer, inBits: number, last: boolean, head: "argmax" | "values"): void {
  if (!last) fail(f, "softmax must be the last layer (the values head reads its probabilities)");
  if (head !== "values")
    fail(f, `softmax needs the values head (probabilities); for an argmax head drop it (the argmax of the logits is the same)`);
  if (l.inBits !== inBits) fail(`${f}.inBits`, `is ${l.inBits} but the previous layer outputs ${inBits}-bit values; set it to ${inBits}`);
  if (!Number.isInteger(l.inFrac)) fail(`${f}.inFrac`, "must be an integer");
  checkRangeInt(`${f}.diffBits`, l.diffBits, 4, 16);
  checkRangeInt(`${f}.diffShift`, l.diffShift, 0, 64);
  checkRangeInt(`${f}.outBits`, l.outBits, 3, 32);
  checkRangeInt(`${f}.outFrac`, l.outFrac, 0, l.outBits - 2);
  const e = l.exp;
  if (typeof e !== "object" || e === null) fail(`${f}.exp`, "must be an object (the exponential's piecewise polynomial)");
  checkRangeInt(`${f}.exp.segmentBits`, e.segmentBits, 0, Math.min(l.diffBits - 1, 8));
  checkRangeInt(`${f}.exp.degree`, e.degree, 1, 2);
  checkRangeInt(`${f}.exp.shift`, e.shift, 0, 64);
  checkRangeInt(`${f}.exp.outBits`, e.outBits, 3, 24);
  if (!Number.isInteger(e.inFrac) || !Number.isInteger(e.outFrac)) fail(`${f}.exp.inFrac`, "and exp.outFrac must be integers");
  checkCoeffs(`${f}.exp.coeffs`, e.coeffs, e.segmentBits, e.degree);
  const poly = expPoly(l);
  if (piecewiseEval(poly, 0n) <= 0n) fail(`${f}.exp`, "must be positive at 0 (exp(0) = 1): refit the softmax");
  if (piecewiseOutRange(poly, { lo: -(1n << BigInt(l.diffBits - 1)), hi: 0n }).lo < 0n)
    fail(`${f}.exp`, "must not be negative on the differences (<= 0): refit the softmax");
}

/** A piecewise polynomial's coefficient table: 2^segmentBits rows of degree + 1 safe integers. */
function checkCoeffs(f: string, coeffs: unknown, segmentBits: number, degree: number): void {
  const n = 2 ** segmentBits;
  if (!Array.isArray(coeffs) || coeffs.length !== n) fail(f, `must have 2^segmentBits = ${n} rows`);
  (coeffs as unknown[]).forEach((c, s) => {
    if (!Array.isArray(c) || c.length !== degree + 1) fail(`${f}[${s}]`, `must have degree + 1 = ${degree + 1} entries`);
    (c as unknown[]).forEach((v, j) => {
      if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(`${f}[${s}][${j}]`, `must be a safe integer, got ${String(v)}`);
    });
  });
}

export function checkLogSoftmax(f: string, l: LogSoftmaxLayer, inBits: number, last: boolean, head: "argmax" | "values"): void {
  if (!last) fail(f, "logsoftmax must be the last layer (the values head reads its log-probabilities)");
  if (head !== "values")
    fail(f, `logsoftmax needs the values head (log-probabilities); for an argmax head drop it (the argmax of the logits is the same)`);
  checkSoftmax(f, { ...l, type: "softmax", outBits: 3, outFrac: 0 }, inBits, true, "values");
  checkRangeInt(`${f}.sumShift`, l.sumShift, 0, 64);
  const g = l.log;
  if (typeof g !== "object" || g === null) fail(`${f}.log`, "must be an object (the logarithm's piecewise polynomial)");
  checkRangeInt(`${f}.log.inBits`, g.inBits, 4, 16);
  checkRangeInt(`${f}.log.segmentBits`, g.segmentBits, 0, Math.min(g.inBits, 8));
  checkRangeInt(`${f}.log.degree`, g.degree, 0, 2);
  checkRangeInt(`${f}.log.shift`, g.shift, 0, 64);
  checkRangeInt(`${f}.log.outBits`, g.outBits, 3, 32);
  if (g.outFrac !== l.inFrac - l.diffShift) fail(`${f}.log.outFrac`, `must be the difference's scale ${l.inFrac - l.diffShift}`);
  checkCoeffs(`${f}.log.coeffs`, g.coeffs, g.segmentBits, g.degree);
  checkRangeInt(`${f}.outBits`, l.outBits, 3, 32);
  if (l.outFrac !== l.inFrac - l.diffShift) fail(`${f}.outFrac`, `must be the difference's scale ${l.inFrac - l.diffShift}`);
}

export function checkActivation(f: string, l: ActivationLayer, inBits: number): void {
  const specError = activationSpecError(f, { fn: l.fn, ...(l.params ?? {}) });
  if (specError) throw new Error(`quantized model: ${specError}`);
  if (l.inBits !== inBits) fail(`${f}.inBits`, `is ${l.inBits} but the previous layer outputs ${inBits}-bit values; set it to ${inBits}`);
  checkRangeInt(`${f}.inBits`, l.inBits, 2, 16);
  checkRangeInt(`${f}.segmentBits`, l.segmentBits, 0, Math.min(l.inBits, 8));
  checkRangeInt(`${f}.degree`, l.degree, 0, 2);
  if (l.degree > 0 && l.segmentBits === l.inBits)
    fail(`${f}.degree`, `must be 0 when segmentBits = inBits (a table: every segment holds one input)`);
  checkRangeInt(`${f}.shift`, l.shift, 0, 64);
  checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
  if (!Number.isInteger(l.inFrac) || !Number.isInteger(l.outFrac)) fail(`${f}.inFrac`, "and outFrac must be integers");
  if (l.maxError !== undefined && !(typeof l.maxError === "number" && l.maxError >= 0))
    fail(`${f}.maxError`, `must be a non-negative number (the measured worst error), got ${String(l.maxError)}`);
  checkCoeffs(`${f}.coeffs`, l.coeffs, l.segmentBits, l.degree);
  if (!piecewiseRounds(l)) {
    const { lo, hi } = signedRange(l.outBits);
    l.coeffs.forEach((c, s) => {
      if (BigInt(c[0]) < lo || BigInt(c[0]) > hi)
        fail(`${f}.coeffs[${s}][0]`, `= ${c[0]}: a table entry must be in the ${l.outBits}-bit signed range (or use a shift)`);
    });
  }
  if (accumulatorBits(piecewiseAccRange(l)) + l.outBits > 240)
    fail(`${f}.coeffs`, "are too large: the accumulator needs more than 240 bits; refit the activation");
}

export function checkShape(field: string, s: unknown): void {
  if (!Array.isArray(s) || s.length !== 3 || !s.every((v) => Number.isInteger(v) && v >= 1))
    fail(field, `must be [channels, height, width] of positive integers, got ${JSON.stringify(s)}`);
}

export function checkWeighted(f: string, l: DenseLayer | Conv2dLayer | Conv1dLayer): void {
  if (!Number.isInteger(l.wBits) || l.wBits < 2 || l.wBits > 32) fail(`${f}.wBits`, "must be an integer in 2..32");
  if (!Number.isInteger(l.bBits) || l.bBits < 2 || l.bBits > 64) fail(`${f}.bBits`, "must be an integer in 2..64");
  if (!Number.isInteger(l.shift) || l.shift < 0 || l.shift > 64) fail(`${f}.shift`, "must be an integer in 0..64");
  if (!Number.isInteger(l.outBits) || l.outBits < 2 || l.outBits > 32) fail(`${f}.outBits`, "must be an integer in 2..32");
  if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
}

export function checkDense(f: string, l: DenseLayer, width: number): void {
  if (l.nIn !== width) fail(`${f}.nIn`, `is ${l.nIn} but the previous layer outputs ${width} values`);
  if (!Number.isInteger(l.nOut) || l.nOut < 1) fail(`${f}.nOut`, "must be a positive integer");
  checkWeighted(f, l);
  if (!Array.isArray(l.W) || l.W.length !== l.nOut) fail(`${f}.W`, `must have nOut = ${l.nOut} rows`);
  l.W.forEach((row, j) => {
    if (!Array.isArray(row) || row.length !== l.nIn) fail(`${f}.W[${j}]`, `must have nIn = ${l.nIn} entries`);
    row.forEach((w, i) => checkInt(`${f}.W[${j}][${i}]`, w, l.wBits));
  });
  if (!Array.isArray(l.B) || l.B.length !== l.nOut) fail(`${f}.B`, `must have nOut = ${l.nOut} entries`);
  l.B.forEach((b, j) => checkInt(`${f}.B[${j}]`, b, l.bBits));
}

/** An embedding layer's checks: the first layer, on integer ids wide enough for the vocabulary; returns its shape. */
export function checkEmbedding(
  f: string,
  l: EmbeddingLayer,
  li: number,
  input: { size: number; bits: number; frac: number },
  weights: string,
): Shape3 {
  if (li !== 0) fail(f, "an embedding must be the first layer (it reads the token ids)");
  if (weights !== "open")
    fail(f, `is an embedding: its table is a circuit constant; use weights "open" (a committed table is not built yet)`);
  checkRangeInt(`${f}.vocab`, l.vocab, 2, 1 << 12);
  checkRangeInt(`${f}.dim`, l.dim, 1, 1 << 12);
  if (l.seq !== input.size) fail(`${f}.seq`, `is ${l.seq} but the model input holds ${input.size} token ids`);
  if (input.frac !== 0) fail("input.frac", `must be 0 for token ids (got ${input.frac})`);
  const n = idBits(l.vocab);
  if (input.bits < n + 1) fail("input.bits", `= ${input.bits} cannot hold token ids up to ${l.vocab - 1}; use at least ${n + 1}`);
  checkRangeInt(`${f}.wBits`, l.wBits, 2, 32);
  if (l.outBits !== l.wBits || l.outFrac !== l.wFrac)
    fail(`${f}.outBits`, "and outFrac must equal wBits and wFrac (the rows are the outputs)");
  if (!Array.isArray(l.E) || l.E.length !== l.vocab) fail(`${f}.E`, `must have vocab = ${l.vocab} rows`);
  l.E.forEach((row, v) => {
    if (!Array.isArray(row) || row.length !== l.dim) fail(`${f}.E[${v}]`, `must have dim = ${l.dim} entries`);
    row.forEach((w, j) => checkInt(`${f}.E[${v}][${j}]`, w, l.wBits));
  });
  return [l.dim, 1, l.seq];
}

/** Width of a committed ensemble's thresholds: the input's width plus one (they lie in [lo - 1, hi]). */
export function thresholdBits(inBits: number): number {
  return inBits + 1;
}

/** Width of every value of a tree ensemble's commitment record (thresholds, indices, leaves and base fit it). */
export const TREE_RECORD_BITS = 48;

/**
 * A tree ensemble as the model commitment packs it (docs/circuits.md, "Commitments"): nOutputs, the number of trees,
 * then per tree its node count and per node either [1, feature, threshold, yes, no] or [0, leaf values...], then the
 * base. Each record's length follows from its first value, so the sequence is injective.
 */
export function treesRecord(l: TreesLayer): number[] {
  const out = [l.nOutputs, l.trees.length];
  for (const t of l.trees) {
    out.push(t.nodes.length);
    for (const n of t.nodes) out.push(...("leaf" in n ? [0, ...n.leaf] : [1, n.feature, n.threshold, n.yes, n.no]));
  }
  out.push(...l.base);
  return out;
}

/** Weighted layers' packed chunks in commitment order: per layer, PackSigned(W flattened, wBits) ++ PackSigned(B, bBits). */

/** The shape of a transformer layer's input: the tracked [C, 1, L], or a vector [n] read as [n, 1]. */
function seqIn(f: string, inShape: unknown, shape: Shape3 | undefined, width: number, vectorOk: boolean): [number, number] {
  const s = inShape as [number, number];
  if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => Number.isInteger(v) && v >= 1))
    fail(`${f}.inShape`, `must be [channels, length] of positive integers, got ${JSON.stringify(inShape)}`);
  if (s[0] * s[1] !== width) fail(`${f}.inShape`, `[${s.join(", ")}] holds ${s[0] * s[1]} values but the previous layer outputs ${width}`);
  if (shape ? shape[0] !== s[0] || shape[1] !== 1 || shape[2] !== s[1] : !vectorOk || s[1] !== 1)
    fail(
      `${f}.inShape`,
      `is [${s.join(", ")}] but the previous layer outputs ${shape ? `shape [${shape.join(", ")}]` : `a vector of ${width}`}`,
    );
  return s;
}

/** A LayerNorm layer's checks; it keeps the shape. */
export function checkLayerNorm(
  f: string,
  l: LayerNormLayer,
  shape: Shape3 | undefined,
  width: number,
  bits: number,
  weights: string,
): void {
  if (weights !== "open")
    fail(f, `is a LayerNorm: its scales are circuit constants; use weights "open" (committed LayerNorm weights are not built yet)`);
  const [C] = seqIn(f, l.inShape, shape, width, true);
  if (C < 2) fail(`${f}.inShape`, "must normalize over at least 2 channels");
  if (l.center !== undefined && l.center !== false) fail(`${f}.center`, "must be false (no mean subtracted) or absent (LayerNorm)");
  if (l.dShift !== undefined) checkRangeInt(`${f}.dShift`, l.dShift, 1, 16);
  if (l.inBits !== bits) fail(`${f}.inBits`, `is ${l.inBits} but the previous layer outputs ${bits}-bit values; set it to ${bits}`);
  checkRangeInt(`${f}.eps`, l.eps, 1, Number.MAX_SAFE_INTEGER);
  checkRangeInt(`${f}.R`, l.R, 1, 100);
  checkRangeInt(`${f}.gBits`, l.gBits, 2, 32);
  checkRangeInt(`${f}.bBits`, l.bBits, 2, 64);
  checkRangeInt(`${f}.shift`, l.shift, 0, 200);
  checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
  if (![l.inFrac, l.gFrac, l.outFrac].every(Number.isInteger)) fail(`${f}.inFrac`, ", gFrac and outFrac must be integers");
  if (!Array.isArray(l.g) || l.g.length !== C) fail(`${f}.g`, `must have ${C} entries`);
  l.g.forEach((v, c) => checkInt(`${f}.g[${c}]`, v, l.gBits));
  if (!Array.isArray(l.B) || l.B.length !== C) fail(`${f}.B`, `must have ${C} entries`);
  l.B.forEach((v, c) => checkInt(`${f}.B[${c}]`, v, l.bBits));
}

/** An attention layer's checks; it keeps the shape. */
export function checkAttention(
  f: string,
  l: AttentionLayer,
  shape: Shape3 | undefined,
  width: number,
  bits: number,
  weights: string,
): void {
  if (weights !== "open")
    fail(
      f,
      `is an attention layer: its projections are circuit constants; use weights "open" (committed attention weights are not built yet)`,
    );
  const [E, L] = seqIn(f, l.inShape, shape, width, false);
  if (!Number.isInteger(l.heads) || l.heads < 1 || E % l.heads !== 0)
    fail(`${f}.heads`, `= ${String(l.heads)} must divide the ${E} channels`);
  if (L < 2) fail(`${f}.inShape`, "must hold a sequence of at least 2 positions");
  if (l.inBits !== bits) fail(`${f}.inBits`, `is ${l.inBits} but the previous layer outputs ${bits}-bit values; set it to ${bits}`);
  checkRangeInt(`${f}.wBits`, l.wBits, 2, 32);
  checkRangeInt(`${f}.bBits`, l.bBits, 2, 64);
  for (const n of ["q", "k", "v", "o"] as const) {
    const P = n === "o" ? outProjection(l) : l[n];
    const e = typeof P === "object" && P !== null ? projectionError(`${f}.${n}`, P, E, l.wBits, l.bBits) : `${f}.${n} must be an object`;
    if (e) throw new Error(`quantized model: ${e}`);
  }
  for (const n of ["scores", "ctx"] as const) {
    checkRangeInt(`${f}.${n}.shift`, l[n]?.shift, 0, 64);
    checkRangeInt(`${f}.${n}.outBits`, l[n]?.outBits, 2, 32);
  }
  if (l.softmax?.inBits !== l.scores.outBits || l.softmax?.inFrac !== l.scores.outFrac)
    fail(`${f}.softmax.inBits`, `and inFrac must be the scores' (${l.scores.outBits}, ${l.scores.outFrac})`);
  checkSoftmax(`${f}.softmax`, { type: "softmax", ...l.softmax }, l.scores.outBits, true, "values");
}
