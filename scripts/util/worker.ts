import * as path from "path";
import { Worker } from "worker_threads";

/**
 * Starts a worker thread running `file` (a module next to the caller, given without extension). From compiled
 * JavaScript the `.js` file runs directly; from TypeScript sources (ts-node, hardhat) the worker registers ts-node
 * itself (transpile only: the parent's type check already covers the file). The parent's `--require` hooks are not
 * inherited (`execArgv: []`): under `hardhat run` they load the whole Hardhat runtime, plugins included, into the
 * worker before its first line, and with them snarkjs' curve library before scripts/util/worker-env.ts runs.
 * @param dir The caller's `__dirname`.
 * @param base The worker module's file name without extension, e.g. `proof-worker`.
 */
export function spawnWorker(dir: string, base: string, workerData?: unknown): Worker {
  const file = path.join(dir, `${base}${path.extname(__filename)}`);
  if (file.endsWith(".js")) return new Worker(file, { workerData, execArgv: [] });
  const boot = `require(${JSON.stringify(require.resolve("ts-node"))}).register({ transpileOnly: true }); require(${JSON.stringify(file)});`;
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}
