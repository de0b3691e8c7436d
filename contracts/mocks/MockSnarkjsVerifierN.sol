// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockSnarkjsVerifierN (test-only)
/// @notice Has snarkjs' Groth16 `verifyProof` shape for 5 and for 6 public signals (a public-input model with 2 or 3
/// input signals). Returns true iff `a[0] == uint256(keccak256(abi.encode(b, c, pubSignals)))`, like
/// `MockSnarkjsVerifier`, so a proof is bound to every signal in order.
contract MockSnarkjsVerifierN {
    /// @notice Checks a mock proof over 5 signals.
    /// @param a The proof's A point; `a[0]` carries the hash.
    /// @param b The proof's B point.
    /// @param c The proof's C point.
    /// @param pubSignals The 5 public signals.
    /// @return Whether `a[0]` is the hash of `b`, `c` and the signals.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[5] calldata pubSignals
    ) external pure returns (bool) {
        return a[0] == uint256(keccak256(abi.encode(b, c, pubSignals)));
    }

    /// @notice Checks a mock proof over 6 signals.
    /// @param a The proof's A point; `a[0]` carries the hash.
    /// @param b The proof's B point.
    /// @param c The proof's C point.
    /// @param pubSignals The 6 public signals.
    /// @return Whether `a[0]` is the hash of `b`, `c` and the signals.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[6] calldata pubSignals
    ) external pure returns (bool) {
        return a[0] == uint256(keccak256(abi.encode(b, c, pubSignals)));
    }
}
