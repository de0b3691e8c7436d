import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/util/paths";
import { loadFloatModel } from "../../scripts/pipelines/build";
import { quantizeBundled } from "../../scripts/pipelines/bundled";
import { loadSeattleRain, RAIN_FEATURES, identityPreprocess } from "../../scripts/pipelines/datasets";
import { trainBoostedClassifier } from "../../scripts/engine/train-trees";
import { evaluateProbability } from "../../scripts/engine/quantize";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { describeOutput } from "../../scripts/formats/model-layout";
import { inferQuantized, type QuantizedModel } from "../../scripts/formats/quantized-model";
import { quantizeInput } from "../../scripts/formats/quantized-input";

/** The bundled rain-risk model (README, "Bundled models"): reproducible training, its quantization and figures. */
describe("bundled rain-risk (gradient-boosted trees + sigmoid, public input, values head)", function () {
  const dir = path.join(ROOT, "models", "rain-risk");
  const fm = loadFloatModel("rain-risk");
  const data = loadSeattleRain();

  it("npm run train reproduces the committed float model exactly (deterministic boosting)", function () {
    const again = trainBoostedClassifier(
      "rain-risk",
      data.train,
      { trees: 20, depth: 3, learningRate: 0.3, lambda: 1, minChildWeight: 1 },
      { preprocess: identityPreprocess(RAIN_FEATURES.length), classes: data.classes },
    );
    expect(JSON.parse(JSON.stringify(again))).to.deep.equal(fm);
  });

  it("quantizes to the committed model with its constraint count, and meets the probability target on the held-out days", function () {
    const qm = quantizeBundled(fm);
    expect(qm).to.deep.equal(JSON.parse(fs.readFileSync(path.join(dir, "rain-risk.qmodel.json"), "utf8")) as QuantizedModel);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "rain-risk.manifest.json"), "utf8")) as { constraints: number };
    expect(estimateConstraints(qm).constraints).to.equal(manifest.constraints);
    const r = evaluateProbability(fm, qm, data.test);
    console.log(
      `      rain-risk: held-out accuracy float ${(100 * r.floatAccuracy).toFixed(2)}%, quantized ${(100 * r.quantizedAccuracy).toFixed(2)}%; |quantized p - float p| mean ${r.probabilityMae.toFixed(4)}, worst ${r.probabilityMaxError.toFixed(4)}; ${manifest.constraints} constraints`,
    );
    expect(r.floatAccuracy).to.be.above(0.68); // the majority class is 58%
    expect(r.probabilityMae).to.be.at.most(0.01); // <= 1% of the probability's range
    expect(r.agreement).to.be.at.least(0.99);
    // what a consumer reads: p for a wet October day in Seattle
    const x = quantizeInput(qm, fm, [8.1, 14.4, 9.4, 4.2, 3.3, 10]);
    expect(describeOutput(qm, inferQuantized(qm, x).output)).to.match(/^rain_tomorrow 0\.\d+ \(\d+ \/ 2\^11\)$/);
  });
});
