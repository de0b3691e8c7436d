// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";
import {SubscriptionConsumer} from "../consumer/SubscriptionConsumer.sol";

/// @title MockSubscriptionConsumer (tests)
/// @notice A subscription owner whose input view and result callback misbehave on request: `mode` 0 answers
/// `inputs`, 1 reverts, 2 returns bytes that are not an `int256[]`, 3 returns a huge answer, 4 burns all its gas,
/// 5 answers `inputs` but reverts in the result callback, 6 answers `inputs` but burns all gas in the callback,
/// 7 returns 65 bytes (not whole words), 8 returns one word of values under a count of 5.
contract MockSubscriptionConsumer is SubscriptionConsumer {
    /// @notice Thrown by the input view in mode 1 and the callback in mode 5.
    error Broken();

    /// @notice Emitted for every result received.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its job.
    /// @param output The output.
    event Received(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output);

    uint8 public mode;
    int256[] public inputs;

    constructor(IInferenceSubscriptions subscriptions_) SubscriptionConsumer(subscriptions_) {}

    function setMode(uint8 m) external {
        mode = m;
    }

    function setInputs(int256[] calldata values) external {
        inputs = values;
    }

    function subscribe(
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external payable returns (uint256) {
        return _subscribe(modelId, modelVersion, interval, runs, feePerRun, tipPerRun, runDeadline);
    }

    function subscribeWithToken(
        address token,
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external returns (uint256) {
        return _subscribeWithToken(token, modelId, modelVersion, interval, runs, feePerRun, tipPerRun, runDeadline);
    }

    function withdrawTokenRefunds(address token) external returns (uint256) {
        return _withdrawTokenRefunds(token);
    }

    function cancel(uint256 subscriptionId) external {
        _cancelSubscription(subscriptionId);
    }

    function withdrawRefunds() external returns (uint256) {
        return _withdrawRefunds();
    }

    function _runInputs(uint256, uint256) internal view override returns (int256[] memory) {
        uint8 m = mode;
        if (m == 1) revert Broken();
        if (m == 2) {
            assembly {
                mstore(0, 0x40)
                mstore(0x20, 5)
                return(0, 0x40)
            }
        }
        if (m == 3) {
            assembly {
                return(0, 100000)
            }
        }
        if (m == 4) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        if (m == 7) {
            assembly {
                mstore(0, 0x20)
                mstore(0x20, 1)
                mstore(0x40, 5)
                return(0, 0x41)
            }
        }
        if (m == 8) {
            assembly {
                mstore(0, 0x20)
                mstore(0x20, 5)
                mstore(0x40, 1)
                return(0, 0x60)
            }
        }
        return inputs;
    }

    function _onRunResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) internal override {
        if (mode == 5) revert Broken();
        if (mode == 6) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        emit Received(subscriptionId, run, jobId, output);
    }
}
