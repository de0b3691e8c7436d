/**
 * The float model: what training (or an importer) produces and the quantizer reads (`*.float.json`).
 * Inputs are preprocessed as (raw - mean) / std before the first layer. See docs/model-format.md.
 * Size (about 490 lines), kept in one file: the layer union, its validation and its forward pass switch over the same
 * types side by side (the activations and trees evaluate in ./activations.ts and ./trees.ts).
 */
import { type ActivationSpec, activationFloat, activationSpecError } from "./activations";
import { type TreeEnsemble, treesError, treesFloat } from "./trees";
import {
  type AttentionSpec,
  type LayerNormSpec,
  attentionFloatParts,
  attentionSpecError,
  layerNormFloat,
  layerNormSpecError,
} from "./transformer";

export interface FloatModel {
  format: "zkml-float-v1";
  name: string;
  inputSize: number;
  /** Per-feature standardization applied to raw inputs before the network. */
  preprocess: { mean: number[]; std: number[] };
  /** Class names (index = logit index); for a regression model, the names of the outputs. */
  classes: string[];
  /**
   * "classification" (absent = classification): the outputs are logits and the answer is their argmax;
   * "regression": the outputs are the predicted values themselves (quantized with a values head).
   */
  task?: "classification" | "regression";
  /** Present for image models: [C, H, W]; inputs are flattened CHW. */
  inputShape?: [number, number, number];
  layers: FloatLayer[];
  /** Provenance: how the weights were produced. */
  trainedWith?: Record<string, unknown>;
}

export interface FloatDense {
  type: "dense";
  /** nOut x nIn */
  W: number[][];
  B: number[];
  relu: boolean;
}

/**
 * Conv on a CHW tensor; W is [outChannels][inChannels / groups][kernel][kernel]; zero padding. `groups` (absent = 1):
 * output channel o reads only the input channels of its group floor(o / (outChannels / groups)) (depthwise: groups =
 * inChannels).
 */
export interface FloatConv2d {
  type: "conv2d";
  inShape: [number, number, number];
  groups?: number;
  W: number[][][][];
  B: number[];
  kernel: number;
  stride: number;
  padding: number;
  relu: boolean;
}

export interface FloatPool {
  type: "maxpool" | "avgpool";
  inShape: [number, number, number];
  kernel: number;
  stride: number;
  /**
   * Padding on every side, absent = 0. avgpool: zeros, counted in the average (PyTorch's AvgPool2d(padding=p), whose
   * count_include_pad defaults to true). maxpool: -infinity, never the maximum (PyTorch's MaxPool2d(padding=p)).
   */
  padding?: number;
}

export interface FloatFlatten {
  type: "flatten";
  inShape: [number, number, number];
}

/**
 * Residual Add: the previous layer's output plus the output of the earlier layer `from` (-1 = the preprocessed
 * input), element by element (same size; same [C, H, W] when both are images), then ReLU if `relu`.
 */
export interface FloatAdd {
  type: "add";
  from: number;
  relu: boolean;
}

/**
 * An elementwise activation (sigmoid, tanh, GELU, ...; scripts/formats/activations.ts) on the previous layer's output;
 * the shape is kept.
 */
export interface FloatActivation extends ActivationSpec {
  type: "activation";
}

/**
 * A tree ensemble (scripts/formats/trees.ts) on the input vector: nOutputs raw scores (base plus each tree's leaf);
 * a sigmoid or softmax after it makes them probabilities.
 */
export interface FloatTrees extends TreeEnsemble {
  type: "trees";
}

/** Softmax over the logits, as the last layer only: the model outputs probabilities. */
export interface FloatSoftmax {
  type: "softmax";
}

/**
 * 1-D convolution on a [C, L] sequence (flattened index c * L + x; the model's `inputShape` of a sequence input is
 * [C, 1, L]): W is [outChannels][C / groups][kernel], zero padding, optional groups (PyTorch's Conv1d).
 */
export interface FloatConv1d {
  type: "conv1d";
  inShape: [number, number];
  groups?: number;
  W: number[][][];
  B: number[];
  kernel: number;
  stride: number;
  padding: number;
  relu: boolean;
}

/** Max or average pooling on a [C, L] sequence (padding: -infinity for max, zeros counted for average). */
export interface FloatPool1d {
  type: "maxpool1d" | "avgpool1d";
  inShape: [number, number];
  kernel: number;
  stride: number;
  padding?: number;
}

/**
 * Token embeddings, the first layer only: the input is `inputSize` token ids (integers 0 .. vocab - 1, no
 * preprocessing), the output their rows of E laid out [dim, seq] (index j * seq + t; shape [dim, 1, seq]).
 */
export interface FloatEmbedding {
  type: "embedding";
  /** [vocab][dim] */
  E: number[][];
}

/** LayerNorm over the channels of each position of a [C, 1, L] sequence (or of a vector [n], inShape [n, 1]). */
export interface FloatLayerNorm extends LayerNormSpec {
  type: "layernorm";
}

/** Multi-head self-attention on a [E, 1, L] sequence (scripts/formats/transformer.ts). */
export interface FloatAttention extends AttentionSpec {
  type: "attention";
}

/** Log-probabilities, the last layer only: x_i - max x - log(sum_j exp(x_j - max x)) (PyTorch's log_softmax). */
export interface FloatLogSoftmax {
  type: "logsoftmax";
}

export type FloatLayer =
  | FloatLogSoftmax
  | FloatLayerNorm
  | FloatAttention
  | FloatEmbedding
  | FloatConv1d
  | FloatPool1d
  | FloatDense
  | FloatConv2d
  | FloatPool
  | FloatFlatten
  | FloatAdd
  | FloatActivation
  | FloatSoftmax
  | FloatTrees;

/** Standardizes a raw input with the model's preprocessing. */
export function preprocess(m: FloatModel, raw: readonly number[]): number[] {
  if (raw.length !== m.inputSize) throw new RangeError(`input has ${raw.length} features; model ${m.name} takes ${m.inputSize}`);
  return standardize(m.preprocess, raw);
}

/** (raw - mean) / std per feature: the preprocessing a float model (and its quantized copy) records. */
export function standardize(pre: { mean: readonly number[]; std: readonly number[] }, raw: readonly number[]): number[] {
  return raw.map((v, i) => (v - pre.mean[i]) / pre.std[i]);
}

/** Shape of a tensor between layers: [C, H, W] for images, [n] for vectors. */
export type Shape = [number] | [number, number, number];

/** Output size of a window op along one axis: floor((n + 2 * padding - kernel) / stride) + 1. */
export function windowOut(n: number, kernel: number, stride: number, padding = 0): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/** Output shape of one layer given its input shape (no checks; see {@link validateFloatModel}). */
export function layerOutShape(l: FloatLayer, input: Shape): Shape {
  switch (l.type) {
    case "dense":
      return [l.W.length];
    case "conv2d":
      return [l.W.length, windowOut(l.inShape[1], l.kernel, l.stride, l.padding), windowOut(l.inShape[2], l.kernel, l.stride, l.padding)];
    case "maxpool":
    case "avgpool":
      return [
        l.inShape[0],
        windowOut(l.inShape[1], l.kernel, l.stride, l.padding ?? 0),
        windowOut(l.inShape[2], l.kernel, l.stride, l.padding ?? 0),
      ];
    case "embedding":
      return [l.E[0].length, 1, size(input)];
    case "conv1d":
      return [l.W.length, 1, windowOut(l.inShape[1], l.kernel, l.stride, l.padding)];
    case "maxpool1d":
    case "avgpool1d":
      return [l.inShape[0], 1, windowOut(l.inShape[1], l.kernel, l.stride, l.padding ?? 0)];
    case "trees":
      return [l.nOutputs];
    case "flatten":
      return [l.inShape[0] * l.inShape[1] * l.inShape[2]];
    default:
      return input; // add keeps the shape
  }
}

function size(s: Shape): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Checks a float model's structure: layer types, weight array sizes and that each layer's input shape matches the
 * previous layer's output. Returns the shape after every layer.
 * @throws Error naming the first bad field (`layers[i].field`) and what was expected.
 */
export function validateFloatModel(m: FloatModel): Shape[] {
  const fail = (field: string, msg: string): never => {
    throw new Error(`float model ${m.name}: ${field} ${msg}`);
  };
  if (m.format !== "zkml-float-v1") fail("format", `must be "zkml-float-v1", got ${JSON.stringify(m.format)}`);
  if (!Number.isInteger(m.inputSize) || m.inputSize < 1) fail("inputSize", "must be a positive integer");
  if (m.task !== undefined && m.task !== "classification" && m.task !== "regression")
    fail("task", `must be "classification" or "regression" (or absent = classification), got ${JSON.stringify(m.task)}`);
  if (m.preprocess?.mean?.length !== m.inputSize || m.preprocess?.std?.length !== m.inputSize)
    fail("preprocess", `mean and std must have inputSize = ${m.inputSize} entries`);
  if (m.preprocess.std.some((v) => !(v > 0))) fail("preprocess.std", "must be positive");
  if (m.inputShape && size(m.inputShape) !== m.inputSize)
    fail("inputShape", `[${m.inputShape}] does not hold inputSize = ${m.inputSize} values`);
  if (!Array.isArray(m.layers) || m.layers.length === 0) fail("layers", "must be a non-empty array");
  let shape: Shape = m.inputShape ? [...m.inputShape] : [m.inputSize];
  const shapes: Shape[] = [];
  const posInt = (f: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1) fail(f, `must be a positive integer, got ${String(v)}`);
  };
  const finite = (f: string, v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v)) fail(f, `must be a finite number, got ${String(v)}`);
  };
  m.layers.forEach((l, li) => {
    const f = `layers[${li}]`;
    if (l.type === "dense") {
      if (shape.length !== 1) fail(f, `dense needs a vector input but gets shape [${shape}]; add a flatten layer`);
      const nIn = shape[0];
      if (!Array.isArray(l.W) || l.W.length < 1) fail(`${f}.W`, "must have at least one row");
      l.W.forEach((row, j) => {
        if (!Array.isArray(row) || row.length !== nIn) fail(`${f}.W[${j}]`, `must have ${nIn} entries (the previous layer's output size)`);
        row.forEach((w, i) => finite(`${f}.W[${j}][${i}]`, w));
      });
      if (!Array.isArray(l.B) || l.B.length !== l.W.length) fail(`${f}.B`, `must have ${l.W.length} entries`);
      l.B.forEach((b, j) => finite(`${f}.B[${j}]`, b));
      if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
    } else if (l.type === "conv2d" || l.type === "maxpool" || l.type === "avgpool" || l.type === "flatten") {
      if (!Array.isArray(l.inShape) || l.inShape.length !== 3 || shape.length !== 3 || l.inShape.some((v, i) => v !== shape[i]))
        fail(`${f}.inShape`, `is [${String(l.inShape)}] but the previous layer outputs shape [${shape}]`);
      if (l.type !== "flatten") {
        posInt(`${f}.kernel`, l.kernel);
        posInt(`${f}.stride`, l.stride);
        const pad = l.padding ?? 0;
        if (!Number.isInteger(pad) || pad < 0) fail(`${f}.padding`, "must be a non-negative integer");
        if (l.type !== "conv2d" && pad >= l.kernel) fail(`${f}.padding`, `must be less than the kernel (${l.kernel})`);
        if (l.kernel > l.inShape[1] + 2 * pad || l.kernel > l.inShape[2] + 2 * pad)
          fail(`${f}.kernel`, `${l.kernel} is larger than the (padded) input ${l.inShape[1]}x${l.inShape[2]}`);
      }
      if (l.type === "conv2d") {
        const G = l.groups ?? 1;
        if (!Array.isArray(l.W) || l.W.length < 1) fail(`${f}.W`, "must have at least one output channel");
        if (!Number.isInteger(G) || G < 1 || l.inShape[0] % G !== 0 || l.W.length % G !== 0)
          fail(
            `${f}.groups`,
            `= ${String(l.groups)} must be a positive integer dividing the ${l.inShape[0]} input and ${l.W.length} output channels; omit it for an ungrouped conv`,
          );
        const c = l.inShape[0] / G;
        l.W.forEach((oc, o) => {
          if (!Array.isArray(oc) || oc.length !== c)
            fail(`${f}.W[${o}]`, `must have ${c} input channels${G > 1 ? ` (inShape[0] / groups)` : ""}`);
          oc.forEach((k2, ci) => {
            if (!Array.isArray(k2) || k2.length !== l.kernel) fail(`${f}.W[${o}][${ci}]`, `must be ${l.kernel}x${l.kernel}`);
            k2.forEach((row, ky) => {
              if (!Array.isArray(row) || row.length !== l.kernel) fail(`${f}.W[${o}][${ci}][${ky}]`, `must have ${l.kernel} entries`);
              row.forEach((w, kx) => finite(`${f}.W[${o}][${ci}][${ky}][${kx}]`, w));
            });
          });
        });
        if (!Array.isArray(l.B) || l.B.length !== l.W.length) fail(`${f}.B`, `must have ${l.W.length} entries (one per output channel)`);
        l.B.forEach((b, j) => finite(`${f}.B[${j}]`, b));
        if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
      }
    } else if (l.type === "add") {
      if (!Number.isInteger(l.from) || l.from < -1 || l.from >= li)
        fail(`${f}.from`, `must be the index of an earlier layer (0..${li - 1}) or -1 (the input), got ${String(l.from)}`);
      const other: Shape = l.from === -1 ? (m.inputShape ? [...m.inputShape] : [m.inputSize]) : shapes[l.from];
      if (size(other) !== size(shape) || (other.length === 3 && shape.length === 3 && other.some((d, i) => d !== shape[i])))
        fail(`${f}.from`, `= ${l.from} outputs shape [${other}] but the previous layer outputs [${shape}]; add two tensors of one shape`);
      if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
    } else if (l.type === "activation") {
      const e = activationSpecError(f, l);
      if (e) throw new Error(`float model ${m.name}: ${e}`);
    } else if (l.type === "embedding") {
      if (li !== 0) fail(f, "an embedding must be the first layer (it reads the token ids)");
      if (!Array.isArray(l.E) || l.E.length < 2 || !Array.isArray(l.E[0]) || l.E[0].length < 1)
        fail(`${f}.E`, "must be a [vocab][dim] table with vocab >= 2 and dim >= 1");
      l.E.forEach((row, v) => {
        if (!Array.isArray(row) || row.length !== l.E[0].length) fail(`${f}.E[${v}]`, `must have ${l.E[0].length} entries`);
        row.forEach((w, j) => finite(`${f}.E[${v}][${j}]`, w));
      });
      if (m.preprocess.mean.some((v) => v !== 0) || m.preprocess.std.some((v) => v !== 1))
        fail("preprocess", "must be the identity (mean 0, std 1) for token ids");
    } else if (l.type === "conv1d" || l.type === "maxpool1d" || l.type === "avgpool1d") {
      const s = l.inShape;
      if (!Array.isArray(s) || s.length !== 2 || shape.length !== 3 || shape[1] !== 1 || shape[0] !== s[0] || shape[2] !== s[1])
        fail(`${f}.inShape`, `is [${String(s)}] but the previous layer outputs shape [${shape}] (a sequence is [C, 1, L])`);
      posInt(`${f}.kernel`, l.kernel);
      posInt(`${f}.stride`, l.stride);
      const pad = l.padding ?? 0;
      if (!Number.isInteger(pad) || pad < 0 || pad >= l.kernel) fail(`${f}.padding`, `must be an integer in 0..${l.kernel - 1}`);
      if (l.kernel > s[1] + 2 * pad) fail(`${f}.kernel`, `${l.kernel} is longer than the (padded) sequence ${s[1] + 2 * pad}`);
      if (l.type === "conv1d") {
        const G = l.groups ?? 1;
        if (!Array.isArray(l.W) || l.W.length < 1) fail(`${f}.W`, "must have at least one output channel");
        if (!Number.isInteger(G) || G < 1 || s[0] % G !== 0 || l.W.length % G !== 0)
          fail(`${f}.groups`, `= ${String(l.groups)} must divide the ${s[0]} input and ${l.W.length} output channels`);
        l.W.forEach((oc, o) => {
          if (!Array.isArray(oc) || oc.length !== s[0] / G) fail(`${f}.W[${o}]`, `must have ${s[0] / G} input channels`);
          oc.forEach((k, c) => {
            if (!Array.isArray(k) || k.length !== l.kernel) fail(`${f}.W[${o}][${c}]`, `must have ${l.kernel} entries`);
            k.forEach((w, kk) => finite(`${f}.W[${o}][${c}][${kk}]`, w));
          });
        });
        if (!Array.isArray(l.B) || l.B.length !== l.W.length) fail(`${f}.B`, `must have ${l.W.length} entries`);
        l.B.forEach((b, j) => finite(`${f}.B[${j}]`, b));
        if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
      }
    } else if (l.type === "trees") {
      if (shape.length !== 1) fail(f, `a tree ensemble reads a vector, not shape [${shape}]`);
      const e = treesError(f, l, shape[0]);
      if (e) throw new Error(`float model ${m.name}: ${e}`);
    } else if (l.type === "layernorm" || l.type === "attention") {
      const e = l.type === "layernorm" ? layerNormSpecError(f, l, shape) : attentionSpecError(f, l, shape);
      if (e) throw new Error(`float model ${m.name}: ${e}`);
    } else if (l.type === "softmax" || l.type === "logsoftmax") {
      if (li !== m.layers.length - 1)
        fail(f, `${l.type} must be the last layer (the model then outputs ${l.type === "softmax" ? "" : "log-"}probabilities)`);
      if (shape.length !== 1) fail(f, `${l.type} reads a vector of logits, not shape [${shape}]`);
    } else {
      fail(`${f}.type`, `"${String((l as { type: unknown }).type)}" is not supported; supported: ${FLOAT_TYPES}`);
    }
    shape = layerOutShape(l, shape);
    shapes.push(shape);
  });
  if (shape.length !== 1) fail(`layers[${m.layers.length - 1}]`, `must output a vector of logits, not shape [${shape}]`);
  if (m.classes && m.classes.length !== shape[0]) fail("classes", `has ${m.classes.length} names but the model outputs ${shape[0]} logits`);
  return shapes;
}

const FLOAT_TYPES =
  "embedding, dense, conv2d, conv1d, maxpool, maxpool1d, avgpool, avgpool1d, flatten, add, activation, layernorm, attention, softmax, logsoftmax, trees";

/** Conv2d on a flattened CHW tensor (zero padding, optional groups). */
export function conv2dFloat(l: FloatConv2d, x: ArrayLike<number>): number[] {
  const [C, H, W] = l.inShape;
  const { kernel: K, stride: S, padding: P } = l;
  const G = l.groups ?? 1;
  const oh = windowOut(H, K, S, P);
  const ow = windowOut(W, K, S, P);
  const out = new Array<number>(l.W.length * oh * ow);
  for (let o = 0; o < l.W.length; o++) {
    const c0 = Math.floor(o / (l.W.length / G)) * (C / G);
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let s = l.B[o];
        for (let c = c0; c < c0 + C / G; c++) {
          const wc = l.W[o][c - c0];
          for (let ky = 0; ky < K; ky++) {
            const iy = y * S + ky - P;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < K; kx++) {
              const ix = xx * S + kx - P;
              if (ix < 0 || ix >= W) continue;
              s += wc[ky][kx] * x[(c * H + iy) * W + ix];
            }
          }
        }
        out[(o * oh + y) * ow + xx] = l.relu ? Math.max(0, s) : s;
      }
    }
  }
  return out;
}

/**
 * Max pooling (padded taps never win), or average pooling with optional zero padding (counted in the average), on a
 * flattened CHW tensor.
 */
export function poolFloat(l: FloatPool, x: ArrayLike<number>): number[] {
  const [C, H, W] = l.inShape;
  const { kernel: K, stride: S } = l;
  const P = l.padding ?? 0;
  const oh = windowOut(H, K, S, P);
  const ow = windowOut(W, K, S, P);
  const out = new Array<number>(C * oh * ow);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < oh; y++) {
      for (let xx = 0; xx < ow; xx++) {
        let acc = l.type === "maxpool" ? -Infinity : 0;
        for (let ky = 0; ky < K; ky++) {
          for (let kx = 0; kx < K; kx++) {
            const iy = y * S + ky - P;
            const ix = xx * S + kx - P;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue; // padding: adds 0 to a sum, never a maximum
            const v = x[(c * H + iy) * W + ix];
            acc = l.type === "maxpool" ? Math.max(acc, v) : acc + v;
          }
        }
        out[(c * oh + y) * ow + xx] = l.type === "maxpool" ? acc : acc / (K * K);
      }
    }
  }
  return out;
}

/** Conv1d, or max / average pooling, on a flattened [C, L] sequence (zero padding; padded taps never win a max). */
export function seq1dFloat(l: FloatConv1d | FloatPool1d, x: ArrayLike<number>): number[] {
  const [C, L] = l.inShape;
  const P = l.padding ?? 0;
  const OL = windowOut(L, l.kernel, l.stride, P);
  if (l.type === "conv1d") {
    const G = l.groups ?? 1;
    const OC = l.W.length;
    const out = new Array<number>(OC * OL);
    for (let o = 0; o < OC; o++) {
      const c0 = Math.floor(o / (OC / G)) * (C / G);
      for (let ox = 0; ox < OL; ox++) {
        let s = l.B[o];
        for (let c = 0; c < C / G; c++)
          for (let k = 0; k < l.kernel; k++) {
            const xi = ox * l.stride + k - P;
            if (xi >= 0 && xi < L) s += l.W[o][c][k] * x[(c0 + c) * L + xi];
          }
        out[o * OL + ox] = l.relu ? Math.max(0, s) : s;
      }
    }
    return out;
  }
  const out = new Array<number>(C * OL);
  for (let c = 0; c < C; c++)
    for (let ox = 0; ox < OL; ox++) {
      let acc = l.type === "maxpool1d" ? -Infinity : 0;
      for (let k = 0; k < l.kernel; k++) {
        const xi = ox * l.stride + k - P;
        if (xi < 0 || xi >= L) continue;
        acc = l.type === "maxpool1d" ? Math.max(acc, x[c * L + xi]) : acc + x[c * L + xi];
      }
      out[c * OL + ox] = l.type === "maxpool1d" ? acc : acc / l.kernel;
    }
  return out;
}

/**
 * One layer's float forward pass on a flattened input; an add layer also reads `saved`, the output of its `from`
 * layer (or the input).
 */
export function forwardLayer(l: FloatLayer, a: ArrayLike<number>, saved?: ArrayLike<number>): number[] {
  switch (l.type) {
    case "dense":
      return l.W.map((row, j) => {
        let s = l.B[j];
        for (let i = 0; i < row.length; i++) s += row[i] * a[i];
        return l.relu ? Math.max(0, s) : s;
      });
    case "conv2d":
      return conv2dFloat(l, a);
    case "maxpool":
    case "avgpool":
      return poolFloat(l, a);
    case "flatten":
      return Array.from(a);
    case "add": {
      const b = saved;
      if (!b || b.length !== a.length) throw new Error(`add: the operands have ${a.length} and ${b?.length ?? 0} values`);
      return Array.from(a, (v, i) => (l.relu ? Math.max(0, v + b[i]) : v + b[i]));
    }
    case "activation":
      return Array.from(a, (v) => activationFloat(l, v));
    case "trees":
      return treesFloat(l, a);
    case "embedding": {
      const seq = a.length;
      const dim = l.E[0].length;
      const out = new Array<number>(dim * seq);
      for (let t = 0; t < seq; t++) {
        const id = a[t];
        if (!Number.isInteger(id) || id < 0 || id >= l.E.length)
          throw new RangeError(`input[${t}] = ${id} is not a token id of the vocabulary (0..${l.E.length - 1})`);
        for (let j = 0; j < dim; j++) out[j * seq + t] = l.E[id][j];
      }
      return out;
    }
    case "conv1d":
    case "maxpool1d":
    case "avgpool1d":
      return seq1dFloat(l, a);
    case "logsoftmax": {
      const v = Array.from(a);
      const m = Math.max(...v);
      const lse = Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0));
      return v.map((x) => x - m - lse);
    }
    case "layernorm":
      return layerNormFloat(l, a);
    case "attention":
      return attentionFloatParts(l, a).out;
    case "softmax": {
      const v = Array.from(a);
      const m = Math.max(...v);
      const e = v.map((x) => Math.exp(x - m));
      const s = e.reduce((x, y) => x + y, 0);
      return e.map((x) => x / s);
    }
    default:
      throw new Error(`layer type "${String((l as { type: unknown }).type)}" is not supported; supported: ${FLOAT_TYPES}`);
  }
}

/**
 * Float forward pass on a preprocessed input (flattened CHW for image models); returns every layer's activations
 * (last = logits).
 * @throws Error naming the layer when its type is unknown.
 */
export function forwardFloat(m: FloatModel, x: readonly number[]): number[][] {
  const acts: number[][] = [];
  let a: readonly number[] = x;
  for (const [li, l] of m.layers.entries()) {
    try {
      a = forwardLayer(l, a, l.type === "add" ? (l.from === -1 ? x : acts[l.from]) : undefined);
    } catch (e) {
      throw new Error(`layers[${li}]: ${(e as Error).message}`);
    }
    acts.push(a as number[]);
  }
  return acts;
}

/** Index of the largest logit (lowest index on ties). */
export function argmaxFloat(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Class index the float model predicts for a preprocessed input. */
export function predictFloat(m: FloatModel, x: readonly number[]): number {
  const acts = forwardFloat(m, x);
  return argmaxFloat(acts[acts.length - 1]);
}
