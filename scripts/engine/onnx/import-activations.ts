/**
 * The ONNX importer's activations: a node that applies one function to every element of the chain's tensor
 * (Sigmoid, Tanh, LeakyRelu, Elu, HardSigmoid, HardSwish, Gelu, Softplus, Mish, Clip with bounds), or a small
 * elementwise subgraph that exporters write for one activation (GELU as Div, Erf, Add, Mul, Mul; its tanh form with
 * Pow; SiLU as Mul(x, Sigmoid(x)); HardSwish as Mul(x, HardSigmoid(x)) before opset 14). The subgraph is found by
 * growing a region of elementwise nodes from the chain's tensor, evaluated as a scalar function and recognized by
 * comparing it with the known activations on a grid, so the exact node order, operand order and constant forms of an
 * exporter do not matter. What is not recognized is refused in one line naming the nodes.
 */
import type { FloatActivation } from "../../formats/float-model";
import { type ActivationSpec, activationFloat, describeActivation, erf } from "../../formats/activations";
import { type Const, numel, readAttrs } from "./fold";
import { ACTIVATION_OPS, OnnxImportError } from "./import-errors";
import { type Walk, nodeName } from "./import-state";
import type { onnx } from "./proto";

/** Elementwise operators a recognized subgraph may contain. */
const REGION_OPS = new Set([
  ...ACTIVATION_OPS,
  "Erf",
  "Relu",
  "Clip",
  "Exp",
  "Neg",
  "Abs",
  "Sqrt",
  "Reciprocal",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Pow",
  "Identity",
]);

/** Operators that make a region more than an affine map (an affine one folds into the layers instead). */
const NONLINEAR = new Set([...ACTIVATION_OPS, "Erf", "Relu", "Clip", "Exp", "Sqrt", "Reciprocal", "Abs", "Pow"]);

/** What the walk learns from a match: the layer, the region's nodes (to skip) and its output tensor. */
export interface ActivationMatch {
  layer: FloatActivation;
  nodes: number[];
  output: string;
}

type Scalar = (v: Map<string, number>) => number;

/** The scalar function of one node; undefined when the node is not elementwise in one value (a non-scalar constant). */
function nodeFn(node: onnx.INodeProto, consts: Map<string, Const>, opset: number): Scalar | undefined {
  const op = node.opType ?? "";
  const ins = node.input ?? [];
  const at = readAttrs(node);
  const arg = (i: number): Scalar | undefined => {
    const name = ins[i];
    if (!name) return undefined;
    const c = consts.get(name);
    if (c) {
      if (numel(c.dims) !== 1) return undefined;
      const k = c.data[0];
      return () => k;
    }
    return (v) => v.get(name) as number;
  };
  const a = arg(0);
  if (!a) return undefined;
  const unary: Record<string, (x: number) => number> = {
    Sigmoid: (x) => activationFloat({ fn: "sigmoid" }, x),
    Tanh: Math.tanh,
    Erf: erf,
    Relu: (x) => Math.max(0, x),
    Exp: Math.exp,
    Neg: (x) => -x,
    Abs: Math.abs,
    Sqrt: Math.sqrt,
    Reciprocal: (x) => 1 / x,
    Identity: (x) => x,
    LeakyRelu: (x) => activationFloat({ fn: "leakyrelu", alpha: at.float("alpha", 0.01) }, x),
    Elu: (x) => activationFloat({ fn: "elu", alpha: at.float("alpha", 1) }, x),
    HardSigmoid: (x) => activationFloat({ fn: "hardsigmoid", alpha: at.float("alpha", 0.2), beta: at.float("beta", 0.5) }, x),
    HardSwish: (x) => activationFloat({ fn: "hardswish" }, x),
    Gelu: (x) => activationFloat({ fn: at.str("approximate") === "tanh" ? "gelu_tanh" : "gelu" }, x),
    Softplus: (x) => activationFloat({ fn: "softplus" }, x),
    Mish: (x) => activationFloat({ fn: "mish" }, x),
  };
  if (unary[op]) return (v) => unary[op](a(v));
  if (op === "Clip") {
    const bound = (i: number, attr: string, d: number): number | undefined => {
      if (opset < 11) return at.has(attr) ? at.float(attr, d) : d;
      if (!ins[i]) return d;
      const c = consts.get(ins[i]);
      return c && numel(c.dims) === 1 ? c.data[0] : undefined;
    };
    const lo = bound(1, "min", -Infinity);
    const hi = bound(2, "max", Infinity);
    if (lo === undefined || hi === undefined) return undefined;
    return (v) => Math.min(hi, Math.max(lo, a(v)));
  }
  const b = arg(1);
  if (!b) return undefined;
  switch (op) {
    case "Add":
      return (v) => a(v) + b(v);
    case "Sub":
      return (v) => a(v) - b(v);
    case "Mul":
      return (v) => a(v) * b(v);
    case "Div":
      return (v) => a(v) / b(v);
    case "Pow":
      return (v) => a(v) ** b(v);
  }
  return undefined;
}

/** The single-node activations, with the node's parameters (ONNX defaults where the attribute is absent). */
function singleNodeSpec(node: onnx.INodeProto, consts: Map<string, Const>, opset: number): ActivationSpec | undefined {
  const at = readAttrs(node);
  switch (node.opType) {
    case "Sigmoid":
      return { fn: "sigmoid" };
    case "Tanh":
      return { fn: "tanh" };
    case "LeakyRelu":
      return { fn: "leakyrelu", alpha: at.float("alpha", 0.01) };
    case "Elu":
      return { fn: "elu", alpha: at.float("alpha", 1) };
    case "HardSigmoid":
      return { fn: "hardsigmoid", alpha: at.float("alpha", 0.2), beta: at.float("beta", 0.5) };
    case "HardSwish":
      return { fn: "hardswish" };
    case "Gelu":
      return { fn: at.str("approximate") === "tanh" ? "gelu_tanh" : "gelu" };
    case "Softplus":
      return { fn: "softplus" };
    case "Mish":
      return { fn: "mish" };
    case "Relu":
      return { fn: "clip", min: 0 };
    case "Clip": {
      const ins = node.input ?? [];
      const get = (i: number, attr: string): number | undefined => {
        if (opset < 11) return at.has(attr) ? at.float(attr, 0) : undefined;
        return ins[i] ? consts.get(ins[i])?.data[0] : undefined;
      };
      const min = get(1, "min");
      const max = get(2, "max");
      return { fn: "clip", ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
    }
  }
  return undefined;
}

/** Activations a multi-node region is compared with (PyTorch's defaults). */
const KNOWN: ActivationSpec[] = [
  { fn: "gelu" },
  { fn: "gelu_tanh" },
  { fn: "silu" },
  { fn: "hardswish" },
  { fn: "mish" },
  { fn: "softplus" },
  { fn: "sigmoid" },
  { fn: "tanh" },
  { fn: "hardsigmoid", alpha: 1 / 6, beta: 0.5 },
  { fn: "elu", alpha: 1 },
  { fn: "leakyrelu", alpha: 0.01 },
];

/** Points the region is compared on: a fine grid over [-8, 8] and a few far ones. */
const GRID = [...Array.from({ length: 321 }, (_, i) => -8 + i * 0.05), -30, -16, -12, 12, 16, 30];

function matches(f: (x: number) => number, spec: ActivationSpec): boolean {
  return GRID.every((x) => {
    const want = activationFloat(spec, x);
    const got = f(x);
    return Number.isFinite(got) && Math.abs(got - want) <= 2e-5 * (1 + Math.abs(want));
  });
}

/**
 * Tries to read an activation starting at node `ni`, whose one data input is the chain's tensor `x`.
 * @returns the match, or undefined when node `ni` starts no activation (an affine node the walk folds as before).
 * @throws OnnxImportError naming the nodes when they compute an elementwise function of x that is not a supported
 * activation.
 */
export function matchActivation(walk: Walk, ni: number, x: string): ActivationMatch | undefined {
  const { nodes, consts, opset, graphOutputs, readers } = walk;
  const first = nodes[ni];
  const firstOp = first.opType ?? "";
  if (!REGION_OPS.has(firstOp)) return undefined;
  const isReluFold = (n: onnx.INodeProto) => {
    if (n.opType === "Relu") return true;
    if (n.opType !== "Clip") return false;
    const s = singleNodeSpec(n, consts, opset);
    return s?.fn === "clip" && s.min === 0 && s.max === undefined;
  };
  // grow: every later elementwise node whose data inputs are all region tensors
  const tensors = new Set([x]);
  const region: number[] = [];
  const fns = new Map<number, Scalar>();
  for (let j = ni; j < nodes.length; j++) {
    const n = nodes[j];
    const dataIns = (n.input ?? []).filter((t) => t && !consts.has(t));
    if (dataIns.length === 0 || !dataIns.every((t) => tensors.has(t))) continue;
    const fn = REGION_OPS.has(n.opType ?? "") ? nodeFn(n, consts, opset) : undefined;
    if (!fn) break;
    region.push(j);
    fns.set(j, fn);
    for (const o of n.output ?? []) if (o) tensors.add(o);
  }
  // the longest closed prefix that is a known activation: every tensor but the last node's output is read only
  // inside the prefix, and x itself only by it
  let closedNonlinear: number[] | undefined;
  for (let k = region.length; k >= 1; k--) {
    const prefix = region.slice(0, k);
    const inPrefix = new Set(prefix);
    const out = (nodes[prefix[k - 1]].output ?? [])[0] ?? "";
    const produced = [x, ...prefix.flatMap((j) => (nodes[j].output ?? []).filter(Boolean))];
    // x may also feed residual Adds (x + f(x)): the walk checks those when it reaches them
    const residual = (r: number) =>
      (nodes[r].opType === "Add" || nodes[r].opType === "Sum") && (nodes[r].input ?? []).filter((t) => t && !consts.has(t)).length === 2;
    const closed = produced.every(
      (t) => t === out || (!graphOutputs.has(t) && (readers.get(t) ?? []).every((r) => inPrefix.has(r) || (t === x && residual(r)))),
    );
    if (!closed) continue;
    const ops = prefix.map((j) => nodes[j].opType ?? "");
    const product = prefix.some((j) => (nodes[j].input ?? []).filter((t) => t && !consts.has(t)).length > 1);
    if (!ops.some((o) => NONLINEAR.has(o)) && !product) continue;
    // a ReLU fuses into the layer before when it can (import-folds.ts); elsewhere it is clip(0, inf)
    if (k === 1 && isReluFold(first) && (walk.foldable || walk.addTakesRelu)) return undefined;
    const evalRegion = (v: number): number => {
      const vals = new Map([[x, v]]);
      for (const j of prefix) vals.set((nodes[j].output ?? [])[0] ?? "", (fns.get(j) as Scalar)(vals));
      return vals.get(out) as number;
    };
    let spec: ActivationSpec | undefined;
    if (k === 1) spec = singleNodeSpec(first, consts, opset);
    if (!spec) spec = KNOWN.find((s) => matches(evalRegion, s));
    if (spec) return { layer: { type: "activation", ...spec }, nodes: prefix, output: out };
    closedNonlinear ??= prefix;
  }
  if (!closedNonlinear) return undefined;
  const names = closedNonlinear.map((j) => `"${nodeName(walk, j)}" (${nodes[j].opType})`).join(", ");
  throw new OnnxImportError(
    nodeName(walk, ni),
    firstOp,
    `the nodes ${names} compute an elementwise function of "${x}" that is not a supported activation; supported: ${KNOWN.map(describeActivation).join(", ")}, and single Sigmoid, Tanh, LeakyRelu, Elu, HardSigmoid, HardSwish, Gelu, Softplus, Mish and Clip nodes`,
  );
}
