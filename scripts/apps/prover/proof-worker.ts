/**
 * Worker-thread body of the proving pool: receives `{ id, model, wasm, zkey, x, salt, binding }`, runs
 * `proveInference` (TS reference + the Groth16 proof, native or snarkjs, verified + the signal cross-check) and answers
 * `{ id, ok, output, bytes, seconds }` or `{ id, ok: false, error }`. On `{ stop: true }` it releases the curve and exits.
 */
import "../../util/worker-env"; // must come first: see scripts/util/worker-env.ts
import { parentPort } from "worker_threads";
import type { QuantizedModel } from "../../formats/quantized-model";
import { releaseSnarkjs } from "../../util/snarkjs-threads";
import { proveInference } from "../../engine/prove/inference";

export interface ProofTask {
  id: number;
  model: QuantizedModel;
  wasm: string;
  zkey: string;
  x: bigint[];
  /** Undefined for a public-input model (no commitment to open). */
  salt?: bigint;
  binding: bigint;
  /** Threads of the native prover for this proof (the pool gives each running proof its share of the cores). */
  threads?: number;
}

export type ProofAnswer =
  { id: number; ok: true; output: bigint; bytes: string; seconds: number } | { id: number; ok: false; error: string };

if (!parentPort) throw new Error("proof-worker.ts runs only as a worker thread");
const port = parentPort;
port.on("message", (msg: ProofTask | { stop: true }) => {
  if ("stop" in msg) {
    void releaseSnarkjs().then(() => process.exit(0));
    return;
  }
  const t0 = Date.now();
  proveInference(msg.model, { wasm: msg.wasm, zkey: msg.zkey }, msg.x, msg.salt, msg.binding, undefined, { threads: msg.threads })
    .then((p) =>
      port.postMessage({
        id: msg.id,
        ok: true,
        output: p.output,
        bytes: p.packed.bytes,
        seconds: (Date.now() - t0) / 1000,
      } satisfies ProofAnswer),
    )
    .catch((e: unknown) =>
      port.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies ProofAnswer),
    );
});
// Build a SINGLE-THREADED curve now and install it where snarkjs looks for its cached curve (ffjavascript's
// buildBn128() returns globalThis.curve_bn128 when set), so every proof in this worker reuses it. The pool already
// runs one worker per slot; a multi-threaded curve would add nested helper threads to each worker, and terminating
// a worker while those run WebAssembly crashed the whole process (a segmentation fault in the crash/restart test).
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require("ffjavascript") as { buildBn128(singleThread: boolean): Promise<unknown> }).buildBn128(true).then((curve) => {
  (globalThis as { curve_bn128?: unknown }).curve_bn128 = curve;
  port.postMessage({ ready: true });
});
