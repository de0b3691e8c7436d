/**
 * The native crash of issue 19, reproduced (docs/prover.md, "The native crash: found and fixed"):
 *
 *   npx ts-node --transpile-only scripts/apps/audit/native-crash-repro.ts native  [rounds]   blake-hash's native addon
 *   npx ts-node --transpile-only scripts/apps/audit/native-crash-repro.ts project [rounds]   this project's modules
 *
 * The main thread loads the module; each round starts three worker threads that load the module and hash something (`native`: the blake-hash addon
 * itself; `project`: scripts/formats/commitments.ts, which loads circomlibjs and through it blake-hash, and computes a
 * Poseidon hash), then waits for them to exit. With the native addon the process dies of heap corruption within a few
 * rounds (7 of 10 runs of 5 rounds here); the project's modules load blake-hash's JavaScript implementation
 * (scripts/util/pure-blake.ts) and never crash. Prints `ok <mode> <rounds>` and exits 0 when every round finished.
 */
import * as path from "path";
import { Worker } from "worker_threads";

const ROOT = path.join(__dirname, "..", "..", "..");
const mode = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
if ((mode !== "native" && mode !== "project") || !Number.isInteger(rounds) || rounds < 1)
  throw new Error("usage: native-crash-repro.ts native|project [rounds >= 1]");

const blake = JSON.stringify(path.join(ROOT, "node_modules", "blake-hash"));
const pureBlake = JSON.stringify(path.join(ROOT, "scripts", "util", "pure-blake.ts"));
const workerEnv = JSON.stringify(path.join(ROOT, "scripts", "util", "worker-env.ts"));
const body =
  mode === "native"
    ? `const { parentPort } = require("worker_threads");
       parentPort.postMessage(require(${blake})("blake256").update("x").digest("hex"));`
    : `const { parentPort } = require("worker_threads");
       require("ts-node").register({ transpileOnly: true });
       require(${workerEnv}); // as the proof worker does first
       require(${pureBlake}); // as every project module that loads circomlibjs does first
       require("circomlibjs").buildPoseidon().then((p) => parentPort.postMessage(p.F.toString(p([1n, 2n]))));`;

async function main(): Promise<void> {
  // the main thread loads it too, as a prover node does
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (mode === "native") require(JSON.parse(blake) as string);
  else {
    await import("../../util/pure-blake");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("circomlibjs") as { buildPoseidon(): Promise<unknown> }).buildPoseidon();
  }
  for (let r = 0; r < rounds; r++) {
    const answers = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<string>((resolve, reject) => {
            const w = new Worker(body, { eval: true });
            let answer = "";
            w.on("message", (m: string) => (answer = m));
            w.on("error", reject);
            w.on("exit", (code) => (code === 0 && answer ? resolve(answer) : reject(new Error(`worker exited ${code}`))));
          }),
      ),
    );
    if (new Set(answers).size !== 1) throw new Error(`workers disagree: ${answers.join(", ")}`);
  }
  console.log(`ok ${mode} ${rounds}`);
}

void main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
