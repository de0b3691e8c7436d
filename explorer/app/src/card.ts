/**
 * Reading a model card (scripts/formats/bundle.ts, `zkml-model-card-v1`) for display: the card checked with the SDK's
 * schema, the public-signal layout it implies (to decode outputs), and the optional fields a card may carry beyond the
 * schema (the schema keeps unknown top-level fields out of the typed card, so they are read from the raw JSON).
 */
// The formats only (not the SDK's client, which brings the contract bindings): pages load fast; "Try it" loads the SDK.
import { BundleManifestSchema, ModelCardSchema, type ModelCard } from "../../../scripts/formats/bundle";
import type { ModelLayout } from "../../../scripts/formats/model-layout";

/** Fields a card may add for people; shown when present, never required. */
export interface CardExtras {
  /** e.g. "MLP 4-8-3, ReLU". */
  architecture?: string;
  /** One name per raw input feature. */
  inputNames?: string[];
  /** One unit per raw input feature ("cm", "°C"). */
  inputUnits?: string[];
  /** One unit per output (regression). */
  outputUnits?: string[];
  /** Example raw inputs. */
  samples?: { label?: string; raw: number[] }[];
}

export type ReadCard = { ok: true; card: ModelCard; extras: CardExtras } | { ok: false; error: string };

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;

export function readCard(raw: unknown): ReadCard {
  const r = ModelCardSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, error: `card.json: ${i.path.join(".") || "(root)"}: ${i.message}` };
  }
  const o = raw as Record<string, unknown>;
  const samples = Array.isArray(o.samples)
    ? (o.samples as unknown[]).flatMap((s) => {
        const x = s as { label?: unknown; raw?: unknown };
        return Array.isArray(x.raw) && x.raw.every((v) => typeof v === "number")
          ? [{ label: typeof x.label === "string" ? x.label : undefined, raw: x.raw as number[] }]
          : [];
      })
    : undefined;
  return {
    ok: true,
    card: r.data,
    extras: {
      architecture: typeof o.architecture === "string" ? o.architecture : undefined,
      inputNames: strings(o.inputNames),
      inputUnits: strings(o.inputUnits),
      outputUnits: strings(o.outputUnits),
      samples,
    },
  };
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

/** Inputs one can try without data of one's own: the card's samples, then the training mean when the card has one. */
export function samplesOf(card: ModelCard, extras: CardExtras): { label: string; raw: number[] }[] {
  const out = (extras.samples ?? []).map((s, i) => ({ label: s.label ?? `sample ${i + 1}`, raw: s.raw }));
  const mean = card.input.preprocess?.mean;
  if (mean && mean.length === card.input.size && mean.some((v) => v !== 0)) out.push({ label: "training mean", raw: mean });
  return out;
}

/** A name for raw input `i`, with its unit when the card gives one. */
export function inputLabel(extras: CardExtras, i: number): string {
  const name = extras.inputNames?.[i] ?? `x[${i}]`;
  const unit = extras.inputUnits?.[i];
  return unit ? `${name} (${unit})` : name;
}
