import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { BUILD_DIR, ROOT, ensureDir, writeFileAtomic } from "../../scripts/util/paths";
import { loadFloatModel } from "../../scripts/pipelines/build";
import { quantizeBundled } from "../../scripts/pipelines/bundled";
import { WEATHER_WINDOW, loadSeattleWeatherSeries } from "../../scripts/pipelines/datasets";
import { trainWeatherCnn } from "../../scripts/pipelines/train-bundled";
import { evaluateRegression } from "../../scripts/engine/quantize";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { circuitInput } from "../../scripts/engine/prove/inference";
import { circuitModelCommitment, describeOutput, inputSignals, numPublicSignals } from "../../scripts/formats/model-layout";
import { inferQuantized, type QuantizedModel } from "../../scripts/formats/quantized-model";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { circuitFromFile } from "../helpers/circuit";

/**
 * The bundled weather-cnn model (README, "Bundled models"): a conv1d sequence model trained by the project's own
 * trainer; reproducible training, its quantization, figures, and its circuit against the TS reference.
 */
describe("bundled weather-cnn (conv1d on 14 days x 4 channels, regression, public input, values head)", function () {
  const dir = path.join(ROOT, "models", "weather-cnn");
  const fm = loadFloatModel("weather-cnn");
  const data = loadSeattleWeatherSeries();
  const qm = quantizeBundled(fm);

  it("npm run train reproduces the committed float model exactly (deterministic training)", function () {
    expect(JSON.parse(JSON.stringify(trainWeatherCnn(data)))).to.deep.equal(fm);
    expect(fm.layers.map((l) => l.type)).to.deep.equal(["conv1d", "avgpool1d", "flatten", "dense"]);
    expect(fm.inputShape).to.deep.equal([4, 1, WEATHER_WINDOW]);
    // one mean and one std per channel, repeated over its 14 days
    for (let c = 0; c < 4; c++) {
      const block = fm.preprocess.mean.slice(c * WEATHER_WINDOW, (c + 1) * WEATHER_WINDOW);
      expect(new Set(block).size).to.equal(1);
    }
  });

  it("quantizes to the committed model with its constraint count, and beats persistence on the held-out windows", function () {
    expect(qm).to.deep.equal(JSON.parse(fs.readFileSync(path.join(dir, "weather-cnn.qmodel.json"), "utf8")) as QuantizedModel);
    expect(qm.input).to.deep.equal({ size: 56, bits: 12, frac: 8, mode: "public", shape: [4, 1, 14] });
    expect(qm.head).to.equal("values");
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "weather-cnn.manifest.json"), "utf8")) as { constraints: number };
    expect(estimateConstraints(qm).constraints).to.equal(manifest.constraints);
    const r = evaluateRegression(fm, qm, data.test);
    // persistence: tomorrow's temp_max = today's (the last day of channel 1)
    const persistence = data.test.x.reduce((s, x, i) => s + Math.abs(x[2 * WEATHER_WINDOW - 1] - data.test.y[i]), 0) / r.n;
    const range = Math.max(...data.test.y) - Math.min(...data.test.y);
    console.log(
      `      weather-cnn: n ${r.n}, MAE vs truth float ${r.floatMae.toFixed(4)} °C, quantized ${r.quantizedMae.toFixed(4)} °C (persistence ${persistence.toFixed(4)}); ` +
        `quantized vs float mean ${r.quantizationMae.toFixed(4)}, worst ${r.quantizationMaxError.toFixed(4)} °C (range ${range.toFixed(1)} °C); ${manifest.constraints} constraints`,
    );
    expect(r.n).to.equal(289);
    expect(r.floatMae).to.be.below(persistence - 0.05);
    expect(r.quantizedMae).to.be.below(persistence - 0.05);
    expect(r.quantizationMae).to.be.at.most(0.01 * range); // <= 1% of the output range (measured: 0.06%)
    expect(r.quantizationMaxError).to.be.below(0.06);
    // what a consumer reads: the forecast after a held-out fortnight
    const x = quantizeInput(qm, fm, data.test.x[0]);
    expect(describeOutput(qm, inferQuantized(qm, x).output)).to.match(/^temp_max_next_day \d+\.\d+ \(\d+ \/ 2\^9\)$/);
  });

  it("its circuit's public signals equal the TS reference on held-out windows", async function () {
    const file = path.join(ensureDir(path.join(BUILD_DIR, "bundled-circuits")), "weather-cnn.circom");
    const src = await generateMainCircuit(qm);
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== src) writeFileAtomic(file, src);
    const circuit = await circuitFromFile(file);
    const mc = await circuitModelCommitment(qm);
    for (const [i, raw] of data.test.x.filter((_, k) => k % 48 === 0).entries()) {
      const x = quantizeInput(qm, fm, raw);
      const ref = inferQuantized(qm, x);
      const binding = 91n + BigInt(i);
      const w = await circuit.witness(circuitInput(x, undefined, binding, qm));
      expect(w.slice(1, 1 + numPublicSignals(qm)), `window ${i}`).to.deep.equal([ref.output, mc, ...(await inputSignals(qm, x)), binding]);
      await circuit.expectSatisfied(w);
    }
    expect(circuit.compiled.constraints).to.equal(5145);
  });
});
