/**
 * Proofs for the test-only mock verifiers (contracts/mocks): the market's tests and the explorer benchmark's generated
 * history settle jobs with them where a real proof would only cost time.
 */
import { AbiCoder, keccak256 } from "ethers";

/**
 * The 256-byte Groth16-shaped proof the mock verifiers accept for any number N of `signals` (`MockSnarkjsVerifierN`,
 * `MockBatchVerifier`): `abi.encode(a, b, c)` with `b = [[1, 2], [3, 4]]`, `c = [5, 6]`,
 * `a = [keccak256(abi.encode(b, c, uint256[N] signals)), 0]`.
 */
export function mockProofN(signals: readonly bigint[]): string {
  const coder = AbiCoder.defaultAbiCoder();
  const b = [
    [1n, 2n],
    [3n, 4n],
  ];
  const c = [5n, 6n];
  const a0 = BigInt(keccak256(coder.encode(["uint256[2][2]", "uint256[2]", `uint256[${signals.length}]`], [b, c, signals])));
  return coder.encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [[a0, 0n], b, c]);
}
