/**
 * A bundle as a folder (the format: ./bundle.ts): writing one from a built model's artifacts, and reading one back
 * with every file checked against `bundle.json`. Node only.
 */
import * as fs from "fs";
import * as path from "path";
import { sha256 } from "../util/hash";
import { ensureDir, writeFileAtomic } from "../util/paths";
import type { QuantizedModel } from "./quantized-model";
import { layoutOf } from "./model-layout";
import {
  BUNDLE_FILES,
  BUNDLE_FORMAT,
  BUNDLE_MANIFEST,
  BundleError,
  type BundleManifest,
  type BundleRole,
  type ModelCard,
  parseBundleManifest,
  parseModelCard,
} from "./bundle";

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
