/**
 * circom's C++ witness generator (issue 32, item 3; docs/prover.md, "Native witness"): the same circuit compiled by
 * circom2 with `--c` and the system's g++ (against libgmp and nlohmann-json), built once per circuit and kept under
 * build/witness-native/ by the SHA-256 of the circuit's witness WASM, so any copy of that WASM (a bundle fetched by a
 * prover node, the build pipeline's own) finds it. Measured on LeNet-5 (153k constraints): 0.09 s against about 1 s
 * for the WASM, but the build takes minutes (circom --c 80 s, g++ 70 s on a 45 MiB generated file), so it is built on request
 * (`npm run build:witness`), never on the proving path. A build is kept only after it wrote the same witness, byte for
 * byte, as the WASM on a sample input; at proving time a native witness that fails (an input the circuit rejects) is
 * computed again by the WASM, whose message names the failing template, and every proof is still verified with the
 * key (scripts/engine/prove/groth16.ts). `ZKML_WITNESS=wasm` turns it off.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import * as snarkjs from "snarkjs";
import { type CompiledCircuit, runCircomOn } from "../circuit/compile";
import { sha256File } from "../../util/hash";
import { BUILD_DIR, ensureDir } from "../../util/paths";

const run = promisify(execFile);

/**
 * g++ flags: the runtime (field arithmetic, input reading) optimized; the generated circuit file, most of the build,
 * at -O0. Measured on LeNet-5's 45 MiB file: -O3 6.4 min, -O1 3.1 min, -O0 1.2 min to compile, and 0.06 s per witness
 * with each (the time is in the field arithmetic, not in the generated code).
 */
const RUNTIME_FLAGS = ["-std=c++11", "-O2", "-I."];
const CIRCUIT_FLAGS = ["-std=c++11", "-O0", "-I."];

/** Where the native witness generators live (one folder per witness WASM hash). */
export const NATIVE_WITNESS_ROOT = path.join(BUILD_DIR, "witness-native");

/** What a finished build records next to its binary (`build.json`). */
export interface NativeWitnessBuild {
  /** SHA-256 of the witness WASM this binary stands in for. */
  wasmSha256: string;
  binary: string;
  compiler: string;
  flags: string[];
  /** Seconds of circom --c and of g++. */
  circomSeconds: number;
  compileSeconds: number;
  /** The sample witness both wrote, byte for byte (its SHA-256). */
  sampleWitnessSha256: string;
}

const wasmHashes = new Map<string, Promise<string>>();

/** SHA-256 of a witness WASM (read once per path, size and modification time). */
function wasmHash(wasm: string): Promise<string> {
  const st = fs.statSync(wasm);
  const k = `${wasm}:${st.size}:${st.mtimeMs}`;
  let h = wasmHashes.get(k);
  if (!h) {
    h = sha256File(wasm);
    wasmHashes.set(k, h);
  }
  return h;
}

function dirFor(wasmSha256: string): string {
  return path.join(NATIVE_WITNESS_ROOT, wasmSha256.slice(0, 32));
}

/** The native witness generator built for this WASM, if there is one and `ZKML_WITNESS` is not `wasm`. */
export async function nativeWitnessBinary(wasm: string): Promise<string | undefined> {
  if (process.env.ZKML_WITNESS === "wasm" || !fs.existsSync(wasm)) return undefined;
  const info = path.join(dirFor(await wasmHash(wasm)), "build.json");
  if (!fs.existsSync(info)) return undefined;
  const b = JSON.parse(fs.readFileSync(info, "utf8")) as NativeWitnessBuild;
  return fs.existsSync(b.binary) ? b.binary : undefined;
}

/** Runs a native witness generator on `input` (written as circom's input JSON next to `wtns`). */
async function runNative(binary: string, input: Record<string, unknown>, wtns: string): Promise<void> {
  const inputFile = `${wtns}.input.json`;
  fs.writeFileSync(
    inputFile,
    JSON.stringify(input, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
  );
  try {
    await run(binary, [inputFile, wtns], { maxBuffer: 1 << 22 });
  } finally {
    fs.rmSync(inputFile, { force: true });
  }
}

/**
 * Writes the witness of `input` to `wtns`: by the native generator built for `wasm` when there is one, else (or when
 * it fails) by the WASM. Returns which one wrote it.
 * @throws the WASM generator's error when the input does not satisfy the circuit.
 */
export async function computeWitness(input: Record<string, unknown>, wasm: string, wtns: string): Promise<"native" | "wasm"> {
  const binary = await nativeWitnessBinary(wasm);
  if (binary) {
    try {
      await runNative(binary, input, wtns);
      return "native";
    } catch {
      // the WASM computes it again and, when the input is the problem, says which template rejected it
    }
  }
  await snarkjs.wtns.calculate(input, wasm, wtns);
  return "wasm";
}

/** Why this machine cannot build native witness generators (one line naming the package), or undefined if it can. */
export async function nativeWitnessToolchain(): Promise<string | undefined> {
  try {
    await run("g++", ["--version"]);
  } catch {
    return "g++ is not installed: apt-get install g++ libgmp-dev nlohmann-json3-dev";
  }
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-witness-probe-"));
  try {
    const src = path.join(probe, "p.cpp");
    fs.writeFileSync(src, "#include <gmp.h>\n#include <nlohmann/json.hpp>\nint main() { mpz_t x; mpz_init(x); return 0; }\n");
    await run("g++", ["-std=c++11", "-o", path.join(probe, "p"), src, "-lgmp"]);
    return undefined;
  } catch {
    return "libgmp or nlohmann-json is missing: apt-get install libgmp-dev nlohmann-json3-dev";
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * Builds (or finds) the native witness generator of a compiled circuit: circom2 `--c` on the same main file with the
 * same optimization level, g++ on the generated sources, then the sample input's witness from both generators,
 * which must be the same bytes. Kept under build/witness-native/ only then.
 * @throws when the toolchain is missing (the apt line to run), circom or g++ fails, or the witnesses differ.
 */
export async function buildNativeWitness(
  mainFile: string,
  circuit: Pick<CompiledCircuit, "name" | "wasm" | "optimization">,
  sampleInput: Record<string, unknown>,
  log: (line: string) => void = () => undefined,
): Promise<NativeWitnessBuild & { cached: boolean }> {
  const wasmSha256 = await wasmHash(circuit.wasm);
  const dir = dirFor(wasmSha256);
  const infoFile = path.join(dir, "build.json");
  if (fs.existsSync(infoFile)) {
    const b = JSON.parse(fs.readFileSync(infoFile, "utf8")) as NativeWitnessBuild;
    if (fs.existsSync(b.binary)) return { ...b, cached: true };
  }
  const missing = await nativeWitnessToolchain();
  if (missing) throw new Error(`cannot build the native witness generator of ${circuit.name}: ${missing}`);
  const tmp = `${dir}.${process.pid}-${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  ensureDir(tmp);
  try {
    let t = Date.now();
    log(`circom2 --c --O${circuit.optimization} ${path.basename(mainFile)}`);
    // --no_asm: the field arithmetic in C++ on libgmp, no nasm needed (LeNet-5: 0.09 s a witness, 0.06 s with the assembly)
    const { code, out } = await runCircomOn(mainFile, tmp, circuit.optimization, ["--c", "--no_asm"]);
    const src = path.join(tmp, `${circuit.name}_cpp`);
    if (code !== 0 || !fs.existsSync(path.join(src, `${circuit.name}.cpp`)))
      throw new Error(`circom --c failed on ${mainFile} (exit ${code}):\n${out.trim()}`);
    const circomSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const compiler = (await run("g++", ["--version"])).stdout.split("\n")[0];
    const units = fs.readdirSync(src).filter((f) => f.endsWith(".cpp"));
    log(
      `g++ on ${units.length} files (${(fs.statSync(path.join(src, `${circuit.name}.cpp`)).size / 2 ** 20).toFixed(1)} MiB of generated code)`,
    );
    // the generated circuit file is most of the work: it compiles beside the runtime's files, one g++ per core
    const pending = [...units].sort((a, b) => fs.statSync(path.join(src, b)).size - fs.statSync(path.join(src, a)).size);
    const worker = async (): Promise<void> => {
      for (let u = pending.shift(); u; u = pending.shift())
        await run("g++", ["-c", u, ...(u === `${circuit.name}.cpp` ? CIRCUIT_FLAGS : RUNTIME_FLAGS), "-o", u.replace(/\.cpp$/, ".o")], {
          cwd: src,
          maxBuffer: 1 << 24,
        });
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(2, os.availableParallelism?.() ?? 1)) }, worker));
    const binary = path.join(src, "witness");
    await run("g++", ["-o", binary, ...units.map((u) => u.replace(/\.cpp$/, ".o")), "-lgmp"], { cwd: src, maxBuffer: 1 << 24 });
    fs.renameSync(path.join(src, `${circuit.name}.dat`), `${binary}.dat`); // the generator reads <itself>.dat
    for (const f of fs.readdirSync(src)) if (f.endsWith(".o") || f.endsWith(".cpp")) fs.rmSync(path.join(src, f));
    const compileSeconds = (Date.now() - t) / 1000;
    // the check that keeps it: the sample's witness, byte for byte the WASM's
    const a = path.join(tmp, "sample.native.wtns");
    const b = path.join(tmp, "sample.wasm.wtns");
    await runNative(binary, sampleInput, a);
    await snarkjs.wtns.calculate(sampleInput, circuit.wasm, b);
    if (!fs.readFileSync(a).equals(fs.readFileSync(b)))
      throw new Error(`the native witness generator of ${circuit.name} wrote another witness than its WASM on the sample input: not kept`);
    const sampleWitnessSha256 = await sha256File(b);
    fs.rmSync(a);
    fs.rmSync(b);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    const build: NativeWitnessBuild = {
      wasmSha256,
      binary: path.join(dir, `${circuit.name}_cpp`, "witness"),
      compiler,
      flags: [...RUNTIME_FLAGS, "(generated circuit:", ...CIRCUIT_FLAGS, ")"],
      circomSeconds,
      compileSeconds,
      sampleWitnessSha256,
    };
    fs.writeFileSync(infoFile, JSON.stringify(build, null, 2) + "\n");
    return { ...build, cached: false };
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
