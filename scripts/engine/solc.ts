/**
 * The Solidity compiler settings of every contract in this project: `hardhat.config.ts` compiles with them, and
 * `scripts/chain/audit-verifier.ts` recompiles a verifier with them to compare deployed code.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
} as const;

interface SolcOutput {
  errors?: { severity: string; formattedMessage: string }[];
  contracts?: Record<
    string,
    Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>
  >;
}

/** A contract compiled in process with solc-js and the project's settings. */
export interface CompiledContract {
  abi: unknown[];
  /** Creation bytecode, 0x-prefixed. */
  bytecode: string;
  /** Runtime bytecode, 0x-prefixed. */
  runtime: string;
}

/**
 * Compiles one Solidity source with solc-js (the package's compiler, {@link SOLC_SETTINGS}), e.g. a generated
 * verifier that is not part of the Hardhat project. Takes seconds.
 * @throws Error with solc's first error, or when `contract` is not in the source.
 */
export function compileSolidity(source: string, contract: string, label = "source"): CompiledContract {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { compile(input: string): string };
  const input = {
    language: "Solidity",
    sources: { "Source.sol": { content: source } },
    settings: { ...SOLC_SETTINGS, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc could not compile ${label}: ${errors[0].formattedMessage}`);
  const c = out.contracts?.["Source.sol"]?.[contract];
  if (!c) throw new Error(`${label}: contract ${contract} not found`);
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, runtime: `0x${c.evm.deployedBytecode.object}` };
}
