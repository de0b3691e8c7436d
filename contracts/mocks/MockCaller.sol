// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockCaller (test-only)
/// @notice Forwards any call, so a contract can play a user or reporter in tests, and can refuse ETH.
contract MockCaller {
    /// @notice Thrown when the mock is set to refuse ETH.
    /// @param amount The amount refused.
    error EthRefused(uint256 amount);
    /// @notice Thrown when a forwarded call reverts (its data is bubbled instead when there is any).
    error ForwardFailed();

    bool public refuseEth;

    function setRefuseEth(bool v) external {
        refuseEth = v;
    }

    /// @notice Calls `target` with `data` and `msg.value`, bubbling up a revert.
    function forward(address target, bytes calldata data) external payable returns (bytes memory result) {
        bool ok;
        // solhint-disable-next-line avoid-low-level-calls
        (ok, result) = target.call{value: msg.value}(data);
        if (!ok) {
            if (result.length == 0) revert ForwardFailed();
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    receive() external payable {
        if (refuseEth) revert EthRefused(msg.value);
    }
}
