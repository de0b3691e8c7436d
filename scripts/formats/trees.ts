/**
 * Tree ensembles (decision trees, random forests, gradient boosting; scikit-learn and XGBoost): the float form a
 * float model's `trees` layer holds, its float evaluation, and the integer form the circuit proves with every node
 * evaluated (docs/circuits.md, "Tree ensembles"): its validation, bit-exact twin and bounds. Browser-safe.
 */
import type { Interval } from "./fixed-point";

/** An internal node: go to `yes` when x[feature] <= threshold ("leq") or x[feature] < threshold ("lt"), else `no`. */
export interface FloatTreeSplit {
  feature: number;
  threshold: number;
  mode: "leq" | "lt";
  yes: number;
  no: number;
}

/** A leaf: its contribution to each output (length = the layer's nOutputs). */
export interface FloatTreeLeaf {
  leaf: number[];
}

export type FloatTreeNode = FloatTreeSplit | FloatTreeLeaf;

/** One tree: nodes[0] is the root; children come after their parent (no cycles). */
export interface FloatTree {
  nodes: FloatTreeNode[];
}

/**
 * A tree ensemble on the (preprocessed) input vector: output k = base[k] + sum over trees of the leaf reached's
 * leaf[k]. A random forest's averaging is in its leaves (each divided by the number of trees); a post transform
 * (sigmoid, softmax) is the next layer.
 */
export interface TreeEnsemble {
  nOutputs: number;
  trees: FloatTree[];
  base: number[];
}

export const isLeaf = (n: FloatTreeNode | IntTreeNode): n is FloatTreeLeaf | IntTreeLeaf => "leaf" in n;

/** Float evaluation (what the framework computes): base plus every tree's reached leaf. */
export function treesFloat(t: TreeEnsemble, x: ArrayLike<number>): number[] {
  const out = [...t.base];
  for (const tree of t.trees) {
    let n = tree.nodes[0];
    while (!isLeaf(n)) {
      const v = x[n.feature];
      n = tree.nodes[(n.mode === "leq" ? v <= n.threshold : v < n.threshold) ? n.yes : n.no];
    }
    n.leaf.forEach((w, k) => (out[k] += w));
  }
  return out;
}

/**
 * Checks a float ensemble's structure for `nIn` input features: indices in range, children after their parent, every
 * leaf with nOutputs values, finite numbers.
 * @returns an error message naming the field (prefixed by `field`), or undefined.
 */
export function treesError(field: string, t: TreeEnsemble | IntTreeEnsemble, nIn: number, int = false): string | undefined {
  if (!Number.isInteger(t.nOutputs) || t.nOutputs < 1) return `${field}.nOutputs must be a positive integer`;
  if (!Array.isArray(t.base) || t.base.length !== t.nOutputs) return `${field}.base must have nOutputs = ${t.nOutputs} values`;
  const num = (v: unknown) => (int ? typeof v === "number" && Number.isSafeInteger(v) : typeof v === "number" && Number.isFinite(v));
  if (!t.base.every(num)) return `${field}.base must hold ${int ? "safe integers" : "finite numbers"}`;
  if (!Array.isArray(t.trees) || t.trees.length === 0) return `${field}.trees must be a non-empty array`;
  for (const [ti, tree] of t.trees.entries()) {
    const f = `${field}.trees[${ti}]`;
    if (!Array.isArray(tree.nodes) || tree.nodes.length === 0) return `${f}.nodes must be a non-empty array`;
    for (const [ni, n] of tree.nodes.entries()) {
      const g = `${f}.nodes[${ni}]`;
      if (isLeaf(n)) {
        if (!Array.isArray(n.leaf) || n.leaf.length !== t.nOutputs || !n.leaf.every(num))
          return `${g}.leaf must hold nOutputs = ${t.nOutputs} ${int ? "safe integers" : "finite numbers"}`;
        continue;
      }
      if (!Number.isInteger(n.feature) || n.feature < 0 || n.feature >= nIn) return `${g}.feature must be an input index 0..${nIn - 1}`;
      if (!num(n.threshold)) return `${g}.threshold must be a ${int ? "safe integer" : "finite number"}`;
      if (!int && (n as FloatTreeSplit).mode !== "leq" && (n as FloatTreeSplit).mode !== "lt") return `${g}.mode must be "leq" or "lt"`;
      for (const c of ["yes", "no"] as const)
        if (!Number.isInteger(n[c]) || n[c] <= ni || n[c] >= tree.nodes.length)
          return `${g}.${c} must be the index of a later node of the tree (${ni + 1}..${tree.nodes.length - 1})`;
    }
  }
  return undefined;
}

/** An internal node of the integer form: yes when x[feature] <= threshold (integers at the input's scale). */
export interface IntTreeSplit {
  feature: number;
  threshold: number;
  yes: number;
  no: number;
}
export interface IntTreeLeaf {
  leaf: number[];
}
export type IntTreeNode = IntTreeSplit | IntTreeLeaf;

/** The integer ensemble: thresholds at the input scale (x <= T), leaves and base at the leaf scale. */
export interface IntTreeEnsemble {
  nOutputs: number;
  trees: { nodes: IntTreeNode[] }[];
  base: number[];
}

/** The raw sums (before the requantization) of the integer ensemble at x: base + every tree's reached leaf. */
export function treesAcc(t: IntTreeEnsemble, x: readonly bigint[]): bigint[] {
  const out = t.base.map(BigInt);
  for (const tree of t.trees) {
    let n = tree.nodes[0];
    while (!isLeaf(n)) n = tree.nodes[x[n.feature] <= BigInt(n.threshold) ? n.yes : n.no];
    n.leaf.forEach((w, k) => (out[k] += BigInt(w)));
  }
  return out;
}

/** Range of each output sum over every input (each tree contributes its smallest to largest leaf value). */
export function treesAccRanges(t: IntTreeEnsemble): Interval[] {
  return t.base.map((b, k) => {
    let lo = BigInt(b);
    let hi = BigInt(b);
    for (const tree of t.trees) {
      const vals = tree.nodes.filter(isLeaf).map((n) => BigInt(n.leaf[k]));
      lo += vals.reduce((a, v) => (v < a ? v : a));
      hi += vals.reduce((a, v) => (v > a ? v : a));
    }
    return { lo, hi };
  });
}

/** The distinct comparisons (feature, threshold) of the ensemble, in first-use order: the circuit evaluates each once. */
export function treeComparisons(t: IntTreeEnsemble): { feature: number; threshold: number }[] {
  const seen = new Map<string, { feature: number; threshold: number }>();
  for (const tree of t.trees)
    for (const n of tree.nodes)
      if (!isLeaf(n)) {
        const k = `${n.feature}:${n.threshold}`;
        if (!seen.has(k)) seen.set(k, { feature: n.feature, threshold: n.threshold });
      }
  return [...seen.values()];
}

/** Internal nodes that need a product for their children's indicators (every one but each tree's root). */
export function treeProducts(t: IntTreeEnsemble): number {
  return t.trees.reduce((s, tree) => s + Math.max(0, tree.nodes.filter((n) => !isLeaf(n)).length - 1), 0);
}

/**
 * Rescales every feature a tree ensemble splits on so that its thresholds span [-1, 1]: x' = (x - m) / s with m the
 * midpoint and s the half-range of the feature's thresholds (s = 1 for a single threshold), composed onto the
 * preprocessing `pre` (the network sees (raw - mean) / std; afterwards (raw - mean - m * std) / (std * s)). A monotone
 * map per feature decides every split the same way, so the float model computes what it did; but one fixed-point
 * input scale then resolves every feature's thresholds alike (features at scales 0.2 and 50 side by side would
 * otherwise share the coarse one). Features no split reads are left as they are.
 */
export function normalizeTreeInputs(t: TreeEnsemble, pre: { mean: number[]; std: number[] }): void {
  const span = new Map<number, { lo: number; hi: number }>();
  for (const tree of t.trees)
    for (const n of tree.nodes)
      if (!isLeaf(n)) {
        const s = span.get(n.feature) ?? { lo: n.threshold, hi: n.threshold };
        span.set(n.feature, { lo: Math.min(s.lo, n.threshold), hi: Math.max(s.hi, n.threshold) });
      }
  const map = new Map<number, { m: number; s: number }>();
  span.forEach(({ lo, hi }, f) => map.set(f, { m: (lo + hi) / 2, s: hi > lo ? (hi - lo) / 2 : 1 }));
  for (const tree of t.trees)
    for (const n of tree.nodes)
      if (!isLeaf(n)) {
        const { m, s } = map.get(n.feature) as { m: number; s: number };
        n.threshold = (n.threshold - m) / s;
      }
  map.forEach(({ m, s }, f) => {
    pre.mean[f] += m * pre.std[f];
    pre.std[f] *= s;
  });
}

/** Every split's threshold, tree by tree in node order: the witnesses of a committed (private) ensemble. */
export function treeThresholds(t: IntTreeEnsemble): number[] {
  return t.trees.flatMap((tree) => tree.nodes.flatMap((n) => (isLeaf(n) ? [] : [n.threshold])));
}

/** Every leaf's values, tree by tree in node order, flattened: the other witnesses of a committed ensemble. */
export function treeLeafValues(t: IntTreeEnsemble): number[] {
  return t.trees.flatMap((tree) => tree.nodes.flatMap((n) => (isLeaf(n) ? n.leaf : [])));
}

/**
 * Range of each output sum when the leaves are witnesses (a committed ensemble): each tree contributes any value of
 * the leafBits range, the base is a constant.
 */
export function treesPrivateAccRanges(t: IntTreeEnsemble, leafBits: number): Interval[] {
  const half = 1n << BigInt(leafBits - 1);
  const n = BigInt(t.trees.length);
  return t.base.map((b) => ({ lo: BigInt(b) - n * half, hi: BigInt(b) + n * (half - 1n) }));
}
