// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProofVerifier} from "./IProofVerifier.sol";

/// @title Adapter for a snarkjs-generated verifier (Groth16, PLONK or FFLONK on BN254)
/// @notice snarkjs' `verifyProof(<proof arrays>, uint256[N])` takes only static arrays, which the ABI encodes inline,
/// so its calldata is exactly `selector ++ proof ++ signals` when `proof` is the ABI encoding of the proof arrays.
/// The adapter checks the proof length, the signal count and that every signal is below the field modulus, then
/// makes that call. `Groth16VerifierAdapter`, `PlonkVerifierAdapter` and `FflonkVerifierAdapter` document each
/// proof system's encoding.
interface ISnarkjsVerifierAdapter is IProofVerifier {
    /// @notice Thrown at deployment when the wrapped verifier has no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);

    /// @notice Thrown at deployment when the signal count is zero.
    /// @param numPublicSignals The count given.
    error UnsupportedSignalCount(uint256 numPublicSignals);

    /// @notice The wrapped snarkjs verifier.
    /// @return The verifier's address.
    function verifier() external view returns (address);

    /// @notice The selector of the wrapped verifier's `verifyProof` for this adapter's signal count N.
    /// @return The selector.
    function verifyProofSelector() external view returns (bytes4);

    /// @notice The exact length of the `proof` bytes `verify` accepts.
    /// @return The length in bytes.
    function proofLength() external view returns (uint256);
}
