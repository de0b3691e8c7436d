import { expect } from "chai";
import { circuitWeightInputs, generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { quantizeModel } from "../../scripts/engine/quantize";
import { type FloatLayer, type FloatModel, forwardFloat } from "../../scripts/formats/float-model";
import { type ActivationLayer, headLayer, inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeFeatures } from "../../scripts/formats/quantized-input";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { unpackSigned } from "../../scripts/formats/commitments";
import { toField } from "../../scripts/util/field";
import { circuitFromSource, precompile } from "../helpers/circuit";

/** Seeded uniform numbers in [-1, 1). */
function rand(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
}
function dense(r: () => number, nIn: number, nOut: number, scale = 1): FloatLayer {
  return { type: "dense", W: Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => r() * scale)), B: Array.from({ length: nOut }, () => r() * 0.5), relu: false };
}
function floatModel(name: string, inputSize: number, layers: FloatLayer[], extra: Partial<FloatModel> = {}): FloatModel {
  const nOut = 3;
  return { format: "zkml-float-v1", name, inputSize, preprocess: { mean: Array(inputSize).fill(0), std: Array(inputSize).fill(1) }, classes: Array.from({ length: nOut }, (_, i) => String(i)), layers, ...extra };
}

const r = rand(7);
/** dense -> GELU -> dense -> tanh -> dense, argmax: activations between layers. */
const actMlp = floatModel("act-mlp", 4, [dense(r, 4, 6), { type: "activation", fn: "gelu" }, dense(r, 6, 5), { type: "activation", fn: "tanh" }, dense(r, 5, 3)]);
/** Logistic regression: dense 5 -> 1 -> sigmoid, a probability read through the values head. */
const logistic = floatModel("logistic", 5, [dense(r, 5, 1, 2), { type: "activation", fn: "sigmoid" }], { classes: ["p"] });
/** conv 1 -> 2, 3x3 pad 1 -> HardSwish on the image -> flatten -> dense 32 -> 3 -> LeakyReLU(0.1) -> dense 3 -> 3. */
const convAct = floatModel(
  "conv-act",
  16,
  [
    { type: "conv2d", inShape: [1, 4, 4], W: [0, 1].map(() => [[0, 1, 2].map(() => [0, 1, 2].map(() => r()))]), B: [0.1, -0.2], kernel: 3, stride: 1, padding: 1, relu: false },
    { type: "activation", fn: "hardswish" },
    { type: "flatten", inShape: [2, 4, 4] },
    dense(r, 32, 3, 0.4),
    { type: "activation", fn: "leakyrelu", alpha: 0.1 },
    dense(r, 3, 3),
  ],
  { inputShape: [1, 4, 4] },
);

/** dense -> ReLU -> dense -> softmax: a classifier read as probabilities (values head). */
const softmaxMlp = floatModel("softmax-mlp", 4, [{ ...dense(r, 4, 8), relu: true } as FloatLayer, dense(r, 8, 4, 1.5), { type: "softmax" }], {
  classes: ["a", "b", "c", "d"],
});

/** dense -> ReLU -> dense -> log_softmax: log-probabilities (values head). */
const logSoftmaxMlp = floatModel("logsoftmax-mlp", 4, [{ ...dense(r, 4, 8), relu: true } as FloatLayer, dense(r, 8, 4, 1.5), { type: "logsoftmax" }], {
  classes: ["a", "b", "c", "d"],
});

const calib = (fm: FloatModel, seed: number, n = 64): number[][] => {
  const g = rand(seed);
  return Array.from({ length: n }, () => Array.from({ length: fm.inputSize }, () => g() * 2));
};

const CASES = [
  { fm: actMlp, opts: { bits: 8 } },
  { fm: logistic, opts: { bits: 12 } },
  { fm: logistic, opts: { bits: 12, weights: "private" as const }, name: "logistic-private" },
  { fm: convAct, opts: { bits: 8 } },
  { fm: softmaxMlp, opts: { bits: 8, head: "values" as const } },
  { fm: softmaxMlp, opts: { bits: 12, head: "values" as const, weights: "private" as const }, name: "softmax-mlp-12-private" },
  { fm: logSoftmaxMlp, opts: { bits: 12, head: "values" as const } },
];

describe("generated circuits with activation, softmax and logsoftmax layers", function () {
  this.timeout(900_000);
  const models = CASES.map(({ fm, opts, name }) => {
    const qm = quantizeModel(fm, calib(fm, 3), opts);
    return name ? { ...qm, name } : qm;
  });

  before(async function () {
    await precompile(await Promise.all(models.map(async (m) => [m.name, await generateMainCircuit(m)] as const)));
  });

  it("a final sigmoid gets the values head (a probability) and an output scale that holds 1", function () {
    const qm = models[1];
    expect(qm.head).to.equal("values");
    const last = headLayer(qm) as ActivationLayer;
    expect(last.type).to.equal("activation");
    expect(2 ** last.outFrac).to.be.at.most(2 ** (last.outBits - 1) - 1);
  });

  it("every fitted activation is within one output step of its float function (measured by the quantizer)", function () {
    for (const m of models)
      for (const l of m.layers) if (l.type === "activation") expect(l.maxError, `${m.name} ${l.fn}`).to.be.at.most(2 ** -l.outFrac);
  });

  models.forEach((m, mi) => {
    describe(m.name, function () {
      it("witness outputs equal inferQuantized, the commitments hold and the constraint count is the estimate", async function () {
        const c = await circuitFromSource(m.name, await generateMainCircuit(m));
        expect(c.compiled.constraints).to.equal(estimateConstraints(m).constraints);
        const mc = await circuitModelCommitment(m);
        const fm = CASES[mi].fm;
        const xs = calib(fm, 99, 6).map((x) => quantizeFeatures(m, x));
        const lim = (1n << BigInt(m.input.bits - 1)) - 1n;
        xs.push(Array(m.input.size).fill(lim), Array(m.input.size).fill(-lim - 1n), Array(m.input.size).fill(0n));
        for (const [vi, x] of xs.entries()) {
          const salt = 77n + BigInt(vi);
          const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: salt.toString(), jobBinding: "9", ...circuitWeightInputs(m) });
          expect(c.get(w, "result"), `input ${vi}`).to.equal(inferQuantized(m, x).output);
          expect(c.get(w, "modelCommitment")).to.equal(mc);
          expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(m, x, salt));
          await c.expectSatisfied(w);
        }
      });

      it("the quantized model follows the float model (values within a few output steps, or the same class)", function () {
        const fm = CASES[mi].fm;
        const last = headLayer(m);
        let agree = 0;
        const xs = calib(fm, 5, 200);
        for (const x of xs) {
          const fl = forwardFloat(fm, x).at(-1) as number[];
          const q = inferQuantized(m, quantizeFeatures(m, x));
          if (m.head === "values") {
            const vals = unpackSigned(q.output, fl.length, last.outBits).map((v) => Number(v) / 2 ** last.outFrac);
            if (last.type === "logsoftmax") {
              // log-probabilities magnify the logits' quantization error: judge the layer on the quantized logits it
              // reads (float log-softmax of them); they saturate where the difference does (-2^(diffBits-1) steps)
              const z = q.layers[q.layers.length - 2].map((v) => Number(v) / 2 ** last.inFrac);
              const mz = Math.max(...z);
              const lse = Math.log(z.reduce((a, v) => a + Math.exp(v - mz), 0));
              const floor = -(2 ** (last.diffBits - 1)) / 2 ** last.outFrac + 1;
              vals.forEach((v, k) => {
                const want = z[k] - mz - lse;
                if (want > floor) expect(Math.abs(v - want), `x = ${x}, output ${k}`).to.be.at.most(2 * 2 ** -last.outFrac);
                else expect(v, `x = ${x}, output ${k} saturates`).to.be.at.most(floor);
              });
            } else vals.forEach((v, k) => expect(Math.abs(v - fl[k]), `x = ${x}`).to.be.below(Math.max(0.02, 2.5 * 2 ** -last.outFrac)));
            agree++;
          } else if (Number(q.output) === fl.indexOf(Math.max(...fl))) agree++;
        }
        expect(agree / xs.length).to.be.at.least(0.95);
      });
    });
  });
});
