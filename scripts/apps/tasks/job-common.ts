/**
 * What the job tasks share (./job-open.ts, ./job-deliver.ts, ./job-prove.ts, ./jobs.ts): a bundled model's quantized
 * file and the check that it is built, reading a JSON file an earlier task wrote, `--input` as quantized values, and a
 * job's output as a person reads it.
 */
import * as fs from "fs";
import * as path from "path";
import type { InputKind } from "../../formats/job-input";
import { ROOT, rel } from "../../util/paths";
import type { QuantizedModel } from "../../formats/quantized-model";
import { UserError } from "../../chain/errors";

/** The quantized model file of a bundled model (no circuit or snarkjs code loaded). */
export async function quantizedModel(name: string): Promise<QuantizedModel> {
  const { loadQuantizedModel } = await import("../../pipelines/build");
  return loadQuantizedModel(name);
}

export function readJson<T>(file: string, what: string, arg: string): T {
  if (!fs.existsSync(file)) throw new UserError(`${what} ${rel(file)} not found: pass ${arg} <file>, or run the task that writes it first`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new UserError(`${what} ${rel(file)} is not valid JSON (${(e as Error).message.split("\n")[0]}): fix it or write it again`);
  }
}

/**
 * The quantized input of `--input`: a JSON file (an array, or a job input file with `x` or `raw`) or a comma list;
 * raw floats are quantized with the model's preprocessing and scale.
 * @throws UserError naming the bad value.
 */
export async function parseInputArg(
  spec: string | undefined,
  model: QuantizedModel,
  kind: InputKind = "auto",
): Promise<{ x: bigint[]; raw?: number[]; salt?: bigint }> {
  const { JobInputError, inputValues, readJobInput } = await import("../../formats/job-input");
  if (spec === undefined || spec.trim() === "")
    throw new UserError("--input is required: give a comma list (quantized -462,404,-653,-681 or raw 5.1,3.4,1.5,0.2) or a JSON file");
  try {
    if (fs.existsSync(spec)) {
      let j: unknown;
      try {
        j = JSON.parse(fs.readFileSync(spec, "utf8"));
      } catch (e) {
        throw new UserError(`--input ${spec} is not valid JSON (${(e as Error).message.split("\n")[0]})`);
      }
      return readJobInput(j, model);
    }
    if (/[\\/]|\.json$/i.test(spec)) throw new UserError(`--input ${spec}: file not found (or give a comma list like -462,404,-653,-681)`);
    return inputValues(spec.split(","), model, kind);
  } catch (e) {
    if (e instanceof JobInputError) throw new UserError(`--input ${e.message}`);
    throw e;
  }
}

/** Class names of a bundled model, read from its quantized model file without loading the pipeline. */
/** Public signal 0 of `name`'s jobs as a person reads it (class name, or decoded values); the raw word if unknown. */
export async function outputText(name: string | undefined, output: bigint): Promise<string> {
  if (!name) return output.toString();
  try {
    const { describeOutput } = await import("../../formats/model-layout");
    return describeOutput(await quantizedModel(name), output);
  } catch {
    return output.toString(); // the model is not built on this machine: the raw word
  }
}

export function requireBundledModel(name: string, arg = "--model"): void {
  if (fs.existsSync(path.join(ROOT, "models", name)) && !fs.existsSync(path.join(ROOT, "models", name, `${name}.qmodel.json`)))
    throw new UserError(
      `${arg} ${name}: not built yet (no models/${name}/${name}.qmodel.json): run \`npx hardhat model:build --model ${name}\`, then \`deploy --models ${name}\` and model:register`,
    );
  if (!fs.existsSync(path.join(ROOT, "models", name, `${name}.qmodel.json`)))
    throw new UserError(
      `${arg} ${name}: no such model (models/${name}/${name}.qmodel.json not found); bundled: ${fs.readdirSync(path.join(ROOT, "models")).join(", ")}`,
    );
}
