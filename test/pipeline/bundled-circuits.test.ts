import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { fromField } from "../../scripts/util/field";
import { BUILD_DIR, ensureDir, writeFileAtomic } from "../../scripts/util/paths";
import { loadFloatModel } from "../../scripts/pipelines/build";
import { quantizeBundled } from "../../scripts/pipelines/bundled";
import { loadIris, loadMnist, loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { inputSignals, circuitModelCommitment, numPublicSignals } from "../../scripts/formats/model-layout";
import { circuitInput } from "../../scripts/engine/prove/inference";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { circuitFromFile } from "../helpers/circuit";

/**
 * Every bundled model, end to end through the pipeline: float weights -> quantize (its quantize.json) -> generated
 * circuit -> circom2 -> witness; the circuit's outputs equal the TypeScript reference on held-out samples.
 * (Only witnesses: the MNIST models' Groth16 keys belong to the benchmark.)
 */
describe("bundled models: pipeline circuit equals the TS reference", function () {
  it("temp-forecast (public input, values head): every public signal equals the reference on held-out windows", async function () {
    const fm = loadFloatModel("temp-forecast");
    const qm = quantizeBundled(fm);
    const file = path.join(ensureDir(path.join(BUILD_DIR, "bundled-circuits")), "temp-forecast.circom");
    const src = await generateMainCircuit(qm);
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== src) writeFileAtomic(file, src);
    const circuit = await circuitFromFile(file);
    const mc = await circuitModelCommitment(qm);
    for (const [i, raw] of loadSeattleTempMax()
      .test.x.filter((_, k) => k % 29 === 0)
      .entries()) {
      const x = quantizeInput(qm, fm, raw);
      const ref = inferQuantized(qm, x);
      const binding = 77n + BigInt(i);
      const w = await circuit.witness(circuitInput(x, undefined, binding, qm));
      const expected = [ref.output, mc, ...(await inputSignals(qm, x)), binding];
      expect(w.slice(1, 1 + numPublicSignals(qm)), `window ${i}`).to.deep.equal(expected);
      await circuit.expectSatisfied(w);
    }
    expect(circuit.compiled.constraints).to.equal(628);
  });

  // The MNIST circuits (18k, 34k and 153k constraints) take minutes to compile on a fresh clone: they run with
  // `npm run test:slow` (ZKML_SLOW_TESTS=1), not in `npm test`, which keeps the small models and the layer tests.
  const slow = process.env.ZKML_SLOW_TESTS === "1";
  const cases: { name: string; slow: boolean; samples: () => number[][] }[] = [
    { name: "iris-mlp", slow: false, samples: () => loadIris().test.x.slice(0, 6) },
    { name: "mnist-mlp", slow: true, samples: () => loadMnist().test.x.filter((_, i) => i % 400 === 0) },
    { name: "mnist-cnn", slow: true, samples: () => loadMnist().test.x.filter((_, i) => i % 400 === 0) },
    { name: "mnist-lenet5", slow: true, samples: () => loadMnist().test.x.filter((_, i) => i % 400 === 0) },
  ];
  for (const c of cases) {
    (c.slow && !slow ? it.skip : it)(
      `${c.name}: result, logits' maximum and both commitments${c.slow ? " (npm run test:slow)" : ""}`,
      async function () {
        const fm = loadFloatModel(c.name);
        const qm = quantizeBundled(fm);
        const file = path.join(ensureDir(path.join(BUILD_DIR, "bundled-circuits")), `${c.name}.circom`);
        const src = await generateMainCircuit(qm);
        if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== src) writeFileAtomic(file, src);
        const circuit = await circuitFromFile(file);
        const mc = await circuitModelCommitment(qm);
        for (const [i, raw] of c.samples().entries()) {
          const x = quantizeInput(qm, fm, raw);
          const ref = inferQuantized(qm, x);
          const salt = 1000n + BigInt(i);
          const w = await circuit.witness(circuitInput(x, salt, 77n, qm));
          expect(circuit.get(w, "result"), `${c.name} sample ${i}`).to.equal(ref.output);
          expect(fromField(circuit.get(w, "head.max"))).to.equal(ref.logits[Number(ref.output)]);
          expect(circuit.get(w, "modelCommitment")).to.equal(mc);
          expect(circuit.get(w, "inputCommitment")).to.equal(await inputCommitment(qm, x, salt));
          await circuit.expectSatisfied(w);
        }
        console.log(
          `      ${c.name}: ${circuit.compiled.constraints} constraints, compile ${circuit.compiled.compileSeconds.toFixed(1)} s${circuit.compiled.cached ? " (cached)" : ""}`,
        );
      },
    );
  }
});
