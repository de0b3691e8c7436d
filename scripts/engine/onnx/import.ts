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
 * | Softmax / LogSoftmax producing the graph output | dropped: the head reads logits |
 *
 * Everything else is refused with one line naming the node, the operator and what is supported, plus the fix when it
 * is on the exporter's side. `zkml.*` metadata written by scripts/engine/onnx/export.ts restores name, preprocessing,
 * classes, task and provenance; ImportOptions override it.
 */
import * as fs from "fs";
import type { FloatConv2d, FloatDense, FloatLayer, FloatModel, Shape } from "../../formats/float-model";
import { validateFloatModel, windowOut } from "../../formats/float-model";
import { writeFileAtomic } from "../../util/paths";
import {
  type Attrs,
  type Const,
  FOLDABLE_OPS,
  dataTypeName,
  expandTo,
  foldConstant,
  numel,
  readAttrs,
  reshapeTarget,
  tensorValues,
  transposeSources,
} from "./fold";
import { type Int64, onnx, toNumber } from "./proto";

/** Operators the importer accepts on the data path (in error messages); constants may also use FOLDABLE_OPS. */
export const SUPPORTED_OPS = [
  "Gemm",
  "MatMul",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "BatchNormalization",
  "Relu",
  "Clip",
  "Conv",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "ReduceMean",
  "Pad",
  "Flatten",
  "Reshape",
  "Squeeze",
  "Unsqueeze",
  "Transpose",
  "Softmax",
  "LogSoftmax",
  "Identity",
  "Dropout",
  "Cast",
  "Constant",
  "Shape",
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

const ACTIVATIONS = "supported activations: ReLU (Relu, or Clip with min 0 and no max)";
const ISSUE_17 = "it needs a circuit layer this version does not have (planned: issue 17)";
const RESIDUAL =
  "supported: the chain's output plus the output of an earlier layer (after its bias, BatchNorm and ReLU) or the graph input, of the same shape";

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
  if (elem !== undefined && elem !== null && elem !== onnx.TensorProto.DataType.FLOAT && elem !== onnx.TensorProto.DataType.DOUBLE)
    fileErr(`graph input ${input.name} is ${dataTypeName(elem)}; supported: FLOAT or DOUBLE inputs`);
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
  let shape: number[] = dims.length === 1 ? [1, dims[0]] : dims;
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

  const nodes = g.node ?? [];
  const nodeName = (i: number) => nodes[i].name || `#${i}`;
  /** Every node reading a tensor, except Shape / Size (they read only its static shape). */
  const readers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    if (n.opType === "Shape" || n.opType === "Size") return;
    for (const t of n.input ?? []) if (t) readers.set(t, [...(readers.get(t) ?? []), i]);
  });
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ""));

  let cur = input.name ?? "";
  const dataShapes = new Map<string, number[]>([[cur, shape]]);
  const layers: FloatLayer[] = [];
  let inputShape: [number, number, number] | undefined;
  /** Shape of the float model's tensor the current ONNX tensor is a view (or permutation) of. */
  let physical: Shape = [inputSize];
  /** Element e of the current tensor is element perm[e] of the physical tensor (null: the identity). */
  let perm: number[] | null = null;
  /** Whether Add/Mul/BatchNormalization/Relu may still fold into the last layer (a dense or conv). */
  let foldable = false;
  let pendingPad: { node: string; pads: number[] } | null = null;
  /**
   * Residual sources: a tensor the chain read, as the output of float layer `index` (-1: the preprocessed input) when
   * it was read; valid while nothing has folded into that layer since (`folds` counts the folds per layer).
   */
  const layerOf = new Map<string, { index: number; folds: number; physical: boolean }>();
  const folds = new Map<number, number>();
  const folded = (index: number) => folds.set(index, (folds.get(index) ?? 0) + 1);
  /** Whether the last layer is an `add` that a following Relu may still fuse into. */
  let addTakesRelu = false;

  nodes.forEach((node, ni) => {
    const name = nodeName(ni);
    const op = node.opType ?? "";
    const err = (d: string): never => {
      throw new OnnxImportError(name, op, d);
    };
    if (node.domain && node.domain !== "ai.onnx") err(`domain "${node.domain}" is not supported; supported: the default ONNX domain`);
    const at: Attrs = readAttrs(node);
    const outName = (node.output ?? [])[0] ?? "";
    if (op === "Constant") {
      const t = at.tensor("value");
      if (t) consts.set(outName, tensorValues(t, t.name || outName, err));
      else if (at.has("value_float")) consts.set(outName, { dims: [], data: [at.float("value_float", 0)], kind: "float" });
      else if (at.has("value_int")) consts.set(outName, { dims: [], data: [at.int("value_int", 0)], kind: "int" });
      else if (at.has("value_ints")) {
        const v = at.ints("value_ints") ?? [];
        consts.set(outName, { dims: [v.length], data: v, kind: "int" });
      } else err("only the value, value_float, value_int and value_ints forms of Constant are supported");
      return;
    }
    const ins = node.input ?? [];
    const dataIns = ins.filter((i) => i !== "" && !consts.has(i));
    if (dataIns.length === 0) {
      if (!(FOLDABLE_OPS as readonly string[]).includes(op))
        err(
          `computes a constant from constants, but ${op} cannot be evaluated at import time; export with do_constant_folding=True (torch.onnx.export) so that the exporter folds it`,
        );
      consts.set(
        outName,
        foldConstant(
          op,
          ins.map((i) => (i ? consts.get(i) : undefined)),
          at,
          opset,
          err,
        ),
      );
      return;
    }
    if (op === "Shape" || op === "Size") {
      const s = dataShapes.get(dataIns[0]);
      if (!s) return err(`reads "${dataIns[0]}", which no earlier node computes`);
      if (op === "Size") consts.set(outName, { dims: [], data: [numel(s)], kind: "int" });
      else {
        const r = s.length;
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
        const v = s.slice(clamp(at.int("start", 0)), clamp(at.int("end", r)));
        consts.set(outName, { dims: [v.length], data: v, kind: "int" });
      }
      return;
    }

    // ---- the data path: a single chain from the graph input to the graph output (plus residual adds) ----
    if (dataIns.length === 2 && (op === "Add" || op === "Sum") && dataIns.includes(cur)) {
      const skip = dataIns[0] === cur ? dataIns[1] : dataIns[0];
      const src = layerOf.get(skip);
      if (!src) err(`adds "${skip}", which is not the output of an earlier layer or the graph input; ${RESIDUAL}`);
      const { index, physical: physicalOk } = src as { index: number; folds: number; physical: boolean };
      if ((src as { folds: number }).folds !== (folds.get(index) ?? 0))
        err(
          `adds "${skip}", an intermediate value of ${index < 0 ? "the input preprocessing" : `layer ${index}`} (a bias, scale, BatchNorm or ReLU came after it); ${RESIDUAL}`,
        );
      const skipShape = dataShapes.get(skip) ?? [];
      if (skipShape.length !== shape.length || skipShape.some((d, i) => d !== shape[i]))
        err(`adds "${skip}" of shape [${skipShape}] to "${cur}" of shape [${shape}]; ${RESIDUAL} (no broadcasting)`);
      if (!physicalOk || perm) err(`adds a transposed view; ${RESIDUAL} in the layers' own layout`);
      checkFork(cur, ni);
      layers.push({ type: "add", from: index, relu: false });
      foldable = false;
      addTakesRelu = true;
      dataShapes.set(outName, shape);
      cur = outName;
      return;
    }
    if (dataIns.length > 1) {
      const [a, b] = dataIns;
      if (op === "Add" || op === "Sum")
        err(`adds two computed tensors, "${a}" and "${b}", neither the chain's current output "${cur}"; ${RESIDUAL}`);
      if (op === "Mul" && nodes.some((n) => n.opType === "Sigmoid" && (n.output ?? []).includes(b === cur ? a : b)))
        err(`x * sigmoid(x) (SiLU / Swish, nn.SiLU) is not supported; ${ACTIVATIONS}`);
      err(`combines two computed tensors, "${a}" and "${b}"; supported: a single chain of layers, one computed input per node`);
    }
    const x = dataIns[0];
    if (x !== cur)
      err(
        `the graph must be a single chain: this node must take the previous output "${cur}" as its first input (inputs: ${ins.join(", ")})`,
      );
    checkFork(x, ni);
    // x is the chain's output so far: remember which layer it is, for a later residual add reading it
    layerOf.set(x, { index: layers.length - 1, folds: folds.get(layers.length - 1) ?? 0, physical: perm === null });
    if (!["Relu", "Clip", "Identity", "Dropout", "Cast"].includes(op)) addTakesRelu = false;
    if (!(SUPPORTED_OPS as readonly string[]).includes(op)) err(unsupported(op));
    if (pendingPad && op !== "Conv" && op !== "AveragePool" && op !== "MaxPool")
      throw new OnnxImportError(
        pendingPad.node,
        "Pad",
        `Pad of zeros is supported only right before a Conv or an AveragePool (it becomes their padding); here it is followed by ${op} "${name}"`,
      );
    const constIn = (idx: number, what: string): Const => {
      const c = consts.get(ins[idx]);
      if (!c) return err(`${what} (input ${idx} "${ins[idx] ?? ""}") must be an initializer or Constant`);
      return c;
    };
    const setShape = (s: number[]) => {
      shape = s;
      dataShapes.set(outName, s);
      cur = outName;
    };
    const identity = () => setShape(shape);
    const lastLayer = () => layers[layers.length - 1];
    const describeLast = () => {
      const l = lastLayer();
      return l ? `a ${l.type}${"relu" in l && l.relu ? " + ReLU" : ""} layer` : "the graph input";
    };

    /** The physical image [C, H, W] a conv or pool reads; fixes the input shape when nothing came before. */
    const enterImage = (): [number, number, number] => {
      if (shape.length !== 4 || shape[0] !== 1) err(`needs an image tensor [1, C, H, W], got shape [${shape}]`);
      // a pending zero Pad is folded into this layer's padding: the layer reads the unpadded tensor
      const pp = pendingPad ? pendingPad.pads : [0, 0, 0, 0];
      const img: [number, number, number] = [shape[1], shape[2] - pp[0] - pp[2], shape[3] - pp[1] - pp[3]];
      if (perm)
        err(
          `reads a transposed tensor [${shape}]; convolution and pooling read NCHW: export the model with an NCHW input (tf2onnx: --inputs-as-nchw <input>) or drop the Transpose`,
        );
      if (layers.length === 0 && physical.length === 1) {
        inputShape = img;
        physical = img;
      } else if (physical.length !== 3) {
        err(`reshapes the output of a dense layer into the image [${shape}]; supported: images only from the graph input or a conv/pool`);
      } else if (physical.some((d, i) => d !== img[i])) {
        err(`reshapes an image [${physical}] into [${img}]; supported: views that keep the image, or flattening it`);
      }
      return img;
    };
    /** The vector a dense layer reads (a flatten layer is added after an image); returns its length. */
    const enterVector = (): number => {
      if (!shape.slice(0, -1).every((d) => d === 1))
        err(`needs a vector [1, n], got shape [${shape}]; flatten it first (torch.flatten(x, 1) or x.view(x.size(0), -1))`);
      const n = shape[shape.length - 1];
      if (physical.length === 3) {
        layers.push({ type: "flatten", inShape: [...physical] as [number, number, number] });
        physical = [n];
      }
      return n;
    };
    const pushWeighted = (l: FloatDense | FloatConv2d, out: number[], phys: Shape) => {
      layers.push(l);
      physical = phys;
      perm = null;
      foldable = true;
      setShape(out);
    };
    /** Applies y = a * x + b (per element of the current tensor) by folding it where it can go. */
    const applyAffine = (a: number[], b: number[]) => {
      if (a.some((v) => !Number.isFinite(v)) || b.some((v) => !Number.isFinite(v))) err("the constant makes values infinite or NaN");
      folded(layers.length - 1);
      if (layers.length === 0) {
        a.forEach((av, e) => {
          const f = perm ? perm[e] : e;
          if (!(av > 0))
            err(
              `scales input feature ${f} by ${av}; before the first layer only positive scales are supported (they become preprocessing, whose std must be > 0)`,
            );
          pre.mean[f] = pre.mean[f] - (b[e] * pre.std[f]) / av;
          pre.std[f] = pre.std[f] / av;
        });
        identity();
        return;
      }
      const last = lastLayer();
      if (!foldable || (last.type !== "dense" && last.type !== "conv2d"))
        err(
          `${op} by a constant is supported before the first layer (it becomes preprocessing) or right after a Gemm, MatMul or Conv (it folds into its weights and bias); here it follows ${describeLast()}`,
        );
      const l = last as FloatDense | FloatConv2d;
      const per = l.type === "dense" ? 1 : numel(physical.slice(1));
      const units = l.B.length;
      const ua = new Array<number | undefined>(units).fill(undefined);
      const ub = new Array<number | undefined>(units).fill(undefined);
      a.forEach((av, e) => {
        const u = Math.floor((perm ? perm[e] : e) / per);
        if (ua[u] === undefined) {
          ua[u] = av;
          ub[u] = b[e];
        } else if (ua[u] !== av || ub[u] !== b[e])
          err(`the constant differs within output channel ${u} of the conv; supported: one value per channel ([C, 1, 1]) or a scalar`);
      });
      for (let u = 0; u < units; u++) {
        const s = ua[u] ?? 1;
        const t = ub[u] ?? 0;
        if (l.type === "dense") l.W[u] = l.W[u].map((w) => w * s);
        else l.W[u] = l.W[u].map((c) => c.map((r) => r.map((w) => w * s)));
        l.B[u] = l.B[u] * s + t;
      }
      identity();
    };
    const perElement = (c: Const, what: string): number[] => {
      try {
        return expandTo(c, shape, err);
      } catch {
        return err(`${what} of shape [${c.dims}] does not broadcast to the data shape [${shape}]`);
      }
    };
    const windowAttrs = (kernelDims?: number[]) => {
      const ks = at.ints("kernel_shape") ?? kernelDims;
      if (!ks || ks.length !== 2 || ks[0] !== ks[1]) err(`kernel_shape [${ks}] is not supported; supported: square 2-D kernels`);
      const kernel = (ks as number[])[0];
      const strides = at.ints("strides") ?? [1, 1];
      if (strides.length !== 2 || strides[0] !== strides[1]) err(`strides [${strides}] are not supported; supported: equal strides`);
      const dil = at.ints("dilations") ?? [1, 1];
      if (dil.some((d) => d !== 1)) err(`dilations [${dil}] are not supported; supported: 1`);
      const autoPad = at.str("auto_pad") ?? "NOTSET";
      if (autoPad !== "NOTSET" && autoPad !== "VALID")
        err(`auto_pad ${autoPad} is not supported; supported: NOTSET with explicit pads, VALID`);
      const pads = autoPad === "VALID" ? [0, 0, 0, 0] : (at.ints("pads") ?? [0, 0, 0, 0]);
      if (pads.length !== 4) err(`pads [${pads}] are not supported; supported: 2-D pads [top, left, bottom, right]`);
      if (at.int("ceil_mode", 0) !== 0) err("ceil_mode 1 is not supported; supported: 0 (ceil_mode=False)");
      return { kernel, stride: strides[0], pads };
    };
    /** Attribute pads plus a preceding zero Pad; all four sides must be equal. */
    const totalPadding = (pads: number[], kernel: number): number => {
      const p = pads.map((v, i) => v + (pendingPad ? pendingPad.pads[i] : 0));
      if (p.some((v) => v !== p[0]))
        err(
          `padding [top, left, bottom, right] = [${p}]${pendingPad ? ` (with Pad "${pendingPad.node}")` : ""} is not supported; supported: equal padding on all sides`,
        );
      if (p[0] >= kernel) err(`padding ${p[0]} with kernel ${kernel} is not supported; supported: padding < kernel`);
      pendingPad = null;
      return p[0];
    };

    switch (op) {
      case "Identity":
      case "Dropout": {
        for (const extra of (node.output ?? []).slice(1))
          if (extra && ((readers.get(extra) ?? []).length > 0 || graphOutputs.has(extra)))
            err(`the mask output "${extra}" is used; supported: only the first output (inference ignores dropout)`);
        identity();
        return;
      }
      case "Cast": {
        const to = at.int("to", 1);
        if (to !== onnx.TensorProto.DataType.FLOAT && to !== onnx.TensorProto.DataType.DOUBLE)
          err(`Cast of the data to ${dataTypeName(to)} is not supported; supported: Cast to FLOAT or DOUBLE`);
        identity();
        return;
      }
      case "Relu":
      case "Clip": {
        if (op === "Clip") {
          const lo = opset >= 11 ? consts.get(ins[1] ?? "")?.data[0] : at.has("min") ? at.float("min", 0) : undefined;
          const hi = opset >= 11 ? consts.get(ins[2] ?? "")?.data[0] : at.has("max") ? at.float("max", 0) : undefined;
          if ((ins[1] && !consts.has(ins[1])) || (ins[2] && !consts.has(ins[2]))) err("min and max must be constants");
          if (lo !== 0 || (hi !== undefined && Number.isFinite(hi)))
            err(
              `Clip(${lo ?? "-inf"}, ${hi ?? "inf"})${lo === 0 && hi === 6 ? " (ReLU6: nn.ReLU6 / F.relu6)" : " (Hardtanh / clamp)"} is not supported; ${ACTIVATIONS}`,
            );
        }
        const last = lastLayer();
        if (last?.type === "add" && addTakesRelu) {
          last.relu = true;
          addTakesRelu = false;
          folded(layers.length - 1);
          identity();
          return;
        }
        if (!foldable || !last || (last.type !== "dense" && last.type !== "conv2d"))
          err(
            `${op === "Clip" ? "ReLU (Clip min 0)" : "Relu"} is supported only right after Gemm, MatMul or Conv (and their bias Add) or a residual Add; here it follows ${describeLast()}`,
          );
        (last as FloatDense | FloatConv2d).relu = true;
        foldable = false;
        folded(layers.length - 1);
        identity();
        return;
      }
      case "Add":
      case "Sub":
      case "Mul":
      case "Div": {
        const ci = ins[0] === cur ? 1 : 0;
        const c = perElement(constIn(ci, "the constant operand"), "the constant");
        if (op === "Add")
          applyAffine(
            c.map(() => 1),
            c,
          );
        else if (op === "Sub")
          applyAffine(
            c.map(() => (ci === 1 ? 1 : -1)),
            c.map((v) => (ci === 1 ? -v : v)),
          );
        else if (op === "Mul")
          applyAffine(
            c,
            c.map(() => 0),
          );
        else {
          if (ci === 0) err("divides a constant by the data (c / x); supported: the data divided by a constant");
          if (c.some((v) => v === 0)) err("divides by zero");
          applyAffine(
            c.map((v) => 1 / v),
            c.map(() => 0),
          );
        }
        return;
      }
      case "BatchNormalization": {
        if (at.int("training_mode", 0) === 1)
          err(
            "training_mode 1 uses the batch's statistics; call model.eval() before torch.onnx.export (inference uses the running statistics)",
          );
        for (const extra of (node.output ?? []).slice(1))
          if (extra && ((readers.get(extra) ?? []).length > 0 || graphOutputs.has(extra)))
            err(`the running-statistics output "${extra}" is used; export in eval mode (model.eval())`);
        const [scale, bias, mean, v] = [1, 2, 3, 4].map(
          (i) => constIn(i, ["", "the scale", "the bias", "the mean", "the variance"][i]).data,
        );
        const C = shape[1];
        if (shape.length < 2 || [scale, bias, mean, v].some((t) => t.length !== C))
          err(`statistics must have one value per channel (axis 1 of [${shape}])`);
        const eps = at.float("epsilon", 1e-5);
        const inner = numel(shape.slice(2));
        const ch = (e: number) => Math.floor(e / inner) % C;
        const a = Array.from({ length: numel(shape) }, (_, e) => scale[ch(e)] / Math.sqrt(v[ch(e)] + eps));
        applyAffine(
          a,
          a.map((s, e) => bias[ch(e)] - mean[ch(e)] * s),
        );
        return;
      }
      case "Gemm":
      case "MatMul": {
        if (op === "Gemm" && shape.length !== 2) err(`needs a matrix input [1, n], got shape [${shape}]; flatten it first`);
        const nIn = enterVector();
        const B = constIn(1, "the weight matrix");
        if (B.dims.length !== 2) err(`weight ${ins[1]} has dims [${B.dims}]; supported: a 2-D matrix`);
        let W: number[][];
        let bias: number[];
        if (op === "Gemm") {
          if (at.int("transA", 0) !== 0) err("transA 1 is not supported; supported: transA 0");
          const transB = at.int("transB", 0) === 1;
          const alpha = at.float("alpha", 1);
          const beta = at.float("beta", 1);
          const [r, c] = B.dims;
          const [K, N] = transB ? [c, r] : [r, c];
          if (K !== nIn)
            err(`weight ${ins[1]} [${B.dims}] (transB ${Number(transB)}) takes ${K} inputs but the previous output has ${nIn}`);
          W = Array.from({ length: N }, (_, j) =>
            Array.from({ length: K }, (_, i) => alpha * (transB ? B.data[j * K + i] : B.data[i * N + j])),
          );
          bias = new Array<number>(N).fill(0);
          if (ins.length > 2 && ins[2]) {
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
        if (perm) {
          const p = perm;
          W = W.map((row) => {
            const out = new Array<number>(row.length);
            row.forEach((w, e) => (out[p[e]] = w));
            return out;
          });
        }
        pushWeighted({ type: "dense", W, B: bias, relu: false }, [...shape.slice(0, -1), W.length], [W.length]);
        return;
      }
      case "Conv": {
        const inShape = enterImage();
        const Wt = constIn(1, "the kernel");
        if (Wt.dims.length !== 4) err(`kernel ${ins[1]} has dims [${Wt.dims}]; supported: [M, C / group, k, k] (2-D convolution)`);
        const group = at.int("group", 1);
        const { kernel, stride, pads } = windowAttrs(Wt.dims.slice(2));
        const padding = totalPadding(pads, kernel);
        const [M, C, kh, kw] = Wt.dims;
        if (!Number.isInteger(group) || group < 1 || inShape[0] % group !== 0 || M % group !== 0)
          err(`group ${group} does not divide the ${inShape[0]} input and ${M} output channels; supported: a group dividing both`);
        if (C !== inShape[0] / group || kh !== kernel || kw !== kernel)
          err(
            `kernel ${ins[1]} [${Wt.dims}] does not fit ${inShape[0]} input channels${group > 1 ? ` in ${group} groups` : ""} and kernel ${kernel}x${kernel}`,
          );
        const W = Array.from({ length: M }, (_, o) =>
          Array.from({ length: C }, (_, c) =>
            Array.from({ length: kernel }, (_, y) =>
              Array.from({ length: kernel }, (_, xx) => Wt.data[((o * C + c) * kernel + y) * kernel + xx]),
            ),
          ),
        );
        let B = new Array<number>(M).fill(0);
        if (ins.length > 2 && ins[2]) {
          const Bt = constIn(2, "the bias");
          if (Bt.data.length !== M) err(`bias ${ins[2]} has ${Bt.data.length} values; supported: one per output channel (${M})`);
          B = [...Bt.data];
        }
        const oh = windowOut(inShape[1], kernel, stride, padding);
        const ow = windowOut(inShape[2], kernel, stride, padding);
        if (oh < 1 || ow < 1) err(`kernel ${kernel} with padding ${padding} does not fit the ${inShape[1]}x${inShape[2]} input`);
        const conv: FloatConv2d = { type: "conv2d", inShape, W, B, kernel, stride, padding, relu: false };
        if (group > 1) conv.groups = group;
        pushWeighted(conv, [1, M, oh, ow], [M, oh, ow]);
        return;
      }
      case "MaxPool":
      case "AveragePool":
      case "GlobalAveragePool":
      case "ReduceMean": {
        if (op === "MaxPool" && pendingPad)
          throw new OnnxImportError(
            pendingPad.node,
            "Pad",
            `Pad before MaxPool "${name}" is not supported: its zeros could win the maximum; supported: MaxPool's own pads (-infinity), or Pad before Conv or AveragePool`,
          );
        const inShape = enterImage();
        let kernel: number;
        let stride: number;
        let padding = 0;
        let out: number[];
        if (op === "MaxPool" || op === "AveragePool") {
          if ((node.output ?? []).length > 1 && node.output?.[1]) err("the Indices output of MaxPool is not supported");
          if (at.int("storage_order", 0) !== 0) err("storage_order 1 is not supported; supported: 0");
          const w = windowAttrs();
          kernel = w.kernel;
          stride = w.stride;
          if (op === "MaxPool") {
            // ONNX MaxPool pads with -infinity: the maximum of the in-range taps (maxpool padding)
            padding = totalPadding(w.pads, kernel);
          } else {
            if (w.pads.some((p) => p !== 0) && at.int("count_include_pad", 0) !== 1)
              err(
                `pads [${w.pads}] with count_include_pad 0 average fewer values at the borders; supported: count_include_pad 1 (PyTorch's default, AvgPool2d(count_include_pad=True))`,
              );
            padding = totalPadding(w.pads, kernel);
          }
          out = [1, inShape[0], windowOut(inShape[1], kernel, stride, padding), windowOut(inShape[2], kernel, stride, padding)];
        } else {
          let keep = true;
          if (op === "ReduceMean") {
            const axes = (opset >= 18 ? consts.get(ins[1] ?? "")?.data : at.ints("axes"))?.map((a) => (a < 0 ? a + 4 : a)).sort();
            if (!axes || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3)
              err(
                `ReduceMean over axes [${axes ?? "all"}] is not supported; supported: the spatial axes [2, 3] of [1, C, H, W] (global average pooling)`,
              );
            keep = at.int("keepdims", 1) === 1;
          }
          if (inShape[1] !== inShape[2])
            err(`global average pooling of a ${inShape[1]}x${inShape[2]} image is not supported; supported: square images`);
          kernel = inShape[1];
          stride = 1;
          out = keep ? [1, inShape[0], 1, 1] : [1, inShape[0]];
        }
        if (out[2] !== undefined && (out[2] < 1 || out[3] < 1)) err(`kernel ${kernel} does not fit the ${inShape[1]}x${inShape[2]} input`);
        const type = op === "MaxPool" ? "maxpool" : "avgpool";
        layers.push(padding > 0 ? { type, inShape, kernel, stride, padding } : { type, inShape, kernel, stride });
        physical = [inShape[0], windowOut(inShape[1], kernel, stride, padding), windowOut(inShape[2], kernel, stride, padding)];
        foldable = false;
        setShape(out);
        return;
      }
      case "Pad": {
        const mode = at.str("mode") ?? "constant";
        if (mode !== "constant") err(`mode ${mode} is not supported; supported: constant (zero) padding`);
        const pads = opset >= 11 ? constIn(1, "the pads").data : at.ints("pads");
        const value = opset >= 11 ? (ins[2] ? constIn(2, "the constant value").data[0] : 0) : at.float("value", 0);
        if (value !== 0) err(`pads with the value ${value}; supported: zero padding`);
        if (ins[3]) err("the axes input is not supported; supported: pads for every axis");
        if (shape.length !== 4 || !pads || pads.length !== 8 || [0, 1, 4, 5].some((i) => pads[i] !== 0) || pads.some((p) => p < 0))
          err(
            `pads [${pads}] of a [${shape}] tensor are not supported; supported: non-negative padding of the spatial axes of [1, C, H, W]`,
          );
        const p = pads as number[];
        const mine = [p[2], p[3], p[6], p[7]];
        pendingPad = pendingPad ? { node: pendingPad.node, pads: pendingPad.pads.map((v, i) => v + mine[i]) } : { node: name, pads: mine };
        setShape([shape[0], shape[1], shape[2] + p[2] + p[6], shape[3] + p[3] + p[7]]);
        return;
      }
      case "Transpose": {
        const pa = at.ints("perm") ?? shape.map((_, i) => shape.length - 1 - i);
        const t = transposeSources(shape, pa);
        const p = perm;
        const next = t.src.map((s) => (p ? p[s] : s));
        perm = next.every((v, i) => v === i) ? null : next;
        setShape(t.dims);
        return;
      }
      case "Flatten":
      case "Reshape":
      case "Squeeze":
      case "Unsqueeze": {
        const placeholder: Const = { dims: shape, data: [], kind: "float" };
        let next: number[];
        if (op === "Reshape") {
          const target = constIn(1, "the target shape").data;
          next = reshapeTarget(shape, target, at.int("allowzero", 0) === 1, err);
        } else {
          next = foldConstant(
            op,
            [placeholder, ...ins.slice(1).map((i) => (i ? constIn(ins.indexOf(i), "the axes") : undefined))],
            at,
            opset,
            err,
          ).dims;
        }
        if (numel(next) !== numel(shape)) err(`cannot view [${shape}] as [${next}]`);
        setShape(next);
        return;
      }
      case "Softmax":
      case "LogSoftmax": {
        if (!graphOutputs.has(outName)) err(`${op} is supported only as the last node (it is dropped: the head reads logits)`);
        const axis = at.int("axis", opset >= 13 ? -1 : 1);
        if (!shape.slice(0, -1).every((d) => d === 1) || (axis !== -1 && axis !== shape.length - 1))
          err(`${op} over axis ${axis} of shape [${shape}] is not supported; supported: the class axis of [1, n]`);
        identity();
        return;
      }
    }
    err(unsupported(op));
  });

  /** Rejects a tensor read by more than one node, naming the pattern when it is a known one. */
  function checkFork(t: string, at: number): void {
    const users = readers.get(t) ?? [];
    const n = users.length + (graphOutputs.has(t) ? 1 : 0);
    if (n <= 1) return;
    const ops = users.map((i) => nodes[i].opType ?? "");
    const feeds = (i: number, want: string) =>
      nodes.some((m) => m.opType === want && (m.input ?? []).some((inp) => (nodes[i].output ?? []).includes(inp)));
    const erfUser = users.find(
      (i) => nodes[i].opType === "Erf" || ((nodes[i].opType === "Div" || nodes[i].opType === "Mul") && feeds(i, "Erf")),
    );
    if (erfUser !== undefined) {
      const outs = nodes[erfUser].output ?? [];
      const erf =
        nodes[erfUser].opType === "Erf"
          ? erfUser
          : nodes.findIndex((m) => m.opType === "Erf" && (m.input ?? []).some((i) => outs.includes(i)));
      throw new OnnxImportError(
        nodeName(erf),
        "Erf",
        `GELU (F.gelu / nn.GELU, exported as Div, Erf, Add, Mul, Mul) is not supported; ${ACTIVATIONS}`,
      );
    }
    const sig = users.find((i) => nodes[i].opType === "Sigmoid");
    if (sig !== undefined && ops.includes("Mul"))
      throw new OnnxImportError(nodeName(sig), "Sigmoid", `x * sigmoid(x) (SiLU / Swish, nn.SiLU) is not supported; ${ACTIVATIONS}`);
    const computedIns = (i: number) => (nodes[i].input ?? []).filter((inp) => inp && !consts.has(inp)).length;
    // a residual connection: every other reader is an Add / Sum of two computed tensors (checked when it comes)
    const residual = (i: number) => (nodes[i].opType === "Add" || nodes[i].opType === "Sum") && computedIns(i) === 2;
    if (!graphOutputs.has(t) && users.filter((i) => i !== at).every(residual)) return;
    const join = users.find((i) => computedIns(i) > 1);
    if (join !== undefined) {
      const jn = nodes[join];
      const other = (jn.input ?? []).find((inp) => inp && inp !== t && !consts.has(inp)) ?? "";
      throw new OnnxImportError(
        nodeName(join),
        jn.opType ?? "",
        `${jn.opType === "Add" || jn.opType === "Sum" ? "adds" : "combines"} "${other}" and the earlier "${t}": a residual (skip) connection; ${RESIDUAL}. Supported: a single chain of layers`,
      );
    }
    const others = users.filter((i) => i !== at).map((i) => `"${nodeName(i)}" (${nodes[i].opType})`);
    if (graphOutputs.has(t)) others.push("a graph output");
    throw new OnnxImportError(
      nodeName(at),
      nodes[at].opType ?? "",
      `its input "${t}" also feeds ${others.join(", ")}: the graph must be a single chain of layers (no branches)`,
    );
  }

  if (pendingPad) {
    const p = pendingPad as { node: string };
    throw new OnnxImportError(
      p.node,
      "Pad",
      "Pad of zeros is supported only right before a Conv or an AveragePool (it becomes their padding)",
    );
  }
  const outs = g.output ?? [];
  if (outs.length !== 1 || outs[0].name !== cur)
    fileErr(`the graph must have exactly one output, the last node's output "${cur}" (found ${outs.map((o) => o.name).join(", ")})`);
  if (layers.length === 0) fileErr("the graph has no Gemm, MatMul or Conv layer");
  const last = layers[layers.length - 1];
  if (last.type !== "dense" || last.relu)
    fileErr("the last layer must be a Gemm or MatMul without Relu (its outputs are the logits or values the head reads)");
  if (perm) fileErr("the graph output is a transposed view of the last layer; supported: the last layer's outputs in order");
  const nOut = (last as FloatDense).W.length;
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
    classes: opts.classes ?? metaJson("classes") ?? Array.from({ length: nOut }, (_, i) => String(i)),
    layers,
  };
  if (inputShape) fm.inputShape = inputShape;
  const task = opts.task ?? metaJson<FloatModel["task"]>("task");
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

/** The message for an operator the importer does not handle on the data path: what is supported, plus a hint. */
function unsupported(op: string): string {
  const hints: Record<string, string> = {
    Sigmoid: `${ACTIVATIONS}; a final Sigmoid can be dropped from the export (the head reads logits)`,
    Tanh: ACTIVATIONS,
    LeakyRelu: ACTIVATIONS,
    Elu: ACTIVATIONS,
    Erf: `Erf is part of GELU; ${ACTIVATIONS}`,
    Concat: "Concat of computed tensors needs a branching graph; supported: a single chain of layers",
    ConvTranspose: ISSUE_17,
  };
  const hint = hints[op] ? `; ${hints[op]}` : "";
  return `operator ${op} is not supported; supported: ${SUPPORTED_OPS.join(", ")} (and constant subgraphs of ${FOLDABLE_OPS.join(", ")})${hint}`;
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
