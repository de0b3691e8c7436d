import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { sha256File } from "../../util/hash";
import { ensureDir, userCacheDir, writeFileAtomic } from "../../util/paths";
import { DEV_PTAU_BEACON } from "./dev-secrets";
import { writeDevPtauDirect } from "./direct-ptau";

/**
 * DEV ONLY, NOT FOR PRODUCTION. The dev powers of tau have no secret contribution: they are a fresh accumulator
 * plus a beacon whose hash is public (`DEV_PTAU_BEACON`, dev-secrets.ts), so anyone can recompute the toxic waste
 * and forge proofs. They exist so that tests, the demo and the benchmark run offline and reproducibly (the same bytes
 * on every machine). They are computed directly from those public secrets (direct-ptau.ts), byte for byte the file
 * snarkjs' own recipe writes (`snarkjsDevPtau`). For real deployments import a ceremony file with {@link importPtau}.
 */
/** Recipe tag in the cache file names; bumped when the bytes of a dev ptau change (v1: snarkjs' new + beacon + prepare). */
const DEV_RECIPE = "v1";
/** Largest dev ptau this project generates (2^22: 4 Mi constraints, ~4.5 GB); above it bring a ceremony file. */
export const MAX_DEV_PTAU_POWER = 22;

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

/** Cache path of the dev ptau of `power`: the file name says INSECURE. */
export function devPtauPath(power: number): string {
  return path.join(ptauDir(), `dev-${DEV_RECIPE}-INSECURE-pot${power}.ptau`);
}

/** The cache entry of `file` if it is complete and its bytes still match the recorded SHA-256. */
async function cachedEntry(file: string): Promise<PtauFile | undefined> {
  const meta = metaPath(file);
  if (!fs.existsSync(file) || !fs.existsSync(meta)) return undefined;
  const m = JSON.parse(fs.readFileSync(meta, "utf8")) as PtauFile;
  return (await sha256File(file)) === m.sha256 && m.file === file ? m : undefined;
}

/** Powers of the dev ptau files in the cache (complete or not), ascending. */
export function cachedDevPtauPowers(): number[] {
  const re = new RegExp(`^dev-${DEV_RECIPE}-INSECURE-pot(\\d+)\\.ptau$`);
  return fs
    .readdirSync(ptauDir())
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && fs.existsSync(metaPath(path.join(ptauDir(), m[0]))))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * A dev powers-of-tau file (phase-2 prepared) of at least `power`: the cached one of that power, else the smallest
 * cached larger one (snarkjs takes a bigger ptau for any setup; pass `exact` to refuse it), else it is generated
 * (seconds; once per machine, cached in the user cache folder with a `.json` sidecar holding its SHA-256; a file whose
 * bytes no longer match is regenerated).
 * @throws if power is outside 8..MAX_DEV_PTAU_POWER.
 */
export async function devPtau(power: number, log: (msg: string) => void = () => {}, opts: { exact?: boolean } = {}): Promise<PtauFile> {
  if (!Number.isInteger(power) || power < 8 || power > MAX_DEV_PTAU_POWER) {
    throw new Error(`ptau power must be an integer in 8..${MAX_DEV_PTAU_POWER}, got ${power}; for larger circuits import a ceremony file`);
  }
  const file = devPtauPath(power);
  const exact = await cachedEntry(file);
  if (exact) return exact;
  if (!opts.exact) {
    for (const p of cachedDevPtauPowers().filter((x) => x > power)) {
      const bigger = await cachedEntry(devPtauPath(p));
      if (bigger) {
        log(`using the cached dev powers of tau 2^${p} for 2^${power} (a larger ptau serves any smaller circuit)`);
        return bigger;
      }
    }
  }
  if (fs.existsSync(file)) log(`cached ${file} does not match its recorded hash; regenerating`);
  const t0 = Date.now();
  log(`generating dev powers of tau 2^${power} (INSECURE; computed from the public dev secrets, cached in ${ptauDir()}) ...`);
  await writeDevPtauDirect(power, file, { log });
  log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const entry: PtauFile = { file, power, sha256: await sha256File(file), source: "dev" };
  writeFileAtomic(metaPath(file), JSON.stringify(entry, null, 2));
  return entry;
}

/**
 * The dev powers of tau the slow way, with snarkjs' own commands (`powersoftau new`, `beacon` with DEV_PTAU_BEACON,
 * `prepare phase2`): the reference the direct computation is checked against (test/setup/fast-keys.test.ts,
 * `npm run bench:setup`). Minutes at 2^12, tens of minutes at 2^14 on two cores.
 */
export async function snarkjsDevPtau(power: number, file: string): Promise<void> {
  const tmp = ensureDir(path.join(path.dirname(file), `.snarkjs-ptau-${process.pid}-${Date.now()}`));
  try {
    const curve = await snarkjs.curves.getCurveFromName("bn128");
    const p0 = path.join(tmp, "0.ptau");
    const p1 = path.join(tmp, "1.ptau");
    const p2 = path.join(tmp, "final.ptau");
    await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
    await snarkjs.powersOfTau.beacon(p0, p1, DEV_PTAU_BEACON.name, DEV_PTAU_BEACON.hash, DEV_PTAU_BEACON.iterationsExp);
    await snarkjs.powersOfTau.preparePhase2(p1, p2);
    fs.renameSync(p2, file);
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
  writeFileAtomic(metaPath(file), JSON.stringify(entry, null, 2));
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
