// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IObservationSource} from "../interfaces/IObservationSource.sol";
import {SubscriptionConsumer} from "../consumer/SubscriptionConsumer.sol";

/// @title ScheduledForecaster (example consumer of a subscription)
/// @notice Every interval, a forecast by a public-input regression model of the last `window` observations of an
/// on-chain source (an oracle's rounds, a TWAP's checkpoints), proven or optimistic (below): the run's inputs are
/// read from the source when the run opens, so the forecast is over the chain's state of that interval, not over
/// values a prover chose. Each final forecast sets `parameter` (a fee, a collateral factor...) to the forecast
/// clamped to `[minParameter, maxParameter]`. A forecast of an earlier run that arrives after a later one is recorded
/// but not acted on. Walkthrough: docs/consumers.md, "Subscriptions".
///
/// Optimistic results are enough here, and the owner may switch them on (`setOptimistic`; docs/consumers.md, "When
/// optimistic is enough and when it is not"): a run's result is then posted without a proof (about a quarter of the
/// gas, in seconds whatever the proving time) and reaches `_onRunResult` only once it is final. What makes that safe
/// for this contract: a forecast is frequent and low-stakes (the next run replaces it, and the parameter it sets is
/// clamped to bounds the owner accepted, so a lie that survives moves the parameter within those bounds for one
/// interval); the inputs are public, so every watcher re-runs the posted result; a wrong post is disproved within
/// the challenge window by a proof of the true forecast, which costs the poster its bond and is what this contract
/// receives instead. The price is latency: an unchallenged forecast acts one challenge window after it was posted.
/// @dev The source's values must already be in the model's input units (`value * 2^inputFrac`, see the model card);
/// a value outside the model's range makes the market refuse the run (skipped, its fee refunded). The market calls
/// back on an optimistic run only when the result is final (`finalizeResult` after the window, or a settling proof),
/// never while it is posted and disputable, so `_onRunResult` needs no check of its own; a finalised forecast of an
/// earlier run that arrives after a later run's is stale like any other.
contract ScheduledForecaster is SubscriptionConsumer {
    /// @notice Thrown when the caller is not the owner.
    /// @param caller The caller.
    error NotOwner(address caller);
    /// @notice Thrown when the model version is not a public-input, one-value regression model.
    /// @param modelId The model.
    error UnsuitableModel(uint256 modelId);
    /// @notice Thrown when the bounds are reversed or outside 112 bits.
    /// @param min The lower bound.
    /// @param max The upper bound.
    error InvalidBounds(int256 min, int256 max);
    /// @notice Thrown when sending the refunds to the owner fails.
    error RefundFailed();
    /// @notice Thrown by `setOptimistic(true)` when the current subscription's runs close before a posted forecast
    /// could be disputed: a post needs `challengeWindow + proofWindow + openWindow` seconds before the run's deadline.
    /// @param runDeadline The subscription's seconds per run.
    /// @param minimum What it must exceed: the market's `challengeWindow + proofWindow + openWindow`.
    error RunDeadlineTooShort(uint256 runDeadline, uint256 minimum);

    /// @notice Emitted for every final forecast (proven, or finalised after its challenge window).
    /// @param run The run.
    /// @param jobId Its job.
    /// @param forecast The forecast, `forecast / 2^frac` in the model's output units.
    /// @param frac Its fractional bits.
    /// @param parameter The parameter after it (unchanged for a stale forecast).
    /// @param stale Whether a later run's forecast had already arrived.
    event Forecast(
        uint256 indexed run,
        uint256 indexed jobId,
        int256 forecast,
        uint8 frac,
        int256 parameter,
        bool stale
    );

    IInferenceJobs public immutable jobs;
    IObservationSource public immutable source;
    uint256 public immutable modelId;
    uint256 public immutable modelVersion;
    address public immutable owner;
    int256 public immutable minParameter;
    int256 public immutable maxParameter;
    /// @notice Observations per forecast: the model's input count.
    uint256 public immutable window;
    /// @dev The pinned version's output layout (versions are immutable): the one packed value is decoded here as
    /// `SignedPacking.unpack` would (its low `outputBits` bits, offset by `2^(outputBits-1)`), without a call to the
    /// market's `valuesOf` (which reads the registry: about 10k gas a delivery) and without an array.
    uint256 private immutable _outputMask;
    int256 private immutable _outputOffset;
    uint8 private immutable _outputFrac;

    /// @notice The current subscription (0 before `start`).
    uint256 public subscriptionId;

    /// @dev One slot, so a delivery writes one word: the parameter, the last forecast acted on, and the newest run
    /// acted on plus one (0 before the first).
    struct State {
        int112 parameter;
        int112 lastForecast;
        uint32 runsActedOn;
    }
    State private _state;

    /// @param subscriptions_ The subscriptions contract.
    /// @param source_ The observation source.
    /// @param modelId_ A model whose version `modelVersion_` takes public inputs and has a one-value values head.
    /// @param modelVersion_ The version you checked.
    /// @param min The parameter's lower bound (output fixed-point units).
    /// @param max Its upper bound.
    /// @param initial Its value before the first forecast (clamped).
    constructor(
        IInferenceSubscriptions subscriptions_,
        IObservationSource source_,
        uint256 modelId_,
        uint256 modelVersion_,
        int256 min,
        int256 max,
        int256 initial
    ) SubscriptionConsumer(subscriptions_) {
        if (min > max || min < type(int112).min || max > type(int112).max) revert InvalidBounds(min, max);
        IInferenceJobs jobs_ = subscriptions_.inferenceJobs();
        IModelRegistry.Layout memory layout = IModelRegistry(jobs_.registry()).layoutOf(modelId_, modelVersion_);
        if (layout.inputMode != 1 || layout.outputHead != 1 || layout.outputCount != 1)
            revert UnsuitableModel(modelId_);
        jobs = jobs_;
        source = source_;
        modelId = modelId_;
        modelVersion = modelVersion_;
        owner = msg.sender;
        minParameter = min;
        maxParameter = max;
        window = layout.inputCount;
        // the registry keeps a values head's outputBits within 2..124
        _outputMask = (uint256(1) << layout.outputBits) - 1;
        _outputOffset = int256(uint256(1) << (layout.outputBits - 1));
        _outputFrac = layout.outputFrac;
        _state.parameter = int112(_clamp(initial));
    }

    /// @notice The parameter the forecasts steer, within the bounds (output fixed-point units).
    /// @return value The parameter.
    function parameter() external view returns (int256 value) {
        return _state.parameter;
    }

    /// @notice The last forecast acted on and the run it came from.
    /// @return forecast The forecast (fixed point, `InferenceJobs.valuesOf` units).
    /// @return runsActedOn The newest run acted on plus one (0 before the first forecast).
    function lastForecast() external view returns (int256 forecast, uint256 runsActedOn) {
        State memory st = _state;
        return (st.lastForecast, st.runsActedOn);
    }

    /// @notice Subscribes (owner only): a forecast every `interval` seconds, `runs` times; `msg.value` must be
    /// `runs * (feePerRun + tipPerRun)`.
    /// @param interval Seconds between forecasts.
    /// @param runs How many.
    /// @param feePerRun Each run's job fee.
    /// @param tipPerRun Paid to whoever opens each run.
    /// @param runDeadline Seconds a run's job stays open.
    function start(
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external payable {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        subscriptionId = _subscribe(modelId, modelVersion, interval, runs, feePerRun, tipPerRun, runDeadline);
    }

    /// @notice Makes the current subscription's later runs optimistic, or proven again (owner only): see the contract's
    /// notice for why a forecast may be taken unproven here. Runs already opened keep their mode.
    /// @param optimistic Whether later runs take posted results.
    function setOptimistic(bool optimistic) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        uint256 id = subscriptionId;
        if (optimistic) {
            (, uint256 challengeWindow, uint256 proofWindow) = jobs.optimisticParameters();
            uint256 minimum = challengeWindow + proofWindow + jobs.openWindow();
            uint256 runDeadline = subscriptions.getSubscription(id).runDeadline;
            // the run is claimed after it opens, so the post rule needs strictly more than the span
            if (runDeadline <= minimum) revert RunDeadlineTooShort(runDeadline, minimum);
        }
        _setRunsOptimistic(id, optimistic);
    }

    /// @notice Cancels the subscription (owner only) and sends every refund held for this contract to the owner.
    function stop() external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _cancelSubscription(subscriptionId);
        _withdrawRefunds();
        (bool ok, ) = owner.call{value: address(this).balance}("");
        if (!ok) revert RefundFailed();
    }

    function _runInputs(uint256, uint256) internal view override returns (int256[] memory inputs) {
        return source.observations(window);
    }

    function _onRunResult(uint256, uint256 run, uint256 jobId, uint256 output) internal override {
        int256 forecast = int256(output & _outputMask) - _outputOffset;
        State memory st = _state;
        // runs can be answered out of order (provers race): a forecast older than the one acted on is only reported
        bool stale = run < st.runsActedOn;
        if (!stale) {
            st.parameter = int112(_clamp(forecast));
            st.lastForecast = int112(forecast);
            st.runsActedOn = uint32(run + 1);
            _state = st;
        }
        emit Forecast(run, jobId, forecast, _outputFrac, st.parameter, stale);
    }

    function _clamp(int256 v) private view returns (int256) {
        return
            v < minParameter
                ? minParameter
                : v > maxParameter
                    ? maxParameter
                    : v;
    }
}
