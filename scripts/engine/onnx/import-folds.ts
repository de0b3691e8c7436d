/**
 * The ONNX importer's converters of the operators that fold into what came before instead of adding a layer: Add /
 * Sub / Mul / Div by a constant and BatchNormalization (into the preprocessing before the first layer, or into the
 * weights and bias of the Gemm / MatMul / Conv right before), and Relu / Clip(min 0) (a `relu` flag on that layer or
 * on a residual `add`).
 */
import type { FloatConv1d, FloatConv2d, FloatDense } from "../../formats/float-model";
import { type Const, expandTo, numel } from "./fold";
import { ACTIVATIONS } from "./import-errors";
import { type Step, folded } from "./import-state";

/** Relu, Clip(min 0, no max). */
export function convertRelu(step: Step): void {
  const { walk, op, at, ins, err, identity, lastLayer, describeLast } = step;
  const { consts, layers, opset } = walk;
  if (op === "Clip") {
    const lo = opset >= 11 ? consts.get(ins[1] ?? "")?.data[0] : at.has("min") ? at.float("min", 0) : undefined;
    const hi = opset >= 11 ? consts.get(ins[2] ?? "")?.data[0] : at.has("max") ? at.float("max", 0) : undefined;
    if ((ins[1] && !consts.has(ins[1])) || (ins[2] && !consts.has(ins[2]))) err("min and max must be constants");
    if (lo !== 0 || (hi !== undefined && Number.isFinite(hi)))
      err(`Clip(${lo ?? "-inf"}, ${hi ?? "inf"}) here is not an activation the importer could read; ${ACTIVATIONS}`);
  }
  const last = lastLayer();
  if (last?.type === "add" && walk.addTakesRelu) {
    last.relu = true;
    walk.addTakesRelu = false;
    folded(walk, layers.length - 1);
    identity();
    return;
  }
  if (!walk.foldable || !last || (last.type !== "dense" && last.type !== "conv2d" && last.type !== "conv1d"))
    err(
      `${op === "Clip" ? "ReLU (Clip min 0)" : "Relu"} is supported only right after Gemm, MatMul or Conv (and their bias Add) or a residual Add; here it follows ${describeLast()}`,
    );
  (last as FloatDense | FloatConv2d | FloatConv1d).relu = true;
  walk.foldable = false;
  folded(walk, layers.length - 1);
  identity();
}

/** Add, Sub, Mul, Div of the data and a constant. */
export function convertAffine(step: Step): void {
  const { walk, op, ins, err, constIn } = step;
  const ci = ins[0] === walk.cur ? 1 : 0;
  const c = perElement(step, constIn(ci, "the constant operand"), "the constant");
  if (op === "Add")
    applyAffine(
      step,
      c.map(() => 1),
      c,
    );
  else if (op === "Sub")
    applyAffine(
      step,
      c.map(() => (ci === 1 ? 1 : -1)),
      c.map((v) => (ci === 1 ? -v : v)),
    );
  else if (op === "Mul")
    applyAffine(
      step,
      c,
      c.map(() => 0),
    );
  else {
    if (ci === 0) err("divides a constant by the data (c / x); supported: the data divided by a constant");
    if (c.some((v) => v === 0)) err("divides by zero");
    applyAffine(
      step,
      c.map((v) => 1 / v),
      c.map(() => 0),
    );
  }
}

export function convertBatchNorm(step: Step): void {
  const { walk, node, at, err, constIn } = step;
  const { shape } = walk;
  if (at.int("training_mode", 0) === 1)
    err("training_mode 1 uses the batch's statistics; call model.eval() before torch.onnx.export (inference uses the running statistics)");
  for (const extra of (node.output ?? []).slice(1))
    if (extra && ((walk.readers.get(extra) ?? []).length > 0 || walk.graphOutputs.has(extra)))
      err(`the running-statistics output "${extra}" is used; export in eval mode (model.eval())`);
  const [scale, bias, mean, v] = [1, 2, 3, 4].map((i) => constIn(i, ["", "the scale", "the bias", "the mean", "the variance"][i]).data);
  const C = shape[1];
  if (shape.length < 2 || [scale, bias, mean, v].some((t) => t.length !== C))
    err(`statistics must have one value per channel (axis 1 of [${shape}])`);
  const eps = at.float("epsilon", 1e-5);
  const inner = numel(shape.slice(2));
  const ch = (e: number) => Math.floor(e / inner) % C;
  const a = Array.from({ length: numel(shape) }, (_, e) => scale[ch(e)] / Math.sqrt(v[ch(e)] + eps));
  applyAffine(
    step,
    a,
    a.map((s, e) => bias[ch(e)] - mean[ch(e)] * s),
  );
}

/** Applies y = a * x + b (per element of the current tensor) by folding it where it can go. */
function applyAffine(step: Step, a: number[], b: number[]): void {
  const { walk, op, err, identity, lastLayer, describeLast } = step;
  const { layers, pre } = walk;
  if (a.some((v) => !Number.isFinite(v)) || b.some((v) => !Number.isFinite(v))) err("the constant makes values infinite or NaN");
  folded(walk, layers.length - 1);
  if (layers.length === 0) {
    a.forEach((av, e) => {
      const f = walk.perm ? walk.perm[e] : e;
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
  if (!walk.foldable || (last.type !== "dense" && last.type !== "conv2d" && last.type !== "conv1d"))
    err(
      `${op} by a constant is supported before the first layer (it becomes preprocessing) or right after a Gemm, MatMul or Conv (it folds into its weights and bias); here it follows ${describeLast()}`,
    );
  const l = last as FloatDense | FloatConv2d | FloatConv1d;
  const per = l.type === "dense" ? 1 : numel(walk.physical.slice(1));
  const units = l.B.length;
  const ua = new Array<number | undefined>(units).fill(undefined);
  const ub = new Array<number | undefined>(units).fill(undefined);
  a.forEach((av, e) => {
    const u = Math.floor((walk.perm ? walk.perm[e] : e) / per);
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
    else if (l.type === "conv1d") l.W[u] = l.W[u].map((c) => c.map((w) => w * s));
    else l.W[u] = l.W[u].map((c) => c.map((r) => r.map((w) => w * s)));
    l.B[u] = l.B[u] * s + t;
  }
  identity();
}

function perElement(step: Step, c: Const, what: string): number[] {
  const { shape } = step.walk;
  try {
    return expandTo(c, shape, step.err);
  } catch {
    return step.err(`${what} of shape [${c.dims}] does not broadcast to the data shape [${shape}]`);
  }
}
