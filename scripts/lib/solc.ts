/**
 * The Solidity compiler settings of every contract in this project: `hardhat.config.ts` compiles with them, and
 * `scripts/chain/audit-verifier.ts` recompiles a verifier with them to compare deployed code.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;
