/**
 * Worker thread of `FixedBasePool` (fixed-base.ts). It multiplies the generator of G1 or G2 by many scalars with a
 * signed-digit fixed-window table: ceil(255 / w) mixed additions per point instead of the ~380 group operations of
 * a variable-base multiplication. The arithmetic is snarkjs' own WebAssembly (wasmcurves, built by ffjavascript), so
 * the affine points, and their compressed and uncompressed encodings, are bit for bit what snarkjs computes.
 *
 * Protocol: every request carries an `id` and gets one `WorkerReply` with the same id.
 */
import "../../util/worker-env"; // must come first: see scripts/util/worker-env.ts
import { parentPort } from "worker_threads";
import { buildBn128 } from "ffjavascript";

export type Group = "G1" | "G2";
/** Point encodings: snarkjs' affine Montgomery little-endian (zkey/ptau sections), uncompressed and compressed. */
export type Form = "lem" | "u" | "c";

export type WorkerRequest =
  /** Builds the tables of the listed groups, windows of `w` bits each; drops the others. */
  | { id: number; op: "tables"; widths: Partial<Record<Group, number>> }
  /** `scalars`: 32-byte little-endian integers below r. Answers each requested form of scalar * generator. */
  | { id: number; op: "mul"; group: Group; scalars: Uint8Array; forms: Form[] }
  /** Re-encodes affine LEM points. */
  | { id: number; op: "convert"; group: Group; lem: Uint8Array; form: "u" | "c" }
  /** Uncompressed encoding of a - b for two affine LEM inputs, with snarkjs' formulas (`g1m_subAffine`). */
  | { id: number; op: "subU"; group: Group; a: Uint8Array; b: Uint8Array };

export type WorkerReply = { id: number; ok: true; out: Partial<Record<Form, Uint8Array>> } | { id: number; ok: false; error: string };

type WasmFn = (...args: number[]) => number;

/** The WebAssembly API this worker uses (Node's global; the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (d: { initial: number }) => WasmMemory;
  compile(code: Uint8Array): Promise<unknown>;
  instantiate(module: unknown, imports: Record<string, Record<string, unknown>>): Promise<{ exports: Record<string, unknown> }>;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Table {
  ptr: number;
  w: number;
  windows: number;
  half: number;
}

/** Field element size (bytes) of each group's coordinates. */
const N8: Record<Group, number> = { G1: 32, G2: 64 };
const PREFIX: Record<Group, string> = { G1: "g1m", G2: "g2m" };

class Engine {
  private readonly fn: Record<string, WasmFn>;
  private readonly memory: WasmMemory;
  /** End of the permanent allocations (tables); per-request buffers start here. */
  private permanentTop: number;
  private top: number;
  /** Start of this worker's allocations. */
  private readonly base: number;
  private readonly tables: Partial<Record<Group, Table>> = {};
  private readonly generator: Record<Group, Uint8Array>;

  constructor(exports: Record<string, unknown>, memory: WasmMemory, generator: Record<Group, Uint8Array>) {
    this.fn = exports as Record<string, WasmFn>;
    this.memory = memory;
    this.generator = generator;
    this.base = this.permanentTop = this.top = (new Uint32Array(memory.buffer)[0] + 63) & ~63;
  }

  /** Bump allocation with room for the scratch space snarkjs' batch functions take above the free pointer. */
  private alloc(bytes: number, scratch = 1 << 20): number {
    const p = this.top;
    this.top = (this.top + bytes + 63) & ~63;
    const need = this.top + scratch;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    new Uint32Array(this.memory.buffer)[0] = this.top;
    return p;
  }

  private resetScratch(): void {
    this.top = this.permanentTop;
    new Uint32Array(this.memory.buffer)[0] = this.top;
  }

  private u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private call(group: Group, name: string, ...args: number[]): number {
    return this.fn[`${PREFIX[group]}_${name}`](...args);
  }

  /**
   * Builds the tables of the groups in `widths` (window width in bits each) and drops any other table. Entry (j, d)
   * of a table is d * 2^(w*j) * G for d = 1..2^(w-1), affine LEM, window after window.
   */
  setTables(widths: Partial<Record<Group, number>>): void {
    for (const g of Object.keys(this.tables) as Group[]) this.tables[g] = undefined;
    this.permanentTop = this.base;
    this.resetScratch();
    for (const g of Object.keys(widths) as Group[]) {
      const w = widths[g];
      if (w === undefined) continue;
      if (!Number.isInteger(w) || w < 2 || w > 20) throw new Error(`window width must be an integer in 2..20, got ${w}`);
      this.tables[g] = this.makeTable(g, w);
    }
  }

  private makeTable(group: Group, w: number): Table {
    const n8 = N8[group];
    const sA = n8 * 2;
    const sJ = n8 * 3;
    const half = 1 << (w - 1);
    const windows = Math.ceil(255 / w);
    const ptr = this.alloc(windows * half * sA);
    this.permanentTop = this.top;
    const stageN = Math.min(half, 4096);
    const stage = this.alloc(stageN * sJ, (2 * stageN + 2) * n8 + (1 << 16));
    const acc = this.alloc(sJ);
    const base = this.alloc(sA);
    this.u8().set(this.generator[group], base);
    for (let j = 0; j < windows; j++) {
      const row = ptr + j * half * sA;
      this.call(group, "zero", acc);
      for (let d0 = 0; d0 < half; d0 += stageN) {
        const c = Math.min(stageN, half - d0);
        for (let d = 0; d < c; d++) {
          this.call(group, "addMixed", acc, base, acc);
          this.call(group, "copy", acc, stage + d * sJ);
        }
        this.call(group, "batchToAffine", stage, c, row + d0 * sA);
      }
      // acc = 2^(w-1) * B_j, so the next window's base is 2 * acc = 2^w * B_j.
      this.call(group, "double", acc, acc);
      this.call(group, "batchToAffine", acc, 1, base);
    }
    this.resetScratch();
    return { ptr, w, windows, half };
  }

  mul(group: Group, scalars: Uint8Array, forms: Form[]): Partial<Record<Form, Uint8Array>> {
    const t = this.tables[group];
    if (!t) throw new Error(`no ${group} table: send a "table" request first`);
    const n8 = N8[group];
    const sA = n8 * 2;
    const sJ = n8 * 3;
    const n = scalars.length / 32;
    if (!Number.isInteger(n)) throw new Error(`scalars: ${scalars.length} bytes is not a multiple of 32`);
    this.resetScratch();
    const pS = this.alloc(scalars.length);
    const pOut = this.alloc(n * sJ, (2 * n + 2) * n8 + (1 << 16));
    this.u8().set(scalars, pS);
    const m32 = new Uint32Array(this.memory.buffer);
    const addMixed = this.fn[`${PREFIX[group]}_addMixed`];
    const subMixed = this.fn[`${PREFIX[group]}_subMixed`];
    const zero = this.fn[`${PREFIX[group]}_zero`];
    const { w, windows, half, ptr } = t;
    const full = 1 << w;
    const mask = full - 1;
    for (let k = 0; k < n; k++) {
      const acc = pOut + k * sJ;
      zero(acc);
      const s32 = (pS + k * 32) >>> 2;
      let carry = 0;
      for (let j = 0; j < windows; j++) {
        const bit = j * w;
        const wi = bit >>> 5;
        const sh = bit & 31;
        let v = 0;
        if (wi < 8) {
          v = m32[s32 + wi] >>> sh;
          if (sh + w > 32 && wi + 1 < 8) v |= m32[s32 + wi + 1] << (32 - sh);
          v &= mask;
        }
        v += carry;
        // Signed digit in (-2^(w-1), 2^(w-1)]; the top window takes the last carry (scalars are below 2^254).
        if (v > half && j < windows - 1) {
          v -= full;
          carry = 1;
        } else {
          carry = 0;
        }
        if (v > 0) addMixed(acc, ptr + (j * half + v - 1) * sA, acc);
        else if (v < 0) subMixed(acc, ptr + (j * half - v - 1) * sA, acc);
      }
    }
    this.call(group, "batchToAffine", pOut, n, pOut);
    return this.encode(group, pOut, n, forms);
  }

  /** Copies the requested encodings of the n affine LEM points at p out of wasm memory. */
  private encode(group: Group, p: number, n: number, forms: Form[]): Partial<Record<Form, Uint8Array>> {
    const sA = N8[group] * 2;
    const out: Partial<Record<Form, Uint8Array>> = {};
    if (forms.includes("lem")) out.lem = this.u8().slice(p, p + n * sA);
    if (forms.includes("c")) {
      const pc = this.alloc(n * (sA / 2));
      this.call(group, "batchLEMtoC", p, n, pc);
      out.c = this.u8().slice(pc, pc + n * (sA / 2));
    }
    if (forms.includes("u")) {
      const pu = this.alloc(n * sA);
      this.call(group, "batchLEMtoU", p, n, pu);
      out.u = this.u8().slice(pu, pu + n * sA);
    }
    return out;
  }

  convert(group: Group, lem: Uint8Array, form: "u" | "c"): Uint8Array {
    const sA = N8[group] * 2;
    const n = lem.length / sA;
    this.resetScratch();
    const p = this.alloc(lem.length);
    this.u8().set(lem, p);
    const out = this.encode(group, p, n, [form])[form];
    if (!out) throw new Error(`convert: no ${form} output`);
    return out;
  }

  subU(group: Group, a: Uint8Array, b: Uint8Array): Uint8Array {
    const n8 = N8[group];
    const sA = n8 * 2;
    this.resetScratch();
    const pa = this.alloc(sA);
    const pb = this.alloc(sA);
    const pr = this.alloc(n8 * 3, 4 * n8 + (1 << 16));
    this.u8().set(a, pa);
    this.u8().set(b, pb);
    this.call(group, "subAffine", pa, pb, pr);
    this.call(group, "batchToAffine", pr, 1, pr);
    const pu = this.alloc(sA);
    this.call(group, "batchLEMtoU", pr, 1, pu);
    return this.u8().slice(pu, pu + sA);
  }
}

async function startEngine(): Promise<Engine> {
  // A single-threaded ffjavascript curve gives the WebAssembly code and the generators; this worker instantiates the
  // module again with a memory of its own, which it grows as its tables and batches need.
  const curve = await buildBn128(true);
  if (!curve.tm.code) throw new Error("ffjavascript did not expose the bn128 WebAssembly code (tm.code)");
  const memory = new Wasm.Memory({ initial: 32 });
  const instance = await Wasm.instantiate(await Wasm.compile(curve.tm.code), { env: { memory } });
  const g1 = new Uint8Array(64);
  curve.G1.toRprLEM(g1, 0, curve.G1.g);
  const g2 = new Uint8Array(128);
  curve.G2.toRprLEM(g2, 0, curve.G2.g);
  return new Engine(instance.exports, memory, { G1: g1, G2: g2 });
}

if (!parentPort) throw new Error("fixed-base-worker.ts runs only as a worker thread");
const port = parentPort;
const engine = startEngine();
// Requests are handled one at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
port.on("message", (req: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      const e = await engine;
      let out: Partial<Record<Form, Uint8Array>> = {};
      if (req.op === "tables") e.setTables(req.widths);
      else if (req.op === "mul") out = e.mul(req.group, req.scalars, req.forms);
      else if (req.op === "convert") out = { [req.form]: e.convert(req.group, req.lem, req.form) };
      else if (req.op === "subU") out = { u: e.subU(req.group, req.a, req.b) };
      const transfer = Object.values(out).map((b) => b.buffer as ArrayBuffer);
      port.postMessage({ id: req.id, ok: true, out } satisfies WorkerReply, transfer);
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
    }
  });
});
