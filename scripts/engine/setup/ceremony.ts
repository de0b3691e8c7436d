/**
 * Production trusted setup (docs/trusted-setup.md, "Production ceremony"): import a ceremony powers-of-tau file,
 * run phase-2 contributions and a beacon for one model's circuit, verify the final zkey against the R1CS and the
 * ptau, and record every hash in `manifest.json` next to the keys. Each step reads the manifest the previous one
 * wrote, so the steps can be run on different days by different parties (copy the folder between them).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { sha256File } from "../../util/hash";
import { BUILD_DIR, ensureDir, rel } from "../../util/paths";
import { verificationKeyHash } from "./groth16";
import { type PtauFile, importPtau } from "./ptau";

export interface CeremonyContribution {
  index: number;
  kind: "initial" | "contribution" | "beacon";
  name: string;
  zkey: string;
  zkeySha256: string;
  /** snarkjs' contribution hash (what the contributor publishes), when snarkjs returns it. */
  contributionHash?: string;
  beaconHash?: string;
  beaconIterationsExp?: number;
  at: string;
}

export interface CeremonyManifest {
  format: "zkml-ceremony-v1";
  circuit: string;
  r1cs: string;
  r1csSha256: string;
  ptau: { file: string; sha256: string; power: number };
  contributions: CeremonyContribution[];
  final?: { zkey: string; zkeySha256: string; vkeyFile: string; vkHash: string; verified: boolean; verifiedAt: string };
}

/** The default ceremony folder of a circuit: build/ceremony/<name>/. */
export function ceremonyDir(name: string): string {
  return path.join(BUILD_DIR, "ceremony", name);
}

function manifestFile(dir: string): string {
  return path.join(dir, "manifest.json");
}

export function readManifest(dir: string): CeremonyManifest {
  const f = manifestFile(dir);
  if (!fs.existsSync(f)) throw new Error(`no ceremony in ${rel(dir)} (${rel(f)} not found): start one with setup:contribute --ptau <file>`);
  return JSON.parse(fs.readFileSync(f, "utf8")) as CeremonyManifest;
}

function writeManifest(dir: string, m: CeremonyManifest): string {
  const f = manifestFile(dir);
  fs.writeFileSync(f, JSON.stringify(m, null, 2) + "\n");
  return f;
}

function hex(u: unknown): string | undefined {
  return u instanceof Uint8Array ? Buffer.from(u).toString("hex") : undefined;
}

/**
 * Imports and verifies a ceremony ptau (snarkjs powersoftau verify) and optionally checks its SHA-256.
 * @throws if the file fails verification or its hash differs from `expectedSha256`.
 */
export async function importCeremonyPtau(
  file: string,
  opts: { expectedSha256?: string; log?: (m: string) => void } = {},
): Promise<PtauFile> {
  const p = await importPtau(file, opts.log);
  if (opts.expectedSha256 && opts.expectedSha256.toLowerCase().replace(/^0x/, "") !== p.sha256) {
    throw new Error(`ptau ${file} has sha256 ${p.sha256}, expected ${opts.expectedSha256}: download it again`);
  }
  return p;
}

/**
 * Adds one phase-2 contribution. The first call (no manifest yet) needs `r1cs` and `ptau` and creates the initial
 * zkey (`zkey new`); later calls extend the chain.
 * @param entropy The contributor's secret randomness; random bytes when omitted. Never stored.
 * @throws if the chain already has a beacon (finalised) or the first call lacks r1cs/ptau.
 */
export async function contribute(
  dir: string,
  opts: { name: string; entropy?: string; r1cs?: string; ptau?: PtauFile; circuit?: string; log?: (m: string) => void },
): Promise<{ manifest: CeremonyManifest; file: string; contribution: CeremonyContribution }> {
  ensureDir(dir);
  const log = opts.log ?? (() => {});
  let m: CeremonyManifest;
  if (!fs.existsSync(manifestFile(dir))) {
    if (!opts.r1cs || !opts.ptau) throw new Error("the first contribution needs the circuit's r1cs and an imported ptau (--ptau)");
    const z0 = path.join(dir, "circuit_0000.zkey");
    log(`zkey new from ${rel(opts.r1cs)} and ${rel(opts.ptau.file)} ...`);
    await snarkjs.zKey.newZKey(opts.r1cs, opts.ptau.file, z0);
    m = {
      format: "zkml-ceremony-v1",
      circuit: opts.circuit ?? path.basename(opts.r1cs, ".r1cs"),
      r1cs: opts.r1cs,
      r1csSha256: await sha256File(opts.r1cs),
      ptau: { file: opts.ptau.file, sha256: opts.ptau.sha256, power: opts.ptau.power },
      contributions: [
        {
          index: 0,
          kind: "initial",
          name: "zkey new",
          zkey: path.basename(z0),
          zkeySha256: await sha256File(z0),
          at: new Date().toISOString(),
        },
      ],
    };
  } else {
    m = readManifest(dir);
  }
  const last = m.contributions[m.contributions.length - 1];
  if (last.kind === "beacon") throw new Error(`the ceremony in ${rel(dir)} is finalised by a beacon: no more contributions`);
  const index = last.index + 1;
  const out = path.join(dir, `circuit_${String(index).padStart(4, "0")}.zkey`);
  log(`contribution ${index} by "${opts.name}" ...`);
  const h = await snarkjs.zKey.contribute(path.join(dir, last.zkey), out, opts.name, opts.entropy ?? randomBytes(64).toString("hex"));
  const c: CeremonyContribution = {
    index,
    kind: "contribution",
    name: opts.name,
    zkey: path.basename(out),
    zkeySha256: await sha256File(out),
    contributionHash: hex(h),
    at: new Date().toISOString(),
  };
  m.contributions.push(c);
  return { manifest: m, file: writeManifest(dir, m), contribution: c };
}

/**
 * Finalises the chain with a public beacon (e.g. a future block hash fixed in advance).
 * @throws if there is no contribution yet or the hash is not hex.
 */
export async function applyBeacon(
  dir: string,
  opts: { beaconHash: string; iterationsExp?: number; name?: string },
): Promise<{ manifest: CeremonyManifest; file: string; zkey: string }> {
  const m = readManifest(dir);
  const hash = opts.beaconHash.replace(/^0x/, "");
  if (!/^[0-9a-fA-F]+$/.test(hash) || hash.length % 2 !== 0)
    throw new Error(`beacon hash ${opts.beaconHash} is not an even-length hex string`);
  const last = m.contributions[m.contributions.length - 1];
  if (last.kind === "beacon") throw new Error("the ceremony already has a beacon");
  if (!m.contributions.some((c) => c.kind === "contribution"))
    throw new Error("add at least one contribution (setup:contribute) before the beacon");
  const iter = opts.iterationsExp ?? 10;
  const out = path.join(dir, "circuit_final.zkey");
  const h = await snarkjs.zKey.beacon(path.join(dir, last.zkey), out, opts.name ?? "final beacon", hash, iter);
  m.contributions.push({
    index: last.index + 1,
    kind: "beacon",
    name: opts.name ?? "final beacon",
    zkey: path.basename(out),
    zkeySha256: await sha256File(out),
    contributionHash: hex(h),
    beaconHash: hash,
    beaconIterationsExp: iter,
    at: new Date().toISOString(),
  });
  return { manifest: m, file: writeManifest(dir, m), zkey: out };
}

/**
 * Verifies the final zkey against the R1CS and the ptau (snarkjs zkey verify), checks every recorded hash, exports
 * the verification key and records its hash (the vkHash to register on-chain).
 * @throws if a file changed since it was recorded, or the zkey does not verify.
 */
export async function verifyCeremony(dir: string): Promise<{ manifest: CeremonyManifest; file: string }> {
  const m = readManifest(dir);
  const last = m.contributions[m.contributions.length - 1];
  if (last.kind !== "beacon") throw new Error("the ceremony has no beacon yet: run setup:beacon first");
  if ((await sha256File(m.r1cs)) !== m.r1csSha256)
    throw new Error(`${rel(m.r1cs)} changed since the ceremony started: the keys are for another circuit`);
  if ((await sha256File(m.ptau.file)) !== m.ptau.sha256) throw new Error(`${m.ptau.file} changed since the ceremony started`);
  for (const c of m.contributions) {
    if ((await sha256File(path.join(dir, c.zkey))) !== c.zkeySha256) throw new Error(`${c.zkey} does not match its recorded sha256`);
  }
  const zkey = path.join(dir, last.zkey);
  const ok = await snarkjs.zKey.verifyFromR1cs(m.r1cs, m.ptau.file, zkey);
  if (!ok) throw new Error(`${rel(zkey)} does NOT verify against ${rel(m.r1cs)} and the ptau: do not use it`);
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  const vkeyFile = path.join(dir, "verification_key.json");
  fs.writeFileSync(vkeyFile, JSON.stringify(vkey, null, 2));
  m.final = {
    zkey: last.zkey,
    zkeySha256: last.zkeySha256,
    vkeyFile: path.basename(vkeyFile),
    vkHash: verificationKeyHash(vkey),
    verified: true,
    verifiedAt: new Date().toISOString(),
  };
  return { manifest: m, file: writeManifest(dir, m) };
}
