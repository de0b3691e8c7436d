// SPDX-License-Identifier: CC0-1.0
pragma solidity ^0.8.24;

/// @title ERC-7992 ZKML inference verifier
/// @notice The verifier interface of ERC-7992, as written in the ERC.
interface IERCZKMLVerifier {
    /// @notice Emitted when a proof of inference verified.
    /// @param modelId The model.
    /// @param inputCommitment The input commitment the proof is bound to.
    /// @param output The ABI-encoded output.
    /// @param caller The caller the proof was bound to.
    event InferenceVerified(
        uint256 indexed modelId,
        bytes32 indexed inputCommitment,
        bytes output,
        address indexed caller
    );

    /// @notice Thrown when the proof does not verify.
    error InvalidProof();
    // The ERC also names `ModelMismatch()` ("the proof verifies but is not tied to the given model"). It cannot occur
    // here: the model commitment is a public signal the verifier rebuilds from the registry, so a proof for another
    // model fails as `InvalidProof`. It is left out rather than declared and never thrown (errors are not part of
    // the interface id).
    /// @notice Thrown when the input commitment is not acceptable.
    error InputCommitmentMismatch();
    /// @notice Thrown when the output does not follow the schema (here: exactly `abi.encode(uint256 x)`, x < r).
    error OutputMismatch();
    /// @notice Thrown when the model's proof system (or its verifier configuration) is not supported.
    /// @param proofSystemId The model's proof system id.
    error UnsupportedProofSystem(bytes4 proofSystemId);
    /// @notice Thrown when the model is deprecated.
    /// @param modelId The model.
    error VerificationRefused_ModelDeprecated(uint256 modelId);

    /// @notice Verifies a ZK proof for an inference.
    /// @dev MUST revert on any failure path. Successful execution implies validity.
    /// @param modelId Registry model identifier.
    /// @param inputCommitment Commitment to private inputs.
    /// @param output ABI-encoded public outputs.
    /// @param proof ZK proof bytes.
    function verifyInference(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external;

    /// @notice The proof system of the model's current version.
    /// @param modelId The model.
    /// @return The `proofSystemId`.
    function proofSystemOf(uint256 modelId) external view returns (bytes4);

    /// @notice The registry this verifier reads models from.
    /// @return registryAddress The registry.
    function registry() external view returns (address registryAddress);
}
