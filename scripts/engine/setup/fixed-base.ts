/**
 * Batched fixed-base multiplications on BN254 (G1 and G2) in worker threads: the engine of the direct dev setup
 * (docs/trusted-setup.md, "Dev setup"). Each worker (fixed-base-worker.ts) holds a signed-digit window table of the
 * generator and turns a batch of scalars into affine points with snarkjs' own WebAssembly curve code.
 */
import * as os from "os";
import type { Worker } from "worker_threads";
import { spawnWorker } from "../../util/worker";
import type { Form, Group, WorkerReply, WorkerRequest } from "./fixed-base-worker";

export type { Form, Group } from "./fixed-base-worker";

/** Points per request: large enough that messaging is noise, small enough to keep every worker busy to the end. */
const CHUNK = 4096;
/** Bytes of an affine point per group. */
export const POINT_BYTES: Record<Group, number> = { G1: 64, G2: 128 };
/** Relative cost of building a table entry vs one mixed addition (one addition plus its share of the batch inversion). */
const TABLE_ENTRY_COST = 1.5;
const MAX_WINDOW = 16;

export type Outputs = Partial<Record<Form, Uint8Array>>;

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/**
 * Window width (bits) minimising a worker's additions for `points` multiplications shared by `threads` workers:
 * windows * (table entries + points per worker), each window holding 2^(w-1) entries.
 */
export function windowWidth(points: number, threads: number): number {
  let best = 2;
  let bestCost = Infinity;
  for (let w = 2; w <= MAX_WINDOW; w++) {
    const cost = Math.ceil(255 / w) * (2 ** (w - 1) * TABLE_ENTRY_COST + points / threads);
    if (cost < bestCost) {
      best = w;
      bestCost = cost;
    }
  }
  return best;
}

export class FixedBasePool {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(o: Outputs): void; reject(e: Error): void }>();
  private readonly ready = new Set<Group>();
  private failure?: Error;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on("message", (m: WorkerReply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.out);
        else p.reject(new Error(`fixed-base worker: ${m.error}`));
      });
      w.on("error", (e: Error) => this.fail(e));
      w.on("exit", (code) => {
        if (code !== 0) this.fail(new Error(`fixed-base worker exited with code ${code}`));
      });
    }
  }

  /** Starts `threads` workers (default: one per available core). */
  static start(threads: number = os.availableParallelism()): FixedBasePool {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
    return new FixedBasePool(Array.from({ length: threads }, () => spawnWorker(__dirname, "fixed-base-worker")));
  }

  get threads(): number {
    return this.workers.length;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(worker: number, req: Request, transfer: ArrayBuffer[] = []): Promise<Outputs> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Outputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[worker].postMessage({ ...req, id } as WorkerRequest, transfer);
    });
  }

  /**
   * Builds the generator tables for the multiplications to come: `points[g]` is about how many points of group g
   * this pool will compute (it sets the window width). Groups left out lose their table.
   */
  async prepare(points: Partial<Record<Group, number>>): Promise<void> {
    const widths: Partial<Record<Group, number>> = {};
    for (const g of Object.keys(points) as Group[]) widths[g] = windowWidth(points[g] ?? 0, this.threads);
    await Promise.all(this.workers.map((_, i) => this.request(i, { op: "tables", widths })));
    this.ready.clear();
    for (const g of Object.keys(widths) as Group[]) this.ready.add(g);
  }

  /**
   * Runs `count` items in chunks over every worker and hands the outputs to `sink` in order (a chunk at a time,
   * `start` being its first item). At most a few chunks wait for the sink, so memory stays bounded.
   */
  private async run(
    count: number,
    makeRequest: (start: number, n: number) => { req: Request; transfer: ArrayBuffer[] },
    sink: (out: Outputs, start: number, n: number) => void | Promise<void>,
  ): Promise<void> {
    const nChunks = Math.ceil(count / CHUNK);
    const results = new Map<number, Outputs>();
    const window = 3 * this.threads;
    let next = 0;
    let delivered = 0;
    let sinkError: unknown;
    let waiters: Array<() => void> = [];
    const wakeAll = (): void => {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    let delivery: Promise<void> = Promise.resolve();
    const flush = async (): Promise<void> => {
      try {
        while (sinkError === undefined && results.has(delivered)) {
          const out = results.get(delivered) as Outputs;
          results.delete(delivered);
          const start = delivered * CHUNK;
          await sink(out, start, Math.min(CHUNK, count - start));
          delivered++;
          wakeAll();
        }
      } catch (e) {
        sinkError ??= e;
        wakeAll();
      }
    };
    const loop = async (worker: number): Promise<void> => {
      for (;;) {
        const c = next++;
        if (c >= nChunks || sinkError !== undefined) return;
        while (c - delivered >= window && sinkError === undefined) await new Promise<void>((r) => waiters.push(r));
        if (sinkError !== undefined) return;
        const start = c * CHUNK;
        const n = Math.min(CHUNK, count - start);
        const { req, transfer } = makeRequest(start, n);
        const out = await this.request(worker, req, transfer);
        results.set(c, out);
        delivery = delivery.then(flush);
      }
    };
    // Two loops per worker: one request queues in the worker while the other runs, so no worker waits for the
    // main thread to prepare its next batch.
    await Promise.all([...this.workers.keys(), ...this.workers.keys()].map((i) => loop(i)));
    await delivery;
    if (sinkError !== undefined) throw sinkError;
  }

  /**
   * Multiplies the generator of `group` by `count` scalars. `scalars(start, n)` gives scalars start..start+n-1 as
   * 32-byte little-endian integers below r; `sink` receives the requested encodings in order.
   * @throws if `prepare` did not build this group's table.
   */
  async mul(
    group: Group,
    count: number,
    scalars: (start: number, n: number) => Uint8Array,
    forms: Form[],
    sink: (out: Outputs, start: number, n: number) => void | Promise<void>,
  ): Promise<void> {
    if (!this.ready.has(group)) throw new Error(`FixedBasePool: call prepare({ ${group}: <points> }) before mul("${group}")`);
    await this.run(
      count,
      (start, n) => {
        const s = scalars(start, n);
        if (s.length !== n * 32) throw new Error(`scalars(${start}, ${n}) gave ${s.length} bytes, expected ${n * 32}`);
        const copy = new Uint8Array(s);
        return { req: { op: "mul", group, scalars: copy, forms }, transfer: [copy.buffer] };
      },
      sink,
    );
  }

  /** Re-encodes affine LEM points (e.g. a section read back from a file) as uncompressed or compressed. */
  async convert(
    group: Group,
    count: number,
    lem: (start: number, n: number) => Uint8Array,
    form: "u" | "c",
    sink: (out: Uint8Array, start: number, n: number) => void | Promise<void>,
  ): Promise<void> {
    await this.run(
      count,
      (start, n) => {
        const copy = new Uint8Array(lem(start, n));
        return { req: { op: "convert", group, lem: copy, form }, transfer: [copy.buffer] };
      },
      (out, start, n) => sink(out[form] as Uint8Array, start, n),
    );
  }

  /** Uncompressed encoding of a - b (affine LEM inputs), computed the way snarkjs does (`subAffine`). */
  async subU(group: Group, a: Uint8Array, b: Uint8Array): Promise<Uint8Array> {
    const out = await this.request(0, { op: "subU", group, a, b });
    return out.u as Uint8Array;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
