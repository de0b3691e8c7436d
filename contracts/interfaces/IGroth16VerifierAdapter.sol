// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "./IProofVerifier.sol";

/// @title Adapter for snarkjs-generated Groth16 (BN254) verifiers
/// @notice Proof bytes are `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)` (256 bytes), `b` in the order
/// snarkjs' `exportSolidityCallData` prints. The adapter calls
/// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])` on the wrapped verifier.
interface IGroth16VerifierAdapter is IProofVerifier {
    /// @notice Thrown at deployment when the wrapped verifier has no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);

    /// @notice Thrown at deployment when the signal count is zero.
    /// @param numPublicSignals The count given.
    error UnsupportedSignalCount(uint256 numPublicSignals);

    /// @notice The wrapped snarkjs verifier.
    /// @return The verifier's address.
    function verifier() external view returns (address);

    /// @notice The selector of `verifyProof` for this adapter's signal count.
    /// @return The selector.
    function verifyProofSelector() external view returns (bytes4);
}
