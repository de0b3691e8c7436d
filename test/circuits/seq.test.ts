import { expect } from "chai";
import fc from "fast-check";
import { circuitWeightInputs, generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { quantizeModel } from "../../scripts/engine/quantize";
import { type FloatModel, forwardFloat } from "../../scripts/formats/float-model";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeFeatures } from "../../scripts/formats/quantized-input";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { toField } from "../../scripts/util/field";
import { type Circuit, circuitFromSource, precompile } from "../helpers/circuit";

function rand(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** [2, 16] -> conv1d 2->4 k3 p1 ReLU -> maxpool1d 2 -> conv1d 4->4 k3 p1, 2 groups -> avgpool1d 2 (pad 1, stride 2) -> flatten -> dense -> 3. */
function seqModel(): FloatModel {
  const r = rand(11);
  const W = (oc: number, c: number, k: number) => Array.from({ length: oc }, () => Array.from({ length: c }, () => Array.from({ length: k }, () => r() * 0.8)));
  return {
    format: "zkml-float-v1",
    name: "tiny-seq",
    inputSize: 32,
    inputShape: [2, 1, 16],
    preprocess: { mean: Array(32).fill(0), std: Array(32).fill(1) },
    classes: ["a", "b", "c"],
    layers: [
      { type: "conv1d", inShape: [2, 16], W: W(4, 2, 3), B: [0.1, -0.1, 0.2, 0], kernel: 3, stride: 1, padding: 1, relu: true },
      { type: "maxpool1d", inShape: [4, 16], kernel: 2, stride: 2 },
      { type: "conv1d", inShape: [4, 8], groups: 2, W: W(4, 2, 3), B: [0, 0.1, 0, -0.2], kernel: 3, stride: 1, padding: 1, relu: false },
      { type: "avgpool1d", inShape: [4, 8], kernel: 2, stride: 2, padding: 1 },
      { type: "flatten", inShape: [4, 1, 5] },
      { type: "dense", W: Array.from({ length: 3 }, () => Array.from({ length: 20 }, () => r() * 0.5)), B: [0, 0.1, -0.1], relu: false },
    ],
  };
}

describe("sequence layers: conv1d, maxpool1d, avgpool1d (circuits/lib/seq.circom)", function () {
  this.timeout(900_000);
  const fm = seqModel();
  const r = rand(5);
  const calib = Array.from({ length: 64 }, () => Array.from({ length: 32 }, () => r() * 2));
  const quantized = (["open", "private"] as const).map((weights) => ({ ...quantizeModel(fm, calib, { bits: 8, weights }), name: `tiny-seq-${weights}` }));
  before(async function () {
    await precompile(await Promise.all(quantized.map(async (qm) => [qm.name, await generateMainCircuit(qm)] as const)));
  });
  for (const qm of quantized) {
    const weights = qm.weights;
    describe(`${weights} weights`, function () {
      let c: Circuit;
      before(async function () {
        c = await circuitFromSource(qm.name, await generateMainCircuit(qm));
      });
      it("compiles to exactly estimateConstraints", function () {
        expect(c.compiled.constraints).to.equal(estimateConstraints(qm).constraints);
        console.log(`      tiny-seq (${weights}): ${c.compiled.constraints} constraints`);
      });
      it("the witness equals inferQuantized (fast-check) with its model and input commitments", async function () {
        const mc = await circuitModelCommitment(qm);
        await fc.assert(
          fc.asyncProperty(fc.array(fc.bigInt({ min: -128n, max: 127n }), { minLength: 32, maxLength: 32 }), async (x) => {
            const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: "5", jobBinding: "3", ...circuitWeightInputs(qm) });
            expect(c.get(w, "result")).to.equal(inferQuantized(qm, x).output);
            expect(c.get(w, "modelCommitment")).to.equal(mc);
            expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(qm, x, 5n));
          }),
          { numRuns: 15 },
        );
      });
      it("rejects a flipped comparison in the sequence max pooling (a Max2 bit of layer 1)", async function () {
        const x = Array.from({ length: 32 }, (_, i) => BigInt(((i * 37) % 200) - 100));
        const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: "5", jobBinding: "3", ...circuitWeightInputs(qm) });
        await c.expectRejected(w, { "l1.mx[0].bit[0]": 1n - c.get(w, "l1.mx[0].bit[0]") });
      });
      it("the quantized model follows the float one", function () {
        let agree = 0;
        for (const x of calib) {
          const f = forwardFloat(fm, x).at(-1) as number[];
          if (Number(inferQuantized(qm, quantizeFeatures(qm, x)).output) === f.indexOf(Math.max(...f))) agree++;
        }
        expect(agree / calib.length).to.be.at.least(0.9);
      });
    });
  }
});
