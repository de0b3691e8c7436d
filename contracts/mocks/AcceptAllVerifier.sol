// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AcceptAllVerifier (test-only)
/// @notice A "verifier" with snarkjs' Groth16 shape for 4 signals that accepts every proof.
contract AcceptAllVerifier {
    /// @notice Accepts anything.
    /// @return Always true.
    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[4] calldata
    ) external pure returns (bool) {
        return true;
    }
}
