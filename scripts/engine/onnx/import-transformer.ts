/**
 * The ONNX importer's transformer patterns (issue 31): LayerNorm (the opset-17 LayerNormalization node and the
 * opset-13 decomposition ReduceMean / Sub / Pow / ReduceMean / Add / Sqrt / Div, then Mul / Add), multi-head
 * self-attention (the whole subgraph PyTorch's nn.MultiheadAttention exports: the packed in-projection, the
 * Slice / Reshape / Transpose plumbing, the scale, MatMul of q and k^T, Softmax over a row, MatMul with v, the
 * output projection), and the position-wise MatMul of a feed-forward block (a kernel-1 conv1d).
 *
 * Attention is read by what the subgraph computes, not by its node order: the region between the chain's tensor and
 * the output projection is evaluated in float on probe inputs (zero and every unit vector), which gives the q, k, v
 * and output projections as affine maps; each must be the same projection at every position (a per-position
 * linear layer), else the import stops naming the Softmax. The extracted layer is then checked against the region
 * on random inputs. So any export of standard multi-head self-attention (packed or separate projections, batch first
 * or not, the scale on q or on the scores, Split or Slice) reads the same, and anything else is refused.
 */
import type { FloatAttention, FloatLayer, FloatLayerNorm } from "../../formats/float-model";
import { attentionFloatParts, layerNormFloat } from "../../formats/transformer";
import { type Const, broadcastShape, foldConstant, numel, readAttrs } from "./fold";
import { OnnxImportError } from "./import-errors";
import { type Step, type Walk, nodeName } from "./import-state";

/** A matched pattern: its float layer, the nodes it consumes, the tensor it outputs and that tensor's view. */
export interface TransformerMatch {
  layer: FloatLayer;
  nodes: number[];
  output: string;
  shape: number[];
  perm: number[] | null;
}

/** The token-major permutation of a [C, 1, L] physical tensor viewed as [1, L, C]: element l * C + c is c * L + l. */
export function tokenMajorPerm(C: number, L: number): number[] | null {
  if (C === 1 || L === 1) return null;
  return Array.from({ length: C * L }, (_, e) => (e % C) * L + Math.floor(e / C));
}

/** [C, L] when the chain's tensor is [1, L, C] viewing a [C, 1, L] sequence token-major (the channels last); else null. */
export function tokenMajor(walk: Walk): [number, number] | null {
  const { shape, physical, perm } = walk;
  if (shape.length !== 3 || shape[0] !== 1 || physical.length !== 3 || physical[1] !== 1) return null;
  const [C, , L] = physical;
  if (shape[1] !== L || shape[2] !== C) return null;
  const want = tokenMajorPerm(C, L);
  const same = want === null ? perm === null || perm.every((v, i) => v === i) : perm !== null && perm.every((v, i) => v === want[i]);
  return same ? [C, L] : null;
}

/** MatMul of a token-major sequence [1, L, C] by a constant [C, F]: a kernel-1 conv1d (PyTorch's nn.Linear on [N, L, C]). */
export function convertMatMulSeq(step: Step): boolean {
  const { walk, op, ins, err, constIn, setShape } = step;
  if (op !== "MatMul" || walk.shape.length !== 3 || walk.shape[0] !== 1) return false;
  let seq = tokenMajor(walk);
  if (!seq && walk.layers.length === 0 && walk.physical.length === 1 && walk.shape[2] === 1) {
    // the graph input [1, L] unsqueezed to [1, L, 1]: a sequence of one channel
    walk.physical = [1, 1, walk.shape[1]];
    walk.inputShape = [1, 1, walk.shape[1]];
    seq = [1, walk.shape[1]];
  }
  if (!seq) return false;
  const [C, L] = seq;
  const B = constIn(1, "the weight matrix");
  if (B.dims.length !== 2 || B.dims[0] !== C)
    err(`weight ${ins[1]} [${B.dims}] must be [${C}, F] to apply to every position of [1, ${L}, ${C}]`);
  const F = B.dims[1];
  walk.layers.push({
    type: "conv1d",
    inShape: [C, L],
    W: Array.from({ length: F }, (_, o) => Array.from({ length: C }, (_, c) => [B.data[c * F + o]])),
    B: new Array<number>(F).fill(0),
    kernel: 1,
    stride: 1,
    padding: 0,
    relu: false,
  });
  walk.physical = [F, 1, L];
  walk.foldable = true;
  setShape([1, L, F]);
  walk.perm = tokenMajorPerm(F, L);
  return true;
}

// ---------------------------------------------------------------- a float evaluator of a region of the graph

type Env = Map<string, Const>;

function matmul(a: Const, b: Const, fail: (d: string) => never): Const {
  if (a.dims.length < 2 || b.dims.length < 2) fail(`MatMul of [${a.dims}] and [${b.dims}]: supported: operands of rank >= 2`);
  const [M, K] = a.dims.slice(-2);
  const [K2, N] = b.dims.slice(-2);
  if (K !== K2) fail(`MatMul of [${a.dims}] and [${b.dims}]: inner dimensions differ`);
  const ab = a.dims.slice(0, -2);
  const bb = b.dims.slice(0, -2);
  const batch = broadcastShape(ab, bb, fail);
  const nb = numel(batch);
  const offsetOf = (t: number, dims: readonly number[]) => {
    let off = 0;
    let stride = 1;
    let rest = t;
    const idx: number[] = [];
    for (let d = batch.length - 1; d >= 0; d--) {
      idx[d] = rest % batch[d];
      rest = Math.floor(rest / batch[d]);
    }
    for (let d = dims.length - 1; d >= 0; d--) {
      const bi = idx[d + batch.length - dims.length];
      off += (dims[d] === 1 ? 0 : bi) * stride;
      stride *= dims[d];
    }
    return off;
  };
  const out = new Array<number>(nb * M * N).fill(0);
  for (let t = 0; t < nb; t++) {
    const ao = offsetOf(t, ab) * M * K;
    const bo = offsetOf(t, bb) * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[ao + i * K + k] * b.data[bo + k * N + j];
        out[(t * M + i) * N + j] = s;
      }
  }
  return { dims: [...batch, M, N], data: out, kind: "float" };
}

/** Applies `f` to every row along the last axis. */
function lastAxisRows(c: Const, f: (row: number[]) => number[]): Const {
  const n = c.dims[c.dims.length - 1];
  const out: number[] = [];
  for (let r = 0; r < c.data.length / n; r++) out.push(...f(c.data.slice(r * n, (r + 1) * n)));
  return { dims: [...c.dims], data: out, kind: "float" };
}

function lastAxis(walk: Walk, node: { at: ReturnType<typeof readAttrs>; ins: string[] }, rank: number, dflt: number): number[] | undefined {
  const axes = walk.opset >= 18 && node.ins[1] ? walk.consts.get(node.ins[1])?.data : node.at.ints("axes");
  if (axes === undefined) return dflt === -1 ? undefined : [dflt];
  return axes.map((a) => (a < 0 ? a + rank : a));
}

/** Evaluates node `i` on the values in `env`, storing its first output. */
function evalNode(walk: Walk, i: number, env: Env): void {
  const node = walk.nodes[i];
  const op = node.opType ?? "";
  const at = readAttrs(node);
  const ins = node.input ?? [];
  const fail = (d: string): never => {
    throw new OnnxImportError(nodeName(walk, i), op, d);
  };
  const get = (k: number): Const => {
    const c = env.get(ins[k]) ?? walk.consts.get(ins[k]);
    if (!c) return fail(`reads "${ins[k]}", which the pattern does not compute`);
    return c;
  };
  const rank = (c: Const) => c.dims.length;
  let out: Const;
  switch (op) {
    case "Shape": {
      const d = get(0).dims;
      out = { dims: [d.length], data: [...d], kind: "int" };
      break;
    }
    case "MatMul":
      out = matmul(get(0), get(1), fail);
      break;
    case "Gemm": {
      const a = get(0);
      const b = get(1);
      if (rank(a) !== 2 || rank(b) !== 2) fail("supported: 2-D operands");
      const tA = at.int("transA", 0) === 1;
      const tB = at.int("transB", 0) === 1;
      const T = (c: Const): Const => ({
        dims: [c.dims[1], c.dims[0]],
        data: Array.from({ length: c.data.length }, (_, e) => c.data[(e % c.dims[0]) * c.dims[1] + Math.floor(e / c.dims[0])]),
        kind: "float",
      });
      const p = matmul(tA ? T(a) : a, tB ? T(b) : b, fail);
      const alpha = at.float("alpha", 1);
      const beta = at.float("beta", 1);
      const c = ins[2] ? foldConstant("Mul", [get(2), { dims: [], data: [beta], kind: "float" }], at, walk.opset, fail) : undefined;
      const scaled = { ...p, data: p.data.map((v) => v * alpha) };
      out = c ? foldConstant("Add", [scaled, c], at, walk.opset, fail) : scaled;
      break;
    }
    case "Softmax": {
      const x = get(0);
      const axis = at.int("axis", walk.opset >= 13 ? -1 : 1);
      if (axis !== -1 && axis !== rank(x) - 1) fail(`Softmax over axis ${axis} of [${x.dims}]; supported: the last axis (a row of scores)`);
      out = lastAxisRows(x, (row) => {
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / s);
      });
      break;
    }
    case "ReduceMean": {
      const x = get(0);
      const axes = lastAxis(walk, { at, ins }, rank(x), -1);
      if (!axes || axes.length !== 1 || axes[0] !== rank(x) - 1)
        fail(`ReduceMean over axes [${axes ?? "all"}]; supported here: the last axis`);
      const r = lastAxisRows(x, (row) => [row.reduce((a, b) => a + b, 0) / row.length]);
      out = { dims: [...x.dims.slice(0, -1), ...(at.int("keepdims", 1) === 1 ? [1] : [])], data: r.data, kind: "float" };
      break;
    }
    case "LayerNormalization": {
      const x = get(0);
      const C = x.dims[x.dims.length - 1];
      const g = get(1).data;
      const b = ins[2] ? get(2).data : new Array<number>(C).fill(0);
      const eps = at.float("epsilon", 1e-5);
      out = lastAxisRows(x, (row) => layerNormFloat({ inShape: [C, 1], gamma: [...g], beta: [...b], eps }, row));
      break;
    }
    case "Dropout":
    case "Identity":
      out = get(0);
      break;
    default:
      out = foldConstant(
        op,
        ins.map((n) => (n ? (env.get(n) ?? walk.consts.get(n)) : undefined)),
        at,
        walk.opset,
        fail,
      );
  }
  env.set((node.output ?? [])[0] ?? "", out);
}

// ---------------------------------------------------------------- shared helpers

function producers(walk: Walk): Map<string, number> {
  const m = new Map<string, number>();
  walk.nodes.forEach((n, i) => (n.output ?? []).forEach((o) => o && m.set(o, i)));
  return m;
}

/** Every node reading each tensor, Shape included. */
function allReaders(walk: Walk): Map<string, number[]> {
  const m = new Map<string, number[]>();
  walk.nodes.forEach((n, i) => (n.input ?? []).forEach((t) => t && m.set(t, [...(m.get(t) ?? []), i])));
  return m;
}

/** The chain's tensor as an ONNX value from its physical values (element e is physical element perm[e]). */
function toOnnx(walk: Walk, phys: readonly number[]): Const {
  const p = walk.perm;
  return { dims: [...walk.shape], data: Array.from({ length: phys.length }, (_, e) => phys[p ? p[e] : e]), kind: "float" };
}

function toPhysical(p: readonly number[] | null, v: Const): number[] {
  const out = new Array<number>(v.data.length);
  v.data.forEach((x, e) => (out[p ? p[e] : e] = x));
  return out;
}

/** Seeded normal-ish numbers (sum of uniforms), for the checks on random inputs. */
function probe(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return () => u() + u() + u() - 1.5;
}

/** The ancestors of `target` among nodes >= `from` (their indices, sorted), stopping at `stop` and constants. */
function ancestors(walk: Walk, prod: Map<string, number>, target: string, from: number, stop: string): number[] {
  const seen = new Set<number>();
  const todo = [target];
  while (todo.length) {
    const t = todo.pop() as string;
    if (t === stop || walk.consts.has(t)) continue;
    const p = prod.get(t);
    if (p === undefined || p < from || seen.has(p)) continue;
    seen.add(p);
    for (const i of walk.nodes[p].input ?? []) if (i) todo.push(i);
  }
  return [...seen].sort((a, b) => a - b);
}

// ---------------------------------------------------------------- LayerNorm

/** The [C, L] a LayerNorm over the last axis normalizes: channels of a token-major sequence, or a vector [1, n]. */
function normShape(walk: Walk): [number, number] | null {
  const seq = tokenMajor(walk);
  if (seq) return seq;
  const { shape, physical, perm } = walk;
  if (physical.length === 1 && perm === null && shape.slice(0, -1).every((d) => d === 1)) return [physical[0], 1];
  return null;
}

/**
 * LayerNormalization on the chain's tensor, or the decomposition starting at ReduceMean node `ni` reading it.
 * @returns the layernorm layer, or null when node `ni` starts no LayerNorm.
 * @throws OnnxImportError when it is a LayerNorm the importer cannot read (another axis, a non-constant scale).
 */
export function matchLayerNorm(walk: Walk, ni: number, cur: string): TransformerMatch | null {
  const node = walk.nodes[ni];
  const op = node.opType ?? "";
  const name = nodeName(walk, ni);
  const fail = (d: string): never => {
    throw new OnnxImportError(name, op, d);
  };
  const at = readAttrs(node);
  const rank = walk.shape.length;
  const C = walk.shape[rank - 1];
  const vec = (t: string | undefined, what: string, dflt: number): number[] => {
    if (!t) return new Array<number>(C).fill(dflt);
    const c = walk.consts.get(t);
    if (!c) return fail(`${what} "${t}" must be a constant`);
    if (c.data.length === 1) return new Array<number>(C).fill(c.data[0]);
    if (c.data.length !== C || c.dims[c.dims.length - 1] !== C)
      return fail(`${what} "${t}" of shape [${c.dims}] must have one value per channel (${C})`);
    return [...c.data];
  };
  const shapeOf = (): [number, number] => {
    const s = normShape(walk);
    if (!s || s[0] !== C)
      return fail(
        `normalizes the last axis of [${walk.shape}], which is not the channels of the sequence [${walk.physical}]; supported: LayerNorm over the features of each position ([1, L, E], batch first) or of a vector`,
      );
    return s;
  };
  if (op === "LayerNormalization") {
    const axis = at.int("axis", -1);
    if (axis !== -1 && axis !== rank - 1) fail(`axis ${axis} of [${walk.shape}] is not supported; supported: the last axis (-1)`);
    for (const extra of (node.output ?? []).slice(1))
      if (extra && (walk.readers.get(extra) ?? []).length > 0)
        fail(`its output "${extra}" (mean or inverse deviation) is used; supported: only the normalized output`);
    const ins = node.input ?? [];
    const inShape = shapeOf();
    const layer: FloatLayerNorm = {
      type: "layernorm",
      inShape,
      gamma: vec(ins[1], "the scale", 1),
      beta: vec(ins[2], "the bias", 0),
      eps: at.float("epsilon", 1e-5),
    };
    return { layer, nodes: [ni], output: (node.output ?? [])[0] ?? "", shape: walk.shape, perm: walk.perm };
  }
  if (op !== "ReduceMean") return null;
  // the decomposition: find each node by what it reads
  const readers = allReaders(walk);
  const only = (t: string, ops: string[]): number | undefined => {
    const r = (readers.get(t) ?? []).filter((i) => ops.includes(walk.nodes[i].opType ?? ""));
    return r.length === 1 ? r[0] : undefined;
  };
  const out0 = (i: number) => (walk.nodes[i].output ?? [])[0] ?? "";
  const mean = out0(ni);
  const sub = only(mean, ["Sub"]);
  if (sub === undefined || (walk.nodes[sub].input ?? [])[0] !== cur) return null;
  const d = out0(sub);
  const sq = only(d, ["Pow", "Mul"]);
  if (sq === undefined) return null;
  const var0 = only(out0(sq), ["ReduceMean"]);
  if (var0 === undefined) return null;
  const addEps = only(out0(var0), ["Add"]);
  if (addEps === undefined) return null;
  const sqrt = only(out0(addEps), ["Sqrt"]);
  if (sqrt === undefined) return null;
  const div = only(out0(sqrt), ["Div"]);
  if (div === undefined || (walk.nodes[div].input ?? [])[0] !== d) return null;
  const nodes = [ni, sub, sq, var0, addEps, sqrt, div];
  const epsIn = (walk.nodes[addEps].input ?? []).find((t) => walk.consts.has(t));
  const eps = epsIn ? (walk.consts.get(epsIn) as Const).data[0] : NaN;
  if (!(eps > 0)) fail(`the epsilon added to the variance (node "${nodeName(walk, addEps)}") must be a positive constant`);
  let output = out0(div);
  let gamma = new Array<number>(C).fill(1);
  let beta = new Array<number>(C).fill(0);
  const mul = only(output, ["Mul"]);
  if (mul !== undefined && (walk.nodes[mul].input ?? []).some((t) => walk.consts.has(t))) {
    gamma = vec(
      (walk.nodes[mul].input ?? []).find((t) => walk.consts.has(t)),
      "the scale",
      1,
    );
    nodes.push(mul);
    output = out0(mul);
  }
  const add = only(output, ["Add"]);
  if (add !== undefined && (walk.nodes[add].input ?? []).some((t) => walk.consts.has(t))) {
    beta = vec(
      (walk.nodes[add].input ?? []).find((t) => walk.consts.has(t)),
      "the bias",
      0,
    );
    nodes.push(add);
    output = out0(add);
  }
  const inShape = shapeOf();
  const layer: FloatLayerNorm = { type: "layernorm", inShape, gamma, beta, eps };
  // the structure says LayerNorm; the numbers must too (axes, the exponent 2, the order of Sub's operands)
  const rnd = probe(ni + 1);
  for (let t = 0; t < 3; t++) {
    const x = Array.from({ length: numel(walk.shape) }, () => 2 * rnd());
    const env: Env = new Map([[cur, toOnnx(walk, x)]]);
    for (const i of [...nodes].sort((a, b) => a - b)) evalNode(walk, i, env);
    const got = toPhysical(walk.perm, env.get(output) as Const);
    const want = layerNormFloat(layer, x);
    const err = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
    if (!(err <= 1e-4 * (1 + Math.max(...want.map(Math.abs)))))
      fail(
        `starts a pattern that looks like LayerNorm (nodes ${nodes.map((i) => `"${nodeName(walk, i)}"`).join(", ")}) but does not compute it (off by ${err.toPrecision(3)}); supported: (x - mean) / sqrt(var + eps) * gamma + beta over the last axis`,
      );
  }
  return { layer, nodes, output, shape: walk.shape, perm: walk.perm };
}

// ---------------------------------------------------------------- attention

/** What a self-attention subgraph is made of: projections, the scale, plumbing folded from static shapes, softmax. */
const ATTENTION_OPS = new Set([
  "MatMul",
  "Gemm",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Sqrt",
  "Softmax",
  "Transpose",
  "Reshape",
  "Squeeze",
  "Unsqueeze",
  "Flatten",
  "Slice",
  "Gather",
  "Shape",
  "Concat",
  "Cast",
  "Identity",
  "Dropout",
]);

const TAIL_VIEWS = new Set(["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Flatten"]);

/**
 * Multi-head self-attention starting at node `ni`, the first node reading the chain's tensor `cur` (a token-major
 * sequence): null when no Softmax over the product of two computed tensors follows before the data path joins.
 * @throws OnnxImportError naming the Softmax when the subgraph is attention the importer cannot read (a mask, another
 * axis, projections that differ between positions, no output projection).
 */
export function matchAttention(walk: Walk, ni: number, cur: string): TransformerMatch | null {
  // any view of a [E, 1, L] sequence: the probes below read it through the walk's permutation
  const { physical } = walk;
  if (physical.length !== 3 || physical[1] !== 1 || walk.shape[0] !== 1) return null;
  const [E, , L] = physical;
  const { nodes, consts } = walk;
  const prod = producers(walk);
  const readers = allReaders(walk);
  // forward from cur: nodes whose computed inputs are all reached; find the first Softmax of a dynamic MatMul
  const reached = new Set<string>([cur]);
  let softmax = -1;
  for (let i = ni; i < nodes.length && i < ni + 400; i++) {
    const ins = (nodes[i].input ?? []).filter((t) => t && !consts.has(t));
    if (ins.length === 0 || !ins.every((t) => reached.has(t))) continue;
    const op = nodes[i].opType ?? "";
    if (!ATTENTION_OPS.has(op)) continue; // not part of an attention: what follows it is not reached through it
    if ((op === "Add" || op === "Sum") && ins.length === 2) return null; // the path joins before any attention
    for (const o of nodes[i].output ?? []) if (o) reached.add(o);
    if (op === "Softmax") {
      softmax = i;
      break;
    }
  }
  if (softmax < 0) return null;
  const sName = nodeName(walk, softmax);
  const fail = (d: string): never => {
    throw new OnnxImportError(sName, "Softmax", d);
  };
  // back from the Softmax to the MatMul of two computed tensors, through a scale (Mul / Div by a scalar)
  let t = (nodes[softmax].input ?? [])[0];
  let factor = 1;
  let m1 = -1;
  for (let guard = 0; guard < 8; guard++) {
    const p = prod.get(t);
    if (p === undefined) break;
    const op = nodes[p].opType ?? "";
    const ins = nodes[p].input ?? [];
    if (op === "MatMul" && !consts.has(ins[0]) && !consts.has(ins[1])) {
      m1 = p;
      break;
    }
    const c = ins.map((x) => consts.get(x)).find((x) => x !== undefined);
    const data = ins.find((x) => x && !consts.has(x));
    if ((op === "Mul" || op === "Div") && c && c.data.length === 1 && data && ins[0] === data) {
      factor = op === "Mul" ? factor * c.data[0] : factor / c.data[0];
      t = data;
      continue;
    }
    if (op === "Add" && c)
      fail(`an additive attention mask ("${nodeName(walk, p)}") is not supported; supported: self-attention without a mask`);
    break;
  }
  if (m1 < 0) return null; // a Softmax of something else (a probability head): not attention
  const sOut = (nodes[softmax].output ?? [])[0] ?? "";
  const m2s = (readers.get(sOut) ?? []).filter((i) => nodes[i].opType === "MatMul");
  if (m2s.length !== 1 || (readers.get(sOut) ?? []).length !== 1 || (nodes[m2s[0]].input ?? [])[0] !== sOut)
    fail("its probabilities must feed exactly one MatMul, as the left operand (attention weights times values)");
  const m2 = m2s[0];
  // the tail: views, one projection (Gemm, or MatMul by a constant, and its bias Add), views
  let y = (nodes[m2].output ?? [])[0] ?? "";
  let projected = false;
  let last = m2;
  for (;;) {
    const rs = readers.get(y) ?? [];
    if (rs.length !== 1 || walk.graphOutputs.has(y)) break;
    const i = rs[0];
    const op = nodes[i].opType ?? "";
    const ins = nodes[i].input ?? [];
    const dataIns = ins.filter((x) => x && !consts.has(x));
    if (dataIns.length !== 1) break;
    const weighted = op === "Gemm" || (op === "MatMul" && consts.has(ins[1]));
    const bias = op === "Add" && projected && prod.get(y) === last && ["Gemm", "MatMul"].includes(nodes[last].opType ?? "");
    if (!(TAIL_VIEWS.has(op) || (weighted && !projected) || bias)) break;
    if (weighted) projected = true;
    last = i;
    y = (nodes[i].output ?? [])[0] ?? "";
  }
  if (!projected) fail("attention without an output projection is not supported; supported: nn.MultiheadAttention (its out_proj)");
  const region = ancestors(walk, prod, y, ni, cur);
  if (region.some((i) => !ATTENTION_OPS.has(nodes[i].opType ?? ""))) return null;
  for (const i of region)
    for (const o of nodes[i].output ?? [])
      if (o && o !== y && (readers.get(o) ?? []).some((r) => !region.includes(r)))
        fail(
          `an intermediate of the attention ("${o}") is also used outside it (e.g. the attention weights as an output); supported: self-attention whose only output is its projection`,
        );
  for (const i of region)
    for (const inp of nodes[i].input ?? [])
      if (inp && inp !== cur && !consts.has(inp) && !region.includes(prod.get(inp) ?? -1))
        fail(
          `the attention reads "${inp}", which is neither its input "${cur}" nor computed inside it; supported: self-attention (query = key = value)`,
        );

  const run = (x: readonly number[]): Env => {
    const env: Env = new Map([[cur, toOnnx(walk, x)]]);
    for (const i of region) evalNode(walk, i, env);
    return env;
  };
  const [qName, kName] = nodes[m1].input ?? [];
  const vName = (nodes[m2].input ?? [])[1];
  const cName = (nodes[m2].output ?? [])[0] ?? "";
  const env0 = run(new Array<number>(E * L).fill(0));
  const Q0 = env0.get(qName) as Const;
  const K0 = env0.get(kName) as Const;
  const V0 = env0.get(vName) as Const;
  const yOut = env0.get(y) as Const;
  const is = (dims: readonly number[]) => yOut.dims.length === dims.length && yOut.dims.every((d, i) => d === dims[i]);
  // the output is a view of a [E, 1, L] sequence: the input's, batch first (token-major) or channels first; when E = L
  // the dims cannot tell the last two apart, so each candidate whose dims fit is tried (the probes below decide)
  const outPerms: (number[] | null)[] = [];
  if (is(walk.shape)) outPerms.push(walk.perm);
  if (is([1, L, E])) outPerms.push(tokenMajorPerm(E, L));
  if (is([1, E, L])) outPerms.push(null);
  if (outPerms.length === 0)
    fail(
      `the attention's output [${yOut.dims}] is not a view of the sequence [${E}, ${L}] it reads; supported: self-attention that keeps the sequence's shape`,
    );
  const rk = Q0.dims.length;
  const hd = Q0.dims[rk - 1];
  const H = numel(Q0.dims.slice(0, -2));
  const okDims = (c: Const, a: number, b: number) =>
    c.dims.length === rk && numel(c.dims.slice(0, -2)) === H && c.dims[rk - 2] === a && c.dims[rk - 1] === b;
  if (Q0.dims[rk - 2] !== L || H * hd !== E || !okDims(K0, hd, L) || !okDims(V0, L, hd))
    fail(
      `the query [${Q0.dims}], key [${K0.dims}] and value [${V0.dims}] are not ${E / (H || 1)}-wide heads of the ${L} positions of [${E}, ${L}]; supported: multi-head self-attention over the sequence`,
    );
  // probe: the q, k, v maps at every unit input, each must be one projection applied at every position
  const tol = 1e-5;
  const W = { q: mat(E), k: mat(E), v: mat(E) };
  const Bv = {
    q: new Array<number>(E).fill(0),
    k: new Array<number>(E).fill(0),
    v: new Array<number>(E).fill(0),
  };
  // element (head h, position i, channel d) of each operand's layout
  const qAt = (c: Const, h: number, i: number, d: number) => c.data[(h * L + i) * hd + d];
  const kAt = (c: Const, h: number, i: number, d: number) => c.data[(h * hd + d) * L + i];
  const ops = [
    ["q", qName, qAt, Q0],
    ["k", kName, kAt, K0],
    ["v", vName, qAt, V0],
  ] as const;
  const perPosition = (what: string) =>
    fail(
      `the ${what} projection differs between positions; supported: nn.MultiheadAttention, whose projections apply the same weights to every position`,
    );
  for (const [key, , at, c0] of ops)
    for (let h = 0; h < H; h++)
      for (let d = 0; d < hd; d++) {
        const b = at(c0, h, 0, d);
        for (let i = 1; i < L; i++) if (Math.abs(at(c0, h, i, d) - b) > tol * (1 + Math.abs(b))) perPosition(key);
        Bv[key][h * hd + d] = b;
      }
  for (let c = 0; c < E; c++)
    for (let l = 0; l < L; l++) {
      const x = new Array<number>(E * L).fill(0);
      x[c * L + l] = 1;
      const env = run(x);
      for (const [key, n, at, c0] of ops) {
        const v = env.get(n) as Const;
        for (let h = 0; h < H; h++)
          for (let d = 0; d < hd; d++)
            for (let i = 0; i < L; i++) {
              const delta = at(v, h, i, d) - at(c0, h, i, d);
              if (i !== l) {
                if (Math.abs(delta) > tol) perPosition(key);
              } else if (l === 0) W[key][h * hd + d][c] = delta;
              else if (Math.abs(delta - W[key][h * hd + d][c]) > tol * (1 + Math.abs(delta))) perPosition(key);
            }
      }
    }
  // the output projection: the tail as a function of the context [H, L, hd], read through each candidate view
  const tail = region.filter((i) => i > m2);
  const readOutput = (outPerm: number[] | null): FloatAttention => {
    const Wo = mat(E);
    const Bo = new Array<number>(E).fill(0);
    const runTail = (ctx: readonly number[]): number[] => {
      const env: Env = new Map(env0);
      env.set(cName, { dims: [...(env0.get(cName) as Const).dims], data: [...ctx], kind: "float" });
      for (const i of tail) evalNode(walk, i, env);
      return toPhysical(outPerm, env.get(y) as Const);
    };
    const n = H * L * hd;
    const y0 = runTail(new Array<number>(n).fill(0));
    for (let e = 0; e < E; e++) {
      const b = y0[e * L];
      for (let l = 1; l < L; l++) if (Math.abs(y0[e * L + l] - b) > tol * (1 + Math.abs(b))) perPosition("output");
      Bo[e] = b;
    }
    for (let h = 0; h < H; h++)
      for (let i = 0; i < L; i++)
        for (let d = 0; d < hd; d++) {
          const ctx = new Array<number>(n).fill(0);
          ctx[(h * L + i) * hd + d] = 1;
          const yv = runTail(ctx);
          for (let e = 0; e < E; e++)
            for (let l = 0; l < L; l++) {
              const delta = yv[e * L + l] - y0[e * L + l];
              if (l !== i) {
                if (Math.abs(delta) > tol) perPosition("output");
              } else if (i === 0) Wo[e][h * hd + d] = delta;
              else if (Math.abs(delta - Wo[e][h * hd + d]) > tol * (1 + Math.abs(delta))) perPosition("output");
            }
        }
    const layer: FloatAttention = {
      type: "attention",
      inShape: [E, L],
      heads: H,
      Wq: W.q.map((r) => r.map((w) => w * factor)),
      Bq: Bv.q.map((b) => b * factor),
      Wk: W.k,
      Bk: Bv.k,
      Wv: W.v,
      Bv: Bv.v,
      Wo,
      Bo,
    };
    // the extracted layer must compute what the subgraph computes
    const rnd = probe(softmax + 7);
    for (let t = 0; t < 4; t++) {
      const x = Array.from({ length: E * L }, () => 2 * rnd());
      const got = toPhysical(outPerm, run(x).get(y) as Const);
      const want = attentionFloatParts(layer, x).out;
      const err = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
      if (!(err <= 1e-4 * (1 + Math.max(...want.map(Math.abs)))))
        fail(
          `the subgraph around this Softmax is not multi-head self-attention (off by ${err.toPrecision(3)} from softmax(q k^T) v read from it); supported: nn.MultiheadAttention without a mask`,
        );
    }
    return layer;
  };
  let lastError: unknown;
  for (const outPerm of outPerms) {
    try {
      return { layer: readOutput(outPerm), nodes: region, output: y, shape: [...yOut.dims], perm: outPerm };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

function mat(E: number): number[][] {
  return Array.from({ length: E }, () => new Array<number>(E).fill(0));
}
