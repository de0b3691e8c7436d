/**
 * XGBoost's own model file (`booster.save_model("model.json")`, the JSON format of XGBoost 1.x and 2.x) to a float
 * model: a `trees` layer (x < split_condition goes to the left child, a leaf's value is its split_condition) with the
 * objective's post transform: binary:logistic -> one score and a sigmoid (the probability of class 1, base margin
 * logit(base_score)); multi:softprob / multi:softmax -> one output per class (tree i adds to class tree_info[i]) and a
 * softmax; reg:squarederror and the other reg:* objectives with an identity link -> the value (base margin
 * base_score). For users who have the booster but no ONNX converter. Each split feature is rescaled so its
 * thresholds span [-1, 1] (normalizeTreeInputs, composed onto the preprocessing).
 */
import * as fs from "fs";
import type { FloatLayer, FloatModel } from "../formats/float-model";
import { validateFloatModel } from "../formats/float-model";
import { type FloatTree, type FloatTreeNode, normalizeTreeInputs } from "../formats/trees";
import { writeFileAtomic } from "../util/paths";

/** Options of {@link importXgboostJson}: the float model's name and output names, and a preprocessing of raw inputs. */
export interface XgboostImportOptions {
  name?: string;
  classes?: string[];
  preprocess?: { mean: number[]; std: number[] };
}

interface XgbTree {
  left_children: number[];
  right_children: number[];
  split_indices: number[];
  split_conditions: number[];
  split_type?: number[];
}

const IDENTITY_REG = ["reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror", "reg:linear"];

/**
 * Converts the text of an XGBoost JSON model file to a validated float model. Nothing is written.
 * @throws Error naming the field (`learner.objective.name`, `trees[i]...`) and what is supported.
 */
export function importXgboostJson(text: string, opts: XgboostImportOptions = {}): FloatModel {
  const fail = (field: string, msg: string): never => {
    throw new Error(`XGBoost import: ${field} ${msg}`);
  };
  let doc: { learner?: Record<string, unknown> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (e) {
    return fail("file", `is not JSON (${(e as Error).message}); save the booster with save_model("model.json")`);
  }
  const learner = doc.learner as
    | {
        learner_model_param?: Record<string, string>;
        objective?: { name?: string };
        gradient_booster?: { name?: string; model?: { trees?: XgbTree[]; tree_info?: number[] } };
        feature_names?: string[];
      }
    | undefined;
  if (!learner) return fail("learner", "is missing: this is not an XGBoost JSON model (save_model with a .json name)");
  const param = learner.learner_model_param ?? {};
  const nFeatures = Number(param.num_feature);
  if (!Number.isInteger(nFeatures) || nFeatures < 1)
    fail("learner.learner_model_param.num_feature", `must be a positive integer, got ${param.num_feature}`);
  const objective = learner.objective?.name ?? "";
  const booster = learner.gradient_booster;
  if (booster?.name !== undefined && booster.name !== "gbtree")
    fail("learner.gradient_booster.name", `is "${booster.name}"; supported: gbtree (dart and gblinear are not)`);
  const trees = booster?.model?.trees ?? [];
  if (trees.length === 0) fail("learner.gradient_booster.model.trees", "is empty");
  const info = booster?.model?.tree_info ?? trees.map(() => 0);
  const baseScore = Number(param.base_score ?? 0.5);
  let nOut: number;
  let base: number;
  let post: FloatLayer[];
  if (objective === "binary:logistic") {
    nOut = 1;
    base = Math.log(baseScore / (1 - baseScore));
    post = [{ type: "activation", fn: "sigmoid" }];
  } else if (objective === "multi:softprob" || objective === "multi:softmax") {
    nOut = Number(param.num_class);
    if (!Number.isInteger(nOut) || nOut < 2) fail("learner.learner_model_param.num_class", `must be >= 2 for ${objective}`);
    base = baseScore;
    post = [{ type: "softmax" }];
  } else if (IDENTITY_REG.includes(objective)) {
    nOut = 1;
    base = baseScore;
    post = [];
  } else {
    return fail(
      "learner.objective.name",
      `"${objective}" is not supported; supported: binary:logistic, multi:softprob, multi:softmax, ${IDENTITY_REG.join(", ")}`,
    );
  }
  const out: FloatTree[] = trees.map((t, ti) => {
    const f = `trees[${ti}]`;
    const n = t.left_children?.length ?? 0;
    if (![t.right_children, t.split_indices, t.split_conditions].every((a) => Array.isArray(a) && a.length === n))
      fail(f, "must have left_children, right_children, split_indices and split_conditions of one length");
    if ((t.split_type ?? []).some((s) => s !== 0)) fail(`${f}.split_type`, "has a categorical split; supported: numerical splits");
    const cls = info[ti] ?? 0;
    if (cls < 0 || cls >= nOut) fail(`tree_info[${ti}]`, `= ${cls} is not a class of the model (0..${nOut - 1})`);
    const nodes: FloatTreeNode[] = [];
    const place = (i: number, depth: number): number => {
      if (i < 0 || i >= n || depth > 64) return fail(f, `refers to node ${i}, which it does not have (or is cyclic)`);
      const at = nodes.length;
      if (t.left_children[i] === -1) {
        const leaf = new Array<number>(nOut).fill(0);
        leaf[cls] = t.split_conditions[i];
        nodes.push({ leaf });
        return at;
      }
      const feature = t.split_indices[i];
      if (feature < 0 || feature >= nFeatures) fail(`${f}.split_indices[${i}]`, `= ${feature} is not a feature (0..${nFeatures - 1})`);
      nodes.push({ feature, threshold: t.split_conditions[i], mode: "lt", yes: 0, no: 0 });
      const yes = place(t.left_children[i], depth + 1);
      const no = place(t.right_children[i], depth + 1);
      Object.assign(nodes[at], { yes, no });
      return at;
    };
    place(0, 0);
    return { nodes };
  });
  const pre = opts.preprocess
    ? { mean: [...opts.preprocess.mean], std: [...opts.preprocess.std] }
    : { mean: new Array<number>(nFeatures).fill(0), std: new Array<number>(nFeatures).fill(1) };
  const ensemble = { nOutputs: nOut, trees: out, base: new Array<number>(nOut).fill(base) };
  normalizeTreeInputs(ensemble, pre);
  const rawName = opts.name ?? "xgboost-model";
  const fm: FloatModel = {
    format: "zkml-float-v1",
    name:
      rawName
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "") || "xgboost-model",
    inputSize: nFeatures,
    preprocess: pre,
    classes:
      opts.classes ?? (objective === "binary:logistic" ? ["1"] : nOut > 1 ? Array.from({ length: nOut }, (_, i) => String(i)) : ["value"]),
    layers: [{ type: "trees", ...ensemble }, ...post],
    trainedWith: { importedFrom: "xgboost-json", objective },
  };
  if (post.length === 0) fm.task = "regression";
  validateFloatModel(fm);
  return fm;
}

/** Reads an XGBoost JSON model file and writes the float model to `out` atomically (nothing on failure). */
export function importXgboostFile(file: string, out: string, opts: XgboostImportOptions = {}): FloatModel {
  if (!fs.existsSync(file)) throw new Error(`${file} not found`);
  const fm = importXgboostJson(fs.readFileSync(file, "utf8"), opts);
  writeFileAtomic(out, JSON.stringify(fm, null, 1) + "\n");
  return fm;
}
