/**
 * Fitting an activation to its integer form (docs/circuits.md, "Activations"): for an input of `inBits` bits at scale
 * 2^-inFrac and an output of `outBits` bits at scale 2^-outFrac, every candidate (segment bits h, degree d) is fitted
 * by least squares per segment, its integer coefficients rounded, and its error against the float function measured
 * exactly on every one of the 2^inBits inputs; the cheapest candidate (constraint count) whose worst error is at most
 * one output step (2^-outFrac) wins, else the most accurate one. The result is stored in the quantized model, so the
 * circuit and its twin never depend on floating point again.
 */
import {
  type ActivationSpec,
  type PiecewisePoly,
  activationFloat,
  describeActivation,
  piecewiseAccBits,
  piecewiseConstraints,
  piecewiseEval,
} from "../formats/activations";
import { fracFor, requantRange } from "../formats/fixed-point";

/** A fitted activation: the polynomial, its measured worst error (output units) and its constraint count. */
export interface ActivationFit {
  poly: PiecewisePoly;
  /** max over the 2^inBits inputs of |out / 2^outFrac - f(x / 2^inFrac)|. */
  maxError: number;
  /** --O2 constraints per activation. */
  constraints: number;
  /** Requantize's accumulator width. */
  A: number;
}

/** Largest segment bits tried (2^h - h - 1 monomial constraints: 247 at 8). */
const MAX_SEGMENT_BITS = 8;

/** Largest absolute coefficient and accumulator kept in a float64 (integers stay exact, JSON numbers stay safe). */
const SAFE = 2 ** 50;

/** Least-squares polynomial of degree d through (t, g(t)), t = 0 .. n-1, in the variable t (coefficients constant first). */
function leastSquares(g: readonly number[], d: number): number[] {
  const n = g.length;
  // fit in v = t / (n - 1) (conditioning), then expand back to t
  const scale = n > 1 ? n - 1 : 1;
  const m = d + 1;
  const ata = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  const atb = new Array<number>(m).fill(0);
  for (let t = 0; t < n; t++) {
    const v = t / scale;
    const pw = [1, v, v * v];
    for (let i = 0; i < m; i++) {
      atb[i] += pw[i] * g[t];
      for (let j = 0; j < m; j++) ata[i][j] += pw[i] * pw[j];
    }
  }
  // Gaussian elimination with partial pivoting (m <= 3)
  for (let col = 0; col < m; col++) {
    let piv = col;
    for (let r = col + 1; r < m; r++) if (Math.abs(ata[r][col]) > Math.abs(ata[piv][col])) piv = r;
    [ata[col], ata[piv]] = [ata[piv], ata[col]];
    [atb[col], atb[piv]] = [atb[piv], atb[col]];
    if (Math.abs(ata[col][col]) < 1e-300) {
      // fewer points than coefficients: drop the higher terms
      for (let r = col; r < m; r++) atb[r] = 0;
      break;
    }
    for (let r = col + 1; r < m; r++) {
      const f = ata[r][col] / ata[col][col];
      for (let c = col; c < m; c++) ata[r][c] -= f * ata[col][c];
      atb[r] -= f * atb[col];
    }
  }
  const a = new Array<number>(m).fill(0);
  for (let r = m - 1; r >= 0; r--) {
    if (Math.abs(ata[r][r]) < 1e-300) continue;
    let s = atb[r];
    for (let c = r + 1; c < m; c++) s -= ata[r][c] * a[c];
    a[r] = s / ata[r][r];
  }
  return a.map((v, j) => v / scale ** j);
}

/** Candidate shapes in the order tried; every one fits any function, with more or less error. */
function candidates(inBits: number): { h: number; d: number }[] {
  const out: { h: number; d: number }[] = [];
  for (let h = 0; h <= Math.min(inBits - 1, MAX_SEGMENT_BITS); h++) for (const d of [1, 2]) out.push({ h, d });
  if (inBits <= MAX_SEGMENT_BITS) out.push({ h: inBits, d: 0 });
  return out;
}

/**
 * Fits one shape (h segment bits, degree d) without measuring its error (maxError NaN; see fitPiecewise);
 * undefined when its numbers would not stay exact.
 */
function fitShape(
  f: (x: number) => number,
  inBits: number,
  inFrac: number,
  outBits: number,
  outFrac: number,
  h: number,
  d: number,
): ActivationFit | undefined {
  const l = inBits - h;
  const K = d === 0 ? 0 : d * l + 2;
  const half = 2 ** (inBits - 1);
  const { lo, hi } = requantRange(outBits, false);
  const coeffs: number[][] = [];
  for (let s = 0; s < 2 ** h; s++) {
    const g: number[] = [];
    for (let t = 0; t < 2 ** l; t++) {
      const x = (s * 2 ** l + t - half) / 2 ** inFrac;
      // the target at the accumulator scale, clamped to what the output can hold (saturation is exact)
      const y = Math.min(Number(hi), Math.max(Number(lo), f(x) * 2 ** outFrac));
      g.push(y * 2 ** K);
    }
    const c = d === 0 ? [Math.round(g[0])] : leastSquares(g, d).map((v) => Math.round(v));
    if (c.some((v) => !Number.isSafeInteger(v) || Math.abs(v) > SAFE)) return undefined;
    coeffs.push(c.map((v) => (Object.is(v, -0) ? 0 : v)));
  }
  const poly: PiecewisePoly = { inBits, segmentBits: h, degree: d, shift: K, coeffs, outBits };
  const A = piecewiseAccBits(poly);
  if (A > 52) return undefined;
  return { poly, maxError: NaN, constraints: piecewiseConstraints(poly, A), A };
}

/** The fit's worst error over every input (exact: the twin itself on each of the 2^inBits inputs). */
function measure(fit: ActivationFit, f: (x: number) => number, inFrac: number, outFrac: number): ActivationFit {
  const { inBits } = fit.poly;
  const half = 2 ** (inBits - 1);
  let maxError = 0;
  for (let u = 0; u < 2 ** inBits; u++) {
    const x = BigInt(u - half);
    const y = Number(piecewiseEval(fit.poly, x)) / 2 ** outFrac;
    maxError = Math.max(maxError, Math.abs(y - f(Number(x) / 2 ** inFrac)));
  }
  return { ...fit, maxError };
}

/**
 * Fits `spec` with a given shape (h segment bits, degree d; d = 0 needs h = inBits) and measures its worst error:
 * for the tests and the benchmark, which compare shapes.
 * @throws Error when that shape cannot be represented exactly.
 */
export function fitPiecewise(
  spec: ActivationSpec,
  inBits: number,
  inFrac: number,
  outBits: number,
  outFrac: number,
  h: number,
  d: number,
): ActivationFit {
  const f = (x: number) => activationFloat(spec, x);
  const fit = fitShape(f, inBits, inFrac, outBits, outFrac, h, d);
  if (!fit) throw new Error(`activation ${describeActivation(spec)}: shape h=${h} d=${d} has no exact integer fit at ${inBits} bits`);
  return measure(fit, f, inFrac, outFrac);
}

/**
 * Fits `spec` for an input of `inBits` bits with `inFrac` fractional bits and an output of `outBits` bits with
 * `outFrac` fractional bits (see the module comment for the rule).
 * @throws Error naming the activation when inBits is outside 2..16.
 */
export function fitActivation(spec: ActivationSpec, inBits: number, inFrac: number, outBits: number, outFrac: number): ActivationFit {
  return fitFunction((x) => activationFloat(spec, x), `activation ${describeActivation(spec)}`, inBits, inFrac, outBits, outFrac);
}

/**
 * {@link fitActivation} for any function of one number (the softmax's exponential); `label` names it in errors.
 * @throws Error naming it when inBits is outside 2..16.
 */
export function fitFunction(
  f: (x: number) => number,
  label: string,
  inBits: number,
  inFrac: number,
  outBits: number,
  outFrac: number,
): ActivationFit {
  if (!Number.isInteger(inBits) || inBits < 2 || inBits > 16)
    throw new Error(`${label}: input width ${inBits} bits is not supported (2..16); quantize with bits <= 16`);
  const target = 2 ** -outFrac;
  // a fit's cost is known from its coefficients (its accumulator width); measure the cheapest first, stop at one
  // within the target
  const fits = candidates(inBits)
    .map(({ h, d }) => fitShape(f, inBits, inFrac, outBits, outFrac, h, d))
    .filter((x): x is ActivationFit => x !== undefined)
    .sort((a, b) => a.constraints - b.constraints);
  if (fits.length === 0) throw new Error(`${label}: no exact integer fit at ${inBits} bits`);
  const measured: ActivationFit[] = [];
  for (const fit of fits) {
    const m = measure(fit, f, inFrac, outFrac);
    if (m.maxError <= target) return m;
    measured.push(m);
  }
  return measured.sort((a, b) => a.maxError - b.maxError || a.constraints - b.constraints)[0];
}

/** Largest |f| over the inputs of `inBits` bits at scale 2^-inFrac (sizes the output's fractional bits). */
export function activationMaxAbs(spec: ActivationSpec, inBits: number, inFrac: number): number {
  let m = 0;
  const half = 2 ** (inBits - 1);
  for (let u = 0; u < 2 ** inBits; u++) m = Math.max(m, Math.abs(activationFloat(spec, (u - half) / 2 ** inFrac)));
  return m;
}

/** One row of {@link activationCostTable}: an activation at one input width. */
export interface ActivationCost {
  spec: ActivationSpec;
  bits: number;
  inFrac: number;
  outFrac: number;
  fit: ActivationFit;
}

/** The widths the quantizer picks from (chooseBits), and so the ones the docs give costs for. */
export const COST_WIDTHS = [8, 10, 12, 16] as const;

/** The activations the cost table lists, with PyTorch's default parameters (clip as ReLU6). */
export const COST_SPECS: readonly ActivationSpec[] = [
  { fn: "sigmoid" },
  { fn: "tanh" },
  { fn: "gelu" },
  { fn: "gelu_tanh" },
  { fn: "silu" },
  { fn: "hardsigmoid", alpha: 1 / 6, beta: 0.5 },
  { fn: "hardswish" },
  { fn: "leakyrelu", alpha: 0.01 },
  { fn: "elu", alpha: 1 },
  { fn: "clip", min: 0, max: 6 },
  { fn: "softplus" },
  { fn: "mish" },
];

/**
 * The cost and worst error of every listed activation at every width, for the input range [-8, 8) (inFrac =
 * bits - 4) and an output as wide as the input whose scale holds the function's largest value there (what the
 * quantizer does): docs/circuits.md's table and `npm run bench:activations`.
 */
export function activationCostTable(widths: readonly number[] = COST_WIDTHS): ActivationCost[] {
  const rows: ActivationCost[] = [];
  for (const spec of COST_SPECS)
    for (const bits of widths) {
      const inFrac = bits - 4;
      const outFrac = fracFor(activationMaxAbs(spec, bits, inFrac), bits);
      rows.push({ spec, bits, inFrac, outFrac, fit: fitActivation(spec, bits, inFrac, bits, outFrac) });
    }
  return rows;
}

/** The table as markdown: one row per activation, per width its constraints, shape and worst error. */
export function activationCostMarkdown(rows: readonly ActivationCost[]): string {
  const widths = [...new Set(rows.map((r) => r.bits))];
  const lines = [
    `| activation | ${widths.map((w) => `${w}-bit: constraints (segments, degree), worst error`).join(" | ")} |`,
    `|---|${widths.map(() => "---").join("|")}|`,
  ];
  for (const spec of new Set(rows.map((r) => r.spec))) {
    const cells = widths.map((w) => {
      const r = rows.find((x) => x.spec === spec && x.bits === w) as ActivationCost;
      const p = r.fit.poly;
      return `${r.fit.constraints} (${2 ** p.segmentBits}, ${p.degree}), ${r.fit.maxError.toPrecision(2)} = ${(r.fit.maxError * 2 ** r.outFrac).toFixed(2)} steps`;
    });
    lines.push(`| ${describeActivation(spec)} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
