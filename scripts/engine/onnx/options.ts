/**
 * The importer's options as a user gives them (the `onnx import` command line and `model:publish --onnx`): strings,
 * checked here, each refusal one line naming the flag.
 */
import * as fs from "fs";
import * as path from "path";
import type { ImportOptions } from "./import";

/** Inline JSON, or the JSON content of a file. */
function jsonArg(name: string, v: string): unknown {
  const text = v.trim().startsWith("{") || v.trim().startsWith("[") ? v : fs.existsSync(v) ? fs.readFileSync(v, "utf8") : undefined;
  if (text === undefined) throw new Error(`${name} ${v}: neither inline JSON nor an existing file`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * `--preprocess` (inline JSON or a file of {"mean": [...], "std": [...]}), `--classes` (comma-separated names or a
 * JSON array file) and `--task` (classification or regression) as import options.
 * @throws Error naming the flag and what it must be.
 */
export function parseImportOptions(name: string, given: { preprocess?: string; classes?: string; task?: string }): ImportOptions {
  const opts: ImportOptions = { name };
  const pre = given.preprocess;
  if (pre !== undefined) {
    const p = jsonArg("--preprocess", pre) as { mean?: unknown; std?: unknown };
    const nums = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x));
    if (!p || !nums(p.mean) || !nums(p.std))
      throw new Error('--preprocess must be {"mean": [numbers], "std": [numbers]}, one entry per input feature');
    opts.preprocess = { mean: p.mean as number[], std: p.std as number[] };
  }
  const classes = given.classes;
  if (classes !== undefined) {
    const c = classes.trim().startsWith("[") || fs.existsSync(classes) ? jsonArg("--classes", classes) : classes.split(",");
    if (!Array.isArray(c) || c.length === 0 || !c.every((x) => typeof x === "string" && x !== ""))
      throw new Error("--classes must be comma-separated names or a JSON array of strings");
    opts.classes = c as string[];
  }
  const task = given.task;
  if (task !== undefined) {
    if (task !== "classification" && task !== "regression") throw new Error(`--task must be classification or regression, got ${task}`);
    opts.task = task;
  }
  return opts;
}

/** The model name `onnx import` gives a file without `--name`: its base name, lower case, [a-z0-9-]. */
export function defaultModelName(file: string): string {
  return path
    .basename(file)
    .replace(/\.onnx$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-");
}
