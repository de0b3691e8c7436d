import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { sha256 } from "../../util/hash";
import { BUILD_DIR, CIRCUIT_LIB_DIR, ROOT, ensureDir, packageDir } from "../../util/paths";

/** What a compiled circuit left on disk, and its size. */
export interface CompiledCircuit {
  /** Base name of the main file (without .circom). */
  name: string;
  /** Folder holding the outputs (build/circuits/<name>-<hash>). */
  dir: string;
  r1cs: string;
  wasm: string;
  sym: string;
  /** Content hash of every input to the compiler (sources, flags, compiler version): the cache key. */
  sourceHash: string;
  /** SHA-256 of the R1CS file: the circuit hash recorded in manifests and the registry. */
  r1csHash: string;
  constraints: number;
  publicInputs: number;
  outputs: number;
  privateInputs: number;
  wires: number;
  /** circom's optimization level (--O0, --O1, --O2). */
  optimization: 0 | 1 | 2;
  /** Seconds the compiler took, or 0 when the cache answered. */
  compileSeconds: number;
  cached: boolean;
}

export interface CompileOptions {
  /** Optimization level passed to circom (default 2: `--O2`, see docs/design-decisions.md). */
  optimization?: 0 | 1 | 2;
  /** Output folder root (default build/circuits). */
  outRoot?: string;
}

const CIRCOM2_CLI = require.resolve("circom2/cli.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const CIRCOM2_VERSION: string = require("circom2/package.json").version;
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const CIRCOMLIB_VERSION: string = require("circomlib/package.json").version;

function libSourcesHash(): string {
  const files = fs
    .readdirSync(CIRCUIT_LIB_DIR)
    .filter((f) => f.endsWith(".circom"))
    .sort();
  return sha256(files.map((f) => f + "\0" + fs.readFileSync(path.join(CIRCUIT_LIB_DIR, f), "utf8")).join("\0"));
}

function runCircom(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CIRCOM2_CLI, ...args], { cwd });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

/** The deepest folder that holds both `a` and `b`. */
function commonAncestor(a: string, b: string): string {
  let d = path.resolve(a);
  while (path.relative(d, path.resolve(b)).startsWith("..")) d = path.dirname(d);
  return d;
}

/**
 * circom2 on a main file with the project's include paths, writing `targets` (`--r1cs`, `--wasm`, `--sym`, `--c`) into
 * `outDir`. The one place the compiler's flags are chosen: the C++ witness generator (scripts/engine/prove/
 * witness-native.ts) must number the wires exactly as the R1CS and the WASM of compileCircuit do.
 */
export function runCircomOn(
  mainFile: string,
  outDir: string,
  optimization: 0 | 1 | 2,
  targets: string[],
): Promise<{ code: number; out: string }> {
  // circom2 maps paths relative to the working directory, and does not find includes through an -l path that climbs
  // with "..": run it from the deepest folder holding both circomlib's folder and circuits/lib (the repository in a
  // checkout, node_modules when this package is installed).
  const modules = path.dirname(packageDir("circomlib"));
  const cwd = commonAncestor(modules, CIRCUIT_LIB_DIR);
  const args = [
    path.relative(cwd, mainFile),
    ...targets,
    `--O${optimization}`,
    "-l",
    path.relative(cwd, modules) || ".", // circuits include "circomlib/circuits/..."
    "-l",
    path.relative(cwd, CIRCUIT_LIB_DIR),
    "-o",
    path.relative(cwd, outDir),
  ];
  return runCircom(args, cwd);
}

/**
 * Compiles a circom main file with circom2 (WebAssembly, offline) to R1CS, witness WASM and symbols, reusing a
 * previous build when no input changed (key: main source, circuits/lib sources, circomlib and circom2 versions,
 * flags).
 * @throws when circom reports an error (the compiler's own message is included).
 */
export async function compileCircuit(mainFile: string, opts: CompileOptions = {}): Promise<CompiledCircuit> {
  const optimization = opts.optimization ?? 2;
  const name = path.basename(mainFile, ".circom");
  if (!fs.existsSync(mainFile)) throw new Error(`circuit file not found: ${mainFile}; generate it first`);
  const sourceHash = sha256(
    [fs.readFileSync(mainFile, "utf8"), libSourcesHash(), CIRCOMLIB_VERSION, CIRCOM2_VERSION, `O${optimization}`].join("\0"),
  );
  const dir = path.join(opts.outRoot ?? path.join(BUILD_DIR, "circuits"), `${name}-${sourceHash.slice(0, 16)}`);
  const infoFile = path.join(dir, "compile.json");
  if (fs.existsSync(infoFile)) {
    const info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as CompiledCircuit;
    if (fs.existsSync(info.r1cs) && fs.existsSync(info.wasm)) return { ...info, optimization, cached: true };
  }
  // a folder of this process's own: two test processes (test/run-all.js) may compile the same circuit at once
  const tmp = `${dir}.${process.pid}-${crypto.randomBytes(4).toString("hex")}.tmp`;
  ensureDir(tmp);
  const t0 = Date.now();
  try {
    const { code, out } = await runCircomOn(mainFile, tmp, optimization, ["--r1cs", "--wasm", "--sym"]);
    if (code !== 0 || !fs.existsSync(path.join(tmp, `${name}.r1cs`)))
      throw new Error(`circom failed on ${path.relative(ROOT, mainFile)} (exit ${code}):\n${out.trim()}`);
    const compileSeconds = (Date.now() - t0) / 1000;
    const info = await snarkjs.r1cs.info(path.join(tmp, `${name}.r1cs`));
    const r1cs = path.join(dir, `${name}.r1cs`);
    const result: CompiledCircuit = {
      name,
      dir,
      r1cs,
      wasm: path.join(dir, `${name}_js`, `${name}.wasm`),
      sym: path.join(dir, `${name}.sym`),
      sourceHash,
      r1csHash: sha256(fs.readFileSync(path.join(tmp, `${name}.r1cs`))),
      constraints: info.nConstraints,
      publicInputs: info.nPubInputs,
      outputs: info.nOutputs,
      privateInputs: info.nPrvInputs,
      wires: info.nVars,
      optimization,
      compileSeconds,
      cached: false,
    };
    // compile.json goes in before the folder is renamed into place, so a complete folder is the only one ever seen
    fs.writeFileSync(path.join(tmp, "compile.json"), JSON.stringify(result, null, 2));
    // another process may have put the same build in place meanwhile (same inputs, same output): leave it, it may
    // be in use; a folder without compile.json is a crashed build's and is replaced
    if (fs.existsSync(infoFile)) return result;
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      if (!fs.existsSync(infoFile)) throw e;
    }
    return result;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Smallest power of two (exponent) whose powers of tau cover a Groth16 setup of `constraints` constraints. */
export function requiredPower(c: Pick<CompiledCircuit, "constraints" | "publicInputs" | "outputs">): number {
  // snarkjs needs 2^power >= constraints + public signals + 1 (the extra constraints it adds for public inputs).
  const need = c.constraints + c.publicInputs + c.outputs + 1;
  let p = 1;
  while (2 ** p < need) p++;
  return Math.max(p, 8);
}
