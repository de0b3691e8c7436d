/**
 * A PyTorch / scikit-learn export of test/fixtures/onnx as the benchmarks build it: imported (ONNX -> float model),
 * quantized with its calibration file, compiled and keyed under `work`, with its reference inputs and outputs
 * (bench:transformer, bench:prover).
 */
import * as fs from "fs";
import * as path from "path";
import { type BuiltModel, buildModel, loadFloatModel, modelPaths } from "../../pipelines/build";
import { importOnnxFile } from "../../engine/onnx/import";
import { type Reference, readReference } from "../../formats/calibration";
import type { FloatModel } from "../../formats/float-model";
import { ROOT } from "../../util/paths";

export const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx");

/** Whether `name` is an export in test/fixtures/onnx. */
export function isFixture(name: string): boolean {
  return fs.existsSync(path.join(FIXTURES, `${name}.onnx`));
}

/**
 * Builds fixture `name` under `work`; `fresh` imports it again even when its float model exists (the build's time is
 * then the whole pipeline's).
 */
export async function buildFixtureModel(
  name: string,
  work: string,
  opts: { fresh?: boolean } = {},
): Promise<{ built: BuiltModel; fm: FloatModel; ref: Reference; buildSeconds: number }> {
  const paths = modelPaths(name, undefined, work);
  if (opts.fresh) fs.rmSync(path.dirname(paths.floatFile), { recursive: true, force: true });
  if (!fs.existsSync(paths.floatFile)) importOnnxFile(path.join(FIXTURES, `${name}.onnx`), paths.floatFile, { name });
  const calibration = [".calib.npy", ".calib.json"].map((e) => path.join(FIXTURES, name + e)).find((f) => fs.existsSync(f));
  const t0 = Date.now();
  const built = await buildModel(name, { root: work, calibration });
  const buildSeconds = (Date.now() - t0) / 1000;
  const fm = loadFloatModel(name, work);
  const ref = readReference(path.join(FIXTURES, `${name}.json`), fm.inputSize, fm.classes.length);
  return { built, fm, ref, buildSeconds };
}
