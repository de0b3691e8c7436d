import { expect } from "chai";
import { type FloatModel, forwardFloat } from "../../scripts/formats/float-model";
import { type LayerSpec, type NetworkLoss, initNetwork, networkGradients, rng, trainNetwork } from "../../scripts/engine/train";

/**
 * The network trainer's backward pass (scripts/engine/train.ts) against central finite differences of the loss
 * computed by `forwardFloat` (scripts/formats/float-model.ts), an independent forward pass: every weight and bias of
 * every trainable layer, for dense, conv2d (stride, padding), 2-D max and average pooling, conv1d (stride, padding),
 * maxpool1d and avgpool1d (padding, a global average), flatten, and the three losses.
 */

/** Every number of a nested array, as get/set handles in row-major order (the order of `W.flat(depth)`). */
function leaves(a: unknown[]): { get: () => number; set: (v: number) => void }[] {
  return a.flatMap((v, i) =>
    Array.isArray(v) ? leaves(v as unknown[]) : [{ get: () => a[i] as number, set: (n: number) => void (a[i] = n) }],
  );
}

/** The loss of one sample from the model's output, written out independently of the trainer's. */
function lossOf(loss: NetworkLoss, out: number[], y: number): number {
  if (loss === "mse") return (out[0] - y) ** 2 / 2;
  if (loss === "logistic") return Math.log(1 + Math.exp(out[0])) - y * out[0];
  const m = Math.max(...out);
  return -(out[y] - m - Math.log(out.reduce((s, v) => s + Math.exp(v - m), 0)));
}

function totalLoss(m: FloatModel, xs: number[][], ys: number[], loss: NetworkLoss): number {
  return xs.reduce((s, x, i) => s + lossOf(loss, forwardFloat(m, x).at(-1) as number[], ys[i]), 0);
}

interface Case {
  name: string;
  inputSize: number;
  inputShape?: [number, number, number];
  layers: LayerSpec[];
  nOut: number;
  loss: NetworkLoss;
}

const CASES: Case[] = [
  {
    name: "dense + ReLU, softmax cross-entropy",
    inputSize: 5,
    layers: [
      { type: "dense", out: 6, relu: true },
      { type: "dense", out: 3, relu: false },
    ],
    nOut: 3,
    loss: "cross-entropy",
  },
  {
    name: "conv2d (stride 2, padding 1) + ReLU -> maxpool -> conv2d -> avgpool -> flatten -> dense, cross-entropy",
    inputSize: 2 * 9 * 9,
    inputShape: [2, 9, 9],
    layers: [
      { type: "conv2d", out: 3, kernel: 3, stride: 2, padding: 1, relu: true },
      { type: "maxpool", kernel: 2, stride: 1 },
      { type: "conv2d", out: 2, kernel: 2, relu: false },
      { type: "avgpool", kernel: 2 },
      { type: "flatten" },
      { type: "dense", out: 3, relu: false },
    ],
    nOut: 3,
    loss: "cross-entropy",
  },
  {
    name: "conv1d (padding 1) + ReLU -> maxpool1d (k 3, stride 2, padding 1) -> conv1d (stride 2) -> avgpool1d (padding 1) -> flatten -> dense, squared error",
    inputSize: 3 * 16,
    inputShape: [3, 1, 16],
    layers: [
      { type: "conv1d", out: 4, kernel: 3, padding: 1, relu: true },
      { type: "maxpool1d", kernel: 3, stride: 2, padding: 1 },
      { type: "conv1d", out: 3, kernel: 2, stride: 2, relu: true },
      { type: "avgpool1d", kernel: 2, stride: 1, padding: 1 },
      { type: "flatten" },
      { type: "dense", out: 1, relu: false },
    ],
    nOut: 1,
    loss: "mse",
  },
  {
    name: "conv1d (kernel 5) -> global average over the sequence (avgpool1d of the whole length) -> dense, logistic",
    inputSize: 4 * 12,
    inputShape: [4, 1, 12],
    layers: [
      { type: "conv1d", out: 5, kernel: 5, relu: true },
      { type: "avgpool1d", kernel: 8 },
      { type: "flatten" },
      { type: "dense", out: 1, relu: false },
    ],
    nOut: 1,
    loss: "logistic",
  },
];

/** A model of the case with random (non-zero) biases, and a few random samples with labels. */
function setup(c: Case, seed: number) {
  const m = initNetwork(
    "grad-check",
    c.inputSize,
    c.nOut,
    { layers: c.layers, seed, inputShape: c.inputShape },
    {
      preprocess: { mean: new Array<number>(c.inputSize).fill(0), std: new Array<number>(c.inputSize).fill(1) },
      classes: Array.from({ length: c.nOut }, (_, k) => `c${k}`),
    },
  );
  const r = rng(seed + 1);
  for (const l of m.layers) if ("B" in l) l.B = l.B.map(() => r() * 0.4 - 0.2);
  const xs = Array.from({ length: 3 }, () => Array.from({ length: c.inputSize }, () => r() * 2 - 1));
  const ys = xs.map((_, i) => (c.loss === "mse" ? r() * 2 - 1 : c.loss === "logistic" ? i % 2 : i % c.nOut));
  return { m, xs, ys };
}

/** Largest |backprop - finite difference| / (1e-6 + |finite difference|) over every parameter, and how many were checked. */
function compare(m: FloatModel, xs: number[][], ys: number[], loss: NetworkLoss, grads: ({ W: number[]; B: number[] } | null)[]) {
  const eps = 1e-5;
  let worst = 0;
  let checked = 0;
  m.layers.forEach((l, li) => {
    const g = grads[li];
    if (!("W" in l) || !g) return;
    const pairs: [ReturnType<typeof leaves>, number[]][] = [
      [leaves(l.W as unknown[]), g.W],
      [leaves(l.B), g.B],
    ];
    for (const [handles, analytic] of pairs) {
      expect(analytic.length).to.equal(handles.length);
      handles.forEach((h, k) => {
        const v = h.get();
        h.set(v + eps);
        const up = totalLoss(m, xs, ys, loss);
        h.set(v - eps);
        const down = totalLoss(m, xs, ys, loss);
        h.set(v);
        const fd = (up - down) / (2 * eps);
        worst = Math.max(worst, Math.abs(analytic[k] - fd) / (1e-6 + Math.abs(fd)));
        checked++;
      });
    }
  });
  return { worst, checked };
}

describe("network trainer: backward pass vs finite differences (scripts/engine/train.ts)", function () {
  for (const c of CASES) {
    it(c.name, function () {
      const { m, xs, ys } = setup(c, 11);
      const { loss, grads } = networkGradients(m, { x: xs, y: ys }, c.loss);
      expect(loss).to.be.closeTo(totalLoss(m, xs, ys, c.loss), 1e-9);
      // every trainable layer gets a gradient that is not all zero (the check is not vacuous)
      m.layers.forEach((l, li) => {
        if ("W" in l)
          expect(
            grads[li]?.W.some((v) => v !== 0),
            `layers[${li}] (${l.type}) has an all-zero gradient`,
          ).to.equal(true);
      });
      const { worst, checked } = compare(m, xs, ys, c.loss, grads);
      expect(checked).to.be.above(10);
      expect(worst).to.be.below(1e-4);
    });
  }

  it("the comparison catches one wrong gradient entry, in a 1-D layer's weights and in a bias", function () {
    const c = CASES[2];
    const { m, xs, ys } = setup(c, 11);
    const { grads } = networkGradients(m, { x: xs, y: ys }, c.loss);
    const conv = grads[2] as { W: number[]; B: number[] };
    const k = conv.W.findIndex((v) => Math.abs(v) > 1e-3);
    conv.W[k] *= 1.01;
    expect(compare(m, xs, ys, c.loss, grads).worst).to.be.above(1e-3);
    conv.W[k] /= 1.01;
    conv.B[0] += 1e-3;
    expect(compare(m, xs, ys, c.loss, grads).worst).to.be.above(1e-4);
  });

  it("refuses a layer it does not run, naming it", function () {
    const { m, xs, ys } = setup(CASES[2], 11);
    const data = { x: xs, y: ys };
    const grouped: FloatModel = { ...m, layers: m.layers.map((l, i) => (i === 2 && l.type === "conv1d" ? { ...l, groups: 2 } : l)) };
    expect(() => networkGradients(grouped, data, "mse")).to.throw(/^layers\[2\]: the trainer runs .* not this conv1d$/);
    const withSigmoid: FloatModel = { ...m, layers: [...m.layers, { type: "activation", fn: "sigmoid" }] };
    expect(() => networkGradients(withSigmoid, data, "mse")).to.throw(/^layers\[6\]: the trainer runs .* not this activation$/);
  });

  it("trains a sequence classifier deterministically; the logistic loss appends a sigmoid (probabilities)", function () {
    // label: does channel 0 rise over the sequence's second half? (learnable by a conv1d)
    const r = rng(5);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 200; i++) {
      const up = i % 2;
      const row = Array.from({ length: 2 * 8 }, () => r() - 0.5);
      for (let t = 4; t < 8; t++) row[t] += up ? (t - 3) * 0.5 : -(t - 3) * 0.5;
      x.push(row);
      y.push(up);
    }
    const opts = {
      layers: [
        { type: "conv1d", out: 4, kernel: 3, padding: 1, relu: true },
        { type: "maxpool1d", kernel: 2 },
        { type: "flatten" },
        { type: "dense", out: 1, relu: false },
      ] as LayerSpec[],
      inputShape: [2, 1, 8] as [number, number, number],
      epochs: 15,
      learningRate: 0.01,
      batchSize: 16,
      seed: 3,
      loss: "logistic" as const,
    };
    const meta = { preprocess: { mean: new Array<number>(16).fill(0), std: new Array<number>(16).fill(1) }, classes: ["rises"] };
    const losses: number[] = [];
    const a = trainNetwork("seq", { x, y }, 1, opts, meta, (_e, l) => losses.push(l));
    const b = trainNetwork("seq", { x, y }, 1, opts, meta);
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    expect(a.layers.map((l) => l.type)).to.deep.equal(["conv1d", "maxpool1d", "flatten", "dense", "activation"]);
    expect(a.layers.at(-1)).to.deep.equal({ type: "activation", fn: "sigmoid" });
    expect(losses[losses.length - 1]).to.be.below(losses[0] / 2);
    const acc = x.filter((row, i) => Number((forwardFloat(a, row).at(-1) as number[])[0] >= 0.5) === y[i]).length / x.length;
    expect(acc).to.be.above(0.9);
    expect(() => trainNetwork("seq", { x, y: y.map(() => 2) }, 1, opts, meta)).to.throw(/loss "logistic" takes labels 0 and 1, got 2/);
    expect(() => trainNetwork("seq", { x, y }, 2, opts, meta)).to.throw(/loss "logistic" trains one output/);
  });

  it("names the layer whose input does not fit a 1-D layer", function () {
    const meta = { preprocess: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] }, classes: ["a"] };
    expect(() => initNetwork("v", 4, 1, { layers: [{ type: "conv1d", out: 2, kernel: 2, relu: true }], seed: 1 }, meta)).to.throw(
      "layers[0]: conv1d needs a sequence input ([C, 1, L]), got [4]",
    );
    expect(() => initNetwork("v", 4, 1, { layers: [{ type: "maxpool1d", kernel: 2 }], seed: 1, inputShape: [1, 2, 2] }, meta)).to.throw(
      "layers[0]: maxpool1d needs a sequence input ([C, 1, L]), got [1,2,2]",
    );
  });
});
