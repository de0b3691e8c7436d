// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockTokenBase} from "./MockTokenBase.sol";

/// @title MockReentrantToken (test-only)
/// @notice A token whose `transfer` and `transferFrom` first make one armed call (any target, any calldata: the
/// market, to re-enter it), record its outcome, then move the tokens as a standard token.
contract MockReentrantToken is MockTokenBase {
    address public hookTarget;
    bytes public hookData;
    /// @notice Whether the last hook call succeeded, and what it returned (the revert data if it failed).
    bool public lastHookOk;
    bytes public lastHookReturn;
    uint256 public hookCalls;

    /// @notice Arms one call of `data` to `target` for the next transfer (zero target: none).
    function arm(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    /// @notice Approves `spender` on behalf of this token contract (so its hook can open jobs with its own tokens).
    function approveAsToken(address spender, uint256 amount) external {
        allowance[address(this)][spender] = amount;
    }

    /// @notice Runs the armed call, then moves `amount` from the caller to `to`.
    function transfer(address to, uint256 amount) external returns (bool) {
        _hook();
        _move(msg.sender, to, amount);
        return true;
    }

    /// @notice Runs the armed call, then moves `amount` from `from` to `to` within the caller's allowance.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _hook();
        _spend(from, amount);
        _move(from, to, amount);
        return true;
    }

    function _hook() private {
        address target = hookTarget;
        if (target == address(0)) return;
        hookTarget = address(0); // one call per arming: the nested transfer does not call again
        hookCalls += 1;
        // The re-entry IS this mock's purpose.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = target.call(hookData);
        lastHookOk = ok;
        lastHookReturn = ret;
    }
}
