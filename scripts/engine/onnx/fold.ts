/**
 * Constant tensors of an ONNX graph and the operators the importer evaluates at import time (constant folding):
 * shape arithmetic (`Shape` of a tensor whose static shape is known, `Gather`, `Unsqueeze`, `Concat`, `Slice`, ...)
 * and any operator whose inputs are all constants (e.g. the pads PyTorch computes for `nn.ZeroPad2d`, or weights
 * transposed in the graph when exported without constant folding). Tensors are small here (shapes, pads, weights
 * of tiny models), so values are plain number arrays in row-major order.
 * Size (about 440 lines), kept in one file: a table of small evaluators, one per
 * ONNX operator folded.
 */
import { type Int64, onnx, toNumber } from "./proto";

/** Element kind of a constant: integer and boolean tensors follow ONNX's integer semantics (Div truncates). */
export type ConstKind = "float" | "int" | "bool";

export interface Const {
  dims: number[];
  data: number[];
  kind: ConstKind;
}

const DT = onnx.TensorProto.DataType;

/** Name of an ONNX tensor data type (`BOOL`, `FLOAT16`, ...), or its number when unknown. */
export function dataTypeName(t: number | null | undefined): string {
  const n = (DT as unknown as Record<number, string | undefined>)[t ?? 0];
  return n ?? `data type ${String(t)}`;
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * Decodes an initializer or Constant tensor.
 * @param label how to name the tensor in errors (its name, or the Constant node's output when the tensor has none)
 * @param fail throws with the message
 */
export function tensorValues(t: onnx.ITensorProto, label: string, fail: (d: string) => never): Const {
  const dims = (t.dims ?? []).map((d) => toNumber(d as Int64));
  const n = numel(dims);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const fromRaw = (width: number, get: (v: DataView, off: number) => number) => {
    if (!view || view.byteLength !== n * width)
      fail(`tensor ${label}: raw_data has ${view?.byteLength} bytes, dims [${dims}] need ${n * width}`);
    const v = view as DataView;
    return Array.from({ length: n }, (_, i) => get(v, i * width));
  };
  let data: number[];
  let kind: ConstKind = "int";
  switch (t.dataType) {
    case DT.FLOAT:
      kind = "float";
      data = view ? fromRaw(4, (v, o) => v.getFloat32(o, true)) : [...(t.floatData ?? [])];
      break;
    case DT.DOUBLE:
      kind = "float";
      data = view ? fromRaw(8, (v, o) => v.getFloat64(o, true)) : [...(t.doubleData ?? [])];
      break;
    case DT.INT64:
      data = view ? fromRaw(8, (v, o) => Number(v.getBigInt64(o, true))) : (t.int64Data ?? []).map((x) => toNumber(x as Int64));
      break;
    case DT.INT32:
    case DT.INT16:
    case DT.INT8:
    case DT.UINT8:
    case DT.UINT16:
    case DT.BOOL: {
      const width = t.dataType === DT.INT32 ? 4 : t.dataType === DT.INT16 || t.dataType === DT.UINT16 ? 2 : 1;
      const get = (v: DataView, o: number) =>
        width === 4
          ? v.getInt32(o, true)
          : t.dataType === DT.INT16
            ? v.getInt16(o, true)
            : width === 2
              ? v.getUint16(o, true)
              : t.dataType === DT.INT8
                ? v.getInt8(o)
                : v.getUint8(o);
      // the typed form of every type narrower than 32 bits is int32_data
      data = view ? fromRaw(width, get) : [...(t.int32Data ?? [])];
      if (t.dataType === DT.BOOL) {
        kind = "bool";
        data = data.map((x) => (x ? 1 : 0));
      }
      break;
    }
    default:
      return fail(
        `tensor ${label}: data type ${dataTypeName(t.dataType)} is not supported; supported: FLOAT, DOUBLE, INT64, INT32, INT16, INT8, UINT8, UINT16, BOOL`,
      );
  }
  if (data.length !== n) fail(`tensor ${label}: has ${data.length} values, dims [${dims}] need ${n}`);
  return { dims, data, kind };
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Numpy-style broadcast of two shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[], fail: (d: string) => never): number[] {
  const r = Math.max(a.length, b.length);
  return Array.from({ length: r }, (_, i) => {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) fail(`shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, y);
  });
}

/** The values of `c` broadcast to `dims` (row-major). */
export function expandTo(c: Const, dims: readonly number[], fail: (d: string) => never): number[] {
  const out = broadcastShape(c.dims, dims, fail);
  if (out.length !== dims.length || out.some((d, i) => d !== dims[i])) fail(`shape [${c.dims}] does not broadcast to [${dims}]`);
  const cs = strides(c.dims);
  const off = dims.length - c.dims.length;
  const os = strides(dims);
  return Array.from({ length: numel(dims) }, (_, e) => {
    let src = 0;
    for (let d = 0; d < c.dims.length; d++) {
      const idx = Math.floor(e / os[d + off]) % dims[d + off];
      src += (c.dims[d] === 1 ? 0 : idx) * cs[d];
    }
    return c.data[src];
  });
}

/** For each element of a transposed tensor, the flat index of its source element. */
export function transposeSources(dims: readonly number[], perm: readonly number[]): { dims: number[]; src: number[] } {
  const out = perm.map((p) => dims[p]);
  const is = strides(dims);
  const os = strides(out);
  const src = Array.from({ length: numel(out) }, (_, e) => {
    let s = 0;
    for (let d = 0; d < out.length; d++) s += (Math.floor(e / os[d]) % out[d]) * is[perm[d]];
    return s;
  });
  return { dims: out, src };
}

/** Normalizes a possibly negative axis of a rank-`r` tensor. */
function axisOf(a: number, r: number, fail: (d: string) => never): number {
  const x = a < 0 ? a + r : a;
  if (!(x >= 0 && x < r)) fail(`axis ${a} is out of range for rank ${r}`);
  return x;
}

/**
 * The shape a Reshape produces (0 copies the input dimension unless allowzero, -1 is inferred).
 * @throws via `fail` when the target does not hold the same number of values.
 */
export function reshapeTarget(
  from: readonly number[],
  target: readonly number[],
  allowZero: boolean,
  fail: (d: string) => never,
): number[] {
  const t = target.map((d, i) => (d === 0 && !allowZero ? from[i] : d));
  const known = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const total = numel(from);
  const out = t.map((d) => (d === -1 ? total / known : d));
  if (t.filter((d) => d === -1).length > 1 || numel(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0))
    fail(`cannot reshape [${from}] to [${target}]`);
  return out;
}

/** Attribute reader of one node. */
export interface Attrs {
  int(k: string, dflt: number): number;
  ints(k: string): number[] | undefined;
  float(k: string, dflt: number): number;
  floats(k: string): number[] | undefined;
  str(k: string): string | undefined;
  strs(k: string): string[] | undefined;
  tensor(k: string): onnx.ITensorProto | undefined;
  has(k: string): boolean;
}

export function readAttrs(node: onnx.INodeProto): Attrs {
  const a = new Map((node.attribute ?? []).map((x) => [x.name ?? "", x]));
  return {
    int: (k, d) => (a.has(k) ? toNumber(a.get(k)?.i as Int64) : d),
    ints: (k) => (a.has(k) ? (a.get(k)?.ints ?? []).map((v) => toNumber(v as Int64)) : undefined),
    float: (k, d) => (a.has(k) ? (a.get(k)?.f ?? d) : d),
    floats: (k) => (a.has(k) ? [...(a.get(k)?.floats ?? [])] : undefined),
    str: (k) => (a.has(k) ? new TextDecoder().decode(a.get(k)?.s ?? new Uint8Array()) : undefined),
    strs: (k) => (a.has(k) ? (a.get(k)?.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined),
    tensor: (k) => a.get(k)?.t ?? undefined,
    has: (k) => a.has(k),
  };
}

const INT_TYPES = new Set<number>([DT.INT64, DT.INT32, DT.INT16, DT.INT8, DT.UINT8, DT.UINT16, DT.UINT32, DT.UINT64]);
const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.DOUBLE, DT.FLOAT16, DT.BFLOAT16]);

function elementwise(op: string, ins: Const[], fail: (d: string) => never): Const {
  const dims = ins.map((c) => c.dims).reduce((a, b) => broadcastShape(a, b, fail));
  const vals = ins.map((c) => expandTo(c, dims, fail));
  const isInt = ins.every((c) => c.kind !== "float");
  const f: Record<string, (x: number[]) => number> = {
    Add: ([a, b]) => a + b,
    Sub: ([a, b]) => a - b,
    Mul: ([a, b]) => a * b,
    Div: ([a, b]) => (isInt ? Math.trunc(a / b) : a / b),
    Pow: ([a, b]) => a ** b,
    Min: (x) => Math.min(...x),
    Max: (x) => Math.max(...x),
    Equal: ([a, b]) => Number(a === b),
    Less: ([a, b]) => Number(a < b),
    Greater: ([a, b]) => Number(a > b),
    And: ([a, b]) => Number(Boolean(a) && Boolean(b)),
    Or: ([a, b]) => Number(Boolean(a) || Boolean(b)),
    Where: ([c, a, b]) => (c ? a : b),
  };
  const kind: ConstKind = ["Equal", "Less", "Greater", "And", "Or"].includes(op)
    ? "bool"
    : op === "Where"
      ? ins[1].kind
      : isInt
        ? "int"
        : "float";
  return { dims, data: dims.length === 0 && vals[0].length === 0 ? [] : vals[0].map((_, i) => f[op](vals.map((v) => v[i]))), kind };
}

/** Operators {@link foldConstant} evaluates. */
export const FOLDABLE_OPS = [
  "Identity",
  "Cast",
  "Neg",
  "Sqrt",
  "Reciprocal",
  "Abs",
  "Floor",
  "Ceil",
  "Not",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "Pow",
  "Min",
  "Max",
  "Equal",
  "Less",
  "Greater",
  "And",
  "Or",
  "Where",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Slice",
  "Reshape",
  "Flatten",
  "Transpose",
  "ConstantOfShape",
  "Range",
  "Expand",
  "Size",
] as const;

/**
 * Evaluates one operator on constant inputs (missing optional inputs are `undefined`).
 * @param opset the model's default-domain opset (Unsqueeze, Squeeze and Slice moved attributes to inputs)
 * @returns the node's first output
 * @throws via `fail` for an operator outside {@link FOLDABLE_OPS} or malformed operands
 */
export function foldConstant(op: string, ins: (Const | undefined)[], at: Attrs, opset: number, fail: (d: string) => never): Const {
  const x = ins[0] as Const;
  const ints = (c: Const | undefined) => (c ? c.data.map(Math.trunc) : undefined);
  switch (op) {
    case "Identity":
      return x;
    case "Cast": {
      const to = at.int("to", DT.FLOAT);
      if (FLOAT_TYPES.has(to)) return { ...x, kind: "float" };
      if (INT_TYPES.has(to)) return { ...x, data: x.data.map(Math.trunc), kind: "int" };
      if (to === DT.BOOL) return { ...x, data: x.data.map((v) => (v ? 1 : 0)), kind: "bool" };
      return fail(`Cast to ${dataTypeName(to)} is not supported`);
    }
    case "Neg":
    case "Sqrt":
    case "Reciprocal":
    case "Abs":
    case "Floor":
    case "Ceil":
    case "Not": {
      const f = {
        Neg: (v: number) => -v,
        Sqrt: Math.sqrt,
        Reciprocal: (v: number) => 1 / v,
        Abs: Math.abs,
        Floor: Math.floor,
        Ceil: Math.ceil,
        Not: (v: number) => Number(!v),
      }[op];
      return { ...x, data: x.data.map(f), kind: op === "Sqrt" || op === "Reciprocal" ? "float" : x.kind };
    }
    case "Add":
    case "Sub":
    case "Mul":
    case "Div":
    case "Pow":
    case "Min":
    case "Max":
    case "Equal":
    case "Less":
    case "Greater":
    case "And":
    case "Or":
    case "Where":
      return elementwise(
        op,
        ins.filter((c): c is Const => c !== undefined),
        fail,
      );
    case "Size":
      return { dims: [], data: [numel(x.dims)], kind: "int" };
    case "Gather": {
      const idx = ins[1] as Const;
      const axis = axisOf(at.int("axis", 0), x.dims.length, fail);
      const outer = numel(x.dims.slice(0, axis));
      const inner = numel(x.dims.slice(axis + 1));
      const n = x.dims[axis];
      const data: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const iv of idx.data) {
          const i = iv < 0 ? iv + n : iv;
          if (!(i >= 0 && i < n)) fail(`index ${iv} is out of range for dimension ${n}`);
          for (let k = 0; k < inner; k++) data.push(x.data[(o * n + i) * inner + k]);
        }
      return { dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], data, kind: x.kind };
    }
    case "Unsqueeze": {
      const axes = opset >= 13 ? ints(ins[1]) : at.ints("axes");
      if (!axes) return fail("Unsqueeze needs axes");
      const r = x.dims.length + axes.length;
      const norm = axes.map((a) => axisOf(a, r, fail));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : x.dims[j++]);
      return { ...x, dims };
    }
    case "Squeeze": {
      const axes = opset >= 13 ? ints(ins[1]) : at.ints("axes");
      const norm = (axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => axisOf(a, x.dims.length, fail));
      norm.forEach((a) => {
        if (x.dims[a] !== 1) fail(`cannot squeeze axis ${a} of size ${x.dims[a]}`);
      });
      return { ...x, dims: x.dims.filter((_, i) => !norm.includes(i)) };
    }
    case "Concat": {
      const parts = ins.filter((c): c is Const => c !== undefined);
      const r = parts[0].dims.length;
      const axis = axisOf(at.int("axis", 0), r, fail);
      const outer = numel(parts[0].dims.slice(0, axis));
      const data: number[] = [];
      for (let o = 0; o < outer; o++)
        for (const p of parts) {
          const chunk = numel(p.dims.slice(axis));
          data.push(...p.data.slice(o * chunk, (o + 1) * chunk));
        }
      const dims = [...parts[0].dims];
      dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
      return { dims, data, kind: parts.every((p) => p.kind === "int") ? "int" : parts[0].kind };
    }
    case "Slice": {
      const r = x.dims.length;
      const starts = opset >= 10 ? ints(ins[1]) : at.ints("starts");
      const ends = opset >= 10 ? ints(ins[2]) : at.ints("ends");
      if (!starts || !ends) return fail("Slice needs starts and ends");
      const axes = (opset >= 10 ? ints(ins[3]) : at.ints("axes")) ?? starts.map((_, i) => i);
      const steps = (opset >= 10 ? ints(ins[4]) : undefined) ?? starts.map(() => 1);
      let sel: number[][] = x.dims.map((d) => Array.from({ length: d }, (_, i) => i));
      axes.forEach((a0, k) => {
        const a = axisOf(a0, r, fail);
        const d = x.dims[a];
        const step = steps[k];
        if (step === 0) fail("Slice step 0");
        const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
        let s = starts[k] < 0 ? starts[k] + d : starts[k];
        let e = ends[k] < 0 ? ends[k] + d : ends[k];
        const idx: number[] = [];
        if (step > 0) {
          s = clamp(s, 0, d);
          e = clamp(e, 0, d);
          for (let i = s; i < e; i += step) idx.push(i);
        } else {
          s = clamp(s, -1, d - 1);
          e = clamp(e, -1, d - 1);
          for (let i = s; i > e; i += step) idx.push(i);
        }
        sel = sel.map((v, i) => (i === a ? idx : v));
      });
      const dims = sel.map((v) => v.length);
      const xs = strides(x.dims);
      const os = strides(dims);
      const data = Array.from({ length: numel(dims) }, (_, e) => {
        let src = 0;
        for (let d = 0; d < r; d++) src += sel[d][Math.floor(e / os[d]) % dims[d]] * xs[d];
        return x.data[src];
      });
      return { dims, data, kind: x.kind };
    }
    case "Reshape": {
      const target = ints(ins[1]);
      if (!target) return fail("Reshape needs a shape");
      return { ...x, dims: reshapeTarget(x.dims, target, at.int("allowzero", 0) === 1, fail) };
    }
    case "Flatten": {
      const axis = at.int("axis", 1);
      const a = axis < 0 ? axis + x.dims.length : axis;
      return { ...x, dims: [numel(x.dims.slice(0, a)), numel(x.dims.slice(a))] };
    }
    case "Transpose": {
      const perm = at.ints("perm") ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      const t = transposeSources(x.dims, perm);
      return { dims: t.dims, data: t.src.map((s) => x.data[s]), kind: x.kind };
    }
    case "ConstantOfShape": {
      const dims = ints(x) ?? [];
      const v = at.tensor("value");
      const c = v ? tensorValues(v, "value", fail) : { dims: [1], data: [0], kind: "float" as ConstKind };
      return { dims, data: new Array<number>(numel(dims)).fill(c.data[0] ?? 0), kind: c.kind };
    }
    case "Range": {
      const [start, limit, delta] = ins.map((c) => (c as Const).data[0]);
      const n = Math.max(Math.ceil((limit - start) / delta), 0);
      return { dims: [n], data: Array.from({ length: n }, (_, i) => start + i * delta), kind: (ins[0] as Const).kind };
    }
    case "Expand": {
      const shape = ints(ins[1]) ?? [];
      const dims = broadcastShape(x.dims, shape, fail);
      return { dims, data: expandTo(x, dims, fail), kind: x.kind };
    }
    default:
      return fail(`operator ${op} cannot be evaluated at import time`);
  }
}
