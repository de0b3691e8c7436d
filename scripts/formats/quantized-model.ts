/**
 * The quantized model format (`*.qmodel.json`, zkml-quantized-v1, docs/model-format.md): the model's validation
 * (every layer's shape against the previous layer's; the layer types and their field checks are ./quantized-layers.ts),
 * the value-range plan the circuit generator sizes its templates by, the bit-exact reference inference, and the model
 * and input commitments. What a version's proofs say in public (signals, layout, output decoding) is
 * ./model-layout.ts. Size (about 530 lines), kept in one file: validation, planning and inference each switch over the
 * same layer union, side by side.
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
import { piecewiseAccRange, piecewiseEval, piecewiseOutRange, piecewiseRounds } from "./activations";
import { logSoftmaxBounds, logSoftmaxEval, softmaxEval } from "./softmax";
import { treeLeafValues, treeThresholds, treesAcc, treesAccRanges, treesPrivateAccRanges } from "./trees";
import { attentionEval, attentionPlan, attentionRecord, layerNormBounds, layerNormEval } from "./transformer";
import {
  type ActivationLayer,
  type AttentionLayer,
  type LayerNormLayer,
  type LogSoftmaxLayer,
  checkLogSoftmax,
  checkAttention,
  checkLayerNorm,
  type AddLayer,
  type AvgPool1dLayer,
  type AvgPoolLayer,
  type Conv1dLayer,
  type Conv2dLayer,
  type DenseLayer,
  type EmbeddingLayer,
  type FlattenLayer,
  type HeadLayer,
  type MaxPool1dLayer,
  type MaxPoolLayer,
  type QuantizedLayer,
  type SoftmaxLayer,
  type TreesLayer,
  SUPPORTED,
  TREE_RECORD_BITS,
  thresholdBits,
  idBits,
  checkActivation,
  checkEmbedding,
  checkDense,
  checkRangeInt,
  checkSeq,
  checkShape,
  checkSoftmax,
  checkTrees,
  checkWeighted,
  checkInt,
  fail,
  treesRecord,
} from "./quantized-layers";

export type {
  LogSoftmaxLayer,
  ActivationLayer,
  AttentionLayer,
  LayerNormLayer,
  AddLayer,
  AvgPool1dLayer,
  AvgPoolLayer,
  Conv1dLayer,
  Conv2dLayer,
  DenseLayer,
  EmbeddingLayer,
  FlattenLayer,
  HeadLayer,
  MaxPool1dLayer,
  MaxPoolLayer,
  QuantizedLayer,
  SoftmaxLayer,
  TreesLayer,
};
export { TREE_RECORD_BITS, idBits, treesRecord };

/** Twin of `Embedding`: the rows of the ids, laid out [dim, seq]. @throws RangeError naming the token out of the vocabulary. */
export function embeddingEval(l: EmbeddingLayer, ids: readonly bigint[]): bigint[] {
  const out = new Array<bigint>(l.dim * l.seq);
  ids.forEach((id, t) => {
    if (id < 0n || id >= BigInt(l.vocab))
      throw new RangeError(`input[${t}] = ${id} is not a token id of the vocabulary (0..${l.vocab - 1})`);
    for (let j = 0; j < l.dim; j++) out[j * l.seq + t] = BigInt(l.E[Number(id)][j]);
  });
  return out;
}

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
    if (l.type === "layernorm" || l.type === "attention") {
      if (l.type === "layernorm") checkLayerNorm(f, l, shape, width, bits, m.weights);
      else checkAttention(f, l, shape, width, bits, m.weights);
      bits = l.outBits;
      return done();
    }
    if (l.type === "embedding") {
      shape = checkEmbedding(f, l, li, m.input, m.weights);
      width = l.dim * l.seq;
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
      checkTrees(f, l, width, m.weights, bits);
      width = l.nOutputs;
      bits = l.outBits;
      return done();
    }
    if (l.type === "logsoftmax") {
      if (shape !== undefined) fail(f, `logsoftmax reads a vector of logits, not an image [${shape.join(", ")}]`);
      checkLogSoftmax(f, l, bits, li === m.layers.length - 1, m.head);
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
  if (!(last.type === "dense" && !last.relu) && !["activation", "softmax", "logsoftmax", "trees"].includes(last.type))
    fail(
      `layers[${m.layers.length - 1}]`,
      `must be a dense layer without ReLU, a tree ensemble, an activation, a softmax or a logsoftmax: the ${m.head} head reads signed ${m.head === "values" ? "outputs" : "logits"}`,
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
    } else if (l.type === "logsoftmax") {
      const o = logSoftmaxBounds(l, ranges.length, hull(ranges)).out;
      out = ranges.map(() => o);
    } else if (l.type === "layernorm") {
      // |d r| <= 2^R for every input: the accumulator's range does not depend on the inputs' ranges
      const b = layerNormBounds(l, hull(ranges));
      A = b.A;
      const L = l.inShape[1];
      accRanges = ranges.map((_, i) => b.acc[Math.floor(i / L)]);
      out = accRanges.map((iv) => requantizeBounds(iv, l.shift, l.outBits, false));
    } else if (l.type === "attention") {
      out = attentionPlan(l, ranges).out;
    } else if (l.type === "embedding") {
      // every id of the vocabulary may come: each output dim ranges over its column of the table
      const col = Array.from({ length: l.dim }, (_, j) => ({
        lo: BigInt(Math.min(...l.E.map((r) => r[j]))),
        hi: BigInt(Math.max(...l.E.map((r) => r[j]))),
      }));
      out = Array.from({ length: l.dim * l.seq }, (_, i) => col[Math.floor(i / l.seq)]);
    } else if (l.type === "trees") {
      // every split compares an input with a threshold clamped into [lo - 1, hi]: D bounds |T - x|; a committed
      // threshold is only known to fit thresholdBits, and a committed leaf the leafBits range
      const h = hull(ranges);
      if (priv) {
        const t = signedRange(
          thresholdBits(plans.length === 0 ? m.input.bits : (m.layers[plans.length - 1] as { outBits: number }).outBits),
        );
        D = accumulatorBits({ lo: t.lo - h.hi, hi: t.hi - h.lo }) - 1;
        accRanges = treesPrivateAccRanges(l, l.leafBits);
      } else {
        D = differenceBits({ lo: h.lo - 1n, hi: h.hi });
        accRanges = treesAccRanges(l);
      }
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
      case "logsoftmax":
        a = logSoftmaxEval(l, a);
        break;
      case "layernorm":
        a = layerNormEval(l, a);
        break;
      case "attention":
        a = attentionEval(l, a);
        break;
      case "embedding":
        a = embeddingEval(l, a);
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

export function modelChunks(m: QuantizedModel): bigint[] {
  const chunks: bigint[] = [];
  m.layers.forEach((l, li) => {
    if (l.type === "embedding") {
      chunks.push(...packSigned(l.E.flat().map(BigInt), l.wBits, `layers[${li}].E`));
      return;
    }
    if (l.type === "trees") {
      if (m.weights === "private") {
        // committed: the thresholds and the leaves (witnesses), then the base (a constant); the structure is the circuit's
        const inBits = li === 0 ? m.input.bits : (m.layers[li - 1] as { outBits: number }).outBits;
        chunks.push(
          ...packSigned(treeThresholds(l).map(BigInt), thresholdBits(inBits), `layers[${li}] thresholds`),
          ...packSigned(treeLeafValues(l).map(BigInt), l.leafBits, `layers[${li}] leaves`),
          ...packSigned(l.base.map(BigInt), TREE_RECORD_BITS, `layers[${li}].base`),
        );
      } else chunks.push(...packSigned(treesRecord(l).map(BigInt), TREE_RECORD_BITS, `layers[${li}] (trees)`));
      return;
    }
    if (l.type === "layernorm") {
      chunks.push(...packSigned(l.g.map(BigInt), l.gBits, `layers[${li}].g`), ...packSigned(l.B.map(BigInt), l.bBits, `layers[${li}].B`));
      return;
    }
    if (l.type === "attention") {
      const r = attentionRecord(l);
      chunks.push(...packSigned(r.W.map(BigInt), l.wBits, `layers[${li}].W`), ...packSigned(r.B.map(BigInt), l.bBits, `layers[${li}].B`));
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
