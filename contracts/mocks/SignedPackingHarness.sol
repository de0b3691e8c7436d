// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SignedPacking} from "../libraries/SignedPacking.sol";

/// @title SignedPackingHarness (test-only)
/// @notice Exposes the internal `SignedPacking` functions to tests.
contract SignedPackingHarness {
    /// @notice `SignedPacking.unpack`.
    /// @param word The packed word.
    /// @param count The number of values.
    /// @param bits Their signed width.
    /// @return values The decoded values.
    function unpack(uint256 word, uint256 count, uint256 bits) external pure returns (int256[] memory values) {
        return SignedPacking.unpack(word, count, bits);
    }

    /// @notice `SignedPacking.perWord`.
    /// @param bits The width.
    /// @return Values per word.
    function perWord(uint256 bits) external pure returns (uint256) {
        return SignedPacking.perWord(bits);
    }
}
