/**
 * ONNX -> FloatModel. Reads a ModelProto (onnx-proto), as `torch.onnx.export` or tf2onnx write it, and folds it into
 * zkml-float-v1 layers. The data path must be a single chain, except for residual (skip) connections: a layer's
 * output may also feed a later Add / Sum with the chain's output (an `add` layer); everything computed from constants is
 * evaluated at import time (scripts/engine/onnx/fold.ts), including shape arithmetic on the static input shape (a symbolic
 * batch axis is fixed to 1). docs/bring-your-own-model.md lists the patterns; in short:
 *
 * | ONNX | FloatModel |
 * |---|---|
 * | Gemm (transA 0), MatMul | dense (a Transpose/Reshape before it permutes its weight columns) |
 * | Conv (square kernel, equal strides, any group dividing the channels, dilation 1) | conv2d (group > 1: groups) |
 * | Add / Sub / Mul / Div by a constant, BatchNormalization | before the first layer: preprocessing (mean, std); right after Gemm / MatMul / Conv: folded into its weights and bias |
 * | Relu, Clip(min 0, no max) right after a Gemm / MatMul / Conv (and what folded into it) or a residual Add | relu: true on that layer |
 * | Add / Sum of the previous output and an earlier layer's output (or the graph input), same shape | add (a residual connection) |
 * | MaxPool (pads: -infinity, never the maximum), AveragePool (zero padding counted) | maxpool / avgpool |
 * | GlobalAveragePool, ReduceMean over the spatial axes | avgpool over the whole image |
 * | Pad of zeros before a Conv / AveragePool | its padding |
 * | Flatten, Reshape, Squeeze, Unsqueeze (views), Transpose before a dense layer | flatten, or nothing |
 * | Identity, Dropout (any mode: inference is identity), Cast to float | skipped |
 * | Softmax / LogSoftmax producing the graph output | softmax / logsoftmax (an argmax head drops it when quantizing) |
 *
 * Everything else is refused with one line naming the node, the operator and what is supported, plus the fix when it
 * is on the exporter's side. `zkml.*` metadata written by scripts/engine/onnx/export.ts restores name, preprocessing,
 * classes, task and provenance; ImportOptions override it.
 *
 * This file reads the model: the bytes, the metadata, the graph input and the preprocessing, then assembles and
 * validates the float model. The walk along the nodes is scripts/engine/onnx/import-walk.ts (its state:
 * import-state.ts); the operators' converters are import-layers.ts (layers), import-folds.ts (what folds into a layer
 * or the preprocessing) and import-views.ts (what adds no layer); the errors and supported operators import-errors.ts.
 */
import * as fs from "fs";
import type { FloatLayer, FloatModel, Shape } from "../../formats/float-model";
import { layerOutShape, validateFloatModel } from "../../formats/float-model";
import { writeFileAtomic } from "../../util/paths";
import { type Const, dataTypeName, numel, tensorValues } from "./fold";
import { OnnxImportError } from "./import-errors";
import { walkGraph } from "./import-walk";
import { type MlImport, isMlGraph, walkMl } from "./import-ml";
import { type Int64, onnx, toNumber } from "./proto";

/** Options of {@link importOnnx}; each overrides what the file's `zkml.*` metadata says. */
export interface ImportOptions {
  name?: string;
  /**
   * Standardization of raw inputs, (raw - mean) / std per input feature, applied before the graph (compose with any
   * normalization inside the graph, which is folded on top of it).
   */
  preprocess?: { mean: number[]; std: number[] };
  classes?: string[];
  task?: "classification" | "regression";
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
  const opsetEntry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx");
  const opset = opsetEntry ? toNumber(opsetEntry.version as Int64) : 13;
  const g = model.graph as onnx.IGraphProto;
  const fileErr = (d: string): never => {
    throw new OnnxImportError("", "", d);
  };
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? "", p.value ?? ""]));
  const metaJson = <T>(key: string): T | undefined => {
    const v = meta.get(`zkml.${key}`);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v) as T;
    } catch {
      return fileErr(`metadata zkml.${key} is not valid JSON`);
    }
  };
  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? [])
    consts.set(
      t.name ?? "",
      tensorValues(t, t.name || "(unnamed initializer)", (d) => fileErr(`initializer ${d}`)),
    );
  const inputs = (g.input ?? []).filter((i) => !consts.has(i.name ?? ""));
  if (inputs.length !== 1)
    fileErr(`the graph must have exactly one data input, found ${inputs.length} (${inputs.map((i) => i.name).join(", ")})`);
  const input = inputs[0];
  const elem = input.type?.tensorType?.elemType;
  const DT = onnx.TensorProto.DataType;
  // integer inputs are token ids, which only an embedding (a Gather on a constant table) may read
  const ids = elem === DT.INT64 || elem === DT.INT32;
  if (elem !== undefined && elem !== null && elem !== DT.FLOAT && elem !== DT.DOUBLE && !ids)
    fileErr(`graph input ${input.name} is ${dataTypeName(elem)}; supported: FLOAT or DOUBLE inputs, or INT64 / INT32 token ids`);
  if (ids) {
    const readers = (g.node ?? []).filter((n) => (n.input ?? []).includes(input.name ?? ""));
    if (
      readers.length !== 1 ||
      readers[0].opType !== "Gather" ||
      readers[0].input?.[1] !== input.name ||
      !consts.has(readers[0].input?.[0] ?? "")
    )
      fileErr(
        `graph input ${input.name} is ${dataTypeName(elem as number)} (token ids): supported only as the indices of one Gather on a constant table (nn.Embedding)`,
      );
  }
  const rawDims = input.type?.tensorType?.shape?.dim ?? [];
  const dims = rawDims.map((d, i) => {
    if (d.dimParam || !d.dimValue) {
      if (i === 0) return 1;
      return fileErr(
        `graph input ${input.name} has a symbolic dimension ${i} ("${d.dimParam ?? ""}"); only the batch axis (0) may be dynamic: export with a fixed input size`,
      );
    }
    return toNumber(d.dimValue as Int64);
  });
  const shape: number[] = dims.length === 1 ? [1, dims[0]] : dims;
  if (shape.length < 2 || shape[0] !== 1 || !shape.every((d) => Number.isInteger(d) && d > 0))
    fileErr(`graph input ${input.name} has shape [${dims}]; supported: [batch, ...] with batch 1 or symbolic, e.g. [1, n] or [1, C, H, W]`);
  const inputSize = numel(shape);
  const base = opts.preprocess ??
    metaJson<{ mean: number[]; std: number[] }>("preprocess") ?? {
      mean: new Array<number>(inputSize).fill(0),
      std: new Array<number>(inputSize).fill(1),
    };
  if (base.mean?.length !== inputSize || base.std?.length !== inputSize)
    fileErr(
      `preprocess has ${base.mean?.length} means and ${base.std?.length} stds; the graph input ${input.name} has ${inputSize} features`,
    );
  const pre = { mean: [...base.mean], std: [...base.std] };

  // the nodes, in order, into float layers (scripts/engine/onnx/import-walk.ts, or import-ml.ts for a classical-ML
  // pipeline); then the model around them
  let layers: FloatLayer[];
  let inputShape: [number, number, number] | undefined;
  let ml: MlImport | undefined;
  if (isMlGraph(g)) {
    if (shape.length !== 2) fileErr(`graph input ${input.name} has shape [${dims}]; an ai.onnx.ml pipeline reads [batch, features]`);
    ml = walkMl(g, input.name ?? "", inputSize, pre);
    layers = ml.layers;
  } else {
    const walked = walkGraph(g, opset, consts, input.name ?? "", shape, pre);
    ({ layers, inputShape } = walked);
    const outs = g.output ?? [];
    if (outs.length !== 1 || outs[0].name !== walked.cur)
      fileErr(
        `the graph must have exactly one output, the last node's output "${walked.cur}" (found ${outs.map((o) => o.name).join(", ")})`,
      );
    if (layers.length === 0) fileErr("the graph has no Gemm, MatMul or Conv layer");
    const last = layers[layers.length - 1];
    if (!(last.type === "dense" && !last.relu) && !["activation", "softmax", "logsoftmax"].includes(last.type))
      fileErr(
        "the last layer must be a Gemm or MatMul without Relu, or an activation such as a Sigmoid (its outputs are the logits, values or probabilities the head reads)",
      );
    if (walked.perm) fileErr("the graph output is a transposed view of the last layer; supported: the last layer's outputs in order");
  }
  let outShape: Shape = inputShape ?? [inputSize];
  for (const l of layers) outShape = layerOutShape(l, outShape);
  if (outShape.length !== 1)
    fileErr(`the graph outputs an image [${outShape.join(", ")}]; the head reads a vector: flatten it and end with a Gemm or MatMul`);
  const nOut = outShape[0];
  const rawName = opts.name ?? metaJson<string>("name") ?? g.name ?? "model";
  const modelName =
    rawName
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "model";
  const fm: FloatModel = {
    format: "zkml-float-v1",
    name: modelName,
    inputSize,
    preprocess: pre,
    classes: opts.classes ?? metaJson("classes") ?? ml?.classes ?? Array.from({ length: nOut }, (_, i) => String(i)),
    layers,
  };
  if (inputShape) fm.inputShape = inputShape;
  const task = opts.task ?? metaJson<FloatModel["task"]>("task") ?? (ml?.task === "regression" ? "regression" : undefined);
  if (task !== undefined) fm.task = task;
  const trained = metaJson<Record<string, unknown>>("trainedWith");
  fm.trainedWith = trained ?? { importedFrom: "onnx", producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim() };
  try {
    validateFloatModel(fm);
  } catch (e) {
    fileErr(`the imported model is inconsistent: ${(e as Error).message}`);
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
