// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockBlocklistToken (test-only)
/// @notice A token (USDC-style) that refuses any transfer to a blocklisted address.
contract MockBlocklistToken is MockTokenBase {
    /// @notice Thrown on a transfer to a blocklisted address.
    error Blocklisted(address account);

    mapping(address account => bool) public blocked;

    /// @notice Adds `account` to the blocklist or removes it.
    function setBlocked(address account, bool v) external {
        blocked[account] = v;
    }

    /// @notice Moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Moves `amount` from `from` to `to` within the caller's allowance.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal override {
        if (blocked[to]) revert Blocklisted(to);
        super._move(from, to, amount);
    }
}
