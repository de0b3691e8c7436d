/**
 * A bounded pool of proving worker threads: at most `size` proofs run at once, each in its own `worker_threads`
 * Worker (snarkjs' fullProve keeps the node's event loop free for chain polling). A worker that dies fails its task
 * and is replaced. A worker that proved with a large proving key is ended and replaced by a fresh one
 * (`recycleAboveBytes`): the native memory a large proof leaves in its thread (about 0.56 GiB after a LeNet-5 proof,
 * docs/prover.md "Known limits") goes back to the system instead of staying with an idle node.
 */
import { proverThreads } from "../../engine/prove/native";
import * as fs from "fs";
import type { Worker } from "worker_threads";
import { spawnWorker } from "../../util/worker";
import type { ProofAnswer, ProofTask } from "./proof-worker";

export interface ProofResult {
  output: bigint;
  bytes: string;
  seconds: number;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

export class ProofPool {
  private readonly slots: Slot[] = [];
  private readonly waiters: Array<(s: Slot) => void> = [];
  private nextId = 1;
  private stopped = false;

  /** Workers ended after a proof with a proving key of at least `recycleAboveBytes` (and replaced). */
  recycled = 0;

  /**
   * @param size Workers (proofs at once).
   * @param recycleAboveBytes End a worker after a proof whose proving key has at least this many bytes; default never.
   */
  constructor(
    readonly size: number,
    readonly recycleAboveBytes = Infinity,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`ProofPool: size must be a positive integer, got ${size}`);
    if (!(recycleAboveBytes > 0)) throw new Error(`ProofPool: recycleAboveBytes must be positive, got ${recycleAboveBytes}`);
  }

  private makeSlot(): Slot {
    const worker = spawnWorker(__dirname, "proof-worker");
    const ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: { ready?: boolean }): void => {
        if (m.ready) {
          worker.off("message", onMsg);
          resolve();
        }
      };
      worker.on("message", onMsg);
      worker.once("error", reject);
    });
    ready.catch(() => undefined);
    return { worker, ready, busy: false };
  }

  private async acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return free;
    }
    if (this.slots.length < this.size) {
      const s = this.makeSlot();
      s.busy = true;
      this.slots.push(s);
      return s;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(s: Slot): void {
    const w = this.waiters.shift();
    if (w) w(s);
    else s.busy = false;
  }

  /** Proves one inference in a worker. @throws the worker's error (e.g. the circuit rejected the input). */
  async prove(task: Omit<ProofTask, "id">): Promise<ProofResult> {
    if (this.stopped) throw new Error("ProofPool is stopped");
    let slot = await this.acquire();
    try {
      await slot.ready;
    } catch {
      // the worker failed to start: replace it once
      const i = this.slots.indexOf(slot);
      slot = this.makeSlot();
      slot.busy = true;
      this.slots[i] = slot;
      await slot.ready;
    }
    const id = this.nextId++;
    const s = slot;
    try {
      const r = await new Promise<ProofResult>((resolve, reject) => {
        const onMsg = (m: ProofAnswer): void => {
          if (m.id !== id) return;
          cleanup();
          if (m.ok) resolve({ output: m.output, bytes: m.bytes, seconds: m.seconds });
          else reject(new Error(m.error));
        };
        const onExit = (code: number): void => {
          cleanup();
          reject(new Error(`proof worker exited with code ${code}`));
        };
        const cleanup = (): void => {
          s.worker.off("message", onMsg);
          s.worker.off("exit", onExit);
        };
        s.worker.on("message", onMsg);
        s.worker.on("exit", onExit);
        // one proof alone gets every core; proofs side by side share them (issue 32)
        const running = Math.max(1, this.slots.filter((x) => x.busy).length);
        const threads = Math.max(1, Math.floor(proverThreads() / running));
        s.worker.postMessage({ ...task, id, threads } satisfies ProofTask);
      });
      if (fs.statSync(task.zkey).size >= this.recycleAboveBytes && !this.stopped) {
        // a fresh worker takes the slot (and the next waiter); the old one ends with the memory it holds
        const i = this.slots.indexOf(s);
        const fresh = this.makeSlot();
        if (i >= 0) this.slots[i] = fresh;
        this.recycled++;
        void endWorker(s.worker);
        this.release(fresh);
      } else this.release(s);
      return r;
    } catch (e) {
      if ((e as Error).message.startsWith("proof worker exited")) {
        // the worker died: put a fresh one in its place and hand that on
        const i = this.slots.indexOf(s);
        const fresh = { ...this.makeSlot(), busy: true };
        if (i >= 0) this.slots[i] = fresh;
        if (!this.stopped) this.release(fresh);
      } else {
        this.release(s);
      }
      throw e;
    }
  }

  /** Starts every worker now (module loading and curve set-up take seconds) and waits until they are ready. */
  async warm(): Promise<void> {
    while (this.slots.length < this.size) this.slots.push(this.makeSlot());
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Stops every worker (gracefully, then by force after 3 s). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.slots.map((s) => endWorker(s.worker)));
    this.slots.length = 0;
  }
}

/** Asks a worker to end (it releases snarkjs first), and terminates it after 3 s if it has not. */
function endWorker(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => void worker.terminate().then(() => resolve()), 3000);
    worker.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
    worker.postMessage({ stop: true });
  });
}
