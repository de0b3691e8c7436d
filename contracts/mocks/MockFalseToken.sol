// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockFalseToken (test-only)
/// @notice A token that, once `setFailing(true)`, answers `false` to `transfer` and `transferFrom` without moving
/// anything and without reverting.
contract MockFalseToken is MockTokenBase {
    bool public failing;

    /// @notice Makes every later transfer return false (or work again).
    function setFailing(bool v) external {
        failing = v;
    }

    /// @notice Moves `amount` from the caller to `to`, or returns false when failing.
    function transfer(address to, uint256 amount) external returns (bool) {
        if (failing) return false;
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to` within the caller's allowance, or returns false when failing.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (failing) return false;
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }
}
