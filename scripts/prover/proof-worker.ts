/**
 * Worker-thread body of the proving pool: receives `{ id, model, wasm, zkey, x, salt, binding }`, runs
 * `proveInference` (TS reference + snarkjs Groth16 fullProve + the signal cross-check) and answers
 * `{ id, ok, output, bytes, seconds }` or `{ id, ok: false, error }`. On `{ stop: true }` it ends snarkjs' threads and exits.
 */
import "./worker-env"; // must come first: see worker-env.ts
import { parentPort } from "worker_threads";
import type { QuantizedModel } from "../model/quantized";
import { releaseSnarkjs } from "../prove/groth16";
import { proveInference } from "../prove/inference";

export interface ProofTask {
  id: number;
  model: QuantizedModel;
  wasm: string;
  zkey: string;
  x: bigint[];
  salt: bigint;
  binding: bigint;
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
  proveInference(msg.model, { wasm: msg.wasm, zkey: msg.zkey }, msg.x, msg.salt, msg.binding)
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
// Build the curve (and its helper threads) now, so the first proof is not slowed by it; snarkjs reuses it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require("ffjavascript") as { buildBn128(): Promise<unknown> }).buildBn128().then(() => port.postMessage({ ready: true }));
