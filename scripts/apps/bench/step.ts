/**
 * One measured benchmark step, run as its own child process so that its peak resident size is the step's alone.
 * Usage: node -r ts-node/register/transpile-only scripts/apps/bench/step.ts '<json StepArgs>'
 * Prints one line `BENCH_STEP {json}` on stdout: the step's result, its timings and `process.resourceUsage().maxRSS`
 * (KiB). Progress goes to stderr. The parent (scripts/apps/bench/run.ts) spawns one child per step.
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { compileCircuit } from "../../engine/circuit/compile";
import { circuitWeightInputs, generateMainCircuit } from "../../engine/circuit/generate";
import { SNARK_FIELD } from "../../util/field";
import { ensureDir } from "../../util/paths";
import { loadFloatModel } from "../../pipelines/build";
import { circuitInput } from "../../engine/prove/inference";
import { inputModeOf } from "../../formats/quantized-model";
import { releaseSnarkjs } from "../../util/snarkjs-threads";
import { writeDevPtauDirect } from "../../engine/setup/direct-ptau";
import { writeDevZkeyDirect } from "../../engine/setup/direct-zkey";
import { snarkjsDevZkey } from "../../engine/setup/groth16";
import { snarkjsDevPtau } from "../../engine/setup/ptau";
import { sha256File } from "../../util/hash";
import { writeSyntheticCircuit } from "./synthetic";
import { quantizeInput } from "../../formats/quantized-input";
import { modelFor, sampleInput } from "../../pipelines/held-out";
import { profileGroth16 } from "../../engine/prove/phases";
import { type NativeTimings, nativeProverBinary, proveNativeFiles, proverBackend } from "../../engine/prove/native";

export type ProofSystem = "groth16" | "plonk" | "fflonk";

export type StepArgs =
  /** Generates the model's main circuit for a visibility mode, writes it and a witness input, and compiles it. */
  | { op: "compile"; model: string; mode: "open" | "private"; workDir: string }
  /**
   * Circuit-specific setup: PLONK / FFLONK with a cached ptau file; Groth16 with the dev keys computed directly from
   * the public dev secrets (direct-zkey.ts, the path `build:model` takes), or snarkjs' dev recipe on `ptau` if given.
   */
  | { op: "setup"; system: ProofSystem; r1cs: string; ptau?: string; zkey: string }
  /** Witness computation, timed `runs` times after one warm-up run. */
  | { op: "witness"; wasm: string; input: string; wtns: string; runs: number }
  /** Proving from a witness file, timed `runs` times after one warm-up run; the last proof is verified. */
  | {
      op: "prove";
      system: ProofSystem;
      zkey: string;
      wtns: string;
      runs: number;
      profile?: boolean;
      vkey?: string;
      /** Groth16's prover: the native one by default (as proveGroth16), snarkjs when asked or when it cannot build. */
      prover?: "native" | "snarkjs";
    }
  /** A synthetic R1CS of domain 2^power and its witness (synthetic.ts). */
  | { op: "synthetic"; power: number; r1cs: string; wtns: string }
  /**
   * The dev setup one way or the other (`npm run bench -- --setup ...`, run.ts): `direct` computes it from the public secrets, `snarkjs`
   * runs snarkjs' recipe. `ptau` writes the dev ptau of `power`; `zkey` the Groth16 keys of `r1cs` (snarkjs: from
   * the ptau file `ptau`) and their vkey next to them (`<out>.vkey.json`, for a later prove step).
   */
  | { op: "devSetup"; path: "direct" | "snarkjs"; what: "ptau" | "zkey"; out: string; power?: number; r1cs?: string; ptau?: string };

interface ProofSystemApi {
  setup(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
  prove(zkey: string, wtns: string, logger?: Logger): Promise<{ proof: unknown; publicSignals: string[] }>;
  verify(vk: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
}
/** snarkjs' PLONK and FFLONK APIs (the project's snarkjs typings cover Groth16 only). */
const systems = snarkjs as unknown as { groth16: ProofSystemApi; plonk: ProofSystemApi; fflonk: ProofSystemApi };

interface Logger {
  info(msg: string): void;
  debug(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A snarkjs logger that keeps every line (the PLONK/FFLONK row counts are read from it). */
function captureLogger(lines: string[]): Logger {
  const keep = (m: string): void => {
    lines.push(String(m));
  };
  return { info: keep, debug: () => {}, warn: keep, error: keep };
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}


async function compileStep(a: Extract<StepArgs, { op: "compile" }>): Promise<Record<string, unknown>> {
  ensureDir(a.workDir);
  const model = modelFor(a.model, a.mode);
  const base = `${a.model}-${a.mode}`;
  const circuitFile = path.join(a.workDir, `${base}.circom`);
  const tg = process.hrtime.bigint();
  const src = await generateMainCircuit(model);
  const generateSeconds = seconds(tg);
  fs.writeFileSync(circuitFile, src);
  // A fresh output root each time, so the compiler really runs (compileCircuit caches by content hash).
  const outRoot = path.join(a.workDir, "compiled");
  fs.rmSync(outRoot, { recursive: true, force: true });
  const t0 = process.hrtime.bigint();
  const c = await compileCircuit(circuitFile, { outRoot });
  const compileSeconds = seconds(t0);
  // Witness input: the first held-out sample, a fixed salt and binding (any field elements will do).
  const fm = loadFloatModel(a.model);
  const raw = sampleInput(a.model);
  const x = quantizeInput(model, fm, raw);
  // a public-input model has no salt (its input is packed into public signals)
  const salt = inputModeOf(model) === "public" ? undefined : 123456789n;
  const input = { ...circuitInput(x, salt, (2n ** 200n + 12345n) % SNARK_FIELD, model), ...circuitWeightInputs(model) };
  const inputFile = path.join(a.workDir, "input.json");
  fs.writeFileSync(inputFile, JSON.stringify(input));
  return {
    circuitFile,
    inputFile,
    r1cs: c.r1cs,
    wasm: c.wasm,
    constraints: c.constraints,
    wires: c.wires,
    publicInputs: c.publicInputs,
    outputs: c.outputs,
    privateInputs: c.privateInputs,
    generateSeconds,
    compileSeconds,
  };
}

async function setupStep(a: Extract<StepArgs, { op: "setup" }>): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const logger = captureLogger(lines);
  fs.rmSync(a.zkey, { force: true });
  const t0 = process.hrtime.bigint();
  if (a.system === "groth16") {
    // The project's dev keys: computed directly (no ptau), or snarkjs' recipe on a ptau (new zkey + public beacon).
    if (a.ptau) await snarkjsDevZkey(a.r1cs, a.ptau, a.zkey);
    else await writeDevZkeyDirect(a.r1cs, a.zkey);
  } else if (!a.ptau) {
    throw new Error(`${a.system} setup needs a ptau file`);
  } else if (a.system === "plonk") {
    const r = await systems.plonk.setup(a.r1cs, a.ptau, a.zkey, logger);
    if (r === -1) throw new Error(lines.filter((l) => /too big|error|not/i.test(l)).join("; ") || "plonk setup failed");
  } else {
    await systems.fflonk.setup(a.r1cs, a.ptau, a.zkey, logger);
  }
  const setupSeconds = seconds(t0);
  const vkey = await snarkjs.zKey.exportVerificationKey(a.zkey);
  fs.writeFileSync(a.zkey + ".vkey.json", JSON.stringify(vkey));
  const plonkRows = Number(/Plonk constraints: (\d+)/.exec(lines.join("\n"))?.[1] ?? NaN);
  const fflonkRows = Number(/Constraints:\s+(\d+)/.exec(lines.join("\n"))?.[1] ?? NaN);
  return {
    setupSeconds,
    zkeyBytes: fs.statSync(a.zkey).size,
    rows: a.system === "plonk" ? plonkRows : a.system === "fflonk" ? fflonkRows : undefined,
  };
}

async function witnessStep(a: Extract<StepArgs, { op: "witness" }>): Promise<Record<string, unknown>> {
  const input = JSON.parse(fs.readFileSync(a.input, "utf8")) as Record<string, unknown>;
  const times: number[] = [];
  for (let i = 0; i <= a.runs; i++) {
    fs.rmSync(a.wtns, { force: true });
    const t0 = process.hrtime.bigint();
    await snarkjs.wtns.calculate(input, a.wasm, a.wtns);
    if (i > 0) times.push(seconds(t0)); // run 0 is the warm-up
  }
  return { times };
}

async function proveStep(a: Extract<StepArgs, { op: "prove" }>): Promise<Record<string, unknown>> {
  const times: number[] = [];
  let last: { proof: unknown; publicSignals: string[] } | undefined;
  const api = systems[a.system];
  const binary = a.system === "groth16" && a.prover !== "snarkjs" && proverBackend() === "native" ? await nativeProverBinary() : undefined;
  let native: NativeTimings | undefined;
  for (let i = 0; i <= a.runs; i++) {
    const t0 = process.hrtime.bigint();
    if (binary) {
      const r = await proveNativeFiles(binary, a.zkey, a.wtns);
      last = r;
      native = r.timings;
    } else last = await api.prove(a.zkey, a.wtns);
    if (i > 0) times.push(seconds(t0)); // run 0 is the warm-up
  }
  const vkey = JSON.parse(fs.readFileSync(a.vkey ?? a.zkey + ".vkey.json", "utf8")) as unknown;
  const verified = last ? await api.verify(vkey, last.publicSignals, last.proof) : false;
  if (!verified) throw new Error(`${a.system} proof${binary ? " (native prover)" : ""} did not verify`);
  // where the proving time goes: the native prover's own phase timings of its last proof, or one more snarkjs
  // Groth16 proof timed from snarkjs' phase announcements (reading, QAP, FFT, MSM)
  const phases =
    a.profile && a.system === "groth16"
      ? native
        ? { read: native.read, qap: native.qap, fft: native.fft, msm: native.msm + native.finish, total: native.read + native.qap + native.fft + native.msm + native.finish }
        : await profileGroth16(a.zkey, a.wtns)
      : undefined;
  return { times, verified, proofBytes: JSON.stringify(last?.proof).length, phases, prover: a.system === "groth16" ? (binary ? "native" : "snarkjs") : undefined };
}

async function devSetupStep(a: Extract<StepArgs, { op: "devSetup" }>): Promise<Record<string, unknown>> {
  fs.rmSync(a.out, { force: true });
  const t0 = process.hrtime.bigint();
  if (a.what === "ptau") {
    if (a.power === undefined) throw new Error("devSetup ptau needs power");
    if (a.path === "direct") await writeDevPtauDirect(a.power, a.out);
    else await snarkjsDevPtau(a.power, a.out);
  } else {
    if (!a.r1cs) throw new Error("devSetup zkey needs r1cs");
    if (a.path === "direct") await writeDevZkeyDirect(a.r1cs, a.out);
    else if (a.ptau) await snarkjsDevZkey(a.r1cs, a.ptau, a.out);
    else throw new Error("devSetup zkey with snarkjs needs ptau");
  }
  const setupSeconds = seconds(t0);
  if (a.what === "zkey") fs.writeFileSync(a.out + ".vkey.json", JSON.stringify(await snarkjs.zKey.exportVerificationKey(a.out)));
  return { setupSeconds, bytes: fs.statSync(a.out).size, sha256: await sha256File(a.out) };
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? "{}") as StepArgs;
  const t0 = process.hrtime.bigint();
  let result: Record<string, unknown>;
  switch (a.op) {
    case "compile":
      result = await compileStep(a);
      break;
    case "setup":
      result = await setupStep(a);
      break;
    case "witness":
      result = await witnessStep(a);
      break;
    case "prove":
      result = await proveStep(a);
      break;
    case "synthetic": {
      const c = writeSyntheticCircuit(a.power, a.r1cs, a.wtns);
      result = { constraints: c.constraints, wires: c.wires };
      break;
    }
    case "devSetup":
      result = await devSetupStep(a);
      break;
    default:
      throw new Error(`unknown step ${JSON.stringify(a)}`);
  }
  await releaseSnarkjs();
  const ru = process.resourceUsage();
  process.stdout.write(`BENCH_STEP ${JSON.stringify({ ok: true, ...result, wallSeconds: seconds(t0), maxRSSKiB: ru.maxRSS })}\n`);
}

main().catch(async (e: unknown) => {
  await releaseSnarkjs();
  const msg = e instanceof Error ? e.message : String(e);
  process.stdout.write(`BENCH_STEP ${JSON.stringify({ ok: false, error: msg, maxRSSKiB: process.resourceUsage().maxRSS })}\n`);
  process.exitCode = 1;
});
