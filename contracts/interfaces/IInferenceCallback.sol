// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Result callback for requester contracts
/// @notice Implemented by a requester that opened a job with `callback = true`.
interface IInferenceCallback {
    /// @notice Called by `InferenceJobs` once, after the job was settled, with a fixed gas allowance.
    /// @dev The job is already Fulfilled and paid when this runs; a revert here changes nothing but an event.
    /// Check `msg.sender` is the jobs contract you used.
    /// @param jobId The job.
    /// @param output The verified output (public signal 0).
    function onInferenceResult(uint256 jobId, uint256 output) external;
}
