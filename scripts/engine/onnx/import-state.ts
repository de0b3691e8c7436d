/**
 * The state of the ONNX importer's walk along the graph's data path (scripts/engine/onnx/import-walk.ts builds it)
 * and the view of one node its converter gets (import-layers.ts, import-folds.ts, import-views.ts): the chain's
 * current tensor and shape, the float layers so far, the physical layout behind the current view, what may still fold
 * into the last layer, a pending Pad and the residual sources; plus the helpers every converter uses.
 */
import type { FloatLayer, Shape } from "../../formats/float-model";
import { type Attrs, type Const, readAttrs } from "./fold";
import { OnnxImportError } from "./import-errors";
import type { onnx } from "./proto";

/** The walk along the data path: what the graph fixes, and the float model converted so far. */
export interface Walk {
  readonly opset: number;
  readonly nodes: onnx.INodeProto[];
  /** Initializers, Constant nodes and every tensor folded from them at import time. */
  readonly consts: Map<string, Const>;
  /** Every node reading a tensor, except Shape / Size (they read only its static shape). */
  readonly readers: Map<string, number[]>;
  readonly graphOutputs: Set<string>;
  /** The static shape of every data tensor computed so far. */
  readonly dataShapes: Map<string, number[]>;
  readonly layers: FloatLayer[];
  /** The preprocessing: scales and shifts before the first layer fold into it. */
  readonly pre: { mean: number[]; std: number[] };
  /** The chain's output so far, and its shape. */
  cur: string;
  shape: number[];
  inputShape: [number, number, number] | undefined;
  /** Shape of the float model's tensor the current ONNX tensor is a view (or permutation) of. */
  physical: Shape;
  /** Element e of the current tensor is element perm[e] of the physical tensor (null: the identity). */
  perm: number[] | null;
  /** Whether Add/Mul/BatchNormalization/Relu may still fold into the last layer (a dense or conv). */
  foldable: boolean;
  pendingPad: { node: string; pads: number[] } | null;
  /**
   * Residual sources: a tensor the chain read, as the output of float layer `index` (-1: the preprocessed input) when
   * it was read, and the view it was read through (`perm`); valid while nothing has folded into that layer since
   * (`folds` counts the folds per layer).
   */
  readonly layerOf: Map<string, { index: number; folds: number; perm: number[] | null }>;
  readonly folds: Map<number, number>;
  /** Whether the last layer is an `add` that a following Relu may still fuse into. */
  addTakesRelu: boolean;
  /** Nodes already converted as part of an earlier node's pattern (an activation's subgraph), skipped by the walk. */
  readonly consumed: Set<number>;
}

export function nodeName(walk: Walk, i: number): string {
  return walk.nodes[i].name || `#${i}`;
}

export function folded(walk: Walk, index: number): void {
  walk.folds.set(index, (walk.folds.get(index) ?? 0) + 1);
}

/** One node of the graph as its converter sees it, with the helpers that read its inputs and set its output. */
export interface Step {
  readonly walk: Walk;
  readonly node: onnx.INodeProto;
  readonly name: string;
  readonly op: string;
  readonly at: Attrs;
  readonly ins: string[];
  readonly outName: string;
  /** Throws an OnnxImportError naming this node and its operator. */
  err(d: string): never;
  /** Input `idx`, which must be a constant. */
  constIn(idx: number, what: string): Const;
  /** Makes this node's output, of shape `s`, the chain's output. */
  setShape(s: number[]): void;
  /** This node's output is its input. */
  identity(): void;
  lastLayer(): FloatLayer;
  describeLast(): string;
}

/** The {@link Step} of node `ni` of the walk. */
export function stepOf(walk: Walk, node: onnx.INodeProto, ni: number): Step {
  const name = nodeName(walk, ni);
  const op = node.opType ?? "";
  const err = (d: string): never => {
    throw new OnnxImportError(name, op, d);
  };
  const ins = node.input ?? [];
  const outName = (node.output ?? [])[0] ?? "";
  const setShape = (s: number[]) => {
    walk.shape = s;
    walk.dataShapes.set(outName, s);
    walk.cur = outName;
  };
  const lastLayer = () => walk.layers[walk.layers.length - 1];
  return {
    walk,
    node,
    name,
    op,
    at: readAttrs(node),
    ins,
    outName,
    err,
    constIn: (idx: number, what: string): Const => {
      const c = walk.consts.get(ins[idx]);
      if (!c) return err(`${what} (input ${idx} "${ins[idx] ?? ""}") must be an initializer or Constant`);
      return c;
    },
    setShape,
    identity: () => setShape(walk.shape),
    lastLayer,
    describeLast: () => {
      const l = lastLayer();
      return l ? `a ${l.type}${"relu" in l && l.relu ? " + ReLU" : ""} layer` : "the graph input";
    },
  };
}
