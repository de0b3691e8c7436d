/**
 * ONNX command line.
 *   import <file.onnx> [--name <name>] [--out <file.float.json>] [--preprocess <json|file>] [--classes <a,b,c|file>]
 *          [--task classification|regression]   ONNX -> zkml-float-v1 (default models/<name>/<name>.float.json)
 *     --preprocess  {"mean": [...], "std": [...]} (inline JSON or a file): raw inputs are standardized with it before
 *                   the graph (normalization inside the graph is folded on top of it)
 *     --classes     class (or output) names, comma-separated or a JSON array file
 *     --task        regression: the outputs are values (quantized with a values head), not logits
 *   export <name|file.float.json> [--out <file.onnx>] [--softmax]   zkml-float-v1 -> ONNX (default models/<name>/<name>.onnx)
 * Outputs are written atomically, only when the whole conversion succeeded.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, rel, writeFileAtomic } from "../../util/paths";
import type { FloatModel } from "../../formats/float-model";
import { exportOnnx } from "../../engine/onnx/export";
import { type ImportOptions, importOnnxFile } from "../../engine/onnx/import";
import { defaultModelName, parseImportOptions } from "../../engine/onnx/options";

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith("--")) throw new Error(`${name} needs a value`);
  return v;
}

/** The import options given on the command line. */
function importOptions(args: string[], name: string): ImportOptions {
  return parseImportOptions(name, { preprocess: flag(args, "--preprocess"), classes: flag(args, "--classes"), task: flag(args, "--task") });
}

function main(args: string[]): void {
  const [cmd, target] = args;
  if (cmd === "import" && target) {
    const name = flag(args, "--name") ?? defaultModelName(target);
    const out = flag(args, "--out") ?? path.join(ROOT, "models", name, `${name}.float.json`);
    const fm = importOnnxFile(target, out, importOptions(args, name));
    console.log(`imported ${target}: ${fm.layers.map((l) => l.type).join(" -> ")}; wrote ${rel(out)}`);
  } else if (cmd === "export" && target) {
    const file = target.endsWith(".json") ? target : path.join(ROOT, "models", target, `${target}.float.json`);
    if (!fs.existsSync(file)) throw new Error(`${file} not found`);
    const fm = JSON.parse(fs.readFileSync(file, "utf8")) as FloatModel;
    const out = flag(args, "--out") ?? path.join(ROOT, "models", fm.name, `${fm.name}.onnx`);
    writeFileAtomic(out, exportOnnx(fm, { softmax: args.includes("--softmax") }));
    console.log(`exported ${rel(file)}; wrote ${rel(out)}`);
  } else {
    throw new Error(
      "usage: onnx import <file.onnx> [--name <name>] [--out <file>] [--preprocess <json|file>] [--classes <a,b,c|file>] [--task classification|regression] | onnx export <name|file.float.json> [--out <file>] [--softmax]",
    );
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
