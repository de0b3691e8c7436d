/**
 * The ONNX importer's converters of the operators that add no layer: they pass the data on (Identity, Dropout, Cast,
 * a final Softmax / LogSoftmax) or view it in another shape or order (Transpose, Flatten, Reshape, Squeeze,
 * Unsqueeze), which later layers account for (the walk's `perm` and `physical`, scripts/engine/onnx/import-state.ts).
 */
import { type Const, dataTypeName, foldConstant, numel, reshapeTarget, transposeSources } from "./fold";
import type { Step } from "./import-state";
import { onnx } from "./proto";

/** Identity, Dropout (any mode: inference is identity). */
export function convertDropout(step: Step): void {
  const { walk, node, err, identity } = step;
  for (const extra of (node.output ?? []).slice(1))
    if (extra && ((walk.readers.get(extra) ?? []).length > 0 || walk.graphOutputs.has(extra)))
      err(`the mask output "${extra}" is used; supported: only the first output (inference ignores dropout)`);
  identity();
}

/** Cast to float. */
export function convertCast(step: Step): void {
  const { at, err, identity } = step;
  const to = at.int("to", 1);
  if (to !== onnx.TensorProto.DataType.FLOAT && to !== onnx.TensorProto.DataType.DOUBLE)
    err(`Cast of the data to ${dataTypeName(to)} is not supported; supported: Cast to FLOAT or DOUBLE`);
  identity();
}

export function convertTranspose(step: Step): void {
  const { walk, at, setShape } = step;
  const { shape } = walk;
  const pa = at.ints("perm") ?? shape.map((_, i) => shape.length - 1 - i);
  const t = transposeSources(shape, pa);
  const p = walk.perm;
  const next = t.src.map((s) => (p ? p[s] : s));
  walk.perm = next.every((v, i) => v === i) ? null : next;
  setShape(t.dims);
}

/** Flatten, Reshape, Squeeze, Unsqueeze. */
export function convertView(step: Step): void {
  const { walk, op, at, ins, err, constIn, setShape } = step;
  const { shape } = walk;
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
      walk.opset,
      err,
    ).dims;
  }
  if (numel(next) !== numel(shape)) err(`cannot view [${shape}] as [${next}]`);
  setShape(next);
}

/**
 * Softmax, LogSoftmax producing the graph output: a `softmax` / `logsoftmax` layer (the values head reads
 * probabilities or log-probabilities; an argmax head drops it when quantizing).
 */
export function convertSoftmax(step: Step): void {
  const { walk, op, at, outName, err, identity } = step;
  const { shape } = walk;
  if (!walk.graphOutputs.has(outName))
    err(`${op} is supported only as the last node (a probability head; an argmax head reads the logits before it)`);
  const axis = at.int("axis", walk.opset >= 13 ? -1 : 1);
  if (!shape.slice(0, -1).every((d) => d === 1) || (axis !== -1 && axis !== shape.length - 1))
    err(`${op} over axis ${axis} of shape [${shape}] is not supported; supported: the class axis of [1, n]`);
  // the model's last layer (probabilities or log-probabilities, for a values head); an argmax head skips it: the
  // argmax of either is the argmax of the logits
  walk.layers.push({ type: op === "Softmax" ? "softmax" : "logsoftmax" });
  identity();
}
