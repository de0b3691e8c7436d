// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Packing of signed fixed-point values into field elements (docs/public-signals.md)
/// @notice The Solidity twin of the circuits' `PackSigned` and of `packSigned` in `scripts/formats/commitments.ts`: each
/// value is offset by `2^(bits-1)` and `floor(248 / bits)` values share one word, little-endian. Consumers use
/// `unpack` to read a values-head result (`InferenceJobs.resultOf` / the callback's `output`); the market packs
/// public inputs with the same rule.
library SignedPacking {
    /// @dev Bits used per word: every packed word is below 2^248 < r.
    uint256 internal constant WORD_BITS = 248;

    /// @notice Thrown when `bits` is outside 2..124 or `count` values do not fit in one word.
    /// @param count The number of values asked for.
    /// @param bits Their width.
    error UnpackableLayout(uint256 count, uint256 bits);

    /// @dev Values per word at `bits` bits.
    function perWord(uint256 bits) internal pure returns (uint256) {
        return WORD_BITS / bits;
    }

    /// @dev Decodes the `count` signed values of one packed word (the values head's `output`).
    function unpack(uint256 word, uint256 count, uint256 bits) internal pure returns (int256[] memory values) {
        if (bits < 2 || bits > 124 || count > WORD_BITS / bits) revert UnpackableLayout(count, bits);
        values = new int256[](count);
        uint256 mask = (1 << bits) - 1;
        int256 offset = int256(1 << (bits - 1));
        for (uint256 i; i < count; ++i) {
            // count <= 124: bounded by the layout, not by user data
            values[i] = int256((word >> (i * bits)) & mask) - offset;
        }
    }
}
