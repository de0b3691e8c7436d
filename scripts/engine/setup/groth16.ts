import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import type { CompiledCircuit } from "../circuit/compile";
import { canonicalJson, sha256, sha256File } from "../../util/hash";
import { BUILD_DIR, ensureDir, packageDir, writeFileAtomic } from "../../util/paths";
import { DEV_ZKEY_BEACON } from "./dev-secrets";
import { writeDevZkeyDirect } from "./direct-zkey";
import type { PtauFile } from "./ptau";

/**
 * DEV ONLY: dev keys are forgeable (their secrets are public, docs/trusted-setup.md). Recipe tag of the dev keys:
 * bumped whenever their bytes or their file layout change, so stale cache entries are never reused.
 * v2: computed directly, `<name>.dev-INSECURE.zkey`; bytes as v1's (snarkjs zkey new with the dev ptau + beacon).
 */
export const DEV_RECIPE = "groth16-dev-v2";
/** snarkjs' package folder (its package.json is not in the package's "exports", so read it from disk). */

/** Installed snarkjs version. */
export function snarkjsPackageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageDir("snarkjs"), "package.json"), "utf8")) as { version: string }).version;
}

export interface Groth16Keys {
  zkey: string;
  vkeyFile: string;
  vkey: snarkjs.VerificationKey;
  /** SHA-256 of the canonical JSON verification key: the vkHash recorded in the registry. */
  vkHash: string;
  zkeySha256: string;
  /** true unless the keys come from a verified phase-2 ceremony: anyone can forge proofs for insecure keys. */
  insecure: boolean;
  /**
   * The phase-1 file the keys were made from. For dev keys computed directly there is none: `sha256` is absent and
   * `power` is that of the dev ptau whose snarkjs setup gives the same bytes.
   */
  ptau: { power: number; source: "dev" | "imported"; sha256?: string };
  setupSeconds: number;
  cached: boolean;
}

/** snarkjs' dev phase 2 on a ptau file: `zkey new` then the public dev beacon (the recipe direct-zkey.ts reproduces). */
export async function snarkjsDevZkey(r1cs: string, ptauFile: string, zkeyFile: string): Promise<void> {
  const z0 = `${zkeyFile}.${process.pid}.0`;
  const z1 = `${zkeyFile}.${process.pid}.1`;
  try {
    await snarkjs.zKey.newZKey(r1cs, ptauFile, z0);
    await snarkjs.zKey.beacon(z0, z1, DEV_ZKEY_BEACON.name, DEV_ZKEY_BEACON.hash, DEV_ZKEY_BEACON.iterationsExp);
    fs.renameSync(z1, zkeyFile);
  } finally {
    fs.rmSync(z0, { force: true });
    fs.rmSync(z1, { force: true });
  }
}

/**
 * Groth16 setup with the dev recipe (INSECURE; deterministic, so every machine derives the same keys and committed
 * verifiers can be checked by regenerating). Without `ptau` the keys are computed directly from the public dev
 * secrets (direct-zkey.ts: no powers of tau needed, seconds instead of minutes); with an imported ceremony ptau,
 * snarkjs' `zkey new` on it and the dev beacon (phase 2 is still public, so still insecure). Cached in
 * build/keys/<name>-<hash of the R1CS, the ptau and the recipe>/<name>.dev-INSECURE.zkey.
 */
export async function setupGroth16Dev(
  circuit: CompiledCircuit,
  ptau?: PtauFile,
  log: (msg: string) => void = () => {},
  progress?: (done: number, total: number) => void,
): Promise<Groth16Keys> {
  const key = sha256([circuit.r1csHash, ptau?.sha256 ?? "direct", DEV_RECIPE].join("\0")).slice(0, 16);
  const dir = ensureDir(path.join(BUILD_DIR, "keys", `${circuit.name}-${key}`));
  const zkey = path.join(dir, `${circuit.name}.dev-INSECURE.zkey`);
  const vkeyFile = path.join(dir, "verification_key.json");
  const infoFile = path.join(dir, "keys.json");
  if (fs.existsSync(infoFile) && fs.existsSync(zkey)) {
    return { ...(JSON.parse(fs.readFileSync(infoFile, "utf8")) as Groth16Keys), cached: true };
  }
  const t0 = Date.now();
  let ptauInfo: Groth16Keys["ptau"];
  if (ptau) {
    await snarkjsDevZkey(circuit.r1cs, ptau.file, zkey);
    ptauInfo = { power: ptau.power, source: ptau.source, sha256: ptau.sha256 };
  } else {
    const r = await writeDevZkeyDirect(circuit.r1cs, zkey, { log, progress });
    ptauInfo = { power: r.ptauPower, source: "dev" };
  }
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  writeFileAtomic(vkeyFile, JSON.stringify(vkey, null, 2));
  const result: Groth16Keys = {
    zkey,
    vkeyFile,
    vkey,
    vkHash: verificationKeyHash(vkey),
    zkeySha256: await sha256File(zkey),
    insecure: true,
    ptau: ptauInfo,
    setupSeconds: (Date.now() - t0) / 1000,
    cached: false,
  };
  writeFileAtomic(infoFile, JSON.stringify(result, null, 2));
  return result;
}

/** SHA-256 of the canonical JSON of a verification key. */
export function verificationKeyHash(vkey: snarkjs.VerificationKey): string {
  return sha256(canonicalJson(vkey));
}

/**
 * Renders the snarkjs Groth16 Solidity verifier for `zkey`, renamed to `contractName`, with a header saying what it
 * was generated from. The body is snarkjs' template output, unedited.
 * @param origin For keys that are not the dev recipe (a ceremony): what the setup was and how to regenerate the file.
 */
export async function exportGroth16Verifier(
  keys: Groth16Keys,
  contractName: string,
  source: string,
  origin?: { setup: string; regenerate: string },
): Promise<string> {
  const template = fs.readFileSync(path.join(packageDir("snarkjs"), "templates", "verifier_groth16.sol.ejs"), "utf8");
  const sol = await snarkjs.zKey.exportSolidityVerifier(keys.zkey, { groth16: template });
  if (!/contract Groth16Verifier\b/.test(sol)) throw new Error("unexpected snarkjs verifier template: contract Groth16Verifier not found");
  const snarkjsVersion = snarkjsPackageVersion();
  const header = [
    "// SPDX-License-Identifier: GPL-3.0",
    `// GENERATED FILE - DO NOT EDIT. Regenerate with \`${origin?.regenerate ?? "npm run build:model -- <model>"}\`.`,
    `// Generated by snarkjs ${snarkjsVersion} (templates/verifier_groth16.sol.ejs) from:`,
    `//   source:            ${source}`,
    origin
      ? `//   trusted setup:     ${origin.setup}`
      : `//   r1cs/zkey recipe:  ${DEV_RECIPE} (DEV trusted setup, INSECURE: NOT FOR PRODUCTION)`,
    `//   zkey sha256:       ${keys.zkeySha256}`,
    `//   vkey sha256:       ${keys.vkHash}`,
    keys.ptau.sha256
      ? `//   ptau sha256:       ${keys.ptau.sha256}`
      : `//   ptau:              none (computed from the public dev secrets; equal to the dev ptau 2^${keys.ptau.power} + zkey new)`,
  ].join("\n");
  const body = sol.replace(/^\/\/ SPDX-License-Identifier:.*\n/, "").replace(/contract Groth16Verifier\b/, `contract ${contractName}`);
  return `${header}\n\n${body}`;
}
