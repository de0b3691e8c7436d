/**
 * The quantized model format (`*.qmodel.json`, zkml-quantized-v1, docs/model-format.md): its layer types, their
 * validation (every field, and every layer's shape against the previous layer's), the value-range plan the circuit
 * generator sizes its templates by, the bit-exact reference inference, and the model and input commitments.
 * Size (about 550 lines), kept in one file: validation, planning and inference each switch over the same layer
 * union, and a new layer type (issue 31) adds one case to each side by side. What a version's proofs say in public
 * (signals, layout, output decoding) is ./model-layout.ts.
 */
import { MODEL_DOMAIN, commitSigned, packSigned, poseidonChain, valuesPerChunk } from "./commitments";
import {
  type Interval,
  type Shape3,
  accumulatorBits,
  addRescaled,
  argmax,
  avgPool2d,
  conv2d,
  convOutShape,
  denseOpen,
  differenceBits,
  forEachConvTap,
  hull,
  max2,
  maxPool2d,
  outSide,
  poolWindows,
  productBounds,
  requantize,
  requantizeBounds,
  signedRange,
  forEachConv1dTap,
  pool1dWindows,
  conv1d,
  maxPool1d,
  avgPool1d,
} from "./fixed-point";
import {
  type ActivationFn,
  type PiecewisePoly,
  activationSpecError,
  piecewiseAccRange,
  piecewiseEval,
  piecewiseOutRange,
  piecewiseRounds,
} from "./activations";
import { type SoftmaxParams, expPoly, softmaxEval } from "./softmax";
import { type IntTreeEnsemble, treesAcc, treesAccRanges, treesError } from "./trees";

/** How the input enters the public signals: behind a salted commitment, or packed in the clear. */
export type InputMode = "committed" | "public";
/** What public signal 0 holds: the argmax class, or the packed output values. */
export type OutputHead = "argmax" | "values";

/**
 * The quantized model: the file format between the quantizer and the circuit generator (`*.qmodel.json`).
 * Values are signed integers; a tensor with `frac` fractional bits holds value * 2^frac. JSON numbers must be safe
 * integers. See docs/model-format.md.
 */
export interface QuantizedModel {
  format: "zkml-quantized-v1";
  name: string;
  /**
   * `shape` ([C, H, W]) is present for image inputs; `size` is always the flattened length. `mode`: "committed"
   * (absent = committed) hides the input behind a salted commitment; "public" exposes it packed (docs/public-signals.md).
   */
  input: { size: number; bits: number; frac: number; shape?: [number, number, number]; mode?: InputMode };
  /** "open": weights are circuit constants; "private": weights are witness signals behind modelCommitment. */
  weights: "open" | "private";
  layers: QuantizedLayer[];
  /**
   * "argmax": the output is the index of the largest logit (lowest on ties); "values": the last layer's outputs,
   * packed into one field element (`packSigned(outputs, outBits)[0]`).
   */
  head: OutputHead;
  /** Class names, index = argmax output; for a values head, the output names (informational). */
  classes?: string[];
  /** Float preprocessing of raw inputs, copied from the float model (informational). */
  preprocess?: { mean: number[]; std: number[] };
}

export interface DenseLayer {
  type: "dense";
  nIn: number;
  nOut: number;
  /** nOut x nIn weights, each in the wBits signed range. */
  W: number[][];
  /** nOut biases at the accumulator scale (input frac + weight frac), each in the bBits signed range. */
  B: number[];
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

/**
 * 2-D convolution on a CHW tensor (flattened row-major: index = (c * H + y) * W + x). Output shape:
 * [outChannels, floor((H + 2*padding - kernel) / stride) + 1, same for W]. Zero padding. `groups` (absent = 1):
 * grouped convolution, output channel o reads only the inShape[0] / groups input channels of its group
 * floor(o / (outChannels / groups)); groups = inShape[0] is a depthwise convolution.
 */
export interface Conv2dLayer {
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
  wBits: number;
  wFrac: number;
  bBits: number;
  shift: number;
  outBits: number;
  outFrac: number;
  relu: boolean;
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
export interface Conv1dLayer {
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
  wBits: number;
  wFrac: number;
  bBits: number;
  shift: number;
  outBits: number;
  outFrac: number;
  relu: boolean;
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

export type QuantizedLayer =
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
export type HeadLayer = DenseLayer | ActivationLayer | SoftmaxLayer | TreesLayer;

/** The last layer, which the head reads: a dense layer without ReLU or an activation (validateModel checks it). */
export function headLayer(m: QuantizedModel): HeadLayer {
  return m.layers[m.layers.length - 1] as HeadLayer;
}

/** Number of outputs of the head layer. */
export function headOutputs(m: QuantizedModel): number {
  const last = headLayer(m);
  if (last.type === "dense") return last.nOut;
  const plan = planModel(m);
  return plan[plan.length - 1].outSize;
}

/** Reference inference result: every layer's output, the logits and public signal 0. */
export interface Inference {
  layers: bigint[][];
  /** The last layer's outputs (the logits, or the values of a values head). */
  logits: bigint[];
  /** Public signal 0: the argmax class, or for a values head `packSigned(values, outBits)[0]`. */
  output: bigint;
  /** Values head only: the last layer's outputs (signed, `outFrac` fractional bits), as packed in `output`. */
  values?: bigint[];
}

function fail(field: string, msg: string): never {
  throw new Error(`quantized model: ${field} ${msg}`);
}

function checkInt(field: string, v: unknown, bits: number): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, `must be an integer, got ${String(v)}`);
  const { lo, hi } = signedRange(bits);
  if (BigInt(v) < lo || BigInt(v) > hi) fail(field, `= ${v} is outside the ${bits}-bit signed range [${lo}, ${hi}]`);
}

function checkRangeInt(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    fail(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
}

const SUPPORTED = [
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
  "softmax",
  "trees",
];

/** A 1-D layer's checks against the tracked shape (a sequence is [C, 1, L]); returns its output shape. */
function checkSeq(f: string, l: Conv1dLayer | MaxPool1dLayer | AvgPool1dLayer, shape: Shape3 | undefined, width: number): Shape3 {
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

function checkTrees(f: string, l: TreesLayer, width: number, weights: QuantizedModel["weights"]): void {
  const e = treesError(f, l, width, true);
  if (e) throw new Error(`quantized model: ${e}`);
  if (weights !== "open")
    fail(
      f,
      `is a tree ensemble: its thresholds and leaves are circuit constants; use weights "open" (a committed, private ensemble is not built yet)`,
    );
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

function checkSoftmax(f: string, l: SoftmaxLayer, inBits: number, last: boolean, head: OutputHead): void {
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
  const n = 2 ** e.segmentBits;
  if (!Array.isArray(e.coeffs) || e.coeffs.length !== n) fail(`${f}.exp.coeffs`, `must have 2^segmentBits = ${n} rows`);
  e.coeffs.forEach((c, s) => {
    if (!Array.isArray(c) || c.length !== e.degree + 1) fail(`${f}.exp.coeffs[${s}]`, `must have degree + 1 = ${e.degree + 1} entries`);
    c.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isSafeInteger(v))
        fail(`${f}.exp.coeffs[${s}][${j}]`, `must be a safe integer, got ${String(v)}`);
    });
  });
  const poly = expPoly(l);
  if (piecewiseEval(poly, 0n) <= 0n) fail(`${f}.exp`, "must be positive at 0 (exp(0) = 1): refit the softmax");
  if (piecewiseOutRange(poly, { lo: -(1n << BigInt(l.diffBits - 1)), hi: 0n }).lo < 0n)
    fail(`${f}.exp`, "must not be negative on the differences (<= 0): refit the softmax");
}

function checkActivation(f: string, l: ActivationLayer, inBits: number): void {
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
  const n = 2 ** l.segmentBits;
  if (!Array.isArray(l.coeffs) || l.coeffs.length !== n) fail(`${f}.coeffs`, `must have 2^segmentBits = ${n} rows`);
  l.coeffs.forEach((c, s) => {
    if (!Array.isArray(c) || c.length !== l.degree + 1) fail(`${f}.coeffs[${s}]`, `must have degree + 1 = ${l.degree + 1} entries`);
    c.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(`${f}.coeffs[${s}][${j}]`, `must be a safe integer, got ${String(v)}`);
    });
  });
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

/**
 * Checks a parsed model file field by field, including that every layer's input shape matches the previous
 * layer's output.
 * @throws Error naming the first bad field (e.g. `layers[2].inShape`) and the accepted values.
 */
export function validateModel(m: QuantizedModel): QuantizedModel {
  if (m.format !== "zkml-quantized-v1") fail("format", `must be "zkml-quantized-v1", got ${JSON.stringify(m.format)}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(m.name ?? ""))
    fail("name", `must be lowercase letters, digits and dashes, got ${JSON.stringify(m.name)}`);
  if (!Number.isInteger(m.input?.size) || m.input.size < 1) fail("input.size", "must be a positive integer");
  if (!Number.isInteger(m.input.bits) || m.input.bits < 2 || m.input.bits > 32) fail("input.bits", "must be an integer in 2..32");
  if (m.weights !== "open" && m.weights !== "private") fail("weights", `must be "open" or "private", got ${JSON.stringify(m.weights)}`);
  if (m.head !== "argmax" && m.head !== "values")
    fail("head", `must be "argmax" (classification) or "values" (packed outputs, e.g. regression), got ${JSON.stringify(m.head)}`);
  if (m.input?.mode !== undefined && m.input.mode !== "committed" && m.input.mode !== "public")
    fail("input.mode", `must be "committed" or "public" (or absent = committed), got ${JSON.stringify(m.input.mode)}`);
  if (!Array.isArray(m.layers) || m.layers.length === 0) fail("layers", "must be a non-empty array");
  let width = m.input.size;
  /** Signed width of the values the next layer reads (an activation range-checks its input to it). */
  let bits = m.input.bits;
  let shape: Shape3 | undefined;
  if (m.input.shape !== undefined) {
    checkShape("input.shape", m.input.shape);
    if (m.input.shape[0] * m.input.shape[1] * m.input.shape[2] !== width)
      fail("input.shape", `[${m.input.shape.join(", ")}] does not hold input.size = ${width} values`);
    shape = m.input.shape;
  }
  /** Output width and shape of every layer so far (an add layer reads one of them). */
  const outs: { width: number; shape: Shape3 | undefined }[] = [];
  const inputOut = { width, shape };
  m.layers.forEach((l, li) => {
    const f = `layers[${li}]`;
    if (!SUPPORTED.includes(l.type))
      fail(`${f}.type`, `"${String((l as { type: unknown }).type)}" is not supported; supported: ${SUPPORTED.join(", ")}`);
    const done = () => outs.push({ width, shape });
    if (l.type === "activation") {
      checkActivation(f, l, bits);
      bits = l.outBits;
      return done();
    }
    if (l.type === "conv1d" || l.type === "maxpool1d" || l.type === "avgpool1d") {
      shape = checkSeq(f, l, shape, width);
      width = shape[0] * shape[2];
      return done();
    }
    if (l.type === "trees") {
      if (shape !== undefined) fail(f, `a tree ensemble reads a vector, not an image [${shape.join(", ")}]`);
      checkTrees(f, l, width, m.weights);
      width = l.nOutputs;
      bits = l.outBits;
      return done();
    }
    if (l.type === "softmax") {
      if (shape !== undefined) fail(f, `softmax reads a vector of logits, not an image [${shape.join(", ")}]`);
      checkSoftmax(f, l, bits, li === m.layers.length - 1, m.head);
      bits = l.outBits;
      return done();
    }
    if ("outBits" in l && typeof l.outBits === "number") bits = l.outBits;
    if (l.type === "dense") {
      checkDense(f, l, width);
      width = l.nOut;
      shape = undefined;
      return done();
    }
    if (l.type === "add") {
      checkRangeInt(`${f}.from`, l.from, -1, li - 1);
      const src = l.from === -1 ? inputOut : outs[l.from];
      const what = l.from === -1 ? "the model input" : `layers[${l.from}]`;
      if (src.width !== width)
        fail(
          `${f}.from`,
          `= ${l.from}: ${what} outputs ${src.width} values but the previous layer outputs ${width}; add two tensors of one size`,
        );
      if (src.shape && shape && src.shape.some((d, i) => d !== shape?.[i]))
        fail(
          `${f}.from`,
          `= ${l.from}: ${what} outputs shape [${src.shape.join(", ")}] but the previous layer outputs [${shape.join(", ")}]`,
        );
      checkRangeInt(`${f}.alignCur`, l.alignCur, 0, 64);
      checkRangeInt(`${f}.alignFrom`, l.alignFrom, 0, 64);
      checkRangeInt(`${f}.shift`, l.shift, 0, 64);
      checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
      if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
      return done();
    }
    checkShape(`${f}.inShape`, l.inShape);
    const [C, H, W] = l.inShape;
    if (C * H * W !== width)
      fail(`${f}.inShape`, `[${l.inShape.join(", ")}] holds ${C * H * W} values but the previous layer outputs ${width}`);
    if (shape && (shape[0] !== C || shape[1] !== H || shape[2] !== W))
      fail(`${f}.inShape`, `is [${l.inShape.join(", ")}] but the previous layer outputs shape [${shape.join(", ")}]`);
    if (l.type === "flatten") {
      shape = undefined;
      return done();
    }
    checkRangeInt(`${f}.stride`, l.stride, 1, 1 << 16);
    if (l.type === "conv2d") {
      checkRangeInt(`${f}.kernel`, l.kernel, 1, 64);
      checkRangeInt(`${f}.padding`, l.padding, 0, l.kernel - 1);
      if (l.kernel > H + 2 * l.padding || l.kernel > W + 2 * l.padding)
        fail(`${f}.kernel`, `${l.kernel} is larger than the padded input ${H + 2 * l.padding} x ${W + 2 * l.padding}`);
      checkRangeInt(`${f}.outChannels`, l.outChannels, 1, 1 << 16);
      const G = l.groups ?? 1;
      if (l.groups !== undefined) {
        checkRangeInt(`${f}.groups`, l.groups, 1, C);
        if (C % G !== 0 || l.outChannels % G !== 0)
          fail(
            `${f}.groups`,
            `= ${G} must divide both inShape[0] = ${C} and outChannels = ${l.outChannels}; use a common divisor (${C} for depthwise when outChannels is a multiple of it) or omit it (1)`,
          );
      }
      checkWeighted(f, l);
      if (!Array.isArray(l.W) || l.W.length !== l.outChannels) fail(`${f}.W`, `must have outChannels = ${l.outChannels} filters`);
      l.W.forEach((fo, o) => {
        if (!Array.isArray(fo) || fo.length !== C / G)
          fail(`${f}.W[${o}]`, G === 1 ? `must have inShape[0] = ${C} channels` : `must have inShape[0] / groups = ${C / G} channels`);
        fo.forEach((ch, c) => {
          if (!Array.isArray(ch) || ch.length !== l.kernel) fail(`${f}.W[${o}][${c}]`, `must have kernel = ${l.kernel} rows`);
          ch.forEach((row, y) => {
            if (!Array.isArray(row) || row.length !== l.kernel) fail(`${f}.W[${o}][${c}][${y}]`, `must have kernel = ${l.kernel} entries`);
            row.forEach((w, x) => checkInt(`${f}.W[${o}][${c}][${y}][${x}]`, w, l.wBits));
          });
        });
      });
      if (!Array.isArray(l.B) || l.B.length !== l.outChannels) fail(`${f}.B`, `must have outChannels = ${l.outChannels} entries`);
      l.B.forEach((b, j) => checkInt(`${f}.B[${j}]`, b, l.bBits));
      shape = convOutShape(l);
    } else {
      checkRangeInt(`${f}.kernel`, l.kernel, l.type === "maxpool" ? 2 : 1, 64);
      const P = l.padding ?? 0;
      if (l.padding !== undefined) checkRangeInt(`${f}.padding`, l.padding, 0, l.kernel - 1);
      if (l.kernel > H + 2 * P || l.kernel > W + 2 * P)
        fail(`${f}.kernel`, `${l.kernel} is larger than the ${P ? "padded " : ""}input ${H + 2 * P} x ${W + 2 * P}`);
      if (l.type === "avgpool") {
        checkRangeInt(`${f}.shift`, l.shift, 0, 64);
        checkRangeInt(`${f}.outBits`, l.outBits, 2, 32);
      }
      shape = [C, outSide(H, l.kernel, l.stride, P), outSide(W, l.kernel, l.stride, P)];
    }
    width = shape[0] * shape[1] * shape[2];
    done();
  });
  const last = m.layers[m.layers.length - 1];
  if (!(last.type === "dense" && !last.relu) && !["activation", "softmax", "trees"].includes(last.type))
    fail(
      `layers[${m.layers.length - 1}]`,
      `must be a dense layer without ReLU, a tree ensemble, an activation or a softmax: the ${m.head} head reads signed ${m.head === "values" ? "outputs" : "logits"}`,
    );
  if (last.type === "activation" && shape !== undefined)
    fail(
      `layers[${m.layers.length - 1}]`,
      `outputs an image [${shape.join(", ")}]; the head reads a vector: flatten and add a dense layer`,
    );
  const headBits = (last as HeadLayer).outBits;
  if (m.head === "values" && width > valuesPerChunk(headBits))
    fail(
      `layers[${m.layers.length - 1}]${last.type === "dense" ? ".nOut" : ""}`,
      `${last.type === "dense" ? `= ${width} does` : `outputs ${width} values, which do`} not fit the values head: at outBits = ${headBits} one packed output word holds floor(248 / ${headBits}) = ${valuesPerChunk(headBits)} values; lower outBits (quantize.json logitBits) or the number of outputs`,
    );
  if (inputModeOf(m) === "public" && inputSignalCount(m) > MAX_INPUT_SIGNALS)
    fail(
      "input.mode",
      `"public" with input.size = ${m.input.size} at input.bits = ${m.input.bits} needs ${inputSignalCount(m)} input signals; the registry accepts at most ${MAX_INPUT_SIGNALS}: use "committed" or fewer/narrower inputs`,
    );
  return m;
}

function checkShape(field: string, s: unknown): void {
  if (!Array.isArray(s) || s.length !== 3 || !s.every((v) => Number.isInteger(v) && v >= 1))
    fail(field, `must be [channels, height, width] of positive integers, got ${JSON.stringify(s)}`);
}

function checkWeighted(f: string, l: DenseLayer | Conv2dLayer | Conv1dLayer): void {
  if (!Number.isInteger(l.wBits) || l.wBits < 2 || l.wBits > 32) fail(`${f}.wBits`, "must be an integer in 2..32");
  if (!Number.isInteger(l.bBits) || l.bBits < 2 || l.bBits > 64) fail(`${f}.bBits`, "must be an integer in 2..64");
  if (!Number.isInteger(l.shift) || l.shift < 0 || l.shift > 64) fail(`${f}.shift`, "must be an integer in 0..64");
  if (!Number.isInteger(l.outBits) || l.outBits < 2 || l.outBits > 32) fail(`${f}.outBits`, "must be an integer in 2..32");
  if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
}

function checkDense(f: string, l: DenseLayer, width: number): void {
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

/** What the circuit generator needs to know about one layer: shapes, value ranges and gadget widths. */
export interface LayerPlan {
  layer: QuantizedLayer;
  inSize: number;
  outSize: number;
  /** Range of every output element, as the circuit guarantees it (per element, from the weights or their bit ranges). */
  outRanges: Interval[];
  /** Requantize's accumulator width A (dense, conv2d, avgpool), else 0. */
  A: number;
  /** Max2's difference width D (maxpool), else 0. */
  D: number;
  /** Range of every accumulator before its requantization (dense, conv2d, avgpool, add), else empty. */
  accRanges: Interval[];
}

/** Bounds of a * 2^sa + b * 2^sb for a in `a`, b in `b`. */
function shiftedSum(a: Interval, b: Interval, sa: number, sb: number): Interval {
  const ka = 1n << BigInt(sa);
  const kb = 1n << BigInt(sb);
  return { lo: a.lo * ka + b.lo * kb, hi: a.hi * ka + b.hi * kb };
}

/**
 * Propagates value ranges through the model exactly as the circuit guarantees them: the input is range-checked to
 * input.bits, every requantization maps [lo, hi] to [rq(lo), rq(hi)] (it is monotone), max pooling takes the max of
 * the bounds. Open weights use the weights themselves (tight); private weights use the wBits/bBits ranges (the
 * circuit must not depend on, hence reveal, the weights).
 */
export function planModel(m: QuantizedModel): LayerPlan[] {
  const priv = m.weights === "private";
  const inputRanges: Interval[] = Array.from({ length: m.input.size }, () => signedRange(m.input.bits));
  let ranges = inputRanges;
  const plans: LayerPlan[] = [];
  for (const l of m.layers) {
    const inSize = ranges.length;
    let A = 0;
    let D = 0;
    let accRanges: Interval[] = [];
    let out: Interval[];
    if (l.type === "dense" || l.type === "conv2d" || l.type === "conv1d") {
      const wr = signedRange(l.wBits);
      const br = signedRange(l.bBits);
      const wIv = (w: number): Interval => (priv ? wr : { lo: BigInt(w), hi: BigInt(w) });
      const bIv = (b: number): Interval => (priv ? br : { lo: BigInt(b), hi: BigInt(b) });
      let acc: Interval[];
      if (l.type === "dense") {
        acc = l.W.map((row, j) => {
          const iv = { ...bIv(l.B[j]) };
          row.forEach((w, i) => {
            const p = productBounds(wIv(w), ranges[i]);
            iv.lo += p.lo;
            iv.hi += p.hi;
          });
          return iv;
        });
      } else if (l.type === "conv2d") {
        const [OC, OH, OW] = convOutShape(l);
        acc = Array.from({ length: OC * OH * OW }, (_, i) => ({ ...bIv(l.B[Math.floor(i / (OH * OW))]) }));
        const r = ranges;
        forEachConvTap(l, (o, c, ky, kx, ii, oi) => {
          const p = productBounds(wIv(l.W[o][c][ky][kx]), r[ii]);
          acc[oi].lo += p.lo;
          acc[oi].hi += p.hi;
        });
      } else {
        const OL = outSide(l.inShape[1], l.kernel, l.stride, l.padding);
        acc = Array.from({ length: l.outChannels * OL }, (_, i) => ({ ...bIv(l.B[Math.floor(i / OL)]) }));
        const r = ranges;
        forEachConv1dTap(l, (o, c, k, ii, oi) => {
          const p = productBounds(wIv(l.W[o][c][k]), r[ii]);
          acc[oi].lo += p.lo;
          acc[oi].hi += p.hi;
        });
      }
      A = Math.max(...acc.map(accumulatorBits));
      accRanges = acc;
      out = acc.map((iv) => requantizeBounds(iv, l.shift, l.outBits, l.relu));
    } else if (l.type === "maxpool" || l.type === "maxpool1d") {
      D = differenceBits(hull(ranges));
      const r = ranges;
      const windows = l.type === "maxpool" ? poolWindows(l.inShape, l.kernel, l.stride, l.padding ?? 0).windows : pool1dWindows(l).windows;
      out = windows.map((win) => ({
        lo: win.map((i) => r[i].lo).reduce(max2),
        hi: win.map((i) => r[i].hi).reduce(max2),
      }));
    } else if (l.type === "avgpool" || l.type === "avgpool1d") {
      const r = ranges;
      const windows = l.type === "avgpool" ? poolWindows(l.inShape, l.kernel, l.stride, l.padding ?? 0).windows : pool1dWindows(l).windows;
      const acc = windows.map((win) => ({
        lo: win.reduce((s, i) => s + r[i].lo, 0n),
        hi: win.reduce((s, i) => s + r[i].hi, 0n),
      }));
      A = Math.max(...acc.map(accumulatorBits));
      accRanges = acc;
      out = acc.map((iv) => requantizeBounds(iv, l.shift, l.outBits, false));
    } else if (l.type === "activation") {
      // the accumulator bound holds for every input of the inBits range (the template range-checks to it); the
      // output range is exact over the inputs the previous layers can produce
      const acc = piecewiseAccRange(l);
      A = piecewiseRounds(l) ? accumulatorBits(acc) : 0;
      const full = piecewiseOutRange(l, hull(ranges));
      out = ranges.map(() => full);
    } else if (l.type === "softmax") {
      out = ranges.map(() => ({ lo: 0n, hi: 1n << BigInt(l.outFrac) }));
    } else if (l.type === "trees") {
      // every split compares an input with a threshold clamped into [lo - 1, hi]: D bounds |T - x|
      const h = hull(ranges);
      D = differenceBits({ lo: h.lo - 1n, hi: h.hi });
      accRanges = treesAccRanges(l);
      A = Math.max(...accRanges.map(accumulatorBits));
      out = accRanges.map((iv) => requantizeBounds(iv, l.shift, l.outBits, false));
    } else if (l.type === "add") {
      const saved = l.from === -1 ? inputRanges : plans[l.from].outRanges;
      const acc = ranges.map((iv, i) => shiftedSum(iv, saved[i], l.alignCur, l.alignFrom));
      A = Math.max(...acc.map(accumulatorBits));
      accRanges = acc;
      out = acc.map((iv) => requantizeBounds(iv, l.shift, l.outBits, l.relu));
    } else {
      out = ranges;
    }
    ranges = out;
    plans.push({ layer: l, inSize, outSize: out.length, outRanges: out, A, D, accRanges });
  }
  return plans;
}

/** Range of each layer's input (the hull over its elements), as the circuit guarantees it. */
export function layerInputRanges(m: QuantizedModel): Interval[] {
  return [signedRange(m.input.bits), ...planModel(m).map((p) => hull(p.outRanges))];
}

/**
 * Accumulator width (Requantize's A) per layer: the worst case over the layer's outputs given the weights (open) or
 * the weight ranges (private) and the per-element input ranges. 0 for layers without a requantization
 * (maxpool, flatten).
 */
export function layerAccumulatorBits(m: QuantizedModel): number[] {
  return planModel(m).map((p) => p.A);
}

const big2 = (W: number[][]): bigint[][] => W.map((r) => r.map(BigInt));
const big4 = (W: number[][][][]): bigint[][][][] => W.map((f) => f.map((c) => c.map((r) => r.map(BigInt))));

/**
 * Runs the quantized model exactly as the circuit does (every layer type, both weight modes: the arithmetic is the same).
 * @throws RangeError naming the input index when a value is outside the model's input range.
 */
export function inferQuantized(m: QuantizedModel, x: readonly bigint[]): Inference {
  if (x.length !== m.input.size) throw new RangeError(`input has ${x.length} values; model ${m.name} takes ${m.input.size}`);
  const { lo, hi } = signedRange(m.input.bits);
  x.forEach((v, i) => {
    if (v < lo || v > hi) throw new RangeError(`input[${i}] = ${v} is outside the ${m.input.bits}-bit signed range [${lo}, ${hi}]`);
  });
  const layers: bigint[][] = [];
  let a: readonly bigint[] = x;
  for (const l of m.layers) {
    switch (l.type) {
      case "dense":
        a = denseOpen(a, big2(l.W), l.B.map(BigInt), l.shift, l.outBits, l.relu);
        break;
      case "conv2d":
        a = conv2d(a, l, big4(l.W), l.B.map(BigInt), l.shift, l.outBits, l.relu);
        break;
      case "maxpool":
        a = maxPool2d(a, l.inShape, l.kernel, l.stride, l.padding ?? 0);
        break;
      case "avgpool":
        a = avgPool2d(a, l.inShape, l.kernel, l.stride, l.shift, l.outBits, l.padding ?? 0);
        break;
      case "flatten":
        a = [...a];
        break;
      case "add":
        a = addRescaled(a, l.from === -1 ? x : layers[l.from], l.alignCur, l.alignFrom, l.shift, l.outBits, l.relu);
        break;
      case "activation": {
        const poly = l;
        a = a.map((v) => piecewiseEval(poly, v));
        break;
      }
      case "softmax":
        a = softmaxEval(l, a);
        break;
      case "trees":
        a = treesAcc(l, a).map((v) => requantize(v, l.shift, l.outBits, false));
        break;
      case "conv1d":
        a = conv1d(
          a,
          l,
          l.W.map((o) => o.map((c) => c.map(BigInt))),
          l.B.map(BigInt),
          l.shift,
          l.outBits,
          l.relu,
        );
        break;
      case "maxpool1d":
        a = maxPool1d(a, l);
        break;
      case "avgpool1d":
        a = avgPool1d(a, l, l.shift, l.outBits);
        break;
    }
    layers.push([...a]);
  }
  const logits = layers[layers.length - 1];
  if (m.head === "values") {
    const last = headLayer(m);
    return { layers, logits, output: packSigned(logits, last.outBits, "output")[0], values: [...logits] };
  }
  return { layers, logits, output: BigInt(argmax(logits)) };
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
export function modelChunks(m: QuantizedModel): bigint[] {
  const chunks: bigint[] = [];
  m.layers.forEach((l, li) => {
    if (l.type === "trees") {
      chunks.push(...packSigned(treesRecord(l).map(BigInt), TREE_RECORD_BITS, `layers[${li}] (trees)`));
      return;
    }
    if (l.type !== "dense" && l.type !== "conv2d" && l.type !== "conv1d") return;
    const flat = l.type === "dense" ? l.W.flat() : l.type === "conv1d" ? l.W.flat(2) : l.W.flat(3);
    chunks.push(...packSigned(flat.map(BigInt), l.wBits, `layers[${li}].W`));
    chunks.push(...packSigned(l.B.map(BigInt), l.bBits, `layers[${li}].B`));
  });
  return chunks;
}

/**
 * The model commitment (public signal 1): PoseidonChain(MODEL_DOMAIN, for each dense/conv2d layer in order:
 * PackSigned(W flattened row-major, wBits) ++ PackSigned(B, bBits)). Conv weights flatten as [oc][ic][ky][kx]
 * (grouped: ic < inChannels / groups, the stored shape).
 * The circuit recomputes it for private weights.
 */
export async function modelCommitment(m: QuantizedModel): Promise<bigint> {
  return poseidonChain(MODEL_DOMAIN, modelChunks(m));
}

/** The input commitment (public signal 2 of a committed-mode model): CommitSigned(x, input.bits, salt). */
export function inputCommitment(m: QuantizedModel, x: readonly bigint[], salt: bigint): Promise<bigint> {
  return commitSigned(x, m.input.bits, salt, "input");
}

/** Most input signals the registry accepts for one version (docs/public-signals.md). */
export const MAX_INPUT_SIGNALS = 16;

/** The model's input mode; an absent `input.mode` means "committed". */
export function inputModeOf(m: QuantizedModel): InputMode {
  return m.input.mode ?? "committed";
}

/** m, the number of input signals: 1 (the commitment) or ceil(input.size / floor(248 / input.bits)) packed words. */
export function inputSignalCount(m: QuantizedModel): number {
  return inputModeOf(m) === "public" ? Math.ceil(m.input.size / valuesPerChunk(m.input.bits)) : 1;
}
