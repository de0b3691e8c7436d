/**
 * ONNX -> FloatModel. Reads a ModelProto (onnx-proto) whose graph is a single chain of the operators a small vision
 * or tabular model uses, and folds it into zkml-float-v1 layers:
 *
 * | ONNX | FloatModel |
 * |---|---|
 * | Gemm (transA 0, any transB/alpha/beta), MatMul [+ Add of a constant] | dense |
 * | Conv (square kernel, equal strides, equal pads, group 1, dilation 1) [+ Add of a per-channel constant] | conv2d |
 * | Relu right after a Gemm / MatMul / Conv (and its Add) | relu: true on that layer |
 * | MaxPool / AveragePool (square kernel, equal strides, no padding, ceil_mode 0) | maxpool / avgpool |
 * | Flatten (axis 1), Reshape [1, C, H, W] -> [1, C*H*W] | flatten |
 * | Reshape of the graph input [1, n] -> [1, C, H, W] | inputShape |
 * | Softmax / LogSoftmax as the last node | dropped: the argmax head reads logits |
 * | Identity, Dropout | skipped |
 *
 * Initializers and Constant nodes may be float32, float64, int32 or int64 (raw_data or typed fields). Batch size
 * must be 1 (or symbolic). `zkml.*` metadata written by scripts/onnx/export.ts restores name, preprocessing, classes
 * and provenance; without it the model gets identity preprocessing and classes "0".."n-1".
 */
import * as fs from "fs";
import type { FloatConv2d, FloatDense, FloatLayer, FloatModel } from "../model/float";
import { validateFloatModel, windowOut } from "../model/float";
import { type Int64, onnx, toNumber } from "./proto";
import { writeFileAtomic } from "../lib/paths";

/** Operators the importer accepts (in error messages). */
export const SUPPORTED_OPS = [
  "Gemm",
  "MatMul",
  "Add",
  "Relu",
  "Conv",
  "MaxPool",
  "AveragePool",
  "Flatten",
  "Reshape",
  "Softmax",
  "LogSoftmax",
  "Identity",
  "Dropout",
  "Constant",
] as const;

/**
 * An import failure. `node` and `op` name the offending ONNX node (empty for file-level problems such as malformed
 * bytes); the message says what is supported.
 */
export class OnnxImportError extends Error {
  constructor(
    readonly node: string,
    readonly op: string,
    detail: string,
  ) {
    super(node || op ? `ONNX import: node "${node}" (${op}): ${detail}` : `ONNX import: ${detail}`);
    this.name = "OnnxImportError";
  }
}

interface Const {
  dims: number[];
  data: number[];
}

const DT = onnx.TensorProto.DataType;

/** Decodes an initializer / Constant tensor to numbers. */
function tensorValues(t: onnx.ITensorProto, where: (d: string) => never): Const {
  const dims = (t.dims ?? []).map((d) => toNumber(d as Int64));
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  let data: number[];
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const fromRaw = (width: number, get: (off: number) => number) => {
    if (!view || view.byteLength !== n * width)
      where(`tensor ${t.name}: raw_data has ${view?.byteLength} bytes, dims [${dims}] need ${n * width}`);
    return Array.from({ length: n }, (_, i) => get(i * width));
  };
  switch (t.dataType) {
    case DT.FLOAT:
      data = view ? fromRaw(4, (o) => view.getFloat32(o, true)) : [...(t.floatData ?? [])];
      break;
    case DT.DOUBLE:
      data = view ? fromRaw(8, (o) => view.getFloat64(o, true)) : [...(t.doubleData ?? [])];
      break;
    case DT.INT64:
      data = view ? fromRaw(8, (o) => Number(view.getBigInt64(o, true))) : (t.int64Data ?? []).map((v) => toNumber(v as Int64));
      break;
    case DT.INT32:
      data = view ? fromRaw(4, (o) => view.getInt32(o, true)) : [...(t.int32Data ?? [])];
      break;
    default:
      return where(`tensor ${t.name}: data type ${String(t.dataType)} is not supported; supported: float, double, int32, int64`);
  }
  if (data.length !== n) where(`tensor ${t.name}: has ${data.length} values, dims [${dims}] need ${n}`);
  return { dims, data };
}

function attrs(node: onnx.INodeProto): Map<string, onnx.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? "", a]));
}

/** Options of {@link importOnnx}; each overrides what the file's `zkml.*` metadata says. */
export interface ImportOptions {
  name?: string;
  preprocess?: { mean: number[]; std: number[] };
  classes?: string[];
}

function parseModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxImportError("", "", `malformed model: the bytes are not an ONNX ModelProto (${(e as Error).message})`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0)
    throw new OnnxImportError("", "", "malformed model: the ModelProto has no graph or no nodes (is this an ONNX file?)");
  const opset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  if (opset && toNumber(opset.version as Int64) < 7)
    throw new OnnxImportError("", "", `opset ${toNumber(opset.version as Int64)} is too old; supported: opset 7 and later`);
  return model;
}

/**
 * Converts ONNX bytes to a validated float model. Nothing is written.
 * @throws OnnxImportError naming the node and operator (or "malformed model") and what is supported.
 */
export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): FloatModel {
  const model = parseModel(bytes);
  const g = model.graph as onnx.IGraphProto;
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""]));
  const metaJson = <T>(key: string): T | undefined => {
    const v = meta.get(`zkml.${key}`);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v) as T;
    } catch {
      throw new OnnxImportError("", "", `metadata zkml.${key} is not valid JSON`);
    }
  };
  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? [])
    consts.set(
      t.name ?? "",
      tensorValues(t, (d) => {
        throw new OnnxImportError("", "", `initializer ${d}`);
      }),
    );
  const inputs = (g.input ?? []).filter((i) => !consts.has(i.name ?? ""));
  if (inputs.length !== 1)
    throw new OnnxImportError(
      "",
      "",
      `the graph must have exactly one data input, found ${inputs.length} (${inputs.map((i) => i.name).join(", ")})`,
    );
  const dims = (inputs[0].type?.tensorType?.shape?.dim ?? []).map((d, i) =>
    d.dimParam || (i === 0 && !d.dimValue) ? 1 : toNumber(d.dimValue as Int64),
  );
  let shape: number[] = dims.length === 1 ? [1, dims[0]] : dims;
  if (!((shape.length === 2 || shape.length === 4) && shape[0] === 1 && shape.slice(1).every((d) => Number.isInteger(d) && d > 0)))
    throw new OnnxImportError(
      "",
      "",
      `graph input ${inputs[0].name} has shape [${dims}]; supported: [1, n] or [1, C, H, W] (batch 1 or symbolic)`,
    );
  const inputSize = shape.slice(1).reduce((a, b) => a * b, 1);
  let inputShape: [number, number, number] | undefined = shape.length === 4 ? [shape[1], shape[2], shape[3]] : undefined;
  let cur = inputs[0].name ?? "";
  const layers: FloatLayer[] = [];
  /** Output tensor of the last dense/conv layer while Add/Relu may still fold into it. */
  let foldable: string | null = null;
  const nodes = g.node ?? [];
  nodes.forEach((node, ni) => {
    const name = node.name || `#${ni}`;
    const op = node.opType ?? "";
    const err = (d: string): never => {
      throw new OnnxImportError(name, op, d);
    };
    if (node.domain && node.domain !== "ai.onnx") err(`domain "${node.domain}" is not supported; supported: the default ONNX domain`);
    const a = attrs(node);
    const attrInt = (k: string, dflt: number) => (a.has(k) ? toNumber(a.get(k)?.i as Int64) : dflt);
    const attrInts = (k: string) => (a.has(k) ? (a.get(k)?.ints ?? []).map((v) => toNumber(v as Int64)) : undefined);
    const attrFloat = (k: string, dflt: number) => (a.has(k) ? (a.get(k)?.f ?? dflt) : dflt);
    const attrStr = (k: string) => (a.has(k) ? new TextDecoder().decode(a.get(k)?.s ?? new Uint8Array()) : undefined);
    const outName = (node.output ?? [])[0] ?? "";
    if (op === "Constant") {
      const t = a.get("value")?.t;
      if (!t) err("only the `value` (tensor) form of Constant is supported");
      consts.set(outName, tensorValues(t as onnx.ITensorProto, err));
      return;
    }
    const ins = (node.input ?? []).filter((i) => i !== "");
    const data = ins.filter((i) => !consts.has(i));
    const constIn = (idx: number, what: string): Const => {
      const c = consts.get(ins[idx]);
      if (!c) return err(`${what} (input ${idx} "${ins[idx] ?? ""}") must be an initializer or Constant`);
      return c;
    };
    if (!(SUPPORTED_OPS as readonly string[]).includes(op)) err(`operator ${op} is not supported; supported: ${SUPPORTED_OPS.join(", ")}`);
    if (data.length !== 1 || ins[0] !== cur)
      err(
        `the graph must be a single chain: this node must take the previous output "${cur}" as its first input (inputs: ${ins.join(", ")})`,
      );
    const next = (o: string) => {
      cur = o;
    };
    const needImage = (): [number, number, number] => {
      if (shape.length !== 4) err(`needs an image tensor [1, C, H, W], got shape [${shape}]`);
      return [shape[1], shape[2], shape[3]];
    };
    const needVector = (): number => {
      if (shape.length !== 2) err(`needs a vector [1, n], got shape [${shape}]; add Flatten first`);
      return shape[1];
    };
    const windowAttrs = (kind: "conv" | "pool", W?: Const) => {
      const ks = attrInts("kernel_shape") ?? (W ? W.dims.slice(2) : undefined);
      if (!ks || ks.length !== 2 || ks[0] !== ks[1]) err(`kernel_shape [${ks}] is not supported; supported: square 2-D kernels`);
      const kernel = (ks as number[])[0];
      const strides = attrInts("strides") ?? [1, 1];
      if (strides.length !== 2 || strides[0] !== strides[1]) err(`strides [${strides}] are not supported; supported: equal strides`);
      const dil = attrInts("dilations") ?? [1, 1];
      if (dil.some((d) => d !== 1)) err(`dilations [${dil}] are not supported; supported: 1`);
      const autoPad = attrStr("auto_pad") ?? "NOTSET";
      if (autoPad !== "NOTSET" && autoPad !== "VALID")
        err(`auto_pad ${autoPad} is not supported; supported: NOTSET with explicit pads, VALID`);
      const pads = autoPad === "VALID" ? [0, 0, 0, 0] : (attrInts("pads") ?? [0, 0, 0, 0]);
      if (pads.length !== 4 || pads.some((p) => p !== pads[0]))
        err(`pads [${pads}] are not supported; supported: equal padding on all sides`);
      if (kind === "pool") {
        if (pads[0] !== 0) err(`pads [${pads}] are not supported for pooling; supported: no padding`);
        if (attrInt("ceil_mode", 0) !== 0) err("ceil_mode 1 is not supported; supported: 0");
        if (attrInt("storage_order", 0) !== 0) err("storage_order 1 is not supported; supported: 0");
      }
      return { kernel, stride: strides[0], padding: pads[0] };
    };
    switch (op) {
      case "Identity":
      case "Dropout":
        next(outName);
        return;
      case "Relu": {
        const last = layers[layers.length - 1];
        if (foldable !== cur || !last || (last.type !== "dense" && last.type !== "conv2d"))
          err("Relu is supported only right after Gemm, MatMul or Conv (and their bias Add)");
        (last as FloatDense | FloatConv2d).relu = true;
        foldable = null;
        next(outName);
        return;
      }
      case "Add": {
        const prev = layers[layers.length - 1];
        if (foldable !== cur || !prev || (prev.type !== "dense" && prev.type !== "conv2d"))
          err("Add is supported only as the bias of the preceding Gemm, MatMul or Conv (a constant operand)");
        const last = prev as FloatDense | FloatConv2d;
        const c = constIn(ins[0] === cur ? 1 : 0, "the bias");
        const n = last.B.length;
        const d = c.dims;
        const perUnit =
          c.data.length === n &&
          (last.type === "dense"
            ? d.length >= 1 && d[d.length - 1] === n && d.slice(0, -1).every((x) => x === 1)
            : d.length >= 3 &&
              d[d.length - 3] === n &&
              d[d.length - 2] === 1 &&
              d[d.length - 1] === 1 &&
              d.slice(0, -3).every((x) => x === 1));
        if (!perUnit && c.data.length !== 1)
          err(
            `bias of shape [${d}] does not broadcast per output ${last.type === "dense" ? "unit" : "channel"}; supported: [${n}] or a scalar for dense, [${n}, 1, 1] or a scalar for conv`,
          );
        last.B = last.B.map((bv, j) => bv + (c.data.length === 1 ? c.data[0] : c.data[j]));
        next(outName);
        foldable = outName;
        return;
      }
      case "Gemm":
      case "MatMul": {
        const nIn = needVector();
        const B = constIn(1, "the weight matrix");
        if (B.dims.length !== 2) err(`weight ${ins[1]} has dims [${B.dims}]; supported: a 2-D matrix`);
        let W: number[][];
        let bias: number[];
        if (op === "Gemm") {
          if (attrInt("transA", 0) !== 0) err("transA 1 is not supported; supported: transA 0");
          const transB = attrInt("transB", 0) === 1;
          const alpha = attrFloat("alpha", 1);
          const beta = attrFloat("beta", 1);
          const [r, c] = B.dims;
          const [K, N] = transB ? [c, r] : [r, c];
          if (K !== nIn)
            err(`weight ${ins[1]} [${B.dims}] (transB ${Number(transB)}) takes ${K} inputs but the previous output has ${nIn}`);
          W = Array.from({ length: N }, (_, j) =>
            Array.from({ length: K }, (_, i) => alpha * (transB ? B.data[j * K + i] : B.data[i * N + j])),
          );
          bias = new Array<number>(N).fill(0);
          if (ins.length > 2) {
            const C = constIn(2, "the bias C");
            if (!(C.data.length === 1 || (C.data.length === N && C.dims[C.dims.length - 1] === N)))
              err(`bias ${ins[2]} has dims [${C.dims}]; supported: [${N}], [1, ${N}] or a scalar`);
            bias = bias.map((_, j) => beta * (C.data.length === 1 ? C.data[0] : C.data[j]));
          }
        } else {
          const [K, N] = B.dims;
          if (K !== nIn) err(`weight ${ins[1]} [${B.dims}] takes ${K} inputs but the previous output has ${nIn}`);
          W = Array.from({ length: N }, (_, j) => Array.from({ length: K }, (_, i) => B.data[i * N + j]));
          bias = new Array<number>(N).fill(0);
        }
        layers.push({ type: "dense", W, B: bias, relu: false });
        shape = [1, W.length];
        next(outName);
        foldable = outName;
        return;
      }
      case "Conv": {
        const inShape = needImage();
        const Wt = constIn(1, "the kernel");
        if (Wt.dims.length !== 4) err(`kernel ${ins[1]} has dims [${Wt.dims}]; supported: [M, C, k, k]`);
        if (attrInt("group", 1) !== 1) err(`group ${attrInt("group", 1)} is not supported; supported: group 1`);
        const { kernel, stride, padding } = windowAttrs("conv", Wt);
        const [M, C, kh, kw] = Wt.dims;
        if (C !== inShape[0] || kh !== kernel || kw !== kernel)
          err(`kernel ${ins[1]} [${Wt.dims}] does not fit input channels ${inShape[0]} and kernel ${kernel}x${kernel}`);
        const W = Array.from({ length: M }, (_, o) =>
          Array.from({ length: C }, (_, c) =>
            Array.from({ length: kernel }, (_, y) =>
              Array.from({ length: kernel }, (_, x) => Wt.data[((o * C + c) * kernel + y) * kernel + x]),
            ),
          ),
        );
        let B = new Array<number>(M).fill(0);
        if (ins.length > 2) {
          const Bt = constIn(2, "the bias");
          if (Bt.data.length !== M) err(`bias ${ins[2]} has ${Bt.data.length} values; supported: one per output channel (${M})`);
          B = Bt.data;
        }
        const oh = windowOut(inShape[1], kernel, stride, padding);
        const ow = windowOut(inShape[2], kernel, stride, padding);
        if (oh < 1 || ow < 1) err(`kernel ${kernel} with padding ${padding} does not fit the ${inShape[1]}x${inShape[2]} input`);
        layers.push({ type: "conv2d", inShape, W, B, kernel, stride, padding, relu: false });
        shape = [1, M, oh, ow];
        next(outName);
        foldable = outName;
        return;
      }
      case "MaxPool":
      case "AveragePool": {
        const inShape = needImage();
        if ((node.output ?? []).length > 1 && node.output?.[1]) err("the Indices output of MaxPool is not supported");
        const { kernel, stride } = windowAttrs("pool");
        const oh = windowOut(inShape[1], kernel, stride);
        const ow = windowOut(inShape[2], kernel, stride);
        if (oh < 1 || ow < 1) err(`kernel ${kernel} does not fit the ${inShape[1]}x${inShape[2]} input`);
        layers.push({ type: op === "MaxPool" ? "maxpool" : "avgpool", inShape, kernel, stride });
        shape = [1, inShape[0], oh, ow];
        break;
      }
      case "Flatten": {
        if (attrInt("axis", 1) !== 1) err(`axis ${attrInt("axis", 1)} is not supported; supported: axis 1`);
        if (shape.length === 4) {
          const inShape = needImage();
          layers.push({ type: "flatten", inShape });
          shape = [1, inShape[0] * inShape[1] * inShape[2]];
        }
        break;
      }
      case "Reshape": {
        const target = constIn(1, "the target shape").data.slice();
        const total = shape.reduce((x, y) => x * y, 1);
        target.forEach((d, i) => {
          if (d === 0) target[i] = shape[i];
        });
        const known = target.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
        const resolved = target.map((d) => (d === -1 ? total / known : d));
        if (resolved.reduce((x, y) => x * y, 1) !== total || resolved.some((d) => !Number.isInteger(d) || d < 1))
          err(`cannot reshape [${shape}] to [${target}]`);
        if (resolved[0] !== 1) err(`reshape to [${resolved}] changes the batch dimension; supported: batch 1`);
        if (resolved.length === shape.length && resolved.every((d, i) => d === shape[i])) break;
        if (shape.length === 4 && resolved.length === 2) {
          const inShape = needImage();
          layers.push({ type: "flatten", inShape });
        } else if (layers.length === 0 && shape.length === 2 && resolved.length === 4) {
          inputShape = [resolved[1], resolved[2], resolved[3]];
        } else {
          err(
            `reshape [${shape}] -> [${resolved}] is not supported; supported: [1, C, H, W] -> [1, C*H*W], and [1, n] -> [1, C, H, W] on the graph input`,
          );
        }
        shape = resolved;
        break;
      }
      case "Softmax":
      case "LogSoftmax": {
        const outs = (g.output ?? []).map((o) => o.name);
        if (ni !== nodes.length - 1 || !outs.includes(outName))
          err(`${op} is supported only as the last node (it is dropped: the argmax head reads logits)`);
        const axis = attrInt("axis", -1);
        if (shape.length !== 2 || (axis !== -1 && axis !== 1))
          err(`${op} over axis ${axis} of shape [${shape}] is not supported; supported: the class axis of [1, n]`);
        next(outName);
        return;
      }
    }
    foldable = null;
    next(outName);
  });
  const outs = g.output ?? [];
  if (outs.length !== 1 || outs[0].name !== cur)
    throw new OnnxImportError(
      "",
      "",
      `the graph must have exactly one output, the last node's output "${cur}" (found ${outs.map((o) => o.name).join(", ")})`,
    );
  if (layers.length === 0) throw new OnnxImportError("", "", "the graph has no Gemm, MatMul or Conv layer");
  const last = layers[layers.length - 1];
  if (last.type !== "dense" || last.relu)
    throw new OnnxImportError(
      "",
      "",
      "the last layer must be a Gemm or MatMul without Relu (its outputs are the logits the argmax head reads)",
    );
  const nClasses = last.W.length;
  const rawName = opts.name ?? metaJson<string>("name") ?? g.name ?? "model";
  const name =
    rawName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "model";
  const fm: FloatModel = {
    format: "zkml-float-v1",
    name,
    inputSize,
    preprocess: opts.preprocess ??
      metaJson("preprocess") ?? { mean: new Array<number>(inputSize).fill(0), std: new Array<number>(inputSize).fill(1) },
    classes: opts.classes ?? metaJson("classes") ?? Array.from({ length: nClasses }, (_, i) => String(i)),
    layers,
  };
  if (inputShape) fm.inputShape = inputShape;
  const task = metaJson<FloatModel["task"]>("task");
  if (task !== undefined) fm.task = task;
  const trained = metaJson<Record<string, unknown>>("trainedWith");
  fm.trainedWith = trained ?? { importedFrom: "onnx", producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim() };
  try {
    validateFloatModel(fm);
  } catch (e) {
    throw new OnnxImportError("", "", `the imported model is inconsistent: ${(e as Error).message}`);
  }
  return fm;
}

/**
 * Imports an ONNX file and writes `<out>` (a zkml-float-v1 JSON) atomically, only when the whole import succeeded.
 * @throws OnnxImportError (see {@link importOnnx}) or Error when the file cannot be read; nothing is written then.
 */
export function importOnnxFile(file: string, out: string, opts: ImportOptions = {}): FloatModel {
  if (!fs.existsSync(file)) throw new Error(`${file} not found`);
  const fm = importOnnx(fs.readFileSync(file), opts);
  writeFileAtomic(out, JSON.stringify(fm, null, 1) + "\n");
  return fm;
}
