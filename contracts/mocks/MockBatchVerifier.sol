// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockBatchVerifier (test-only)
/// @notice Has `IGroth16BatchVerifier.verifyBatch` for any signal count N: proof i is accepted iff its first word is
/// `uint256(keccak256(abi.encode(b, c, uint256[N] signals_i)))` (as `MockSnarkjsVerifier(N)`), so tests see every
/// signal the market rebuilt. Modes make it misbehave: 1 returns no data, 2 returns two words.
contract MockBatchVerifier {
    uint256 public mode;

    function setMode(uint256 m) external {
        mode = m;
    }

    function verifyBatch(uint256[] calldata proofs, uint256[] calldata signals) external view returns (bool) {
        uint256 m = mode;
        if (m == 1) {
            assembly {
                return(0, 0)
            }
        }
        if (m == 2) {
            assembly {
                mstore(0, 1)
                mstore(0x20, 1)
                return(0, 0x40)
            }
        }
        uint256 n = proofs.length / 8;
        if (n == 0 || proofs.length != 8 * n || signals.length % n != 0) return false;
        uint256 w = signals.length / n;
        for (uint256 i; i < n; ++i) {
            uint256 o = 8 * i;
            uint256[2][2] memory b = [[proofs[o + 2], proofs[o + 3]], [proofs[o + 4], proofs[o + 5]]];
            uint256[2] memory c = [proofs[o + 6], proofs[o + 7]];
            uint256[] memory s = signals[i * w:(i + 1) * w];
            if (proofs[o] != uint256(keccak256(abi.encodePacked(abi.encode(b, c), s)))) return false;
        }
        return true;
    }
}
