import * as fs from "fs";
import * as path from "path";
import { wasm as wasmTester, type WasmTester } from "circom_tester";
import { expect } from "chai";
import { type CompiledCircuit, compileCircuit } from "../../scripts/engine/circuit/compile";
import { toField } from "../../scripts/util/field";
import { BUILD_DIR, ROOT, ensureDir, writeFileAtomic } from "../../scripts/util/paths";

// circom_tester execs `circom --version`: put the circom2 shim first on PATH (docs/design-decisions.md, "Toolchain").
process.env.PATH = `${path.join(ROOT, "scripts", "bin")}${path.delimiter}${process.env.PATH ?? ""}`;

/** A compiled circuit with its witness calculator and constraint checker (circom_tester over our cached build). */
export interface Circuit {
  compiled: CompiledCircuit;
  tester: WasmTester;
  /** Computes a witness; throws if the circuit's own witness code rejects the input. */
  witness(input: Record<string, unknown>): Promise<bigint[]>;
  /** Witness index of `main.<name>`; throws if the optimizer removed the signal. */
  index(name: string): number;
  /** Value of `main.<name>` in a witness, as a field element. */
  get(w: bigint[], name: string): bigint;
  /** Asserts that every constraint holds. */
  expectSatisfied(w: bigint[]): Promise<void>;
  /** Asserts that changing the named signals (field values) breaks at least one constraint. */
  expectRejected(w: bigint[], changes: Record<string, bigint>): Promise<void>;
}

/** Writes a circom source to build/test-circuits/<name>.circom (unless it is there already) and returns the path. */
function sourceFile(name: string, source: string): string {
  const dir = ensureDir(path.join(BUILD_DIR, "test-circuits"));
  const file = path.join(dir, `${name}.circom`);
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== source) writeFileAtomic(file, source); // read by a second test process too
  return file;
}

/** Compiles (cached) a circom source written to build/test-circuits/<name>.circom and wraps it. */
export async function circuitFromSource(name: string, source: string): Promise<Circuit> {
  return circuitFromFile(sourceFile(name, source));
}

/**
 * Compiles several sources `concurrency` at a time (circom2 runs in its own process, so two use both cores), filling
 * the compile cache that circuitFromSource then reads; returns their compiled constraint counts by name.
 */
export async function precompile(sources: readonly (readonly [string, string])[], concurrency = 2): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < sources.length) {
      const [name, source] = sources[next++];
      counts[name] = (await compileCircuit(sourceFile(name, source))).constraints;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sources.length) }, worker));
  return counts;
}

/** A test main for one library template: `component main {public [...]} = T(params)`. */
export function templateCircuit(
  include: string,
  template: string,
  params: (number | bigint | string)[],
  publicInputs: string[] = [],
): Promise<Circuit> {
  const args = params.map(String).join(", ");
  const pub = publicInputs.length ? ` {public [${publicInputs.join(", ")}]}` : "";
  const name = `${template}_${params.map((p) => String(p).replace(/[^0-9a-zA-Z]/g, "")).join("_")}`.slice(0, 120);
  const src = `pragma circom 2.1.9;\ninclude "${include}";\ncomponent main${pub} = ${template}(${args});\n`;
  return circuitFromSource(name, src);
}

/** Wraps an existing main file (e.g. a generated model circuit). */
export async function circuitFromFile(file: string): Promise<Circuit> {
  const compiled = await compileCircuit(file);
  const tester = await wasmTester(file, { output: compiled.dir, recompile: false });
  await tester.loadSymbols();
  await tester.loadConstraints();
  const index = (name: string): number => {
    const s = tester.symbols[`main.${name}`];
    if (!s) throw new Error(`no signal main.${name} in ${compiled.name}`);
    if (s.varIdx < 0) throw new Error(`signal main.${name} was optimized away in ${compiled.name}`);
    return s.varIdx;
  };
  return {
    compiled,
    tester,
    witness: (input) => tester.calculateWitness(input, true),
    index,
    get: (w, name) => w[index(name)],
    expectSatisfied: (w) => tester.checkConstraints(w),
    async expectRejected(w, changes) {
      const t = [...w];
      for (const [k, v] of Object.entries(changes)) t[index(k)] = toField(v);
      let failed = false;
      try {
        await tester.checkConstraints(t);
      } catch {
        failed = true;
      }
      expect(failed, `constraints accepted a witness with ${Object.keys(changes).join(", ")} changed`).to.equal(true);
    },
  };
}
