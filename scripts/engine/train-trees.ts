/**
 * Gradient-boosted trees for a binary classifier (the bundled `rain-risk` model): logistic loss, second-order leaf
 * values -G / (H + lambda) and exact greedy splits maximizing the gain G_L^2/(H_L+l) + G_R^2/(H_R+l) - G^2/(H+l), as
 * XGBoost's exact method does, on the raw features. The result is a float model with a `trees` layer (split x <= t,
 * t halfway between two consecutive values) and a sigmoid: the probability of class 1. Deterministic (no sampling).
 * Written here rather than taken from a library: no npm package trains XGBoost-style ensembles (the JavaScript
 * ports are prediction-only or unmaintained), and the loop is short.
 */
import type { FloatModel } from "../formats/float-model";
import type { FloatTree, FloatTreeNode } from "../formats/trees";
import { normalizeTreeInputs, treesFloat } from "../formats/trees";

export interface BoostOptions {
  trees: number;
  depth: number;
  learningRate: number;
  /** L2 regularization of the leaf values (XGBoost's lambda). */
  lambda: number;
  /** Least hessian sum a child may have (XGBoost's min_child_weight). */
  minChildWeight: number;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** One regression tree on gradients g and hessians h of the rows `rows`, grown greedily to `depth`. */
function growTree(x: readonly (readonly number[])[], g: number[], h: number[], rows: number[], o: BoostOptions): FloatTree {
  const nodes: FloatTreeNode[] = [];
  const leafValue = (idx: number[]) => {
    const G = idx.reduce((s, i) => s + g[i], 0);
    const H = idx.reduce((s, i) => s + h[i], 0);
    return (-G / (H + o.lambda)) * o.learningRate;
  };
  const grow = (idx: number[], depth: number): number => {
    const at = nodes.length;
    if (depth === o.depth) {
      nodes.push({ leaf: [leafValue(idx)] });
      return at;
    }
    const G = idx.reduce((s, i) => s + g[i], 0);
    const H = idx.reduce((s, i) => s + h[i], 0);
    const parent = (G * G) / (H + o.lambda);
    let best = { gain: 1e-9, feature: -1, threshold: 0 };
    for (let f = 0; f < x[0].length; f++) {
      const sorted = [...idx].sort((a, b) => x[a][f] - x[b][f] || a - b);
      let GL = 0;
      let HL = 0;
      for (let k = 0; k < sorted.length - 1; k++) {
        GL += g[sorted[k]];
        HL += h[sorted[k]];
        const v = x[sorted[k]][f];
        const next = x[sorted[k + 1]][f];
        if (v === next) continue;
        const HR = H - HL;
        if (HL < o.minChildWeight || HR < o.minChildWeight) continue;
        const GR = G - GL;
        const gain = (GL * GL) / (HL + o.lambda) + (GR * GR) / (HR + o.lambda) - parent;
        if (gain > best.gain) best = { gain, feature: f, threshold: (v + next) / 2 };
      }
    }
    if (best.feature < 0) {
      nodes.push({ leaf: [leafValue(idx)] });
      return at;
    }
    nodes.push({ feature: best.feature, threshold: best.threshold, mode: "leq", yes: 0, no: 0 });
    const yes = grow(
      idx.filter((i) => x[i][best.feature] <= best.threshold),
      depth + 1,
    );
    const no = grow(
      idx.filter((i) => x[i][best.feature] > best.threshold),
      depth + 1,
    );
    Object.assign(nodes[at], { yes, no });
    return at;
  };
  grow(rows, 0);
  return { nodes };
}

/**
 * Trains a boosted binary classifier on the features `data.x` (preprocessed by `meta.preprocess`) with labels 0/1
 * `data.y`.
 * @returns a float model: a trees layer (one score, base = the log-odds of the training prior) and a sigmoid, each
 * split feature rescaled to its thresholds' span (normalizeTreeInputs, composed onto the preprocessing).
 */
export function trainBoostedClassifier(
  name: string,
  data: { x: readonly (readonly number[])[]; y: readonly number[] },
  o: BoostOptions,
  meta: { preprocess: { mean: number[]; std: number[] }; classes: string[] },
): FloatModel {
  const n = data.x.length;
  const prior = data.y.reduce((s, v) => s + v, 0) / n;
  const base = Math.log(prior / (1 - prior));
  const ensemble = { nOutputs: 1, base: [base], trees: [] as FloatTree[] };
  const rows = Array.from({ length: n }, (_, i) => i);
  const margin = new Array<number>(n).fill(base);
  for (let t = 0; t < o.trees; t++) {
    const p = margin.map(sigmoid);
    const g = p.map((v, i) => v - data.y[i]);
    const h = p.map((v) => Math.max(v * (1 - v), 1e-6));
    const tree = growTree(data.x, g, h, rows, o);
    ensemble.trees.push(tree);
    const one = { nOutputs: 1, base: [0], trees: [tree] };
    for (let i = 0; i < n; i++) margin[i] += treesFloat(one, data.x[i])[0];
  }
  // one fixed-point scale resolves every feature's thresholds alike (docs/circuits.md, "Tree ensembles")
  const preprocess = { mean: [...meta.preprocess.mean], std: [...meta.preprocess.std] };
  normalizeTreeInputs(ensemble, preprocess);
  return {
    format: "zkml-float-v1",
    name,
    inputSize: data.x[0].length,
    preprocess,
    classes: meta.classes,
    layers: [
      { type: "trees", ...ensemble },
      { type: "activation", fn: "sigmoid" },
    ],
    trainedWith: { method: "gradient boosting, logistic loss, exact greedy splits (scripts/engine/train-trees.ts)", ...o },
  };
}
