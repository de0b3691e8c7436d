// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "../interfaces/IInferenceCallback.sol";

/// @title InferenceConsumer
/// @notice Base for a contract that consumes verified inferences of one model version. Inherit it, request with one
/// of the `_requestInference` functions (the fee is escrowed in the market; the job names the pinned version, so a
/// model owner cannot slip another version under your requests), and receive each result once in your override of
/// `_onInferenceResult`: only results of jobs this contract opened, delivered by the market it was built with, after
/// the market verified the proof, or, for a job opened with `_requestOptimisticInference`, after its posted result
/// survived the challenge window. Walkthrough: docs/consumers.md.
/// @dev The market calls back with a fixed gas allowance (`InferenceJobs.callbackGasLimit`): keep the override small
/// (a few storage writes). A result that arrives after the result of a later request is still delivered, with
/// `isLatest = false`, so a consumer that keeps "the current value" can ignore stale answers.
abstract contract InferenceConsumer is IInferenceCallback {
    /// @notice Thrown when the result callback does not come from the market.
    /// @param caller The caller.
    error NotInferenceJobs(address caller);
    /// @notice Thrown when a result arrives for a job this contract did not open, or already received.
    /// @param jobId The job.
    error UnknownInferenceJob(uint256 jobId);

    /// @notice Emitted when this contract opens a job.
    /// @param jobId The job.
    /// @param modelVersion The model version the job pins.
    event InferenceRequested(uint256 indexed jobId, uint256 modelVersion);
    /// @notice Emitted when the pinned model version changes.
    /// @param previous The version pinned before.
    /// @param version The version pinned now.
    event ModelVersionPinned(uint256 previous, uint256 version);

    /// @notice The market every request goes to and every result must come from.
    IInferenceJobs public immutable inferenceJobs;
    /// @notice The registry model this contract consumes.
    uint256 public immutable modelId;
    /// @notice The version every new request pins (the market refuses the job when the model's current version is
    /// another one: the consumer moves on only through `_pinModelVersion`).
    uint256 public modelVersion;
    /// @notice The newest job whose result arrived (job ids grow with opening); 0 before the first.
    uint256 public latestResultJob;

    mapping(uint256 jobId => bool) private _pending;

    /// @param jobs The `InferenceJobs` market.
    /// @param modelId_ The registry model.
    /// @param modelVersion_ The version you checked (its verifier and layout; docs/consumers.md).
    constructor(IInferenceJobs jobs, uint256 modelId_, uint256 modelVersion_) {
        inferenceJobs = jobs;
        modelId = modelId_;
        modelVersion = modelVersion_;
        emit ModelVersionPinned(0, modelVersion_);
    }

    /// @inheritdoc IInferenceCallback
    function onInferenceResult(uint256 jobId, uint256 output) external {
        if (msg.sender != address(inferenceJobs)) revert NotInferenceJobs(msg.sender);
        if (!_pending[jobId]) revert UnknownInferenceJob(jobId);
        delete _pending[jobId];
        bool isLatest = jobId > latestResultJob;
        if (isLatest) latestResultJob = jobId;
        _onInferenceResult(jobId, output, isLatest);
    }

    /// @notice Whether a job this contract opened still awaits its result.
    /// @param jobId The job.
    /// @return pending True until the result arrived (or the job was reclaimed through `_reclaimInference`).
    function isPending(uint256 jobId) public view returns (bool pending) {
        return _pending[jobId];
    }

    /// @notice Receives one verified result of a job this contract opened, once.
    /// @param jobId The job.
    /// @param output Public signal 0: the class of an argmax model, or the packed values of a values head (decode
    /// them with `_valuesOf(jobId)`).
    /// @param isLatest Whether this is the newest job answered so far (false for a late answer to an older request).
    function _onInferenceResult(uint256 jobId, uint256 output, bool isLatest) internal virtual;

    /// @notice Opens a job on a public-input model with these quantized inputs (`openJobWithInputs`): a valid proof
    /// means "this model on exactly these values", e.g. values this contract read from chain state.
    /// @param inputs The quantized inputs, `inputCount` values in the version's signed `inputBits` range.
    /// @param fee The fee to escrow, in wei (sent from this contract's balance: pass `msg.value` through).
    /// @param deadline The last second at which a result is accepted.
    /// @return jobId The job.
    function _requestInference(int256[] memory inputs, uint256 fee, uint64 deadline) internal returns (uint256 jobId) {
        jobId = inferenceJobs.openJobWithInputs{value: fee}(modelId, modelVersion, inputs, deadline, true);
        _opened(jobId);
    }

    /// @notice Opens a job on a committed-input model (`openJob`): the input stays off chain behind its salted
    /// commitment and provers read the opening at `inputURI`.
    /// @param inputCommitment The commitment to the quantized input (the SDK's `inputCommitment`).
    /// @param inputURI Where provers read the opening (a `data:` URI, `ipfs://` or `https://`).
    /// @param fee The fee to escrow, in wei.
    /// @param deadline The last second at which a result is accepted.
    /// @return jobId The job.
    function _requestInference(
        uint256 inputCommitment,
        string memory inputURI,
        uint256 fee,
        uint64 deadline
    ) internal returns (uint256 jobId) {
        jobId = inferenceJobs.openJob{value: fee}(modelId, modelVersion, inputCommitment, inputURI, deadline, true);
        _opened(jobId);
    }

    /// @notice Opens a committed-input job whose opening the requester delivers encrypted to the claimant
    /// (`openPrivateJob`). Only this contract may deliver (`inferenceJobs.deliverInput`), so the contract must expose
    /// a way for its operator to do it; see docs/consumers.md ("Private inputs").
    /// @param inputCommitment The commitment to the quantized input.
    /// @param fee The fee to escrow, in wei.
    /// @param deadline The last second at which a result is accepted.
    /// @return jobId The job.
    function _requestPrivateInference(
        uint256 inputCommitment,
        uint256 fee,
        uint64 deadline
    ) internal returns (uint256 jobId) {
        jobId = inferenceJobs.openPrivateJob{value: fee}(modelId, modelVersion, inputCommitment, deadline, true);
        _opened(jobId);
    }

    /// @notice Opens a public-input job as `_requestInference(inputs, ...)` does and makes it optimistic in the same
    /// transaction (`setOptimistic`): a prover may post its result without a proof, and the result arrives in
    /// `_onInferenceResult` after the market's challenge window unless a watcher disproves it. Anyone can re-run a
    /// public-input job, so anyone can watch it. Worth it for a frequent, low-stakes result; not for one that moves
    /// large value before the window has passed (docs/consumers.md, "Optimistic results").
    /// @param inputs The quantized inputs.
    /// @param fee The fee to escrow, in wei.
    /// @param deadline The last second at which a result is accepted; leave room for a claim, the post rule
    /// (`challengeWindow + proofWindow + openWindow` after the post) and the window itself.
    /// @return jobId The job.
    function _requestOptimisticInference(
        int256[] memory inputs,
        uint256 fee,
        uint64 deadline
    ) internal returns (uint256 jobId) {
        jobId = _requestInference(inputs, fee, deadline);
        inferenceJobs.setOptimistic(jobId);
    }

    /// @notice Opens a committed-input job as `_requestInference(inputCommitment, inputURI, ...)` does and makes it
    /// optimistic in the same transaction. Watchers can check a posted result only if they can read the opening at
    /// `inputURI`: publish it there (a private-delivery job has no watcher but its requester, so this base offers no
    /// optimistic private request).
    /// @param inputCommitment The commitment to the quantized input.
    /// @param inputURI Where provers and watchers read the opening.
    /// @param fee The fee to escrow, in wei.
    /// @param deadline The last second at which a result is accepted.
    /// @return jobId The job.
    function _requestOptimisticInference(
        uint256 inputCommitment,
        string memory inputURI,
        uint256 fee,
        uint64 deadline
    ) internal returns (uint256 jobId) {
        jobId = _requestInference(inputCommitment, inputURI, fee, deadline);
        inferenceJobs.setOptimistic(jobId);
    }

    /// @notice Takes back the fee of a job that was not fulfilled by its deadline; the refund is credited to this
    /// contract's market balance (`inferenceJobs.withdraw()` sends it here). The job's result is no longer awaited.
    /// @param jobId The job.
    function _reclaimInference(uint256 jobId) internal {
        if (!_pending[jobId]) revert UnknownInferenceJob(jobId);
        delete _pending[jobId];
        inferenceJobs.reclaim(jobId);
    }

    /// @notice Moves new requests to another version of the model, once you checked it. Jobs opened before keep the
    /// version they pinned.
    /// @param version The version to pin.
    function _pinModelVersion(uint256 version) internal {
        emit ModelVersionPinned(modelVersion, version);
        modelVersion = version;
    }

    /// @notice The decoded outputs of a values-head job: `values[i] / 2^frac` in the model's output units.
    /// @param jobId A fulfilled job on a values-head model.
    /// @return values The signed fixed-point outputs.
    /// @return frac Their fractional bits.
    function _valuesOf(uint256 jobId) internal view returns (int256[] memory values, uint8 frac) {
        (, values, frac) = inferenceJobs.valuesOf(jobId);
    }

    function _opened(uint256 jobId) private {
        _pending[jobId] = true;
        emit InferenceRequested(jobId, modelVersion);
    }
}
