/**
 * Elementwise activations: the float functions (what PyTorch and ONNX compute), and the integer form the circuit
 * proves, a piecewise polynomial on segments of the input's bit decomposition (circuits/lib/activation.circom,
 * docs/circuits.md "Activations"): its bit-exact twin, its value bounds and its constraint cost. Browser-safe.
 */
import { type Interval, accumulatorBits, requantize, requantizeConstraints } from "./fixed-point";

/** The activations a float model may use (docs/bring-your-own-model.md lists the ONNX nodes for each). */
export const ACTIVATION_FNS = [
  "sigmoid",
  "tanh",
  "gelu",
  "gelu_tanh",
  "silu",
  "hardsigmoid",
  "hardswish",
  "leakyrelu",
  "elu",
  "clip",
  "softplus",
  "mish",
] as const;
export type ActivationFn = (typeof ACTIVATION_FNS)[number];

/**
 * An activation and its parameters: `alpha` (leakyrelu slope, default 0.01; elu, default 1; hardsigmoid slope,
 * default 1/6 as PyTorch), `beta` (hardsigmoid offset, default 0.5), `min` / `max` (clip bounds, either may be
 * absent = unbounded).
 */
export interface ActivationSpec {
  fn: ActivationFn;
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
}

const SQRT1_2 = Math.SQRT1_2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * The error function to about 1e-13 (Taylor series below |x| = 3, the continued fraction of erfc above). JavaScript
 * has no Math.erf; GELU (the form PyTorch exports by default) needs it.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    // erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a;
    let sum = a;
    const x2 = a * a;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = TWO_OVER_SQRT_PI * sum;
  } else {
    // erfc(x) = exp(-x^2)/sqrt(pi) * 1 / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...)))))
    let f = a;
    for (let k = 80; k >= 1; k--) f = a + k / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
}

const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

/** The float activation, as PyTorch defines it (torch.nn.functional), at one point. */
export function activationFloat(spec: ActivationSpec, x: number): number {
  switch (spec.fn) {
    case "sigmoid":
      return sigmoid(x);
    case "tanh":
      return Math.tanh(x);
    case "gelu":
      return 0.5 * x * (1 + erf(x * SQRT1_2));
    case "gelu_tanh":
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case "silu":
      return x * sigmoid(x);
    case "hardsigmoid":
      return Math.min(1, Math.max(0, (spec.alpha ?? 1 / 6) * x + (spec.beta ?? 0.5)));
    case "hardswish":
      return (x * Math.min(6, Math.max(0, x + 3))) / 6;
    case "leakyrelu":
      return x >= 0 ? x : (spec.alpha ?? 0.01) * x;
    case "elu":
      return x >= 0 ? x : (spec.alpha ?? 1) * Math.expm1(x);
    case "clip":
      return Math.min(spec.max ?? Infinity, Math.max(spec.min ?? -Infinity, x));
    case "softplus":
      return softplus(x);
    case "mish":
      return x * Math.tanh(softplus(x));
  }
}

/** A readable name with parameters, e.g. `leakyrelu(alpha=0.2)`, `clip(0, 6)`. */
export function describeActivation(spec: ActivationSpec): string {
  if (spec.fn === "clip") return `clip(${spec.min ?? "-inf"}, ${spec.max ?? "inf"})`;
  const ps = (["alpha", "beta"] as const)
    .filter((k) => spec[k] !== undefined)
    .map((k) => `${k}=${Number((spec[k] as number).toPrecision(6))}`);
  return ps.length ? `${spec.fn}(${ps.join(", ")})` : spec.fn;
}

/**
 * Checks an activation spec: a known function, finite parameters that the function takes, clip with min <= max.
 * @returns an error message naming the field (prefixed by `field`), or undefined when the spec is valid.
 */
export function activationSpecError(field: string, spec: ActivationSpec): string | undefined {
  if (!(ACTIVATION_FNS as readonly string[]).includes(spec.fn))
    return `${field}.fn "${String(spec.fn)}" is not supported; supported: ${ACTIVATION_FNS.join(", ")}`;
  const takes: Record<ActivationFn, readonly string[]> = {
    sigmoid: [],
    tanh: [],
    gelu: [],
    gelu_tanh: [],
    silu: [],
    hardsigmoid: ["alpha", "beta"],
    hardswish: [],
    leakyrelu: ["alpha"],
    elu: ["alpha"],
    clip: ["min", "max"],
    softplus: [],
    mish: [],
  };
  for (const k of ["alpha", "beta", "min", "max"] as const) {
    const v = spec[k];
    if (v === undefined) continue;
    if (!takes[spec.fn].includes(k)) return `${field}.${k}: ${spec.fn} takes no ${k}`;
    if (typeof v !== "number" || !Number.isFinite(v)) return `${field}.${k} must be a finite number, got ${String(v)}`;
  }
  if (spec.fn === "clip" && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max)
    return `${field}: clip min ${spec.min} is above max ${spec.max}`;
  return undefined;
}

/**
 * The integer form of an activation (docs/circuits.md, "Activations"): the input x, range-checked to `inBits`
 * signed bits, is decomposed as u = x + 2^(inBits-1) = s * 2^l + t with l = inBits - segmentBits; segment s holds a
 * polynomial of degree `degree` in t whose integer coefficients are `coeffs[s]` (constant first), and the output is
 * requantize(sum_j coeffs[s][j] * t^j, shift, outBits, signed clamp); a degree-0 table with shift 0 is its own output.
 */
export interface PiecewisePoly {
  inBits: number;
  segmentBits: number;
  degree: number;
  shift: number;
  /** [2^segmentBits][degree + 1] integers. */
  coeffs: number[][];
  outBits: number;
}

/** The polynomial's accumulator (before the rounding shift) at input x; x must be in the inBits signed range. */
export function piecewiseAcc(p: PiecewisePoly, x: bigint): bigint {
  const u = x + (1n << BigInt(p.inBits - 1));
  const l = BigInt(p.inBits - p.segmentBits);
  const s = Number(u >> l);
  const t = u - (BigInt(s) << l);
  const c = p.coeffs[s];
  // Horner, as the circuit: c0 + (c1 + c2 * t) * t
  let acc = 0n;
  for (let j = p.degree; j >= 0; j--) acc = acc * t + BigInt(c[j]);
  return acc;
}

/** Twin of `PiecewisePoly`: the activation's integer output at x. */
export function piecewiseEval(p: PiecewisePoly, x: bigint): bigint {
  const acc = piecewiseAcc(p, x);
  return p.degree === 0 && p.shift === 0 ? acc : requantize(acc, p.shift, p.outBits, false);
}

/** Accumulator range over every input of the inBits range (what the circuit's Requantize must hold). */
export function piecewiseAccRange(p: PiecewisePoly): Interval {
  let lo = 0n;
  let hi = 0n;
  const l = p.inBits - p.segmentBits;
  const T = (1n << BigInt(l)) - 1n;
  p.coeffs.forEach((c, s) => {
    // the extremes of a polynomial of degree <= 2 on [0, T] are at the ends or at the vertex
    const ts = [0n, T];
    if (p.degree === 2 && c[2] !== 0) {
      const v = Math.round(-c[1] / (2 * c[2]));
      for (const d of [-1, 0, 1]) if (v + d > 0 && BigInt(v + d) < T) ts.push(BigInt(v + d));
    }
    for (const t of ts) {
      let acc = 0n;
      for (let j = p.degree; j >= 0; j--) acc = acc * t + BigInt(c[j]);
      if (s === 0 && t === 0n) lo = hi = acc;
      if (acc < lo) lo = acc;
      if (acc > hi) hi = acc;
    }
  });
  return { lo, hi };
}

const outRangeCache = new WeakMap<PiecewisePoly, Map<string, Interval>>();

/**
 * Output range of the activation over the inputs in `input` (exact: every input is evaluated, at most 2^inBits;
 * remembered per polynomial object, which callers must not mutate afterwards).
 */
export function piecewiseOutRange(p: PiecewisePoly, input: Interval): Interval {
  const key = `${input.lo}:${input.hi}`;
  let byInput = outRangeCache.get(p);
  if (!byInput) outRangeCache.set(p, (byInput = new Map()));
  const known = byInput.get(key);
  if (known) return known;
  const r = outRange(p, input);
  byInput.set(key, r);
  return r;
}

function outRange(p: PiecewisePoly, input: Interval): Interval {
  let lo: bigint | undefined;
  let hi: bigint | undefined;
  for (let x = input.lo; x <= input.hi; x++) {
    const y = piecewiseEval(p, x);
    if (lo === undefined || y < lo) lo = y;
    if (hi === undefined || y > hi) hi = y;
  }
  return { lo: lo as bigint, hi: hi as bigint };
}

/** Whether the polynomial's output needs the rounding Requantize (every form but a degree-0 table with shift 0). */
export function piecewiseRounds(p: Pick<PiecewisePoly, "degree" | "shift">): boolean {
  return !(p.degree === 0 && p.shift === 0);
}

/**
 * --O2 constraints of one `PiecewisePoly`: the input's decomposition (inBits), the segment monomials
 * (2^h - h - 1 products of segment bits), the Horner products (degree, one fewer when there is a single segment,
 * whose coefficients are constants) and the rounding Requantize of the accumulator.
 */
export function piecewiseConstraints(p: Pick<PiecewisePoly, "inBits" | "segmentBits" | "degree" | "shift" | "outBits">, A: number): number {
  const h = p.segmentBits;
  const monomials = 2 ** h - h - 1;
  const products = p.degree === 0 ? 0 : h === 0 ? p.degree - 1 : p.degree;
  return p.inBits + monomials + products + (piecewiseRounds(p) ? requantizeConstraints(A, p.shift, p.outBits, false) : 0);
}

/** Requantize's accumulator width for this polynomial (at least 1). */
export function piecewiseAccBits(p: PiecewisePoly): number {
  return accumulatorBits(piecewiseAccRange(p));
}
