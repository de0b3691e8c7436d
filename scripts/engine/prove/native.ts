/**
 * The native Groth16 prover (native/groth16/prover.cpp; docs/prover.md, "Native prover"): compiled once per machine
 * with the system's g++ (`-O3 -march=native`, so it uses the BMI2 / ADX / AVX-512 instructions this CPU has; the
 * binary is cached under build/native/ by the hash of its source, the compiler and the CPU's flags), run as a child
 * process on a zkey and a witness file, and checked: every proof it writes is verified with the key's verification
 * key before it is returned. snarkjs stays the fallback: no compiler, a failed build, no source (the installed
 * package does not ship it), `ZKML_PROVER=snarkjs`, or a native proof that does not verify (logged; it costs time,
 * never a wrong proof).
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as snarkjs from "snarkjs";
import { BUILD_DIR, ROOT, ensureDir } from "../../util/paths";

const run = promisify(execFile);

export const NATIVE_SOURCE = path.join(ROOT, "native", "groth16", "prover.cpp");
const FLAGS = ["-O3", "-march=native", "-std=c++17", "-pthread"];

/** Which prover proves: `ZKML_PROVER=snarkjs` forces snarkjs, anything else (or unset) the native one when it builds. */
export function proverBackend(): "native" | "snarkjs" {
  return process.env.ZKML_PROVER === "snarkjs" ? "snarkjs" : "native";
}

/** Threads of one native proof: `ZKML_PROVER_THREADS`, default every core. */
export function proverThreads(): number {
  const v = Number(process.env.ZKML_PROVER_THREADS ?? "");
  return Number.isInteger(v) && v >= 1 ? v : Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** Why the native prover is not available (undefined once it is built), for one log line. */
export let nativeUnavailable: string | undefined;

let building: Promise<string | undefined> | undefined;

/** The CPU's feature flags (the binary is built for them). */
function cpuFlags(): string {
  try {
    return (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:(.*)$/m)?.[1] ?? "").trim();
  } catch {
    return os.cpus()[0]?.model ?? "";
  }
}

/**
 * The native prover's binary, built on first use (about 15 s) and cached; undefined when it cannot be built (the
 * reason is in `nativeUnavailable`).
 */
export function nativeProverBinary(): Promise<string | undefined> {
  building ??= (async () => {
    if (!fs.existsSync(NATIVE_SOURCE)) {
      // an installed package (the SDK, the test kit) does not ship the source: snarkjs proves there
      nativeUnavailable = `the native prover's source ${NATIVE_SOURCE} is not in this installation: proving with snarkjs`;
      return undefined;
    }
    let version: string;
    try {
      version = (await run("g++", ["--version"])).stdout.split("\n")[0];
    } catch {
      nativeUnavailable = "g++ is not installed (apt-get install g++): proving with snarkjs";
      return undefined;
    }
    const hash = crypto
      .createHash("sha256")
      .update(fs.readFileSync(NATIVE_SOURCE))
      .update(FLAGS.join(" "))
      .update(version)
      .update(cpuFlags())
      .digest("hex")
      .slice(0, 16);
    const dir = ensureDir(path.join(BUILD_DIR, "native"));
    const bin = path.join(dir, `groth16-prover-${hash}`);
    if (fs.existsSync(bin)) return bin;
    const tmp = `${bin}.${process.pid}-${crypto.randomBytes(4).toString("hex")}.tmp`;
    try {
      await run("g++", [...FLAGS, "-o", tmp, NATIVE_SOURCE], { maxBuffer: 1 << 24 });
      fs.renameSync(tmp, bin);
      return bin;
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      nativeUnavailable = `the native prover did not build (${(e as Error).message.split("\n")[0]}): proving with snarkjs`;
      return undefined;
    }
  })();
  return building;
}

/** Seconds per phase of one native proof, as the binary reports them. */
export interface NativeTimings {
  read: number;
  qap: number;
  fft: number;
  msm: number;
  finish: number;
  threads: number;
}

export interface NativeProof {
  proof: snarkjs.Groth16Proof;
  publicSignals: snarkjs.NumericString[];
  timings: NativeTimings;
}

/**
 * One proof by the native binary from a zkey and a witness file (files in a private temporary folder, removed after).
 * @throws when the binary fails (its message), never for a proof that merely does not verify (the caller checks).
 */
export async function proveNativeFiles(binary: string, zkey: string, wtns: string, threads = proverThreads()): Promise<NativeProof> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-native-"));
  try {
    const proofFile = path.join(dir, "proof.json");
    const publicFile = path.join(dir, "public.json");
    const { stderr } = await run(binary, [zkey, wtns, proofFile, publicFile, "--threads", String(threads), "--timings"], {
      maxBuffer: 1 << 20,
    });
    return {
      proof: JSON.parse(fs.readFileSync(proofFile, "utf8")) as snarkjs.Groth16Proof,
      publicSignals: JSON.parse(fs.readFileSync(publicFile, "utf8")) as snarkjs.NumericString[],
      timings: JSON.parse(stderr.trim().split("\n").pop() ?? "{}") as NativeTimings,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const vkeys = new Map<string, Promise<snarkjs.VerificationKey>>();

/** The verification key inside a zkey (read once per file and modification time). */
export function zkeyVerificationKey(zkey: string): Promise<snarkjs.VerificationKey> {
  const st = fs.statSync(zkey);
  const k = `${zkey}:${st.size}:${st.mtimeMs}`;
  let v = vkeys.get(k);
  if (!v) {
    v = snarkjs.zKey.exportVerificationKey(zkey);
    vkeys.set(k, v);
  }
  return v;
}
