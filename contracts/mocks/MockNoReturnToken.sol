// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockNoReturnToken (test-only)
/// @notice A USDT-style token: `transfer` and `transferFrom` return nothing (and revert on failure).
contract MockNoReturnToken is MockTokenBase {
    /// @notice Moves `amount` from the caller to `to`; returns nothing.
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` within the caller's allowance; returns nothing.
    function transferFrom(address from, address to, uint256 amount) external {
        _spend(from, amount);
        _move(from, to, amount);
    }
}
