import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { sha256File } from "../lib/hash";
import { ensureDir, userCacheDir } from "../lib/paths";

/**
 * DEV ONLY, NOT FOR PRODUCTION. The dev powers of tau have no secret contribution: they are a fresh accumulator
 * plus a beacon whose hash is printed right here, so anyone can recompute the toxic waste and forge proofs. They
 * exist so that tests and the demo run offline and reproducibly (the same bytes on every machine).
 * For real deployments import a ceremony file with {@link importPtau}.
 */
export const DEV_BEACON_HASH = "7a6b6d6c2d65766d20646576206f6e6c79202d206e6f7420666f722070726f64"; // "zkml-evm dev only - not for prod"
export const DEV_BEACON_ITERATIONS_EXP = 10;
/** Bumped when the dev recipe changes, so old cache entries are not reused. */
const DEV_RECIPE = "v1";

export interface PtauFile {
  file: string;
  power: number;
  sha256: string;
  source: "dev" | "imported";
}

function ptauDir(): string {
  return ensureDir(path.join(userCacheDir(), "ptau"));
}

function metaPath(file: string): string {
  return file + ".json";
}

/**
 * Returns the cached dev powers-of-tau file for `power` (phase-2 prepared), generating it once per machine. The cache
 * entry carries its SHA-256; a file whose bytes no longer match is regenerated.
 * @throws if power is outside 8..20 (above 16 takes hours on this machine: bring a ceremony file instead).
 */
export async function devPtau(power: number, log: (msg: string) => void = () => {}): Promise<PtauFile> {
  if (!Number.isInteger(power) || power < 8 || power > 20) {
    throw new Error(`ptau power must be an integer in 8..20, got ${power}; for larger circuits import a ceremony file`);
  }
  const dir = ptauDir();
  const file = path.join(dir, `dev-${DEV_RECIPE}-pot${power}_final.ptau`);
  const meta = metaPath(file);
  if (fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, "utf8")) as PtauFile;
    const size = fs.statSync(file).size;
    // Hash check only when the size differs from a complete file or the caller asks for it: hashing is cheap, do it.
    const h = await sha256File(file);
    if (h === m.sha256 && size > 0) return m;
    log(`cached ${file} does not match its recorded hash; regenerating`);
  }
  const tmp = path.join(dir, `tmp-${process.pid}-${Date.now()}`);
  ensureDir(tmp);
  try {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const p0 = path.join(tmp, "0.ptau");
    const p1 = path.join(tmp, "1.ptau");
    const p2 = path.join(tmp, "final.ptau");
    const t0 = Date.now();
    log(`generating dev powers of tau 2^${power} (once per machine; cached in ${dir}) ...`);
    await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
    await snarkjs.powersOfTau.beacon(p0, p1, "zkml-evm dev beacon (INSECURE)", DEV_BEACON_HASH, DEV_BEACON_ITERATIONS_EXP);
    log(`  phase 1 done in ${((Date.now() - t0) / 1000).toFixed(1)} s; preparing phase 2 ...`);
    await snarkjs.powersOfTau.preparePhase2(p1, p2);
    log(`  prepared in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Atomic publish: another clone racing on the same power either sees nothing or a whole file.
    fs.renameSync(p2, file);
    const entry: PtauFile = { file, power, sha256: await sha256File(file), source: "dev" };
    fs.writeFileSync(meta, JSON.stringify(entry, null, 2));
    return entry;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Imports a powers-of-tau file from a real ceremony (e.g. a `powersOfTau28_hez_final_NN.ptau` the user downloaded
 * themselves): verifies it with snarkjs (every contribution and the phase-2 preparation), then copies it into the
 * user cache so later builds can use it.
 * @throws if the file does not exist or does not verify.
 */
export async function importPtau(src: string, log: (msg: string) => void = () => {}): Promise<PtauFile> {
  if (!fs.existsSync(src)) throw new Error(`ptau file not found: ${src}`);
  log(`verifying ${src} with snarkjs (this reads every point; large files take long) ...`);
  const ok = await snarkjs.powersOfTau.verify(src);
  if (!ok) throw new Error(`ptau file ${src} failed verification: do not use it; download it again from its ceremony`);
  const h = await sha256File(src);
  const power = ptauPower(src);
  const file = path.join(ptauDir(), `imported-${h.slice(0, 16)}-pot${power}.ptau`);
  if (!fs.existsSync(file)) fs.copyFileSync(src, file);
  const entry: PtauFile = { file, power, sha256: h, source: "imported" };
  fs.writeFileSync(metaPath(file), JSON.stringify(entry, null, 2));
  return entry;
}

/** Reads the power from a ptau file's header section. */
export function ptauPower(file: string): number {
  // Layout: "ptau" magic, u32 version, u32 nSections, then sections (u32 type, u64 size, body). Section 1 body:
  // u32 n8, n8 bytes of q, u32 power, u32 ceremonyPower.
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(4096);
    fs.readSync(fd, head, 0, head.length, 0);
    if (head.toString("ascii", 0, 4) !== "ptau") throw new Error(`${file} is not a ptau file (bad magic)`);
    let off = 12;
    for (;;) {
      const type = head.readUInt32LE(off);
      const size = Number(head.readBigUInt64LE(off + 4));
      if (type === 1) {
        const n8 = head.readUInt32LE(off + 12);
        return head.readUInt32LE(off + 16 + n8);
      }
      off += 12 + size;
      if (off + 12 > head.length) throw new Error(`${file}: header section not found`);
    }
  } finally {
    fs.closeSync(fd);
  }
}
