/**
 * The ONNX importer's walk along the graph: nodes in order, constants evaluated at import time (Constant, constant
 * subgraphs, Shape / Size of a static shape), the data path checked to be a single chain (no branches, except residual
 * Adds, which become `add` layers), and every other node handed to its operator's converter (import-layers.ts,
 * import-folds.ts, import-views.ts) through the shared {@link Walk} state (import-state.ts).
 */
import { type Const, FOLDABLE_OPS, foldConstant, numel, reshapeTarget, tensorValues, transposeSources } from "./fold";
import { OnnxImportError, RESIDUAL, SUPPORTED_OPS, unsupported } from "./import-errors";
import { convertAffine, convertBatchNorm, convertRelu } from "./import-folds";
import { matchActivation } from "./import-activations";
import { matchAttention, matchLayerNorm } from "./import-transformer";
import { convertConv, convertEmbedding, convertGemm, convertPad, convertPool } from "./import-layers";
import { type Step, type Walk, nodeName, stepOf } from "./import-state";
import { convertCast, convertDropout, convertSoftmax, convertTranspose, convertView } from "./import-views";
import type { onnx } from "./proto";

/** The converter of each operator on the data path. */
const CONVERTERS = new Map<string, (step: Step) => void>([
  ["Identity", convertDropout],
  ["Dropout", convertDropout],
  ["Cast", convertCast],
  ["Relu", convertRelu],
  ["Clip", convertRelu],
  ["Add", convertAffine],
  ["Sub", convertAffine],
  ["Mul", convertAffine],
  ["Div", convertAffine],
  ["BatchNormalization", convertBatchNorm],
  ["Gemm", convertGemm],
  ["MatMul", convertGemm],
  ["Conv", convertConv],
  ["Gather", convertEmbedding],
  ["MaxPool", convertPool],
  ["AveragePool", convertPool],
  ["GlobalAveragePool", convertPool],
  ["ReduceMean", convertPool],
  ["Pad", convertPad],
  ["Transpose", convertTranspose],
  ["Flatten", convertView],
  ["Reshape", convertView],
  ["Squeeze", convertView],
  ["Unsqueeze", convertView],
  ["Softmax", convertSoftmax],
  ["LogSoftmax", convertSoftmax],
]);

/**
 * Walks the nodes of `g` from its data input `input` (static shape `shape`, preprocessed by `pre`, which folds may
 * change) and converts them to float layers. `consts` holds the initializers; the walk adds every constant it
 * evaluates.
 * @returns the walk's final state: the layers, the chain's output `cur`, the image shape of the input if a conv or
 * pool read it, and any view (`perm`) still applied.
 * @throws OnnxImportError naming the node and operator, and what is supported.
 */
export function walkGraph(
  g: onnx.IGraphProto,
  opset: number,
  consts: Map<string, Const>,
  input: string,
  shape: number[],
  pre: { mean: number[]; std: number[] },
): Walk {
  const nodes = g.node ?? [];
  /** Every node reading a tensor, except Shape / Size (they read only its static shape). */
  const readers = new Map<string, number[]>();
  nodes.forEach((n, i) => {
    if (n.opType === "Shape" || n.opType === "Size") return;
    for (const t of n.input ?? []) if (t) readers.set(t, [...(readers.get(t) ?? []), i]);
  });
  const walk: Walk = {
    opset,
    nodes,
    consts,
    readers,
    graphOutputs: new Set((g.output ?? []).map((o) => o.name ?? "")),
    dataShapes: new Map<string, number[]>([[input, shape]]),
    layers: [],
    pre,
    cur: input,
    shape,
    inputShape: undefined,
    physical: [numel(shape)],
    perm: null,
    foldable: false,
    pendingPad: null,
    layerOf: new Map(),
    folds: new Map(),
    addTakesRelu: false,
    consumed: new Set(),
  };
  // Constant nodes first: an exporter may place one after the node that starts a pattern reading it (PyTorch's GELU)
  nodes.forEach((node, ni) => {
    if (node.opType !== "Constant") return;
    walkNode(walk, stepOf(walk, node, ni), ni);
    walk.consumed.add(ni);
  });
  nodes.forEach((node, ni) => {
    if (!walk.consumed.has(ni)) walkNode(walk, stepOf(walk, node, ni), ni);
  });
  if (walk.pendingPad)
    throw new OnnxImportError(
      walk.pendingPad.node,
      "Pad",
      "Pad of zeros is supported only right before a Conv or an AveragePool (it becomes their padding)",
    );
  return walk;
}

/** Node `ni`: a constant, a Shape / Size, a residual Add, or the next link of the chain (its converter's). */
function walkNode(walk: Walk, step: Step, ni: number): void {
  const { consts, dataShapes, layers, opset } = walk;
  const { node, name, op, err, at, outName, ins } = step;
  if (node.domain && node.domain !== "ai.onnx") err(`domain "${node.domain}" is not supported; supported: the default ONNX domain`);
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
  const { cur, shape } = walk;
  if (!walk.pendingPad && dataIns.every((t) => t === cur)) {
    // a pattern of several nodes that is one layer: a LayerNorm, a self-attention (both keep the shape; the
    // attention may give it another view) or an activation's subgraph
    const tm = matchLayerNorm(walk, ni, cur) ?? matchAttention(walk, ni, cur);
    const match = tm ?? matchActivation(walk, ni, cur);
    if (match) {
      walk.layerOf.set(cur, { index: layers.length - 1, folds: walk.folds.get(layers.length - 1) ?? 0, perm: walk.perm });
      layers.push(match.layer);
      for (const j of match.nodes) walk.consumed.add(j);
      walk.foldable = false;
      walk.addTakesRelu = false;
      walk.shape = tm ? tm.shape : shape;
      walk.perm = tm ? tm.perm : walk.perm;
      dataShapes.set(match.output, walk.shape);
      walk.cur = match.output;
      // node ni itself may lie outside an attention's nodes: a view of its input that a residual Add reads later
      if (tm && !tm.nodes.includes(ni)) sideView(walk, step);
      return;
    }
  }
  if (dataIns.length === 1 && dataIns[0] !== cur && SIDE_VIEWS.includes(op) && walk.layerOf.has(dataIns[0])) return sideView(walk, step);
  if (dataIns.length === 2 && (op === "Add" || op === "Sum") && dataIns.includes(cur)) {
    const skip = dataIns[0] === cur ? dataIns[1] : dataIns[0];
    const src = walk.layerOf.get(skip);
    if (!src) err(`adds "${skip}", which is not the output of an earlier layer or the graph input; ${RESIDUAL}`);
    const { index, perm: skipPerm } = src as { index: number; folds: number; perm: number[] | null };
    if ((src as { folds: number }).folds !== (walk.folds.get(index) ?? 0))
      err(
        `adds "${skip}", an intermediate value of ${index < 0 ? "the input preprocessing" : `layer ${index}`} (a bias, scale, BatchNorm or ReLU came after it); ${RESIDUAL}`,
      );
    const skipShape = dataShapes.get(skip) ?? [];
    if (skipShape.length !== shape.length || skipShape.some((d, i) => d !== shape[i]))
      err(`adds "${skip}" of shape [${skipShape}] to "${cur}" of shape [${shape}]; ${RESIDUAL} (no broadcasting)`);
    if (!samePerm(skipPerm, walk.perm))
      err(`adds two tensors viewed in different orders (a Transpose between them); ${RESIDUAL} in one layout`);
    checkFork(walk, cur, ni);
    layers.push({ type: "add", from: index, relu: false });
    walk.foldable = false;
    walk.addTakesRelu = true;
    dataShapes.set(outName, shape);
    walk.cur = outName;
    return;
  }
  if (dataIns.length > 1) {
    const [a, b] = dataIns;
    if (op === "Add" || op === "Sum")
      err(`adds two computed tensors, "${a}" and "${b}", neither the chain's current output "${cur}"; ${RESIDUAL}`);
    err(`combines two computed tensors, "${a}" and "${b}"; supported: a single chain of layers, one computed input per node`);
  }
  const x = dataIns[0];
  if (x !== cur)
    err(
      `the graph must be a single chain: this node must take the previous output "${cur}" as its first input (inputs: ${ins.join(", ")})`,
    );
  checkFork(walk, x, ni);
  // x is the chain's output so far: remember which layer it is, for a later residual add reading it
  walk.layerOf.set(x, { index: layers.length - 1, folds: walk.folds.get(layers.length - 1) ?? 0, perm: walk.perm });
  if (!["Relu", "Clip", "Identity", "Dropout", "Cast"].includes(op)) walk.addTakesRelu = false;
  if (!(SUPPORTED_OPS as readonly string[]).includes(op)) err(unsupported(op));
  if (walk.pendingPad && op !== "Conv" && op !== "AveragePool" && op !== "MaxPool")
    throw new OnnxImportError(
      walk.pendingPad.node,
      "Pad",
      `Pad of zeros is supported only right before a Conv or an AveragePool (it becomes their padding); here it is followed by ${op} "${name}"`,
    );
  const convert = CONVERTERS.get(op);
  if (!convert) return err(unsupported(op));
  convert(step);
}

/** The views a residual source may be read through off the chain (exporters move a Transpose onto the skip path). */
const SIDE_VIEWS = ["Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"];

/**
 * A view (Transpose, Reshape, ...) of an earlier residual source off the chain: its output becomes a residual source
 * too, the same layer's output seen through the composed permutation; the chain does not move.
 */
function sideView(walk: Walk, step: Step): void {
  const { op, at, ins, err, outName, constIn } = step;
  const src = ins[0];
  const from = walk.layerOf.get(src);
  const shape = walk.dataShapes.get(src);
  if (!from || !shape || !SIDE_VIEWS.includes(op))
    err(`reads "${src}" off the chain of layers; supported off the chain: views (Transpose, Reshape) that a residual Add reads`);
  const s = shape as number[];
  const f = from as { index: number; folds: number; perm: number[] | null };
  let dims = s;
  let perm = f.perm;
  if (op === "Transpose") {
    const t = transposeSources(s, at.ints("perm") ?? s.map((_, i) => s.length - 1 - i));
    dims = t.dims;
    const next = t.src.map((v) => (perm ? perm[v] : v));
    perm = next.every((v, i) => v === i) ? null : next;
  } else if (op === "Reshape") dims = reshapeTarget(s, constIn(1, "the target shape").data, at.int("allowzero", 0) === 1, err);
  else if (op !== "Identity" && op !== "Dropout") {
    const placeholder: Const = { dims: s, data: [], kind: "float" };
    dims = foldConstant(op, [placeholder, ...ins.slice(1).map((i) => (i ? walk.consts.get(i) : undefined))], at, walk.opset, err).dims;
  }
  walk.layerOf.set(outName, { ...f, perm });
  walk.dataShapes.set(outName, dims);
}

function samePerm(a: readonly number[] | null, b: readonly number[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Rejects a tensor read by more than one node, naming the residual pattern when it is one. */
function checkFork(walk: Walk, t: string, at: number): void {
  const { consts, graphOutputs, nodes, readers } = walk;
  const users = readers.get(t) ?? [];
  const n = users.length + (graphOutputs.has(t) ? 1 : 0);
  if (n <= 1) return;
  const computedIns = (i: number) => (nodes[i].input ?? []).filter((inp) => inp && !consts.has(inp)).length;
  // a residual connection: every other reader is an Add / Sum of two computed tensors (checked when it comes)
  const residual = (i: number) => (nodes[i].opType === "Add" || nodes[i].opType === "Sum") && computedIns(i) === 2;
  if (!graphOutputs.has(t) && users.filter((i) => i !== at).every(residual)) return;
  const join = users.find((i) => computedIns(i) > 1);
  if (join !== undefined) {
    const jn = nodes[join];
    const other = (jn.input ?? []).find((inp) => inp && inp !== t && !consts.has(inp)) ?? "";
    throw new OnnxImportError(
      nodeName(walk, join),
      jn.opType ?? "",
      `${jn.opType === "Add" || jn.opType === "Sum" ? "adds" : "combines"} "${other}" and the earlier "${t}": a residual (skip) connection; ${RESIDUAL}. Supported: a single chain of layers`,
    );
  }
  const others = users.filter((i) => i !== at).map((i) => `"${nodeName(walk, i)}" (${nodes[i].opType})`);
  if (graphOutputs.has(t)) others.push("a graph output");
  throw new OnnxImportError(
    nodeName(walk, at),
    nodes[at].opType ?? "",
    `its input "${t}" also feeds ${others.join(", ")}: the graph must be a single chain of layers (no branches)`,
  );
}
