// SPDX-License-Identifier: CC0-1.0
pragma solidity ^0.8.24;

/// @title ERC-7992 optional storage extension
/// @notice Persists verified inference records, as written in the ERC.
interface IERCZKMLStorageExtension {
    /// @notice Emitted when a verified inference is stored.
    /// @param inferenceId `keccak256(abi.encodePacked(modelId, inputCommitment, output))` in the ERC; this
    /// implementation also covers the version and the beneficiary (docs/contracts.md).
    event InferenceStored(bytes32 indexed inferenceId);

    /// @notice Verify and store an inference record.
    /// @dev MUST revert on invalid proof.
    /// @param modelId Registry model identifier.
    /// @param inputCommitment Commitment to private inputs.
    /// @param output ABI-encoded public outputs.
    /// @param proof ZK proof bytes.
    /// @return inferenceId keccak256(abi.encodePacked(modelId, inputCommitment, output))
    function verifyAndStoreInference(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external returns (bytes32 inferenceId);

    /// @notice A stored inference record.
    /// @param inferenceId The record id.
    /// @return modelId The model.
    /// @return inputCommitment The input commitment.
    /// @return output The ABI-encoded output.
    function getInference(
        bytes32 inferenceId
    ) external view returns (uint256 modelId, bytes32 inputCommitment, bytes memory output);
}
