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
 * the chain before it claims anything (scripts/apps/prover/bundle-check.ts). This module is the format only.
 */
import * as fs from "fs";
import * as path from "path";
import { sha256 } from "../util/hash";
import { ensureDir, writeFileAtomic } from "../util/paths";
import type { QuantizedModel } from "./quantized-model";
import { type ModelLayout, layoutOf } from "./model-layout";
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
export const ModelCardSchema = z.object({
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
  return /^must /.test(i.message) ? `${where} ${i.message}` : `${where}: ${i.message}`;
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

const b32 = (hex: string): string => `0x${hex.replace(/^0x/, "").padStart(64, "0")}`.toLowerCase();

/** The sources of a bundle: paths of the built artifacts and the values the manifest records. */
export interface BundleSources {
  model: QuantizedModel;
  modelFile: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkeyFile: string;
  modelCommitment: bigint;
  circuitHash: string;
  vkHash: string;
  proofSystemId: string;
  numPublicSignals: number;
  constraints: number;
  card: ModelCard;
}

/**
 * Writes the bundle of `src` into `dir` (created; every file atomically) and returns its manifest and the file bytes
 * (name -> content) ready to add to IPFS.
 */
export function writeBundle(src: BundleSources, dir: string): { manifest: BundleManifest; files: Map<string, Uint8Array> } {
  ensureDir(dir);
  const content: Record<BundleRole, Uint8Array> = {
    model: fs.readFileSync(src.modelFile),
    r1cs: fs.readFileSync(src.r1cs),
    wasm: fs.readFileSync(src.wasm),
    zkey: fs.readFileSync(src.zkey),
    vkey: fs.readFileSync(src.vkeyFile),
    card: Buffer.from(JSON.stringify(src.card, null, 2) + "\n"),
  };
  const files = {} as BundleManifest["files"];
  for (const role of Object.keys(BUNDLE_FILES) as BundleRole[])
    files[role] = { name: BUNDLE_FILES[role], sha256: sha256(content[role]), bytes: content[role].length };
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    model: src.model.name,
    files,
    registry: {
      modelHash: b32(src.modelCommitment.toString(16)),
      circuitHash: b32(src.circuitHash),
      vkHash: b32(src.vkHash),
      proofSystemId: src.proofSystemId.toLowerCase(),
      layout: layoutOf(src.model),
      numPublicSignals: src.numPublicSignals,
    },
    constraints: src.constraints,
  };
  const out = new Map<string, Uint8Array>();
  for (const role of Object.keys(BUNDLE_FILES) as BundleRole[]) out.set(BUNDLE_FILES[role], content[role]);
  out.set(BUNDLE_MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + "\n"));
  for (const [name, bytes] of out) writeFileAtomic(path.join(dir, name), bytes);
  return { manifest, files: out };
}

/**
 * Reads `dir/bundle.json` and checks that every listed file is present with its size and sha256, and that the
 * directory holds nothing else.
 * @throws BundleError naming the first file or field that does not match.
 */
export function readBundle(dir: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(path.join(dir, BUNDLE_MANIFEST), "utf8"));
  } catch (e) {
    throw new BundleError(`${BUNDLE_MANIFEST} is missing or not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  const manifest = parseBundleManifest(json);
  const files = manifest.files;
  const expected = new Set<string>([BUNDLE_MANIFEST]);
  for (const role of Object.keys(BUNDLE_FILES) as BundleRole[]) {
    const f = files[role];
    expected.add(f.name);
    const p = path.join(dir, f.name);
    if (!fs.existsSync(p)) throw new BundleError(`${f.name} is missing from the bundle`);
    const bytes = fs.readFileSync(p);
    if (bytes.length !== f.bytes) throw new BundleError(`${f.name} is ${bytes.length} bytes, ${BUNDLE_MANIFEST} says ${f.bytes}`);
    if (sha256(bytes) !== f.sha256) throw new BundleError(`${f.name} has sha256 ${sha256(bytes)}, ${BUNDLE_MANIFEST} says ${f.sha256}`);
  }
  // Dot-files are the reader's own (a cache marker, a temporary file), never bundle content.
  const extra = fs.readdirSync(dir).filter((n) => !expected.has(n) && !n.startsWith("."));
  if (extra.length) throw new BundleError(`the bundle holds files ${BUNDLE_MANIFEST} does not list: ${extra.join(", ")}`);
  let card: unknown;
  try {
    card = JSON.parse(fs.readFileSync(path.join(dir, files.card.name), "utf8"));
  } catch (e) {
    throw new BundleError(`${files.card.name} is not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (parseModelCard(card).name !== manifest.model)
    throw new BundleError(`${files.card.name}: name is not ${JSON.stringify(manifest.model)}, the model ${BUNDLE_MANIFEST} names`);
  return manifest;
}
