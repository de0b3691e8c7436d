/**
 * ONNX command line.
 *   import <file.onnx|xgboost-model.json> [--name <name>] [--out <file.float.json>] [--preprocess <json|file>] [--classes <a,b,c|file>]
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
import { importOnnxFile } from "../../engine/onnx/import";
import { importXgboostFile } from "../../engine/import-xgboost";
import { UsageError, commandLine } from "../../util/args";
import { defaultModelName, parseImportOptions } from "../../engine/onnx/options";

const USAGE =
  "usage: onnx import <file.onnx|xgboost-model.json> [--name <name>] [--out <file>] [--preprocess <json|file>] [--classes <a,b,c|file>] [--task classification|regression] | onnx export <name|file.float.json> [--out <file>] [--softmax]";

function main(argv: string[]): void {
  const { values: o, positionals } = commandLine(
    argv,
    {
      name: { type: "string" },
      out: { type: "string" },
      preprocess: { type: "string" },
      classes: { type: "string" },
      task: { type: "string" },
      softmax: { type: "boolean" },
    },
    USAGE,
  );
  const [cmd, target, ...rest] = positionals;
  if (!target || rest.length > 0) throw new UsageError(USAGE);
  if (cmd === "import") {
    if (o.softmax) throw new UsageError(`--softmax is an export option; ${USAGE}`);
    const name = o.name ?? defaultModelName(target);
    const out = o.out ?? path.join(ROOT, "models", name, `${name}.float.json`);
    const options = parseImportOptions(name, { preprocess: o.preprocess, classes: o.classes, task: o.task });
    // an XGBoost model file (save_model("model.json")) or an ONNX file (ai.onnx or ai.onnx.ml)
    const fm = target.endsWith(".json") ? importXgboostFile(target, out, options) : importOnnxFile(target, out, options);
    console.log(`imported ${target}: ${fm.layers.map((l) => l.type).join(" -> ")}; wrote ${rel(out)}`);
  } else if (cmd === "export") {
    const importOnly = (["name", "preprocess", "classes", "task"] as const).filter((k) => o[k] !== undefined);
    if (importOnly.length) throw new UsageError(`--${importOnly[0]} is an import option; ${USAGE}`);
    const file = target.endsWith(".json") ? target : path.join(ROOT, "models", target, `${target}.float.json`);
    if (!fs.existsSync(file)) throw new Error(`${file} not found`);
    const fm = JSON.parse(fs.readFileSync(file, "utf8")) as FloatModel;
    const out = o.out ?? path.join(ROOT, "models", fm.name, `${fm.name}.onnx`);
    writeFileAtomic(out, exportOnnx(fm, { softmax: o.softmax === true }));
    console.log(`exported ${rel(file)}; wrote ${rel(out)}`);
  } else {
    throw new UsageError(USAGE);
  }
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
}
