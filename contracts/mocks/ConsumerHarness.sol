// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";
import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";

/// @title ConsumerHarness (test only)
/// @notice Exposes every internal function of `InferenceConsumer` and records what its override receives.
contract ConsumerHarness is InferenceConsumer {
    /// @notice Emitted by the override with what it received.
    event Received(uint256 indexed jobId, uint256 output, bool isLatest);

    uint256 public lastOutput;

    constructor(IInferenceJobs jobs, uint256 id, uint256 version) InferenceConsumer(jobs, id, version) {}

    function requestPublic(int256[] calldata inputs, uint64 deadline) external payable returns (uint256) {
        return _requestInference(inputs, msg.value, deadline);
    }

    function requestCommitted(
        uint256 commitment,
        string calldata uri,
        uint64 deadline
    ) external payable returns (uint256) {
        return _requestInference(commitment, uri, msg.value, deadline);
    }

    function requestPublicOptimistic(int256[] calldata inputs, uint64 deadline) external payable returns (uint256) {
        return _requestOptimisticInference(inputs, msg.value, deadline);
    }

    function requestCommittedOptimistic(
        uint256 commitment,
        string calldata uri,
        uint64 deadline
    ) external payable returns (uint256) {
        return _requestOptimisticInference(commitment, uri, msg.value, deadline);
    }

    function requestPrivate(uint256 commitment, uint64 deadline) external payable returns (uint256) {
        return _requestPrivateInference(commitment, msg.value, deadline);
    }

    function reclaim(uint256 jobId) external {
        _reclaimInference(jobId);
    }

    function pin(uint256 version) external {
        _pinModelVersion(version);
    }

    function values(uint256 jobId) external view returns (int256[] memory, uint8) {
        return _valuesOf(jobId);
    }

    function _onInferenceResult(uint256 jobId, uint256 output, bool isLatest) internal override {
        if (isLatest) lastOutput = output;
        emit Received(jobId, output, isLatest);
    }
}
