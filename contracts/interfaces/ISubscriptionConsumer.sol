// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Subscription consumer
/// @notice Implemented by a contract that owns a subscription of `InferenceSubscriptions`: the subscriptions contract
/// reads each run's inputs (a public-input model version) or input commitment (a committed-input version) from it, and
/// delivers each run's verified result to it.
interface ISubscriptionConsumer {
    /// @notice The quantized public inputs of one run, read when the run is opened (a STATICCALL with a fixed gas
    /// allowance): the proof is over exactly these values, so they are the chain's state at that moment. Read only
    /// for a subscription on a public-input model version.
    /// @dev Exactly the model version's `inputCount` values, each in its signed `inputBits` range. A revert, a wrong
    /// count or an out-of-range value skips the run (its fee stays yours; the opener's tip is paid).
    /// @param subscriptionId The subscription.
    /// @param run The run's index (0 for the first interval).
    /// @return inputs The values.
    function subscriptionInputs(uint256 subscriptionId, uint256 run) external view returns (int256[] memory inputs);

    /// @notice The input commitment of one run and where its opening is published, read when the run is opened (a
    /// STATICCALL with a fixed gas allowance). Read only for a subscription on a committed-input model version.
    /// @dev `inputCommitment` is the salted commitment of the run's input (docs/public-signals.md), below the field
    /// modulus r. A non-empty `inputURI` (at most 8,192 bytes) opens a public-opening job (`InferenceJobs.openJob`):
    /// provers read the opening `{x, salt}` there. An empty one opens a private-delivery job (`openPrivateJob`):
    /// deliver the opening, encrypted to the claimant, with `IInferenceSubscriptions.deliverRunInput`. A revert, a
    /// malformed answer or a commitment the market refuses skips the run (its fee stays yours; the tip is paid).
    /// @param subscriptionId The subscription.
    /// @param run The run's index (0 for the first interval).
    /// @return inputCommitment The commitment.
    /// @return inputURI Where the opening is published, or empty for private delivery.
    function subscriptionCommitment(
        uint256 subscriptionId,
        uint256 run
    ) external view returns (uint256 inputCommitment, string memory inputURI);

    /// @notice Receives the verified result of one run, once, after the market paid its prover.
    /// @dev Runs with what is left of the market's callback allowance; a revert only emits `RunCallbackFailed`.
    /// Check that `msg.sender` is the subscriptions contract.
    /// @param subscriptionId The subscription.
    /// @param run The run's index.
    /// @param jobId The run's market job (`InferenceJobs.valuesOf(jobId)` decodes a values head).
    /// @param output The verified output (public signal 0).
    function onSubscriptionResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) external;
}
