/**
 * Training of the bundled models in plain TypeScript (no framework is installed for tests): a deterministic PRNG,
 * the MLP trainer and the general network trainer (dense, conv2d, conv1d, max and average pooling in 2-D and 1-D,
 * flatten; softmax cross-entropy, squared error or logistic loss) with their forward and backward passes and Adam on
 * mini-batches; `networkGradients` exposes the backward pass to the gradient tests. Size (about 690 lines), kept in
 * one file: the backward pass of each layer type sits beside its forward pass and shares the network's buffers.
 */
import type { FloatDense, FloatLayer, FloatModel, Shape } from "../formats/float-model";
import { argmaxFloat, forwardFloat, layerOutShape, validateFloatModel, windowOut } from "../formats/float-model";

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

/** One layer of a network to train (see {@link trainNetwork}); shapes are inferred from the input shape. */
export type LayerSpec =
  | { type: "dense"; out: number; relu: boolean }
  | { type: "conv2d"; out: number; kernel: number; stride?: number; padding?: number; relu: boolean }
  | { type: "maxpool" | "avgpool"; kernel: number; stride?: number }
  /** On a [C, 1, L] sequence: `out` channels, zero padding (PyTorch's Conv1d). */
  | { type: "conv1d"; out: number; kernel: number; stride?: number; padding?: number; relu: boolean }
  /**
   * On a [C, 1, L] sequence; stride defaults to the kernel. Padding: -infinity for max, zeros counted for average. A
   * global average over the sequence is `{ type: "avgpool1d", kernel: L }`.
   */
  | { type: "maxpool1d" | "avgpool1d"; kernel: number; stride?: number; padding?: number }
  | { type: "flatten" };

/**
 * "cross-entropy": softmax cross-entropy, `y` holds class indices. "mse": regression with one output, loss
 * (out - y)^2 / 2, `y` holds the targets. "logistic": a binary classifier with one logit z, loss log(1 + e^z) - y z
 * (`y` in {0, 1}); the trained model ends in a sigmoid `activation` layer, so it outputs the probability of class 1
 * (quantized with a values head, as a probability).
 */
export type NetworkLoss = "cross-entropy" | "mse" | "logistic";

export interface NetworkTrainOptions {
  layers: LayerSpec[];
  epochs: number;
  learningRate: number;
  /** Multiplies the learning rate after each epoch (default 1). */
  lrDecay?: number;
  batchSize: number;
  seed: number;
  /** L2 weight decay on weights (not biases). */
  weightDecay?: number;
  /**
   * [C, H, W] for image inputs (inputs are flattened CHW), [C, 1, L] for sequences (flattened c * L + x); omitted for
   * vector inputs.
   */
  inputShape?: [number, number, number];
  /** Default "cross-entropy"; see {@link NetworkLoss}. */
  loss?: NetworkLoss;
}

/** Builds a float model with He-uniform weights and zero biases for a layer spec. */
export function initNetwork(
  name: string,
  inputSize: number,
  nClasses: number,
  opts: Pick<NetworkTrainOptions, "layers" | "seed" | "inputShape">,
  meta: Pick<FloatModel, "preprocess" | "classes">,
): FloatModel {
  const rand = rng(opts.seed);
  const u = (fanIn: number) => (rand() * 2 - 1) * Math.sqrt(2 / fanIn) * Math.sqrt(3);
  let shape: Shape = opts.inputShape ? [...opts.inputShape] : [inputSize];
  const layers: FloatLayer[] = [];
  for (const [i, s] of opts.layers.entries()) {
    const need3 = (): [number, number, number] => {
      if (shape.length !== 3) throw new Error(`layers[${i}]: ${s.type} needs an image input ([C, H, W]), got [${shape}]`);
      return [shape[0], shape[1], shape[2]];
    };
    const needSeq = (): [number, number] => {
      if (shape.length !== 3 || shape[1] !== 1)
        throw new Error(`layers[${i}]: ${s.type} needs a sequence input ([C, 1, L]), got [${shape}]`);
      return [shape[0], shape[2]];
    };
    let l: FloatLayer;
    if (s.type === "dense") {
      if (shape.length !== 1) throw new Error(`layers[${i}]: dense needs a vector input, got [${shape}]; add a flatten layer`);
      const nIn = shape[0];
      l = {
        type: "dense",
        W: Array.from({ length: s.out }, () => Array.from({ length: nIn }, () => u(nIn))),
        B: new Array<number>(s.out).fill(0),
        relu: s.relu,
      };
    } else if (s.type === "conv2d") {
      const inShape = need3();
      const fan = inShape[0] * s.kernel * s.kernel;
      const W = Array.from({ length: s.out }, () =>
        Array.from({ length: inShape[0] }, () => Array.from({ length: s.kernel }, () => Array.from({ length: s.kernel }, () => u(fan)))),
      );
      l = {
        type: "conv2d",
        inShape,
        W,
        B: new Array<number>(s.out).fill(0),
        kernel: s.kernel,
        stride: s.stride ?? 1,
        padding: s.padding ?? 0,
        relu: s.relu,
      };
    } else if (s.type === "conv1d") {
      const inShape = needSeq();
      const fan = inShape[0] * s.kernel;
      l = {
        type: "conv1d",
        inShape,
        W: Array.from({ length: s.out }, () => Array.from({ length: inShape[0] }, () => Array.from({ length: s.kernel }, () => u(fan)))),
        B: new Array<number>(s.out).fill(0),
        kernel: s.kernel,
        stride: s.stride ?? 1,
        padding: s.padding ?? 0,
        relu: s.relu,
      };
    } else if (s.type === "maxpool1d" || s.type === "avgpool1d") {
      l = { type: s.type, inShape: needSeq(), kernel: s.kernel, stride: s.stride ?? s.kernel };
      if (s.padding) l.padding = s.padding;
    } else if (s.type === "flatten") {
      l = { type: "flatten", inShape: need3() };
    } else {
      l = { type: s.type, inShape: need3(), kernel: s.kernel, stride: s.stride ?? s.kernel };
    }
    layers.push(l);
    shape = layerOutShape(l, shape);
  }
  const model: FloatModel = { format: "zkml-float-v1", name, inputSize, ...meta, layers };
  if (opts.inputShape) model.inputShape = opts.inputShape;
  validateFloatModel(model);
  if (shape.length !== 1 || shape[0] !== nClasses) throw new Error(`the last layer must output ${nClasses} logits, got [${shape}]`);
  return model;
}

/** Flat parameter view of a trainable layer (dense, conv2d or conv1d). */
interface Params {
  w: Float64Array;
  b: Float64Array;
}

function flatParams(l: FloatLayer): Params | null {
  if (l.type === "dense") return { w: Float64Array.from(l.W.flat()), b: Float64Array.from(l.B) };
  if (l.type === "conv2d") return { w: Float64Array.from(l.W.flat(3)), b: Float64Array.from(l.B) };
  if (l.type === "conv1d") return { w: Float64Array.from(l.W.flat(2)), b: Float64Array.from(l.B) };
  return null;
}

function writeBack(l: FloatLayer, p: Params): void {
  if (l.type === "dense") {
    const nIn = l.W[0].length;
    l.W = l.W.map((_, j) => Array.from(p.w.subarray(j * nIn, (j + 1) * nIn)));
    l.B = Array.from(p.b);
  } else if (l.type === "conv2d") {
    const [C] = l.inShape;
    const K = l.kernel;
    l.W = l.W.map((_, o) =>
      Array.from({ length: C }, (_c, c) =>
        Array.from({ length: K }, (_k, ky) => Array.from(p.w.subarray(((o * C + c) * K + ky) * K, ((o * C + c) * K + ky + 1) * K))),
      ),
    );
    l.B = Array.from(p.b);
  } else if (l.type === "conv1d") {
    const [C] = l.inShape;
    const K = l.kernel;
    l.W = l.W.map((_, o) => Array.from({ length: C }, (_c, c) => Array.from(p.w.subarray((o * C + c) * K, (o * C + c + 1) * K))));
    l.B = Array.from(p.b);
  }
}

/**
 * The layers the trainer runs, and what it refuses (it never builds them, but {@link networkGradients} takes any
 * float model): groups and 2-D pool padding.
 */
function checkTrainable(m: FloatModel): void {
  m.layers.forEach((l, li) => {
    const ok =
      l.type === "dense" ||
      l.type === "flatten" ||
      l.type === "maxpool1d" ||
      l.type === "avgpool1d" ||
      ((l.type === "conv2d" || l.type === "conv1d") && (l.groups ?? 1) === 1) ||
      ((l.type === "maxpool" || l.type === "avgpool") && !l.padding);
    if (!ok)
      throw new Error(
        `layers[${li}]: the trainer runs dense, conv2d, conv1d (no groups), maxpool, avgpool (no padding), maxpool1d, avgpool1d and flatten layers, not this ${l.type}`,
      );
  });
}

/** A network's flat parameters and the per-sample buffers of its forward and backward passes. */
interface Net {
  layers: FloatLayer[];
  params: (Params | null)[];
  grads: (Params | null)[];
  acts: Float64Array[];
  deltas: Float64Array[];
  /** inDelta[li] is the delta of layer li's input (deltas[li - 1]); inDelta[0] is a scratch buffer. */
  inDelta: Float64Array[];
  /** Each max pool's argmax input index per output, recorded by the forward pass. */
  argIdx: (Int32Array | null)[];
}

function network(model: FloatModel): Net {
  checkTrainable(model);
  const layers = model.layers;
  const sizes = validateFloatModel(model).map((s) => s.reduce((a, b) => a * b, 1));
  const params = layers.map(flatParams);
  const deltas = sizes.map((n) => new Float64Array(n));
  return {
    layers,
    params,
    grads: params.map((p) => (p ? { w: new Float64Array(p.w.length), b: new Float64Array(p.b.length) } : null)),
    acts: sizes.map((n) => new Float64Array(n)),
    deltas,
    inDelta: [new Float64Array(model.inputSize), ...deltas],
    argIdx: layers.map((l, li) => (l.type === "maxpool" || l.type === "maxpool1d" ? new Int32Array(sizes[li]) : null)),
  };
}

/** Forward pass on flat params; records maxpool argmax indices for the backward pass. */
function forwardTrain(net: Net, x: Float64Array): void {
  const { layers, params, acts, argIdx } = net;
  let a = x;
  layers.forEach((l, li) => {
    const out = acts[li];
    const p = params[li];
    if (l.type === "dense" && p) {
      const nIn = a.length;
      for (let j = 0; j < out.length; j++) {
        let s = p.b[j];
        const off = j * nIn;
        for (let i = 0; i < nIn; i++) s += p.w[off + i] * a[i];
        out[j] = l.relu && s < 0 ? 0 : s;
      }
    } else if (l.type === "conv2d" && p) {
      const [C, H, W] = l.inShape;
      const { kernel: K, stride: S, padding: P } = l;
      const oh = windowOut(H, K, S, P);
      const ow = windowOut(W, K, S, P);
      for (let o = 0; o < l.W.length; o++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            let s = p.b[o];
            for (let c = 0; c < C; c++)
              for (let ky = 0; ky < K; ky++) {
                const iy = y * S + ky - P;
                if (iy < 0 || iy >= H) continue;
                const wo = ((o * C + c) * K + ky) * K;
                const io = (c * H + iy) * W;
                for (let kx = 0; kx < K; kx++) {
                  const ix = xx * S + kx - P;
                  if (ix >= 0 && ix < W) s += p.w[wo + kx] * a[io + ix];
                }
              }
            out[(o * oh + y) * ow + xx] = l.relu && s < 0 ? 0 : s;
          }
    } else if (l.type === "maxpool" || l.type === "avgpool") {
      const [C, H, W] = l.inShape;
      const { kernel: K, stride: S } = l;
      const oh = windowOut(H, K, S);
      const ow = windowOut(W, K, S);
      const idx = argIdx[li];
      for (let c = 0; c < C; c++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            let acc = l.type === "maxpool" ? -Infinity : 0;
            let best = -1;
            for (let ky = 0; ky < K; ky++)
              for (let kx = 0; kx < K; kx++) {
                const k = (c * H + y * S + ky) * W + xx * S + kx;
                if (l.type === "avgpool") acc += a[k];
                else if (a[k] > acc) {
                  acc = a[k];
                  best = k;
                }
              }
            const oi = (c * oh + y) * ow + xx;
            out[oi] = l.type === "maxpool" ? acc : acc / (K * K);
            if (idx) idx[oi] = best;
          }
    } else if (l.type === "conv1d" && p) {
      const [C, L] = l.inShape;
      const { kernel: K, stride: S, padding: P } = l;
      const OL = windowOut(L, K, S, P);
      for (let o = 0; o < l.W.length; o++)
        for (let ox = 0; ox < OL; ox++) {
          let s = p.b[o];
          for (let c = 0; c < C; c++) {
            const wo = (o * C + c) * K;
            for (let k = 0; k < K; k++) {
              const xi = ox * S + k - P;
              if (xi >= 0 && xi < L) s += p.w[wo + k] * a[c * L + xi];
            }
          }
          out[o * OL + ox] = l.relu && s < 0 ? 0 : s;
        }
    } else if (l.type === "maxpool1d" || l.type === "avgpool1d") {
      const [C, L] = l.inShape;
      const { kernel: K, stride: S } = l;
      const P = l.padding ?? 0;
      const OL = windowOut(L, K, S, P);
      const idx = argIdx[li];
      for (let c = 0; c < C; c++)
        for (let ox = 0; ox < OL; ox++) {
          let acc = l.type === "maxpool1d" ? -Infinity : 0;
          let best = -1;
          for (let k = 0; k < K; k++) {
            const xi = ox * S + k - P;
            if (xi < 0 || xi >= L) continue; // padding: adds 0 to the sum, never the maximum
            const v = a[c * L + xi];
            if (l.type === "avgpool1d") acc += v;
            else if (v > acc) {
              acc = v;
              best = c * L + xi;
            }
          }
          out[c * OL + ox] = l.type === "maxpool1d" ? acc : acc / K;
          if (idx) idx[c * OL + ox] = best;
        }
    } else {
      out.set(a);
    }
    a = out;
  });
}

/**
 * Writes dLoss/dOutput of one sample into `dl` (the last layer's delta) and returns its loss.
 * @throws Error when the label does not fit the loss.
 */
function outputDelta(loss: NetworkLoss, out: Float64Array, y: number, dl: Float64Array): number {
  if (loss === "mse") {
    const e = out[0] - y;
    dl[0] = e;
    return (e * e) / 2;
  }
  if (loss === "logistic") {
    if (y !== 0 && y !== 1) throw new Error(`loss "logistic" takes labels 0 and 1, got ${y}`);
    const z = out[0];
    dl[0] = 1 / (1 + Math.exp(-z)) - y;
    return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y * z;
  }
  let mx = -Infinity;
  for (const v of out) mx = Math.max(mx, v);
  let sum = 0;
  for (const v of out) sum += Math.exp(v - mx);
  for (let k = 0; k < out.length; k++) dl[k] = Math.exp(out[k] - mx) / sum - (k === y ? 1 : 0);
  return -(out[y] - mx - Math.log(sum));
}

/**
 * Backward pass of one sample after {@link forwardTrain}: from the last layer's delta, adds every parameter's
 * gradient into `net.grads` (deltas are overwritten).
 */
function backwardTrain(net: Net, x: Float64Array): void {
  const { layers, params, grads, acts, deltas, inDelta, argIdx } = net;
  for (let li = layers.length - 1; li >= 0; li--) {
    const l = layers[li];
    const d = deltas[li];
    const out = acts[li];
    const input = li === 0 ? x : acts[li - 1];
    const dIn = li === 0 ? null : inDelta[li];
    const p = params[li];
    const g = grads[li];
    if ((l.type === "dense" || l.type === "conv2d" || l.type === "conv1d") && l.relu)
      for (let k = 0; k < d.length; k++) if (out[k] <= 0) d[k] = 0;
    if (l.type === "dense" && p && g) {
      const nIn = input.length;
      dIn?.fill(0);
      for (let j = 0; j < d.length; j++) {
        const dj = d[j];
        if (dj === 0) continue;
        g.b[j] += dj;
        const off = j * nIn;
        for (let i = 0; i < nIn; i++) g.w[off + i] += dj * input[i];
        if (dIn) for (let i = 0; i < nIn; i++) dIn[i] += p.w[off + i] * dj;
      }
    } else if (l.type === "conv2d" && p && g) {
      const [C, H, W] = l.inShape;
      const { kernel: K, stride: S, padding: P } = l;
      const oh = windowOut(H, K, S, P);
      const ow = windowOut(W, K, S, P);
      dIn?.fill(0);
      for (let o = 0; o < l.W.length; o++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            const dv = d[(o * oh + y) * ow + xx];
            if (dv === 0) continue;
            g.b[o] += dv;
            for (let c = 0; c < C; c++)
              for (let ky = 0; ky < K; ky++) {
                const iy = y * S + ky - P;
                if (iy < 0 || iy >= H) continue;
                const wo = ((o * C + c) * K + ky) * K;
                const io = (c * H + iy) * W;
                for (let kx = 0; kx < K; kx++) {
                  const ix = xx * S + kx - P;
                  if (ix < 0 || ix >= W) continue;
                  g.w[wo + kx] += dv * input[io + ix];
                  if (dIn) dIn[io + ix] += p.w[wo + kx] * dv;
                }
              }
          }
    } else if (l.type === "conv1d" && p && g) {
      const [C, L] = l.inShape;
      const { kernel: K, stride: S, padding: P } = l;
      const OL = windowOut(L, K, S, P);
      dIn?.fill(0);
      for (let o = 0; o < l.W.length; o++)
        for (let ox = 0; ox < OL; ox++) {
          const dv = d[o * OL + ox];
          if (dv === 0) continue;
          g.b[o] += dv;
          for (let c = 0; c < C; c++) {
            const wo = (o * C + c) * K;
            for (let k = 0; k < K; k++) {
              const xi = ox * S + k - P;
              if (xi < 0 || xi >= L) continue;
              g.w[wo + k] += dv * input[c * L + xi];
              if (dIn) dIn[c * L + xi] += p.w[wo + k] * dv;
            }
          }
        }
    } else if (dIn && (l.type === "maxpool" || l.type === "maxpool1d")) {
      dIn.fill(0);
      const idx = argIdx[li] as Int32Array;
      for (let k = 0; k < d.length; k++) dIn[idx[k]] += d[k];
    } else if (dIn && l.type === "avgpool") {
      const [C, H, W] = l.inShape;
      const { kernel: K, stride: S } = l;
      const oh = windowOut(H, K, S);
      const ow = windowOut(W, K, S);
      dIn.fill(0);
      for (let c = 0; c < C; c++)
        for (let y = 0; y < oh; y++)
          for (let xx = 0; xx < ow; xx++) {
            const dv = d[(c * oh + y) * ow + xx] / (K * K);
            for (let ky = 0; ky < K; ky++) for (let kx = 0; kx < K; kx++) dIn[(c * H + y * S + ky) * W + xx * S + kx] += dv;
          }
    } else if (dIn && l.type === "avgpool1d") {
      const [C, L] = l.inShape;
      const { kernel: K, stride: S } = l;
      const P = l.padding ?? 0;
      const OL = windowOut(L, K, S, P);
      dIn.fill(0);
      for (let c = 0; c < C; c++)
        for (let ox = 0; ox < OL; ox++) {
          const dv = d[c * OL + ox] / K;
          for (let k = 0; k < K; k++) {
            const xi = ox * S + k - P;
            if (xi >= 0 && xi < L) dIn[c * L + xi] += dv;
          }
        }
    } else if (dIn) {
      dIn.set(d);
    }
  }
}

/**
 * The loss of a network on preprocessed samples and its gradient with respect to every weight and bias (summed over
 * the samples), by the trainer's own forward and backward passes: what the tests check against finite differences
 * of {@link forwardFloat}. `W` is flattened as the layer stores it (`W.flat()`); null for a layer without weights.
 * With loss "logistic", `model` ends at the logit (the sigmoid the trainer appends is not part of it).
 * @throws Error naming a layer the trainer does not run.
 */
export function networkGradients(
  model: FloatModel,
  data: Dataset,
  loss: NetworkLoss = "cross-entropy",
): { loss: number; grads: ({ W: number[]; B: number[] } | null)[] } {
  const net = network(model);
  let sum = 0;
  data.x.forEach((row, i) => {
    const x = Float64Array.from(row);
    forwardTrain(net, x);
    sum += outputDelta(loss, net.acts[net.acts.length - 1], data.y[i], net.deltas[net.deltas.length - 1]);
    backwardTrain(net, x);
  });
  return { loss: sum, grads: net.grads.map((g) => (g ? { W: Array.from(g.w), B: Array.from(g.b) } : null)) };
}

/**
 * Trains a network of dense, conv2d, conv1d, max and average pooling (2-D and 1-D) and flatten layers (softmax
 * cross-entropy; squared error for a one-output regression with `loss: "mse"`; a one-logit binary classifier with
 * `loss: "logistic"`, which gets a final sigmoid; Adam, mini-batches) on already-preprocessed inputs. Deterministic
 * for a given seed. The last layer of the spec must be dense without ReLU.
 * @throws Error naming the layer when the spec does not fit the input shape.
 */
export function trainNetwork(
  name: string,
  data: Dataset,
  nClasses: number,
  opts: NetworkTrainOptions,
  meta: Pick<FloatModel, "preprocess" | "classes">,
  onEpoch?: (epoch: number, loss: number) => void,
): FloatModel {
  const loss = opts.loss ?? "cross-entropy";
  if (loss !== "cross-entropy" && nClasses !== 1)
    throw new Error(
      `loss "${loss}" trains one output (${loss === "mse" ? "a regression target" : "the logit of class 1"}); got ${nClasses} outputs`,
    );
  const model = initNetwork(name, data.x[0].length, nClasses, opts, meta);
  if (loss === "mse") model.task = "regression";
  const net = network(model);
  const { layers, params, grads } = net;
  const m1 = params.map((p) => (p ? { w: new Float64Array(p.w.length), b: new Float64Array(p.b.length) } : null));
  const m2 = params.map((p) => (p ? { w: new Float64Array(p.w.length), b: new Float64Array(p.b.length) } : null));
  const dl = net.deltas[net.deltas.length - 1];
  const rand = rng(opts.seed ^ 0x5eed);
  const b1 = 0.9;
  const b2 = 0.999;
  const wd = opts.weightDecay ?? 0;
  let lr = opts.learningRate;
  let step = 0;
  const order = data.x.map((_, i) => i);
  const xs = data.x.map((r) => Float64Array.from(r));
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let s = 0; s < order.length; s += opts.batchSize) {
      const batch = order.slice(s, s + opts.batchSize);
      for (const g of grads) {
        g?.w.fill(0);
        g?.b.fill(0);
      }
      for (const idx of batch) {
        const x = xs[idx];
        forwardTrain(net, x);
        lossSum += outputDelta(loss, net.acts[net.acts.length - 1], data.y[idx], dl);
        backwardTrain(net, x);
      }
      step++;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      params.forEach((p, li) => {
        const g = grads[li];
        const ma = m1[li];
        const va = m2[li];
        if (!p || !g || !ma || !va) return;
        const upd = (w: Float64Array, gw: Float64Array, m: Float64Array, v: Float64Array, decay: number) => {
          for (let k = 0; k < w.length; k++) {
            const gk = gw[k] / batch.length + decay * w[k];
            m[k] = b1 * m[k] + (1 - b1) * gk;
            v[k] = b2 * v[k] + (1 - b2) * gk * gk;
            w[k] -= (lr * (m[k] / c1)) / (Math.sqrt(v[k] / c2) + 1e-8);
          }
        };
        upd(p.w, g.w, ma.w, va.w, wd);
        upd(p.b, g.b, ma.b, va.b, 0);
      });
    }
    onEpoch?.(epoch, lossSum / order.length);
    lr *= opts.lrDecay ?? 1;
  }
  layers.forEach((l, li) => {
    const p = params[li];
    if (p) writeBack(l, p);
  });
  if (loss === "logistic") {
    layers.push({ type: "activation", fn: "sigmoid" });
    validateFloatModel(model);
  }
  model.trainedWith = { optimizer: "adam", ...opts, layers: opts.layers };
  return model;
}
