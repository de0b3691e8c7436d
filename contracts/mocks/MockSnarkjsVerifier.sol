// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockSnarkjsVerifier (test-only)
/// @notice Has snarkjs' `verifyProof` shape for 4 signals. Returns true iff
/// `a[0] == uint256(keccak256(abi.encode(b, c, pubSignals)))`, which lets tests check the adapter passes every word
/// through in order. Modes make it misbehave: 1 returns no data, 2 reverts, 3 returns two words, 4 rejects every
/// proof. Its code never changes but its answer does (storage): what a hand-written, switchable verifier can do.
contract MockSnarkjsVerifier {
    /// @notice Thrown in mode 2 (a verifier that reverts).
    error MockRevert();

    uint256 public mode;

    function setMode(uint256 m) external {
        mode = m;
    }

    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[4] calldata pubSignals
    ) external view returns (bool) {
        uint256 m = mode;
        if (m == 1) {
            assembly {
                return(0, 0)
            }
        }
        if (m == 2) revert MockRevert();
        if (m == 3) {
            assembly {
                mstore(0, 1)
                mstore(0x20, 1)
                return(0, 0x40)
            }
        }
        if (m == 4) return false;
        return a[0] == uint256(keccak256(abi.encode(b, c, pubSignals)));
    }
}
