// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";
import {ISubscriptionConsumer} from "../interfaces/ISubscriptionConsumer.sol";

/// @title SubscriptionConsumer
/// @notice Base for a contract that receives a verified inference every interval on inputs read from its own state.
/// Inherit it, subscribe with `_subscribe` (every run paid up front), return each run's inputs from `_runInputs`
/// (read at the moment the run is opened: the proof is over exactly those values) and act on each result in
/// `_onRunResult`: only results of this contract's subscriptions, delivered by the subscriptions contract it was
/// built with, after the market verified the proof. Walkthrough: docs/consumers.md, "Subscriptions".
/// @dev `_onRunResult` runs inside the market's callback allowance (`InferenceJobs.callbackGasLimit` minus a few
/// thousand): keep it small. Refunds (cancelled or skipped runs) are credited in the subscriptions contract;
/// `_withdrawRefunds` brings them here.
abstract contract SubscriptionConsumer is ISubscriptionConsumer {
    /// @notice Thrown when a call that only the subscriptions contract may make comes from elsewhere.
    /// @param caller The caller.
    error NotSubscriptions(address caller);
    /// @notice Thrown when a call names a subscription this contract does not own.
    /// @param subscriptionId The subscription.
    error NotMySubscription(uint256 subscriptionId);

    /// @notice The subscriptions contract every subscription goes to and every result must come from.
    IInferenceSubscriptions public immutable subscriptions;

    mapping(uint256 subscriptionId => bool) private _mine;

    /// @param subscriptions_ The `InferenceSubscriptions` contract.
    constructor(IInferenceSubscriptions subscriptions_) {
        subscriptions = subscriptions_;
    }

    /// @notice Refunds from the subscriptions contract arrive here.
    receive() external payable virtual {
        if (msg.sender != address(subscriptions)) revert NotSubscriptions(msg.sender);
    }

    /// @inheritdoc ISubscriptionConsumer
    function subscriptionInputs(uint256 subscriptionId, uint256 run) external view returns (int256[] memory inputs) {
        if (!_mine[subscriptionId]) revert NotMySubscription(subscriptionId);
        return _runInputs(subscriptionId, run);
    }

    /// @inheritdoc ISubscriptionConsumer
    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) external {
        if (msg.sender != address(subscriptions)) revert NotSubscriptions(msg.sender);
        if (!_mine[subscriptionId]) revert NotMySubscription(subscriptionId);
        _onRunResult(subscriptionId, run, jobId, output);
    }

    /// @notice The quantized inputs of a run, read from this contract's state when the run is opened.
    /// @param subscriptionId The subscription.
    /// @param run The run (0 for the first interval).
    /// @return inputs Exactly the model's `inputCount` values in its signed `inputBits` range.
    function _runInputs(uint256 subscriptionId, uint256 run) internal view virtual returns (int256[] memory inputs);

    /// @notice Receives one run's verified result, once.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its market job (decode a values head with `InferenceJobs.valuesOf(jobId)`).
    /// @param output The verified output (public signal 0).
    function _onRunResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) internal virtual;

    /// @notice Subscribes, paying `runs * (feePerRun + tipPerRun)` from this contract's balance.
    /// @param modelId The model.
    /// @param modelVersion The version you checked (its verifier and layout).
    /// @param interval Seconds between runs.
    /// @param runs Runs to pay for.
    /// @param feePerRun Each run's job fee (wei).
    /// @param tipPerRun Paid to whoever opens each run (wei).
    /// @param runDeadline Seconds each run's job stays open.
    /// @return subscriptionId The subscription.
    function _subscribe(
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) internal returns (uint256 subscriptionId) {
        uint256 value = uint256(runs) * (uint256(feePerRun) + tipPerRun);
        subscriptionId = subscriptions.createSubscription{value: value}(
            modelId,
            modelVersion,
            interval,
            0,
            runs,
            feePerRun,
            tipPerRun,
            runDeadline
        );
        _mine[subscriptionId] = true;
    }

    /// @notice Cancels a subscription: runs not yet opened are refunded (`_withdrawRefunds`), open runs still deliver.
    /// @param subscriptionId The subscription.
    function _cancelSubscription(uint256 subscriptionId) internal {
        subscriptions.cancel(subscriptionId);
    }

    /// @notice Brings this contract's refunds (cancelled, skipped, missed or reclaimed runs) from the subscriptions
    /// contract.
    /// @return amount Wei received (0 when nothing was credited).
    function _withdrawRefunds() internal returns (uint256 amount) {
        if (subscriptions.creditOf(address(this)) == 0) return 0;
        return subscriptions.withdraw();
    }
}
