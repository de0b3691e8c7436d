import type { FloatDense, FloatModel } from "./float";
import { argmaxFloat, forwardFloat } from "./float";

/** Deterministic PRNG (mulberry32), so training is reproducible bit for bit. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TrainOptions {
  hidden: number[];
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** L2 weight decay; keeps weights small, which quantizes better. */
  weightDecay?: number;
}

export interface Dataset {
  x: number[][];
  y: number[];
}

/**
 * Trains an MLP (dense + ReLU, softmax cross-entropy) with Adam on already-preprocessed inputs. Deterministic for a
 * given seed.
 */
export function trainMlp(
  name: string,
  data: Dataset,
  nClasses: number,
  opts: TrainOptions,
  meta: Pick<FloatModel, "preprocess" | "classes">,
): FloatModel {
  const rand = rng(opts.seed);
  const sizes = [data.x[0].length, ...opts.hidden, nClasses];
  const layers: FloatDense[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const nIn = sizes[l];
    const nOut = sizes[l + 1];
    const scale = Math.sqrt(2 / nIn);
    layers.push({
      type: "dense",
      W: Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => (rand() * 2 - 1) * scale * Math.sqrt(3))),
      B: new Array<number>(nOut).fill(0),
      relu: l + 2 < sizes.length,
    });
  }
  const model: FloatModel = { format: "zkml-float-v1", name, inputSize: sizes[0], ...meta, layers, trainedWith: { ...opts } };
  const dense = layers;
  // Adam state
  const mW = layers.map((l) => l.W.map((r) => r.map(() => 0)));
  const vW = layers.map((l) => l.W.map((r) => r.map(() => 0)));
  const mB = layers.map((l) => l.B.map(() => 0));
  const vB = layers.map((l) => l.B.map(() => 0));
  const b1 = 0.9;
  const b2 = 0.999;
  let step = 0;
  const order = data.x.map((_, i) => i);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s = 0; s < order.length; s += opts.batchSize) {
      const batch = order.slice(s, s + opts.batchSize);
      const gW = layers.map((l) => l.W.map((r) => r.map(() => 0)));
      const gB = layers.map((l) => l.B.map(() => 0));
      for (const idx of batch) {
        const x = data.x[idx];
        const acts = forwardFloat(model, x);
        const logits = acts[acts.length - 1];
        const mx = Math.max(...logits);
        const ex = logits.map((v) => Math.exp(v - mx));
        const sum = ex.reduce((a, b) => a + b, 0);
        let delta = ex.map((e, k) => e / sum - (k === data.y[idx] ? 1 : 0));
        for (let l = layers.length - 1; l >= 0; l--) {
          const input = l === 0 ? x : acts[l - 1];
          const L = dense[l];
          for (let j = 0; j < L.W.length; j++) {
            gB[l][j] += delta[j];
            for (let i = 0; i < input.length; i++) gW[l][j][i] += delta[j] * input[i];
          }
          if (l > 0) {
            const prev = acts[l - 1];
            delta = prev.map((p, i) => {
              if (p <= 0) return 0;
              let g = 0;
              for (let j = 0; j < L.W.length; j++) g += L.W[j][i] * delta[j];
              return g;
            });
          }
        }
      }
      step++;
      const lr = opts.learningRate;
      const wd = opts.weightDecay ?? 0;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      layers.forEach((L, l) => {
        for (let j = 0; j < L.W.length; j++) {
          for (let i = 0; i < L.W[j].length; i++) {
            const g = gW[l][j][i] / batch.length + wd * L.W[j][i];
            mW[l][j][i] = b1 * mW[l][j][i] + (1 - b1) * g;
            vW[l][j][i] = b2 * vW[l][j][i] + (1 - b2) * g * g;
            L.W[j][i] -= (lr * (mW[l][j][i] / c1)) / (Math.sqrt(vW[l][j][i] / c2) + 1e-8);
          }
          const g = gB[l][j] / batch.length;
          mB[l][j] = b1 * mB[l][j] + (1 - b1) * g;
          vB[l][j] = b2 * vB[l][j] + (1 - b2) * g * g;
          L.B[j] -= (lr * (mB[l][j] / c1)) / (Math.sqrt(vB[l][j] / c2) + 1e-8);
        }
      });
    }
  }
  return model;
}

/** Top-1 accuracy of a float model on preprocessed data. */
export function accuracyFloat(m: FloatModel, d: Dataset): number {
  let ok = 0;
  d.x.forEach((x, i) => {
    const acts = forwardFloat(m, x);
    if (argmaxFloat(acts[acts.length - 1]) === d.y[i]) ok++;
  });
  return ok / d.x.length;
}
