// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IPoseidonT3
/// @notice circomlibjs' generated Poseidon contract for two inputs (contracts/generated/PoseidonT3Code.sol): the
/// same function as circomlib's `Poseidon(2)` template over the BN254 scalar field.
interface IPoseidonT3 {
    /// @notice Poseidon of two field elements.
    /// @param input The two inputs, each below the BN254 scalar field.
    /// @return The hash, a field element.
    function poseidon(uint256[2] calldata input) external pure returns (uint256);
}
