/**
 * The bundle sources of a built model (scripts/formats/bundle.ts): its artifact paths and the values its registry
 * version records. Shared by `model:publish` and the tests that publish by hand.
 */
import { GROTH16_BN254_V1 } from "../formats/public-signals";
import type { BuiltModel } from "./build";
import type { ModelCard } from "../formats/bundle";
import type { BundleSources } from "../formats/bundle-files";
import { numPublicSignals } from "../formats/model-layout";
import { rel } from "../util/paths";

export function bundleSources(b: BuiltModel, card: ModelCard, over: Partial<BundleSources> = {}): BundleSources {
  return {
    model: b.model,
    modelFile: b.paths.qmodelFile,
    r1cs: b.circuit.r1cs,
    wasm: b.circuit.wasm,
    zkey: b.keys.zkey,
    vkeyFile: b.keys.vkeyFile,
    modelCommitment: b.modelCommitment,
    circuitHash: b.circuit.r1csHash,
    vkHash: b.keys.vkHash,
    proofSystemId: GROTH16_BN254_V1,
    numPublicSignals: numPublicSignals(b.model),
    constraints: b.circuit.constraints,
    card,
    ...over,
  };
}

/**
 * What a model card is written from: a built model, or (the explorer's benchmark, which registers models without
 * building their circuits) the same fields read from the model's committed files and manifest.
 */
export interface CardSource {
  paths: Pick<BuiltModel["paths"], "floatFile">;
  model: BuiltModel["model"];
  circuit: Pick<BuiltModel["circuit"], "constraints">;
  ceremony?: BuiltModel["ceremony"];
}

/**
 * The model card of a built model. Accuracy: `measured` when given (the owner's evaluation, `model:publish --onnx
 * --reference`), else the bundled held-out set when there is one.
 */
export async function modelCard(name: string, license: string, measured?: ModelCard["accuracy"], built?: CardSource): Promise<ModelCard> {
  const { buildModel, readJson } = await import("./build");
  const { CARD_FORMAT } = await import("../formats/bundle");
  const { layoutOf } = await import("../formats/model-layout");
  const b = built ?? (await buildModel(name, { quantize: false }));
  const fm = readJson<import("../formats/float-model").FloatModel>(b.paths.floatFile);
  const q = b.model;
  const l = layoutOf(q);
  let accuracy: ModelCard["accuracy"] = measured;
  if (!accuracy)
    try {
      const data = await import("./held-out");
      if (fm.task === "regression") {
        const r = data.regressionError(name);
        accuracy = {
          dataset: r.dataset,
          samples: r.n,
          metric: "mean absolute error (output units)",
          float: r.floatMae,
          quantized: r.quantizedMae,
        };
      } else if (q.head === "values") {
        // a probability (a final sigmoid): its decision at p >= 0.5 against the labels
        const r = data.probabilityError(name);
        accuracy = {
          dataset: r.dataset,
          samples: r.n,
          metric: "accuracy of the decision p >= 0.5",
          float: r.floatAccuracy,
          quantized: r.quantizedAccuracy,
        };
      } else {
        const a = data.accuracy(name);
        accuracy = { dataset: a.dataset, samples: a.n, metric: "top-1 accuracy", float: a.floatAccuracy, quantized: a.quantizedAccuracy };
      }
    } catch {
      accuracy = undefined; // no held-out set known for this model: `npm run evaluate` measures it on the owner's data
    }
  return {
    format: CARD_FORMAT,
    name,
    task: fm.task === "regression" ? "regression" : "classification",
    outputs: fm.classes,
    input: {
      size: q.input.size,
      ...(q.input.shape ? { shape: [...q.input.shape] } : {}),
      bits: q.input.bits,
      frac: q.input.frac,
      mode: l.inputMode === 1 ? "public" : "committed",
      preprocess: fm.preprocess,
    },
    output:
      l.outputHead === 1
        ? { head: "values", count: l.outputCount, bits: l.outputBits, frac: l.outputFrac }
        : { head: "argmax", count: l.outputCount },
    ...(accuracy ? { accuracy } : {}),
    license,
    weights: q.weights,
    constraints: b.circuit.constraints,
    trustedSetup: b.ceremony
      ? `ceremony ${rel(b.ceremony.dir)}`
      : "DEV keys (INSECURE: anyone can forge proofs; never use on a production chain)",
    ...(await bundledCardText(name, q.input.size, fm.classes, fm.task === "regression" || q.head === "values")),
  };
}

/** Days-ago labels of a daily series, oldest first: "6 days ago", ..., "today". */
const daysAgo = (n: number): string[] => Array.from({ length: n }, (_, i) => (i === n - 1 ? "today" : `${n - 1 - i} days ago`));

/**
 * The people-facing part of a bundled model's card: what it does, its feature names and units, and three held-out
 * samples with the data set's answer. Models this table does not know (an owner's ONNX import) get none of it.
 */
async function bundledCardText(
  name: string,
  size: number,
  classes: readonly string[],
  valued: boolean,
): Promise<Pick<ModelCard, "description" | "features" | "outputUnit" | "samples">> {
  const { FORECAST_WINDOW, RAIN_FEATURES, WEATHER_CHANNELS, WEATHER_WINDOW } = await import("./datasets");
  const text: Record<string, Pick<ModelCard, "description" | "features" | "outputUnit">> = {
    "iris-mlp": {
      description: "Tells the species of an iris flower from four measurements of its petals and sepals (Fisher's iris data).",
      features: { names: ["sepal length", "sepal width", "petal length", "petal width"], unit: "cm" },
    },
    "temp-forecast": {
      description: `Forecasts tomorrow's maximum temperature in Seattle from the last ${FORECAST_WINDOW} days' maxima (NOAA, 2012-2015).`,
      features: { names: daysAgo(FORECAST_WINDOW).map((d) => `max temperature ${d}`), unit: "°C" },
      outputUnit: "°C",
    },
    "rain-risk": {
      description: "The probability of rain in Seattle tomorrow from today's weather (NOAA, 2012-2015).",
      features: {
        names: RAIN_FEATURES.map(
          (f) =>
            ({
              precipitation: "precipitation (mm)",
              temp_max: "max temperature (°C)",
              temp_min: "min temperature (°C)",
              wind: "wind (m/s)",
              precipitation_yesterday: "precipitation yesterday (mm)",
              month: "month (1-12)",
            })[f],
        ),
      },
      outputUnit: "probability",
    },
    "weather-cnn": {
      description: `Forecasts tomorrow's maximum temperature in Seattle from ${WEATHER_WINDOW} days of precipitation, temperatures and wind (NOAA, 2012-2015).`,
      features: {
        names: WEATHER_CHANNELS.flatMap((c) =>
          daysAgo(WEATHER_WINDOW).map(
            (d) =>
              `${{ precipitation: "precipitation (mm)", temp_max: "max temperature (°C)", temp_min: "min temperature (°C)", wind: "wind (m/s)" }[c]} ${d}`,
          ),
        ),
      },
      outputUnit: "°C",
    },
  };
  const digits = "Recognises a handwritten digit in a 28x28 grey image (MNIST; pixels 0-1, row by row).";
  const t = text[name] ?? (name.startsWith("mnist") ? { description: digits } : undefined);
  if (!t) return {};
  let samples: ModelCard["samples"];
  try {
    const { heldOut } = await import("./held-out");
    const h = heldOut(name);
    samples = h.x
      .slice(0, 3)
      .filter((x) => x.length === size)
      .map((x, i) => ({
        input: [...x],
        expected: valued ? Math.round(h.y[i] * 100) / 100 : (classes[h.y[i]] ?? h.y[i]),
      }));
  } catch {
    samples = undefined; // its data set is not installed here
  }
  return { ...t, ...(samples?.length ? { samples } : {}) };
}
