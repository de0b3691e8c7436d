import { MODEL_DOMAIN, commitSigned, packSigned, poseidonChain } from "../quant/commit";
import { type Interval, accumulatorBits, affineBounds, argmax, denseOpen, requantRange, signedRange } from "../quant/ops";

/**
 * The quantized model: the file format between the quantizer and the circuit generator (`*.qmodel.json`).
 * Values are signed integers; a tensor with `frac` fractional bits holds value * 2^frac. JSON numbers must be safe
 * integers. See docs/model-format.md.
 */
export interface QuantizedModel {
  format: "zkml-quantized-v1";
  name: string;
  /** `shape` ([C, H, W]) is present for image inputs; `size` is always the flattened length. */
  input: { size: number; bits: number; frac: number; shape?: [number, number, number] };
  /** "open": weights are circuit constants; "private": weights are witness signals behind modelCommitment. */
  weights: "open" | "private";
  layers: QuantizedLayer[];
  head: "argmax";
  /** Class names, index = argmax output (informational). */
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
 * [outChannels, floor((H + 2*padding - kernel) / stride) + 1, same for W]. Zero padding.
 */
export interface Conv2dLayer {
  type: "conv2d";
  inShape: [number, number, number];
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** [outChannels][inChannels][kernel][kernel] */
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

/** Max pooling on a CHW tensor (no padding); values keep their bits and scale. */
export interface MaxPoolLayer {
  type: "maxpool";
  inShape: [number, number, number];
  kernel: number;
  stride: number;
}

/**
 * Average pooling as a sum over the window followed by Requantize(shift) (round-half-up, clamp to outBits);
 * an exact average when kernel*kernel = 2^shift, otherwise the scale change is recorded in outFrac.
 */
export interface AvgPoolLayer {
  type: "avgpool";
  inShape: [number, number, number];
  kernel: number;
  stride: number;
  shift: number;
  outBits: number;
  outFrac: number;
}

/** CHW -> flat vector (a no-op on the flattened layout; kept so shapes are explicit). */
export interface FlattenLayer {
  type: "flatten";
  inShape: [number, number, number];
}

export type QuantizedLayer = DenseLayer | Conv2dLayer | MaxPoolLayer | AvgPoolLayer | FlattenLayer;

/** Reference inference result: every layer's output, the logits and the class. */
export interface Inference {
  layers: bigint[][];
  logits: bigint[];
  output: bigint;
}

function fail(field: string, msg: string): never {
  throw new Error(`quantized model: ${field} ${msg}`);
}

function checkInt(field: string, v: unknown, bits: number): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, `must be an integer, got ${String(v)}`);
  const { lo, hi } = signedRange(bits);
  if (BigInt(v) < lo || BigInt(v) > hi) fail(field, `= ${v} is outside the ${bits}-bit signed range [${lo}, ${hi}]`);
}

/**
 * Checks a parsed model file field by field.
 * @throws Error naming the first bad field and the accepted values.
 */
export function validateModel(m: QuantizedModel): QuantizedModel {
  if (m.format !== "zkml-quantized-v1") fail("format", `must be "zkml-quantized-v1", got ${JSON.stringify(m.format)}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(m.name ?? "")) fail("name", `must be lowercase letters, digits and dashes, got ${JSON.stringify(m.name)}`);
  if (!Number.isInteger(m.input?.size) || m.input.size < 1) fail("input.size", "must be a positive integer");
  if (!Number.isInteger(m.input.bits) || m.input.bits < 2 || m.input.bits > 32) fail("input.bits", "must be an integer in 2..32");
  if (m.weights !== "open" && m.weights !== "private") fail("weights", `must be "open" or "private", got ${JSON.stringify(m.weights)}`);
  if (m.head !== "argmax") fail("head", `must be "argmax", got ${JSON.stringify(m.head)}`);
  if (!Array.isArray(m.layers) || m.layers.length === 0) fail("layers", "must be a non-empty array");
  let width = m.input.size;
  m.layers.forEach((l, li) => {
    const f = `layers[${li}]`;
    if (l.type !== "dense") fail(`${f}.type`, `"${String((l as { type: unknown }).type)}" is not supported; supported: dense`);
    checkDense(f, l, width);
    width = l.nOut;
  });
  const last = m.layers[m.layers.length - 1];
  if (last.type !== "dense" || last.relu) fail(`layers[${m.layers.length - 1}]`, "must be a dense layer without ReLU: the argmax head reads signed logits");
  return m;
}

function checkDense(f: string, l: DenseLayer, width: number): void {
  {
    if (l.nIn !== width) fail(`${f}.nIn`, `is ${l.nIn} but the previous layer outputs ${width} values`);
    if (!Number.isInteger(l.nOut) || l.nOut < 1) fail(`${f}.nOut`, "must be a positive integer");
    if (!Number.isInteger(l.wBits) || l.wBits < 2 || l.wBits > 32) fail(`${f}.wBits`, "must be an integer in 2..32");
    if (!Number.isInteger(l.bBits) || l.bBits < 2 || l.bBits > 64) fail(`${f}.bBits`, "must be an integer in 2..64");
    if (!Number.isInteger(l.shift) || l.shift < 0 || l.shift > 64) fail(`${f}.shift`, "must be an integer in 0..64");
    if (!Number.isInteger(l.outBits) || l.outBits < 2 || l.outBits > 32) fail(`${f}.outBits`, "must be an integer in 2..32");
    if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
    if (!Array.isArray(l.W) || l.W.length !== l.nOut) fail(`${f}.W`, `must have nOut = ${l.nOut} rows`);
    l.W.forEach((row, j) => {
      if (!Array.isArray(row) || row.length !== l.nIn) fail(`${f}.W[${j}]`, `must have nIn = ${l.nIn} entries`);
      row.forEach((w, i) => checkInt(`${f}.W[${j}][${i}]`, w, l.wBits));
    });
    if (!Array.isArray(l.B) || l.B.length !== l.nOut) fail(`${f}.B`, `must have nOut = ${l.nOut} entries`);
    l.B.forEach((b, j) => checkInt(`${f}.B[${j}]`, b, l.bBits));
  }
}

function denseLayers(m: QuantizedModel): DenseLayer[] {
  return m.layers.map((l, i) => {
    if (l.type !== "dense") throw new Error(`layers[${i}].type: "${l.type}" is not supported by this version`);
    return l;
  });
}

/** Range of each layer's input, as the circuit guarantees it (range-checked input, then requantization clamps). */
export function layerInputRanges(m: QuantizedModel): Interval[] {
  const ranges: Interval[] = [signedRange(m.input.bits)];
  for (const l of denseLayers(m)) ranges.push(requantRange(l.outBits, l.relu));
  return ranges;
}

/** Accumulator width (Requantize's A) per layer: the worst case over its neurons given the input range. */
export function layerAccumulatorBits(m: QuantizedModel): number[] {
  const ranges = layerInputRanges(m);
  return denseLayers(m).map((l, li) =>
    Math.max(...l.W.map((row, j) => accumulatorBits(affineBounds(row.map(BigInt), BigInt(l.B[j]), ranges[li])))),
  );
}

/**
 * Runs the quantized model exactly as the circuit does.
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
  for (const l of denseLayers(m)) {
    a = denseOpen(a, l.W.map((r) => r.map(BigInt)), l.B.map(BigInt), l.shift, l.outBits, l.relu);
    layers.push([...a]);
  }
  const logits = layers[layers.length - 1];
  return { layers, logits, output: BigInt(argmax(logits)) };
}

/**
 * The model commitment (public signal 1): PoseidonChain(MODEL_DOMAIN, PackSigned(all weights, wBits) ++
 * PackSigned(all biases, bBits)), layer after layer. The circuit recomputes it for private weights.
 */
export async function modelCommitment(m: QuantizedModel): Promise<bigint> {
  const chunks: bigint[] = [];
  denseLayers(m).forEach((l, li) => {
    chunks.push(...packSigned(l.W.flat().map(BigInt), l.wBits, `layers[${li}].W`));
    chunks.push(...packSigned(l.B.map(BigInt), l.bBits, `layers[${li}].B`));
  });
  return poseidonChain(MODEL_DOMAIN, chunks);
}

/** The input commitment (public signal 2): CommitSigned(x, input.bits, salt). */
export function inputCommitment(m: QuantizedModel, x: readonly bigint[], salt: bigint): Promise<bigint> {
  return commitSigned(x, m.input.bits, salt, "input");
}
