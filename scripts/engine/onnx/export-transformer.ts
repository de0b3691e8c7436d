/**
 * The exporter's transformer layers (opset 13), on the exporter's sequence layout [1, C, L]: layernorm as
 * Transpose to [1, L, C], the decomposition ReduceMean / Sub / Pow / ReduceMean / Add / Sqrt / Div / Mul / Add over the
 * last axis (opset 13 has no LayerNormalization), Transpose back (a vector [1, n] needs no Transpose); attention as
 * PyTorch writes multi-head self-attention: MatMul + Add per projection, Reshape and Transpose into heads, MatMul of
 * q and k^T, Softmax, MatMul with v, back to [1, L, E], the output projection, Transpose back. The importer reads both
 * (import-transformer.ts); onnxruntime-node computes forwardFloat (test/pipeline/onnx.test.ts).
 */
import type { FloatAttention, FloatLayerNorm } from "../../formats/float-model";
import { int, int64Tensor, ints, tensor } from "./export-nodes";
import type { onnx } from "./proto";

type Node = onnx.INodeProto;

function builder(prefix: string, nodes: Node[]) {
  return (name: string, opType: string, input: string[], attribute: onnx.IAttributeProto[] = []): string => {
    const output = `${prefix}_${name}_out`;
    nodes.push({ name: `${prefix}_${name}`, opType, input, output: [output], attribute });
    return output;
  };
}

/** The last node's output renamed to `out`. */
function finish(nodes: Node[], out: string): Node[] {
  nodes[nodes.length - 1].output = [out];
  return nodes;
}

export function layerNormNodes(
  l: FloatLayerNorm,
  li: number,
  x: string,
  out: string,
  inits: onnx.ITensorProto[],
  sequence: boolean,
): Node[] {
  const p = `layernorm_${li}`;
  const nodes: Node[] = [];
  const n = builder(p, nodes);
  const C = l.inShape[0];
  inits.push(
    tensor(`${p}_two`, [], [2]),
    tensor(`${p}_eps`, [], [l.eps]),
    tensor(`${p}_gamma`, [C], l.gamma),
    tensor(`${p}_beta`, [C], l.beta),
  );
  const t = sequence ? n("t", "Transpose", [x], [ints("perm", [0, 2, 1])]) : x;
  const m = n("mean", "ReduceMean", [t], [ints("axes", [-1])]);
  const d = n("sub", "Sub", [t, m]);
  const v = n("var", "ReduceMean", [n("pow", "Pow", [d, `${p}_two`])], [ints("axes", [-1])]);
  const y = n("div", "Div", [d, n("sqrt", "Sqrt", [n("add_eps", "Add", [v, `${p}_eps`])])]);
  const z = n("add", "Add", [n("mul", "Mul", [y, `${p}_gamma`]), `${p}_beta`]);
  if (sequence) n("back", "Transpose", [z], [ints("perm", [0, 2, 1])]);
  return finish(nodes, out);
}

export function attentionNodes(l: FloatAttention, li: number, x: string, out: string, inits: onnx.ITensorProto[]): Node[] {
  const p = `attention_${li}`;
  const nodes: Node[] = [];
  const n = builder(p, nodes);
  const [E, L] = l.inShape;
  const H = l.heads;
  const hd = E / H;
  const transposed = (W: number[][]) => Array.from({ length: E * E }, (_, e) => W[e % E][Math.floor(e / E)]);
  inits.push(int64Tensor(`${p}_heads_shape`, [1, L, H, hd]), int64Tensor(`${p}_seq_shape`, [1, L, E]));
  const t = n("t", "Transpose", [x], [ints("perm", [0, 2, 1])]);
  const project = (k: string, W: number[][], B: number[], input: string) => {
    inits.push(tensor(`${p}_W${k}`, [E, E], transposed(W)), tensor(`${p}_B${k}`, [E], B));
    return n(`add_${k}`, "Add", [n(`matmul_${k}`, "MatMul", [input, `${p}_W${k}`]), `${p}_B${k}`]);
  };
  const heads = (k: string, v: string, perm: number[]) =>
    n(`heads_${k}`, "Transpose", [n(`split_${k}`, "Reshape", [v, `${p}_heads_shape`])], [ints("perm", perm)]);
  const q = heads("q", project("q", l.Wq, l.Bq, t), [0, 2, 1, 3]);
  const k = heads("k", project("k", l.Wk, l.Bk, t), [0, 2, 3, 1]);
  const v = heads("v", project("v", l.Wv, l.Bv, t), [0, 2, 1, 3]);
  const probs = n("softmax", "Softmax", [n("scores", "MatMul", [q, k])], [int("axis", -1)]);
  const ctx = n("ctx", "MatMul", [probs, v]);
  const merged = n("merge", "Reshape", [n("unheads", "Transpose", [ctx], [ints("perm", [0, 2, 1, 3])]), `${p}_seq_shape`]);
  n("back", "Transpose", [project("o", l.Wo, l.Bo, merged)], [ints("perm", [0, 2, 1])]);
  return finish(nodes, out);
}
