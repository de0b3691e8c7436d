/**
 * The float model: what training (or an importer) produces and the quantizer reads (`*.float.json`).
 * Inputs are preprocessed as (raw - mean) / std before the first layer. See docs/model-format.md.
 */
export interface FloatModel {
  format: "zkml-float-v1";
  name: string;
  inputSize: number;
  /** Per-feature standardization applied to raw inputs before the network. */
  preprocess: { mean: number[]; std: number[] };
  classes: string[];
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

/** Conv on a CHW tensor; W is [outChannels][inChannels][kernel][kernel]; zero padding. */
export interface FloatConv2d {
  type: "conv2d";
  inShape: [number, number, number];
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
}

export interface FloatFlatten {
  type: "flatten";
  inShape: [number, number, number];
}

export type FloatLayer = FloatDense | FloatConv2d | FloatPool | FloatFlatten;

/** Standardizes a raw input with the model's preprocessing. */
export function preprocess(m: FloatModel, raw: readonly number[]): number[] {
  if (raw.length !== m.inputSize) throw new RangeError(`input has ${raw.length} features; model ${m.name} takes ${m.inputSize}`);
  return raw.map((v, i) => (v - m.preprocess.mean[i]) / m.preprocess.std[i]);
}

/** Float forward pass on a preprocessed input; returns every layer's activations (last = logits). */
export function forwardFloat(m: FloatModel, x: readonly number[]): number[][] {
  const acts: number[][] = [];
  let a: readonly number[] = x;
  for (const [li, l] of m.layers.entries()) {
    if (l.type !== "dense") throw new Error(`layers[${li}].type: "${l.type}" is not supported by forwardFloat yet`);
    const out = l.W.map((row, j) => {
      let s = l.B[j];
      for (let i = 0; i < row.length; i++) s += row[i] * a[i];
      return l.relu ? Math.max(0, s) : s;
    });
    acts.push(out);
    a = out;
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
