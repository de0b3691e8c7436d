/**
 * Reading a model card (scripts/formats/bundle.ts, `zkml-model-card-v1`) for display: the card checked with the SDK's
 * schema, the public-signal layout it implies (to decode outputs), and its optional fields for people (description,
 * feature names and unit, output unit, samples) as labels.
 */
// The formats only (not the SDK's client, which brings the contract bindings): pages load fast; "Try it" loads the SDK.
import { BundleManifestSchema, ModelCardSchema, type ModelCard } from "../../../scripts/formats/bundle";
import type { ModelLayout } from "../../../scripts/formats/model-layout";

export type ReadCard = { ok: true; card: ModelCard } | { ok: false; error: string };

/** The card checked with the SDK's schema (the indexer checked it too; a page may get it from elsewhere). */
export function readCard(raw: unknown): ReadCard {
  const r = ModelCardSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: `card.json: ${i.path.join(".") || "(root)"}: ${i.message}` };
  }
  return { ok: true, card: r.data };
}

/** The version's layout: from bundle.json when it parses, else as the card implies it (the same fields). */
export function layoutOf(card: ModelCard, manifest?: unknown): ModelLayout {
  const m = manifest === undefined ? undefined : BundleManifestSchema.safeParse(manifest);
  if (m?.success) return m.data.registry.layout;
  return {
    inputMode: card.input.mode === "public" ? 1 : 0,
    outputHead: card.output.head === "values" ? 1 : 0,
    inputCount: card.input.size,
    inputBits: card.input.bits,
    outputCount: card.output.count,
    outputBits: card.output.bits ?? 0,
    outputFrac: card.output.frac ?? 0,
  };
}

/** The card's samples as "try it" offers them: the raw input and a label with the answer the data set gives. */
export function samplesOf(card: ModelCard): { label: string; raw: number[] }[] {
  return (card.samples ?? []).map((s, i) => ({
    label: `sample ${i + 1}${s.expected === undefined ? "" : `: expected ${expectedText(card, s.expected)}`}`,
    raw: s.input,
  }));
}

/** A sample's expected answer: a class name as is, a value with the card's output unit. */
export function expectedText(card: ModelCard, expected: string | number): string {
  return typeof expected === "number" && card.outputUnit ? `${expected} ${card.outputUnit}` : String(expected);
}

/** A name for raw input `i` (the card's feature name, else `x[i]`), with the features' unit when the card gives one. */
export function inputLabel(card: ModelCard, i: number): string {
  const name = card.features?.names[i] ?? `x[${i}]`;
  return card.features?.unit ? `${name} (${card.features.unit})` : name;
}

/** A decoded values-head output with its name and the card's output unit. */
export function outputText(card: ModelCard, i: number, value: number | string): string {
  return `${card.outputs[i] ?? `y[${i}]`} = ${value}${card.outputUnit ? ` ${card.outputUnit}` : ""}`;
}

/** One layer of the model (the indexer's `architecture`, weights left out) in a few words: "dense 4 → 8, ReLU". */
export function layerText(l: Record<string, string | number | boolean>): string {
  const sizes =
    typeof l.nIn === "number" && typeof l.nOut === "number"
      ? ` ${l.nIn} → ${l.nOut}`
      : typeof l.outChannels === "number"
        ? ` ${l.outChannels} channels`
        : "";
  const kernel = typeof l.kernel === "number" ? `, kernel ${l.kernel}${typeof l.stride === "number" ? ` stride ${l.stride}` : ""}` : "";
  const bits = typeof l.wBits === "number" ? `, ${l.wBits}-bit weights` : "";
  return `${String(l.type ?? "layer")}${sizes}${kernel}${l.relu === true ? ", ReLU" : ""}${bits}`;
}
