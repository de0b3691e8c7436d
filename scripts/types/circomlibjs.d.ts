// Minimal typings for circomlibjs' Poseidon and its EVM contract generator (the package ships no TypeScript types).
declare module "circomlibjs" {
  export interface PoseidonField {
    toObject(x: Uint8Array): bigint;
  }
  export interface Poseidon {
    (inputs: (bigint | number | string)[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
  export const poseidonContract: {
    /** EVM creation code (0x hex) of a contract computing Poseidon over nInputs field elements. */
    createCode(nInputs: number): string;
    generateABI(nInputs: number): unknown[];
  };
}
