// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ERC-165 standard interface detection
interface IERC165 {
    /// @notice Whether the contract implements the interface `interfaceId` (ERC-165).
    /// @param interfaceId The XOR of the interface's function selectors.
    /// @return True if supported (never for 0xffffffff).
    function supportsInterface(bytes4 interfaceId) external view returns (bool);
}
