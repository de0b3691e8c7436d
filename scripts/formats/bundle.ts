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
import { layoutOf } from "./quantized-model";

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

/** What a model does and how to feed it, for people and for provers' policies. */
export interface ModelCard {
  format: typeof CARD_FORMAT;
  name: string;
  task: "classification" | "regression";
  /** Class names (classification) or output names (regression). */
  outputs: string[];
  input: {
    size: number;
    shape?: number[];
    bits: number;
    frac: number;
    mode: "committed" | "public";
    /** Raw features are standardized `(raw - mean) / std` before quantization (`round(v * 2^frac)`). */
    preprocess?: { mean: number[]; std: number[] };
  };
  output: { head: "argmax" | "values"; count: number; bits?: number; frac?: number };
  /** Accuracy measured at build time on the named dataset (absent when none was measured). */
  accuracy?: { dataset: string; samples: number; metric: string; float: number; quantized: number };
  license: string;
  weights: "open" | "private";
  constraints: number;
  /** Dev keys are forgeable by anyone: never register such a bundle on a production chain. */
  trustedSetup: string;
}

/** `bundle.json`. */
export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  model: string;
  /** Every file of the bundle but this one, by role. */
  files: Record<BundleRole, { name: string; sha256: string; bytes: number }>;
  /** What the registry version must record (bytes32 hex, lower case) and the public-signal layout. */
  registry: {
    modelHash: string;
    circuitHash: string;
    vkHash: string;
    proofSystemId: string;
    layout: ReturnType<typeof layoutOf>;
    numPublicSignals: number;
  };
  constraints: number;
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

function field<T>(o: Record<string, unknown>, key: string, what: string, check: (v: unknown) => boolean): T {
  const v = o[key];
  if (!check(v)) throw new BundleError(`${BUNDLE_MANIFEST}: ${what}${key} is missing or malformed`);
  return v as T;
}

const HEX32 = (v: unknown): boolean => typeof v === "string" && /^0x[0-9a-f]{64}$/.test(v);

/**
 * Reads `dir/bundle.json` and checks that every listed file is present with its size and sha256, and that the
 * directory holds nothing else.
 * @throws BundleError naming the first file or field that does not match.
 */
export function readBundle(dir: string): BundleManifest {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(fs.readFileSync(path.join(dir, BUNDLE_MANIFEST), "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new BundleError(`${BUNDLE_MANIFEST} is missing or not JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (j.format !== BUNDLE_FORMAT)
    throw new BundleError(`${BUNDLE_MANIFEST}: format is ${JSON.stringify(j.format)}, expected "${BUNDLE_FORMAT}"`);
  field<string>(j, "model", "", (v) => typeof v === "string" && /^[a-z0-9-]+$/.test(v));
  field<number>(j, "constraints", "", (v) => Number.isSafeInteger(v) && (v as number) > 0);
  const reg = field<Record<string, unknown>>(j, "registry", "", (v) => typeof v === "object" && v !== null);
  for (const k of ["modelHash", "circuitHash", "vkHash"]) field<string>(reg, k, "registry.", HEX32);
  field<string>(reg, "proofSystemId", "registry.", (v) => typeof v === "string" && /^0x[0-9a-f]{8}$/.test(v));
  field<object>(reg, "layout", "registry.", (v) => typeof v === "object" && v !== null);
  field<number>(reg, "numPublicSignals", "registry.", (v) => Number.isSafeInteger(v));
  const files = field<Record<string, { name: string; sha256: string; bytes: number }>>(
    j,
    "files",
    "",
    (v) => typeof v === "object" && v !== null,
  );
  const expected = new Set<string>([BUNDLE_MANIFEST]);
  for (const role of Object.keys(BUNDLE_FILES) as BundleRole[]) {
    const f = files[role];
    if (!f || f.name !== BUNDLE_FILES[role] || !/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isSafeInteger(f.bytes))
      throw new BundleError(`${BUNDLE_MANIFEST}: files.${role} must be { name: "${BUNDLE_FILES[role]}", sha256, bytes }`);
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
  return j as unknown as BundleManifest;
}
