import { expect } from "chai";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { quantizeModel } from "../../scripts/engine/quantize";
import { forwardFloat } from "../../scripts/formats/float-model";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeFeatures } from "../../scripts/formats/quantized-input";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { toField } from "../../scripts/util/field";
import { circuitFromSource, precompile } from "../helpers/circuit";
import { rand, tinyTransformer } from "../helpers/transformer";

const calib = (n: number, L: number, seed: number): number[][] => {
  const g = rand(seed);
  return Array.from({ length: n }, () => Array.from({ length: L }, () => g() * 2));
};

describe("generated circuits with LayerNorm and self-attention (a one-layer transformer encoder)", function () {
  this.timeout(900_000);
  const fm = tinyTransformer("tiny-transformer", 4, 8, 2, 16, 11);
  const qm = quantizeModel(fm, calib(128, 4, 3), { bits: 8 });

  before(async function () {
    await precompile([[qm.name, await generateMainCircuit(qm)]]);
  });

  it("witness outputs equal inferQuantized on calibration-like and extreme inputs, the commitments hold, the count is the estimate", async function () {
    const c = await circuitFromSource(qm.name, await generateMainCircuit(qm));
    expect(c.compiled.constraints).to.equal(estimateConstraints(qm).constraints);
    const mc = await circuitModelCommitment(qm);
    const xs = calib(2, 4, 99).map((x) => quantizeFeatures(qm, x));
    const lim = (1n << BigInt(qm.input.bits - 1)) - 1n;
    xs.push(Array(4).fill(-lim - 1n), [lim, -lim - 1n, lim, -lim - 1n]);
    for (const [vi, x] of xs.entries()) {
      const salt = 5n + BigInt(vi);
      const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: salt.toString(), jobBinding: "9" });
      expect(c.get(w, "result"), `input ${vi}`).to.equal(inferQuantized(qm, x).output);
      expect(c.get(w, "modelCommitment")).to.equal(mc);
      expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(qm, x, salt));
      await c.expectSatisfied(w);
    }
  });

  it("the quantized model agrees with the float model's class on >= 97% of 300 inputs", function () {
    let agree = 0;
    const xs = calib(300, 4, 5);
    for (const x of xs) {
      const fl = forwardFloat(fm, x).at(-1) as number[];
      if (Number(inferQuantized(qm, quantizeFeatures(qm, x)).output) === fl.indexOf(Math.max(...fl))) agree++;
    }
    expect(agree / xs.length).to.be.at.least(0.97);
  });
});
