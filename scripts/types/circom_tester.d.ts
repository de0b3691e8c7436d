// Minimal typings for circom_tester's WebAssembly tester.
declare module "circom_tester" {
  export interface WasmTester {
    calculateWitness(input: Record<string, unknown>, sanityCheck?: boolean): Promise<bigint[]>;
    checkConstraints(witness: bigint[]): Promise<void>;
    loadConstraints(): Promise<void>;
    loadSymbols(): Promise<void>;
    symbols: Record<string, { labelIdx: number; varIdx: number; componentIdx: number }>;
    constraints: unknown[];
    release(): Promise<void>;
  }
  export function wasm(
    circomFile: string,
    options?: { output?: string; recompile?: boolean; include?: string[]; O?: number },
  ): Promise<WasmTester>;
}
