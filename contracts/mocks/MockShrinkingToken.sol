// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockShrinkingToken (test-only)
/// @notice A token whose `transferFrom` delivers, then burns twice the amount from the recipient (up to its balance):
/// a pull leaves the recipient with less than before it.
contract MockShrinkingToken is MockTokenBase {
    /// @notice Moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to`, then burns up to twice that from `to`.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        uint256 burn = balanceOf[to] > 2 * amount ? 2 * amount : balanceOf[to];
        balanceOf[to] -= burn;
        return true;
    }
}
