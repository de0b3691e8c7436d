// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";
import {ISubscriptionConsumer} from "../interfaces/ISubscriptionConsumer.sol";

/// @title SubscriptionConsumer
/// @notice Base for a contract that receives a verified inference every interval on inputs read from its own state.
/// Inherit it, subscribe with `_subscribe` (every run paid up front), return each run's inputs from `_runInputs`
/// (read at the moment the run is opened: the proof is over exactly those values) and act on each result in
/// `_onRunResult`: only results of this contract's subscriptions, delivered by the subscriptions contract it was
/// built with, after the market verified the proof. On a committed-input model version, override `_runCommitment`
/// instead of `_runInputs` (each run's input commitment and the URI of its opening, or no URI for private delivery,
/// then `_deliverRunInput` to the claimant). Walkthrough: docs/consumers.md, "Subscriptions".
/// @dev `_onRunResult` runs inside the market's callback allowance (`InferenceJobs.callbackGasLimit` minus a few
/// thousand): keep it small. Refunds (cancelled or skipped runs) are credited in the subscriptions contract;
/// `_withdrawRefunds` brings them here.
abstract contract SubscriptionConsumer is ISubscriptionConsumer {
    /// @notice Thrown when a call that only the subscriptions contract may make comes from elsewhere.
    /// @param caller The caller.
    error NotSubscriptions(address caller);
    /// @notice Thrown when approving the token for the subscriptions contract fails.
    /// @param token The token.
    error TokenApproveFailed(address token);
    /// @notice Thrown by the input view of the input mode this consumer does not serve (it overrides `_runInputs` for
    /// public-input model versions, `_runCommitment` for committed ones): a run that reads it is skipped.
    /// @param subscriptionId The subscription asked about.
    /// @param run The run asked about.
    error InputModeNotServed(uint256 subscriptionId, uint256 run);

    /// @notice The subscriptions contract every subscription goes to and every result must come from.
    IInferenceSubscriptions public immutable subscriptions;

    /// @param subscriptions_ The `InferenceSubscriptions` contract.
    constructor(IInferenceSubscriptions subscriptions_) {
        subscriptions = subscriptions_;
    }

    /// @notice Refunds from the subscriptions contract arrive here.
    receive() external payable virtual {
        if (msg.sender != address(subscriptions)) revert NotSubscriptions(msg.sender);
    }

    /// @inheritdoc ISubscriptionConsumer
    /// @dev Answers anyone, for any id (a view of this contract's state, which is public anyway): the subscriptions
    /// contract reads it only for subscriptions whose owner is this contract.
    function subscriptionInputs(uint256 subscriptionId, uint256 run) external view returns (int256[] memory inputs) {
        return _runInputs(subscriptionId, run);
    }

    /// @inheritdoc ISubscriptionConsumer
    /// @dev Answers anyone, like `subscriptionInputs`.
    function subscriptionCommitment(
        uint256 subscriptionId,
        uint256 run
    ) external view returns (uint256 inputCommitment, string memory inputURI) {
        return _runCommitment(subscriptionId, run);
    }

    /// @inheritdoc ISubscriptionConsumer
    /// @dev Only from the subscriptions contract, which forwards a run's result only to its subscription's owner, and
    /// the owner of a subscription is the contract that created it: so every result that passes this check is one of
    /// this contract's own subscriptions (no per-subscription record is kept or read for it: 22k gas less per
    /// subscription, 2.1k per result).
    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) external {
        if (msg.sender != address(subscriptions)) revert NotSubscriptions(msg.sender);
        _onRunResult(subscriptionId, run, jobId, output);
    }

    /// @notice The quantized inputs of run `run` (0 for the first interval) of subscription `subscriptionId`, read
    /// from this contract's state when the run is opened: exactly the model's `inputCount` values in its signed
    /// `inputBits` range. Override it for a public-input model version; not overridden, every such run is skipped.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    function _runInputs(
        uint256 subscriptionId,
        uint256 run
    ) internal view virtual returns (int256[] memory /* inputs */) {
        revert InputModeNotServed(subscriptionId, run);
    }

    /// @notice The input commitment of run `run` of subscription `subscriptionId` (the salted commitment of its input,
    /// below r) and the URI where provers read its opening (at most 8,192 bytes), or an empty URI for private
    /// delivery; read when the run is opened. Override it for a committed-input model version; not overridden, every
    /// such run is skipped.
    /// @dev Post each run's commitment (and publish its opening, or keep it for private delivery) before its
    /// interval, e.g. from an owner-only setter this reads. An empty URI makes the run a private-delivery job: watch
    /// for its claim and `_deliverRunInput` the opening encrypted to the claimant (the SDK's `deliverRunInput`,
    /// `zkml-evm/node`).
    /// @param subscriptionId The subscription.
    /// @param run The run.
    function _runCommitment(
        uint256 subscriptionId,
        uint256 run
    ) internal view virtual returns (uint256 /* inputCommitment */, string memory /* inputURI */) {
        revert InputModeNotServed(subscriptionId, run);
    }

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
    }

    /// @notice Subscribes with fees and tips in an ERC-20 token, paying `runs * (feePerRun + tipPerRun)` of it from
    /// this contract's token balance (approved to the subscriptions contract here, for exactly that amount).
    /// @param token The token (one whose transfers deliver the full amount: fee-on-transfer tokens are refused).
    /// @param modelId The model.
    /// @param modelVersion The version you checked.
    /// @param interval Seconds between runs.
    /// @param runs Runs to pay for.
    /// @param feePerRun Each run's job fee, in the token's units.
    /// @param tipPerRun Paid to whoever opens each run, in the token's units.
    /// @param runDeadline Seconds each run's job stays open.
    /// @return subscriptionId The subscription.
    function _subscribeWithToken(
        address token,
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) internal returns (uint256 subscriptionId) {
        _approve(token, uint256(runs) * (uint256(feePerRun) + tipPerRun));
        subscriptionId = subscriptions.createTokenSubscription(
            token,
            modelId,
            modelVersion,
            interval,
            0,
            runs,
            feePerRun,
            tipPerRun,
            runDeadline
        );
    }

    /// @notice Makes the runs of a subscription opened from now on optimistic market jobs, or proven ones again
    /// (`InferenceSubscriptions.setRunsOptimistic`; docs/market-rules.md, "Optimistic results"): a claimant may then
    /// post a run's result without a proof, and `_onRunResult` receives it once the challenge window has passed (or at
    /// once, proven, if a watcher disproves a wrong post). Worth it for frequent, low-stakes results on inputs every
    /// watcher can re-run (public inputs, or published openings); give the runs a `runDeadline` beyond the market's
    /// `challengeWindow + proofWindow + openWindow`, or no prover can post and the runs are proven as before.
    /// @param subscriptionId The subscription.
    /// @param optimistic The mode of later runs.
    function _setRunsOptimistic(uint256 subscriptionId, bool optimistic) internal {
        subscriptions.setRunsOptimistic(subscriptionId, optimistic);
    }

    /// @notice Cancels a subscription: runs not yet opened are refunded (`_withdrawRefunds`), open runs still deliver.
    /// @param subscriptionId The subscription.
    function _cancelSubscription(uint256 subscriptionId) internal {
        subscriptions.cancel(subscriptionId);
    }

    /// @notice Delivers a private run's opening, encrypted to the live claim's claimant, through the subscriptions
    /// contract (the market's requester); the market checks the claim (docs/market-rules.md, "Private delivery").
    /// @param jobId The run's job.
    /// @param claimant The claimant the ciphertext is encrypted to.
    /// @param ciphertext The encrypted opening.
    function _deliverRunInput(uint256 jobId, address claimant, bytes memory ciphertext) internal {
        subscriptions.deliverRunInput(jobId, claimant, ciphertext);
    }

    /// @notice Names the only address that may claim a private run's job (zero: anyone), through the subscriptions
    /// contract.
    /// @param jobId The run's job.
    /// @param claimant The claimant, or zero.
    function _designateRunClaimant(uint256 jobId, address claimant) internal {
        subscriptions.designateRunClaimant(jobId, claimant);
    }

    /// @notice Brings this contract's refunds in `token` (cancelled, skipped, missed or reclaimed runs of token
    /// subscriptions) from the subscriptions contract.
    /// @param token The token.
    /// @return amount The amount received (0 when nothing was credited).
    function _withdrawTokenRefunds(address token) internal returns (uint256 amount) {
        if (subscriptions.tokenCreditOf(address(this), token) == 0) return 0;
        return subscriptions.withdrawToken(token);
    }

    /// @notice Brings this contract's refunds (cancelled, skipped, missed or reclaimed runs) from the subscriptions
    /// contract.
    /// @return amount Wei received (0 when nothing was credited).
    function _withdrawRefunds() internal returns (uint256 amount) {
        if (subscriptions.creditOf(address(this)) == 0) return 0;
        return subscriptions.withdraw();
    }

    /// @dev `token.approve(subscriptions, amount)` for tokens that return a bool and for those that return nothing
    /// (USDT-style), without a dependency: zero first, as such tokens require.
    function _approve(address token, uint256 amount) private {
        _call(token, abi.encodeWithSelector(0x095ea7b3, address(subscriptions), 0));
        _call(token, abi.encodeWithSelector(0x095ea7b3, address(subscriptions), amount));
    }

    function _call(address token, bytes memory data) private {
        // a low-level call: USDT-style tokens return nothing from approve, which a typed call would refuse
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TokenApproveFailed(token);
    }
}
