// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockFeeOnTransferToken (test-only)
/// @notice A deflationary token: every transfer burns `feeBps` of the amount, so the recipient gets less than was
/// sent.
contract MockFeeOnTransferToken is MockTokenBase {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) {
        feeBps = feeBps_;
    }

    /// @notice Moves `amount` from the caller to `to`, less the burn.
    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to` within the caller's allowance, less the burn.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal override {
        uint256 burned = (amount * feeBps) / 10_000;
        super._move(from, to, amount);
        balanceOf[to] -= burned;
        totalSupply -= burned;
        emit Transfer(to, address(0), burned);
    }
}
