// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Direct calls to snarkjs-generated verifiers
/// @notice snarkjs' `verifyProof(<proof arrays>, uint256[N])` takes only static arrays, which the ABI encodes inline, so
/// its calldata is exactly `selector ++ proof ++ signals`. Calling it directly (with the selector and proof length the
/// registry copied from the version's factory-made adapter) skips the adapter hop (~4.4k gas).
library VerifierCall {
    /// @dev Calls `verifier` with `selector ++ proof ++ [s0, s1, s2, s3]`. True iff the call succeeded and returned
    /// exactly the word 1: a verifier without code "succeeds" with no return data, and snarkjs' PLONK verifier reverts
    /// on some malformed proofs, so neither counts as valid. The caller checks the proof length and that every signal
    /// is below r.
    function verify4(
        address verifier,
        bytes4 selector,
        bytes calldata proof,
        uint256 s0,
        uint256 s1,
        uint256 s2,
        uint256 s3
    ) internal view returns (bool valid) {
        // Builds the calldata past the free memory pointer (scratch, not allocated) and copies no return data but
        // one word.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := proof.length
            mstore(ptr, selector)
            calldatacopy(add(ptr, 4), proof.offset, len)
            let sig := add(ptr, add(4, len))
            mstore(sig, s0)
            mstore(add(sig, 0x20), s1)
            mstore(add(sig, 0x40), s2)
            mstore(add(sig, 0x60), s3)
            let ok := staticcall(gas(), verifier, ptr, add(add(4, len), 0x80), 0, 0x20)
            valid := and(and(ok, eq(returndatasize(), 0x20)), eq(mload(0), 1))
        }
    }

    /// @dev Calls `verifier` with `selector ++ proof ++ signals` (any number of signals); valid as in `verify4`.
    function verify(
        address verifier,
        bytes4 selector,
        bytes calldata proof,
        uint256[] memory signals
    ) internal view returns (bool valid) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := proof.length
            mstore(ptr, selector)
            calldatacopy(add(ptr, 4), proof.offset, len)
            let n := mload(signals)
            let dst := add(ptr, add(4, len))
            for {
                let i := 0
            } lt(i, n) {
                i := add(i, 1)
            } {
                mstore(add(dst, mul(i, 0x20)), mload(add(signals, mul(add(i, 1), 0x20))))
            }
            let ok := staticcall(gas(), verifier, ptr, add(add(4, len), mul(n, 0x20)), 0, 0x20)
            valid := and(and(ok, eq(returndatasize(), 0x20)), eq(mload(0), 1))
        }
    }
}
