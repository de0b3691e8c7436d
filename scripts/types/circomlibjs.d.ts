// Minimal typings for circomlibjs' Poseidon (the package ships no TypeScript types).
declare module "circomlibjs" {
  export interface PoseidonField {
    toObject(x: Uint8Array): bigint;
  }
  export interface Poseidon {
    (inputs: (bigint | number | string)[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
