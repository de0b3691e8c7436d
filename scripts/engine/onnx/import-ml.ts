/**
 * The ONNX importer's classical-ML path (the `ai.onnx.ml` domain, as skl2onnx and onnxmltools write it): `Scaler`
 * (folded into the preprocessing), `Normalizer` with norm L2 (x / ||x||: a `layernorm` layer without centering, before
 * a linear model), `TreeEnsembleClassifier` / `TreeEnsembleRegressor` (a `trees` layer),
 * `LinearClassifier` / `LinearRegressor` (a `dense` layer), each with its post transform (LOGISTIC: a sigmoid
 * activation; SOFTMAX: a softmax layer), and a `ZipMap`, `Cast` or `Identity` after them (skipped). A binary
 * classifier whose weights all go to class 0 is one score for the second label (what onnxruntime computes: its
 * probabilities are [1 - p, p]); the model then outputs p.
 */
import type { FloatLayer } from "../../formats/float-model";
import { type FloatTree, type FloatTreeNode, normalizeTreeInputs } from "../../formats/trees";
import { readAttrs } from "./fold";
import { OnnxImportError } from "./import-errors";
import type { onnx } from "./proto";

/** What the ML path produces: the layers, the output names and the task. */
export interface MlImport {
  layers: FloatLayer[];
  classes: string[];
  task: "classification" | "regression";
}

const MODEL_OPS = ["TreeEnsembleClassifier", "TreeEnsembleRegressor", "LinearClassifier", "LinearRegressor"];
const SKIPPED = ["ZipMap", "Cast", "Identity"];

/** Whether a graph uses the classical-ML domain (then {@link walkMl} reads it instead of the layer walk). */
export function isMlGraph(g: onnx.IGraphProto): boolean {
  return (g.node ?? []).some((n) => n.domain === "ai.onnx.ml");
}

/**
 * Reads an ai.onnx.ml pipeline on the data input `input` of `inputSize` features; `pre` (the preprocessing) takes a
 * Scaler.
 * @throws OnnxImportError naming the node and what is supported.
 */
export function walkMl(g: onnx.IGraphProto, input: string, inputSize: number, pre: { mean: number[]; std: number[] }): MlImport {
  let cur = input;
  let result: MlImport | undefined;
  let normalizer: { name: string; layer: FloatLayer } | undefined;
  (g.node ?? []).forEach((node, ni) => {
    const name = node.name || `#${ni}`;
    const op = node.opType ?? "";
    const err = (d: string): never => {
      throw new OnnxImportError(name, op, d);
    };
    const ins = node.input ?? [];
    const at = readAttrs(node);
    if (SKIPPED.includes(op)) return;
    if (ins[0] !== cur)
      err(`must read "${cur}", the output of the step before; supported: Scaler, then one classifier or regressor, then ZipMap`);
    if (result) err(`comes after the ${result.task === "regression" ? "regressor" : "classifier"}; supported: nothing but ZipMap after it`);
    if (op === "Scaler") {
      if (normalizer) err(`comes after the Normalizer "${normalizer.name}"; supported: Scaler before it (it becomes the preprocessing)`);
      // y = (x - offset) * scale on the preprocessed x = (raw - mean) / std: (raw - (mean + offset * std)) / (std / scale)
      const at1 = (k: string) => {
        const v = at.floats(k) ?? [];
        if (v.length === 1) return new Array<number>(inputSize).fill(v[0]);
        if (v.length !== inputSize) return err(`${k} has ${v.length} values; the input has ${inputSize} features`);
        return v;
      };
      const offset = at1("offset");
      const scale = at1("scale");
      if (scale.some((s) => !(s > 0))) err("scale must be positive (a zero or negative scale has no preprocessing form)");
      offset.forEach((o, i) => {
        pre.mean[i] += o * pre.std[i];
        pre.std[i] /= scale[i];
      });
      cur = (node.output ?? [])[0] ?? "";
      return;
    }
    if (op === "Normalizer") {
      const norm = at.str("norm") ?? "MAX";
      if (norm !== "L2")
        err(
          `norm ${norm} is not supported; supported: L2 (x / ||x||, scikit-learn's default Normalizer); or normalize the inputs before they reach the model`,
        );
      if (normalizer) err(`a second Normalizer after "${normalizer.name}" is not supported`);
      // x / ||x|| = gamma * x / sqrt(mean(x^2) + eps) with gamma = 1 / sqrt(n): a layernorm without centering
      normalizer = {
        name,
        layer: {
          type: "layernorm",
          inShape: [inputSize, 1],
          gamma: new Array<number>(inputSize).fill(1 / Math.sqrt(inputSize)),
          beta: new Array<number>(inputSize).fill(0),
          eps: 1e-30,
          center: false,
        },
      };
      cur = (node.output ?? [])[0] ?? "";
      return;
    }
    if (!MODEL_OPS.includes(op))
      err(`operator ${op} is not supported in an ai.onnx.ml pipeline; supported: Scaler, ${MODEL_OPS.join(", ")}, ${SKIPPED.join(", ")}`);
    result = op.startsWith("Tree") ? treeEnsemble(node, err, inputSize) : linear(node, err, inputSize);
    const first = result.layers[0];
    if (first.type === "trees" && normalizer)
      err(
        `a tree ensemble after the Normalizer "${normalizer.name}" is not supported; supported: a linear model after a Normalizer (or a tree ensemble on the raw features)`,
      );
    if (first.type === "trees") normalizeTreeInputs(first, pre);
    if (normalizer) result.layers.unshift(normalizer.layer);
    cur = "";
  });
  if (!result)
    throw new OnnxImportError("", "", `the ai.onnx.ml graph has no ${MODEL_OPS.join(", ")} node; supported: Scaler, then one of them`);
  return result;
}

/** Labels of a classifier (ints or strings) as output names. */
function labelsOf(at: ReturnType<typeof readAttrs>, ints: string, strs: string): string[] {
  const i = at.ints(ints);
  if (i && i.length) return i.map(String);
  return at.strs(strs) ?? [];
}

/** The layer a post transform becomes (LOGISTIC: sigmoid, SOFTMAX: softmax), or a refusal naming it. */
function postLayer(post: string, err: (d: string) => never): FloatLayer[] {
  if (post === "NONE") return [];
  if (post === "LOGISTIC") return [{ type: "activation", fn: "sigmoid" }];
  if (post === "SOFTMAX") return [{ type: "softmax" }];
  return err(`post_transform ${post} is not supported; supported: NONE, LOGISTIC, SOFTMAX`);
}

function treeEnsemble(node: onnx.INodeProto, err: (d: string) => never, nIn: number): MlImport {
  const at = readAttrs(node);
  const classifier = node.opType === "TreeEnsembleClassifier";
  const w = classifier ? "class" : "target";
  const tree = at.ints("nodes_treeids") ?? [];
  const nodeId = at.ints("nodes_nodeids") ?? [];
  const feature = at.ints("nodes_featureids") ?? [];
  const value = at.floats("nodes_values") ?? [];
  const mode = at.strs("nodes_modes") ?? [];
  const yes = at.ints("nodes_truenodeids") ?? [];
  const no = at.ints("nodes_falsenodeids") ?? [];
  const n = tree.length;
  if (![nodeId, feature, value, mode, yes, no].every((a) => a.length === n))
    err("the nodes_* attributes must all have one entry per node (nodes_values as floats; nodes_values_as_tensor is not supported)");
  const wTree = at.ints(`${w}_treeids`) ?? [];
  const wNode = at.ints(`${w}_nodeids`) ?? [];
  const wId = at.ints(`${w}_ids`) ?? [];
  const wVal = at.floats(`${w}_weights`) ?? [];
  if (![wNode, wId, wVal].every((a) => a.length === wTree.length)) err(`the ${w}_* attributes must all have one entry per weight`);
  const post = at.str("post_transform") ?? "NONE";
  const labels = classifier ? labelsOf(at, "classlabels_int64s", "classlabels_strings") : [];
  const nTargets = classifier ? labels.length : at.int("n_targets", 1);
  if (classifier && labels.length < 2) err("needs at least two class labels (classlabels_int64s or classlabels_strings)");
  // binary with one score: every weight on class 0 (skl2onnx, onnxmltools): onnxruntime reads it as the second label's
  const binary = classifier && labels.length === 2 && wId.every((id) => id === 0);
  const nOut = binary ? 1 : nTargets;
  if (wId.some((id) => id < 0 || id >= nOut)) err(`${w}_ids must be in 0..${nOut - 1}`);
  if (binary && post !== "LOGISTIC")
    err(`a binary classifier with one score needs post_transform LOGISTIC (the probability of "${labels[1]}"), got ${post}`);
  const agg = at.str("aggregate_function") ?? "SUM";
  if (agg !== "SUM" && agg !== "AVERAGE") err(`aggregate_function ${agg} is not supported; supported: SUM, AVERAGE`);
  const baseAttr = at.floats("base_values") ?? [];
  if (baseAttr.length !== 0 && baseAttr.length !== nOut)
    err(`base_values has ${baseAttr.length} values; the ensemble has ${nOut} output${nOut === 1 ? "" : "s"}`);
  const base = baseAttr.length ? [...baseAttr] : new Array<number>(nOut).fill(0);

  // per tree: its entries by node id
  const trees = new Map<number, Map<number, number>>();
  for (let i = 0; i < n; i++) {
    if (!trees.has(tree[i])) trees.set(tree[i], new Map());
    trees.get(tree[i])?.set(nodeId[i], i);
  }
  const weights = new Map<string, [number, number][]>();
  wTree.forEach((t, j) => {
    const k = `${t}:${wNode[j]}`;
    weights.set(k, [...(weights.get(k) ?? []), [wId[j], wVal[j]]]);
  });
  const scaleLeaves = agg === "AVERAGE" ? 1 / trees.size : 1;
  const out: FloatTree[] = [];
  for (const [t, byId] of [...trees.entries()].sort((a, b) => a[0] - b[0])) {
    const children = new Set<number>();
    byId.forEach((i) => {
      if (mode[i] !== "LEAF") children.add(yes[i]).add(no[i]);
    });
    const roots = [...byId.keys()].filter((id) => !children.has(id));
    if (roots.length !== 1) err(`tree ${t} has ${roots.length} roots; every tree needs exactly one`);
    const nodes: FloatTreeNode[] = [];
    // preorder: a parent before its children; indices assigned as nodes are placed
    const place = (id: number, depth: number): number => {
      const i = byId.get(id);
      if (i === undefined) return err(`tree ${t} refers to node ${id}, which it does not have`);
      if (depth > 64) return err(`tree ${t} is deeper than 64 levels (or has a cycle)`);
      const at2 = nodes.length;
      if (mode[i] === "LEAF") {
        const leaf = new Array<number>(nOut).fill(0);
        for (const [cid, v] of weights.get(`${t}:${id}`) ?? []) leaf[cid] += v * scaleLeaves;
        nodes.push({ leaf });
        return at2;
      }
      if (feature[i] < 0 || feature[i] >= nIn) err(`tree ${t} node ${id} splits on feature ${feature[i]}; the input has ${nIn}`);
      const m = mode[i];
      // GTE / GT are the complements of LT / LEQ with the branches swapped
      const kind = m === "BRANCH_LEQ" || m === "BRANCH_GT" ? "leq" : m === "BRANCH_LT" || m === "BRANCH_GTE" ? "lt" : undefined;
      if (!kind) return err(`tree ${t} node ${id} has mode ${m}; supported: BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, LEAF`);
      const swap = m === "BRANCH_GT" || m === "BRANCH_GTE";
      nodes.push({ feature: feature[i], threshold: value[i], mode: kind, yes: 0, no: 0 });
      const a = place(yes[i], depth + 1);
      const b = place(no[i], depth + 1);
      Object.assign(nodes[at2], swap ? { yes: b, no: a } : { yes: a, no: b });
      return at2;
    };
    place(roots[0], 0);
    out.push({ nodes });
  }
  const classes = binary ? [labels[1]] : classifier ? labels : Array.from({ length: nOut }, (_, i) => (nOut === 1 ? "value" : `value${i}`));
  return {
    layers: [{ type: "trees", nOutputs: nOut, trees: out, base }, ...postLayer(post, err)],
    classes,
    task: classifier ? "classification" : "regression",
  };
}

function linear(node: onnx.INodeProto, err: (d: string) => never, nIn: number): MlImport {
  const at = readAttrs(node);
  const classifier = node.opType === "LinearClassifier";
  const coef = at.floats("coefficients") ?? [];
  const icpt = at.floats("intercepts") ?? [];
  if (coef.length === 0 || coef.length % nIn !== 0)
    err(`coefficients has ${coef.length} values, not a multiple of the ${nIn} input features`);
  const rows = coef.length / nIn;
  if (icpt.length !== 0 && icpt.length !== rows) err(`intercepts has ${icpt.length} values; the coefficients have ${rows} rows`);
  const W = Array.from({ length: rows }, (_, r) => coef.slice(r * nIn, (r + 1) * nIn));
  const B = icpt.length ? [...icpt] : new Array<number>(rows).fill(0);
  const post = at.str("post_transform") ?? "NONE";
  if (!classifier) {
    if (post !== "NONE") err(`post_transform ${post} on a regressor is not supported; supported: NONE`);
    return {
      layers: [{ type: "dense", W, B, relu: false }],
      classes: rows === 1 ? ["value"] : W.map((_, i) => `value${i}`),
      task: "regression",
    };
  }
  const labels = labelsOf(at, "classlabels_ints", "classlabels_strings");
  if (labels.length < 2) err("needs at least two class labels (classlabels_ints or classlabels_strings)");
  const binary = labels.length === 2 && rows === 1;
  if (!binary && rows !== labels.length) err(`has ${rows} coefficient rows for ${labels.length} class labels`);
  if (binary && post !== "LOGISTIC")
    err(`a binary classifier with one row needs post_transform LOGISTIC (the probability of "${labels[1]}"), got ${post}`);
  return {
    layers: [{ type: "dense", W, B, relu: false }, ...postLayer(post, err)],
    classes: binary ? [labels[1]] : labels,
    task: "classification",
  };
}
