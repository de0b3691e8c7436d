import type { FloatLayer, FloatModel } from "../../scripts/formats/float-model";

/** Seeded uniform numbers in [-1, 1). */
export function rand(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
}

/**
 * A one-layer post-norm transformer encoder classifier on a numeric sequence of L values, as PyTorch's
 * nn.TransformerEncoderLayer computes it: a kernel-1 embedding, self-attention + residual + LayerNorm, a ReLU
 * feed-forward + residual + LayerNorm, the mean over the sequence and a linear head.
 */
export function tinyTransformer(name: string, L: number, E: number, H: number, F: number, seed: number): FloatModel {
  const r = rand(seed);
  const mat = (rows: number, cols: number, s: number) => Array.from({ length: rows }, () => Array.from({ length: cols }, () => r() * s));
  const vec = (n: number, s: number) => Array.from({ length: n }, () => r() * s);
  const conv = (C: number, O: number, relu: boolean): FloatLayer => ({
    type: "conv1d",
    inShape: [C, L],
    W: mat(O, C, 1 / Math.sqrt(C)).map((row) => row.map((w) => [w])),
    B: vec(O, 0.1),
    kernel: 1,
    stride: 1,
    padding: 0,
    relu,
  });
  const s = 1 / Math.sqrt(E);
  const q = 1 / Math.sqrt(E / H);
  const norm = (): FloatLayer => ({
    type: "layernorm",
    inShape: [E, L],
    gamma: vec(E, 0.3).map((v) => 1 + v),
    beta: vec(E, 0.1),
    eps: 1e-5,
  });
  const layers: FloatLayer[] = [
    conv(1, E, false),
    {
      type: "attention",
      inShape: [E, L],
      heads: H,
      Wq: mat(E, E, 2 * s * q),
      Bq: vec(E, 0.1 * q),
      Wk: mat(E, E, 2 * s),
      Bk: vec(E, 0.1),
      Wv: mat(E, E, s),
      Bv: vec(E, 0.1),
      Wo: mat(E, E, s),
      Bo: vec(E, 0.1),
    },
    { type: "add", from: 0, relu: false },
    norm(),
    conv(E, F, true),
    conv(F, E, false),
    { type: "add", from: 3, relu: false },
    norm(),
    { type: "avgpool1d", inShape: [E, L], kernel: L, stride: 1 },
    { type: "flatten", inShape: [E, 1, 1] },
    { type: "dense", W: mat(3, E, 1), B: vec(3, 0.1), relu: false },
  ];
  return {
    format: "zkml-float-v1",
    name,
    inputSize: L,
    inputShape: [1, 1, L],
    preprocess: { mean: Array(L).fill(0), std: Array(L).fill(1) },
    classes: ["a", "b", "c"],
    layers,
  };
}
