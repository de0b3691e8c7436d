/**
 * The artifact bundle of one model version (docs/model-format.md, "Bundle"): everything a prover needs to serve it
 * and nothing it must trust blindly. A flat directory:
 *
 *   bundle.json          this manifest: format, the hash and size of every other file, what the registry must say
 *   model.qmodel.json    the quantized model (zkml-quantized-v1): its Poseidon commitment is the registry's modelHash
 *   circuit.r1cs         the constraint system: its sha256 is the registry's circuitHash
 *   circuit.wasm         the witness generator of that R1CS
 *   proving.zkey         the Groth16 proving key
 *   verification_key.json  its verification key: sha256 of its canonical JSON is the registry's vkHash
 *   card.json            the model card (name, task, input format and preprocessing, output head and scale,
 *                        accuracy measured at build time, license)
 *
 * Published as a UnixFS directory whose CID is the registry version's `uri` (`ipfs://<cid>`), or at an `https://` /
 * `file://` base. Whatever the transport, a prover checks every file against `bundle.json` and `bundle.json` against
 * the chain before it claims anything (scripts/apps/prover/bundle-check.ts). This module is the format only (schemas,
 * names, parsing; no Node module, so the SDK reads bundles in browsers); writing and reading a bundle folder is
 * ./bundle-files.ts.
 */
import type { ModelLayout } from "./model-layout";
import { z } from "zod";

export const BUNDLE_FORMAT = "zkml-bundle-v1";
export const CARD_FORMAT = "zkml-model-card-v1";

/** The files of a bundle besides `bundle.json`, by role. */
export const BUNDLE_FILES = {
  model: "model.qmodel.json",
  r1cs: "circuit.r1cs",
  wasm: "circuit.wasm",
  zkey: "proving.zkey",
  vkey: "verification_key.json",
  card: "card.json",
} as const;
export type BundleRole = keyof typeof BUNDLE_FILES;
export const BUNDLE_MANIFEST = "bundle.json";

const HEX32 = /^0x[0-9a-f]{64}$/;
/** An integer in min..max, with a message that says so. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const must = max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer in ${min}..${max}`;
  const error = (i: { input?: unknown }) => (i.input === undefined ? "is missing" : must);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
/** One of the given strings, with a message that lists them. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (i) => (i.input === undefined ? "is missing" : `must be ${values.map((v) => JSON.stringify(v)).join(" or ")}`) });

/** What a model does and how to feed it, for people and for provers' policies (`card.json`). */
export const ModelCardSchema = z
  .object({
    format: z.literal(CARD_FORMAT),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lowercase letters, digits and dashes"),
    task: oneOf(["classification", "regression"]),
    /** Class names (classification) or output names (regression). */
    outputs: z.array(z.string()),
    input: z.strictObject({
      size: int(1),
      shape: z.array(int(1)).optional(),
      bits: int(2, 32),
      frac: int(0),
      mode: oneOf(["committed", "public"]),
      /** Raw features are standardized `(raw - mean) / std` before quantization (`round(v * 2^frac)`). */
      preprocess: z.strictObject({ mean: z.array(z.number()), std: z.array(z.number()) }).optional(),
    }),
    output: z.strictObject({
      head: oneOf(["argmax", "values"]),
      count: int(1),
      bits: int(2, 32).optional(),
      frac: int(0).optional(),
    }),
    /** Accuracy measured at build time on the named dataset (absent when none was measured). */
    accuracy: z
      .strictObject({ dataset: z.string(), samples: int(0), metric: z.string(), float: z.number(), quantized: z.number() })
      .optional(),
    license: z.string().min(1),
    weights: oneOf(["open", "private"]),
    constraints: int(1),
    /** Dev keys are forgeable by anyone: never register such a bundle on a production chain. */
    trustedSetup: z.string(),
    /** What the model does, in a sentence or two (optional, for people: the explorer's model page). */
    description: z.string().max(500).optional(),
    /** The raw input features, in input order, and the unit they are measured in (optional: forms label their fields). */
    features: z.strictObject({ names: z.array(z.string().min(1)), unit: z.string().optional() }).optional(),
    /** The unit of a values head's outputs, e.g. "°C" (optional). */
    outputUnit: z.string().optional(),
    /**
     * A few raw inputs, e.g. from the held-out set, with the answer the data set gives (a class name or a value; optional:
     * the explorer's "try it" offers them).
     */
    samples: z
      .array(z.strictObject({ input: z.array(z.number()), expected: z.union([z.string(), z.number()]).optional() }))
      .max(16)
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.features && c.features.names.length !== c.input.size)
      ctx.addIssue({
        code: "custom",
        path: ["features", "names"],
        message: `has ${c.features.names.length} names; the input has ${c.input.size} values (one name per value)`,
      });
    c.samples?.forEach((s, i) => {
      if (s.input.length !== c.input.size)
        ctx.addIssue({
          code: "custom",
          path: ["samples", i, "input"],
          message: `has ${s.input.length} values; the input has ${c.input.size}`,
        });
    });
  });
export type ModelCard = z.infer<typeof ModelCardSchema>;

/** The public-signal layout a registry version records (`ModelLayout`, docs/public-signals.md). */
const LayoutSchema = z.strictObject({
  inputMode: z.union([z.literal(0), z.literal(1)], { error: "must be 0 (committed) or 1 (public)" }),
  outputHead: z.union([z.literal(0), z.literal(1)], { error: "must be 0 (argmax) or 1 (values)" }),
  inputCount: int(1),
  inputBits: int(2, 32),
  outputCount: int(1),
  outputBits: int(0, 64),
  outputFrac: int(0, 64),
}) satisfies z.ZodType<ModelLayout>;

const fileEntry = (name: string) =>
  z.strictObject({
    name: z.literal(name, { error: `must be "${name}"` }),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lower-case hex digits"),
    bytes: int(0),
  });

/** `bundle.json`. */
export const BundleManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT, { error: `must be "${BUNDLE_FORMAT}"` }),
  model: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "must be lowercase letters, digits and dashes"),
  /** Every file of the bundle but this one, by role. */
  files: z.strictObject({
    model: fileEntry(BUNDLE_FILES.model),
    r1cs: fileEntry(BUNDLE_FILES.r1cs),
    wasm: fileEntry(BUNDLE_FILES.wasm),
    zkey: fileEntry(BUNDLE_FILES.zkey),
    vkey: fileEntry(BUNDLE_FILES.vkey),
    card: fileEntry(BUNDLE_FILES.card),
  }),
  /** What the registry version must record (bytes32 hex, lower case) and the public-signal layout. */
  registry: z.strictObject({
    modelHash: z.string().regex(HEX32, "must be 0x and 64 lower-case hex digits"),
    circuitHash: z.string().regex(HEX32, "must be 0x and 64 lower-case hex digits"),
    vkHash: z.string().regex(HEX32, "must be 0x and 64 lower-case hex digits"),
    proofSystemId: z.string().regex(/^0x[0-9a-f]{8}$/, "must be 0x and 8 lower-case hex digits"),
    layout: LayoutSchema,
    numPublicSignals: int(1),
  }),
  constraints: int(1),
});
export type BundleManifest = z.infer<typeof BundleManifestSchema>;

/** The first problem zod found, as `<field> <what is wrong>` (`registry.modelHash must be ...`, `files.card is missing`). */
function firstIssue(e: z.ZodError): string {
  const i = e.issues[0];
  const where = i.path
    .map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`))
    .join("")
    .replace(/^\./, "");
  if (i.message === "is missing" || (i.code === "invalid_type" && / received undefined$/.test(i.message))) return `${where} is missing`;
  if (i.path.length === 0 && i.code === "invalid_type") return "the file must be a JSON object";
  if (i.code === "unrecognized_keys") return `${where} has unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}`;
  return /^(must|has) /.test(i.message) ? `${where} ${i.message}` : `${where}: ${i.message}`;
}

/**
 * Checks a parsed `bundle.json` field by field (the files' bytes are checked by readBundle).
 * @throws BundleError `bundle.json: <field> <what is wrong>`.
 */
export function parseBundleManifest(json: unknown): BundleManifest {
  const r = BundleManifestSchema.safeParse(json);
  if (!r.success) throw new BundleError(`${BUNDLE_MANIFEST}: ${firstIssue(r.error)}`);
  return r.data;
}

/**
 * Checks a parsed `card.json` field by field.
 * @throws BundleError `card.json: <field> <what is wrong>`.
 */
export function parseModelCard(json: unknown): ModelCard {
  const r = ModelCardSchema.safeParse(json);
  if (!r.success) throw new BundleError(`${BUNDLE_FILES.card}: ${firstIssue(r.error)}`);
  return r.data;
}

/** A bundle file or manifest that is not what it must be; the message names the file and the field. */
export class BundleError extends Error {}

/**
 * The CID of an `ipfs://<cid>` bundle URI (a trailing `/` allowed). A bundle is a whole directory, so a path inside
 * the CID is not a bundle URI.
 * @throws BundleError when `uri` is not `ipfs://<cid>`.
 */
export function ipfsBundleCid(uri: string): string {
  const m = /^ipfs:\/\/([A-Za-z0-9]+)\/*$/.exec(uri);
  if (!m) throw new BundleError(`${uri.slice(0, 80)} is not ipfs://<cid> (a bundle is a whole directory)`);
  return m[1];
}
