// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockFalseApproveToken (test-only)
/// @notice A token whose `approve` returns false.
contract MockFalseApproveToken {
    /// @notice Refuses every approval by returning false.
    function approve(address, uint256) external pure returns (bool) {
        return false;
    }
}
