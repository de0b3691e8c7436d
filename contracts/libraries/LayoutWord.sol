// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title LayoutWord
/// @notice The canonical field element `L` of a version's public-signal layout (docs/public-signals.md, "Layout
/// binding"): bits 0-7 inputMode, 8-15 outputHead, 16-31 inputCount, 32-39 inputBits, 40-47 outputCount, 48-55
/// outputBits, 56-63 outputFrac, 64-71 the encoding's version `VERSION` (1); every other bit zero, so `L < 2^72 < r`.
/// The circuit generator compiles the same word into each circuit (`layoutWord` in scripts/formats/model-layout.ts), and
/// the public model commitment (signal [1]) is `Poseidon(modelHash, L)`.
library LayoutWord {
    /// @dev Version of this encoding, in bits 64-71 (a new encoding gets a new number, so words never collide).
    uint256 internal constant VERSION = 1;

    /// @notice Encodes `layout` into its word.
    /// @param layout The layout (any values: the word is injective on the struct's field widths).
    /// @return The word `L`.
    function encode(IModelRegistry.Layout memory layout) internal pure returns (uint256) {
        return
            uint256(layout.inputMode) |
            (uint256(layout.outputHead) << 8) |
            (uint256(layout.inputCount) << 16) |
            (uint256(layout.inputBits) << 32) |
            (uint256(layout.outputCount) << 40) |
            (uint256(layout.outputBits) << 48) |
            (uint256(layout.outputFrac) << 56) |
            (VERSION << 64);
    }
}
