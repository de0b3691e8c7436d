// Minimal typings for the parts of ffjavascript 0.3 (snarkjs' curve library) this project uses directly.
declare module "ffjavascript" {
  /** A field element or a curve point: ffjavascript's internal (Montgomery) bytes. */
  export type Elem = Uint8Array;
  /** ChaCha20 random generator, seeded with eight 32-bit words (snarkjs derives its beacon keys with it). */
  export class ChaCha {
    constructor(seed?: number[]);
  }
  export interface WasmField {
    n8: number;
    /** 2-adicity: the largest k with 2^k dividing r - 1. */
    s: number;
    /** w[k]: the primitive 2^k-th root of unity snarkjs' FFTs use. */
    w: Elem[];
    one: Elem;
    e(v: bigint | number | string): Elem;
    toObject(a: Elem): bigint;
    fromRng(rng: ChaCha): Elem;
  }
  export interface WasmGroup {
    /** The generator (Jacobian). */
    g: Elem;
    F: { n8: number };
    fromRng(rng: ChaCha): Elem;
    timesFr(p: Elem, s: Elem): Elem;
    timesScalar(p: Elem, s: bigint | number): Elem;
    toAffine(p: Elem): Elem;
    fromRprLEM(buff: Uint8Array, offset?: number): Elem;
    toRprLEM(buff: Uint8Array, offset: number, p: Elem): void;
    toRprUncompressed(buff: Uint8Array, offset: number, p: Elem): void;
    toUncompressed(p: Elem): Uint8Array;
  }
  export interface Curve {
    name: string;
    q: bigint;
    r: bigint;
    Fr: WasmField;
    G1: WasmGroup;
    G2: WasmGroup;
    /** Thread manager; `code` is the curve's WebAssembly module (set when built single-threaded). */
    tm: { code?: Uint8Array };
    terminate(): Promise<void>;
  }
  export function buildBn128(singleThread?: boolean): Promise<Curve>;
}
