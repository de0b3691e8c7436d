// SPDX-License-Identifier: CC0-1.0
pragma solidity ^0.8.24;

/// @title ERC-7992 ZKML model registry
/// @notice The registry interface of ERC-7992 (Verifiable ML Model Inference), as written in the ERC.
/// @dev One deliberate deviation: the ERC declares an event AND an error both named `ModelDeprecated`, which Solidity
/// rejects ("Identifier already declared"). The event keeps the ERC's name (its topic is what indexers match); the
/// error is `ModelIsDeprecated(uint256)`. The ERC-165 id of this interface is unaffected (errors and events are not
/// part of it).
interface IERCZKMLRegistry {
    /// @notice A commitment to one model: what a proof of its inference is checked against.
    /// @param modelHash Weights + architecture hash. In this project: the Poseidon commitment to the quantized
    /// weights, which is also the circuit's `modelCommitment` public signal, so it must be below the BN254 field.
    /// @param circuitHash Hash of the arithmetic circuit (the r1cs).
    /// @param vkHash Hash of the verifying key.
    /// @param proofSystemId `bytes4(keccak256("groth16-bn254-v1"))` etc.
    /// @param uri Optional off-chain metadata (model manifest).
    struct ModelCommitment {
        bytes32 modelHash;
        bytes32 circuitHash;
        bytes32 vkHash;
        bytes4 proofSystemId;
        string uri;
    }

    /// @notice Emitted when a model is registered.
    /// @param modelId The new model's id.
    /// @param owner The registrant, who alone may update or deprecate it.
    /// @param commitment The registered commitment (version 1).
    event ModelRegistered(uint256 indexed modelId, address indexed owner, ModelCommitment commitment);

    /// @notice Emitted when a model's commitment is replaced by a new version.
    /// @param modelId The model.
    /// @param oldCommitment The previous version's commitment.
    /// @param newCommitment The new current commitment.
    event ModelUpdated(uint256 indexed modelId, ModelCommitment oldCommitment, ModelCommitment newCommitment);

    /// @notice Emitted when a model is deprecated (irreversible).
    /// @param modelId The model.
    event ModelDeprecated(uint256 indexed modelId);

    /// @notice Thrown when `modelId` (or a version of it) was never registered.
    /// @param modelId The unknown id.
    error ModelNotFound(uint256 modelId);

    /// @notice Thrown when `caller` tries to change a model it does not own.
    /// @param modelId The model.
    /// @param caller The caller.
    error NotModelOwner(uint256 modelId, address caller);

    /// @notice Thrown when an operation needs a model that is not deprecated (the ERC's `ModelDeprecated` error).
    /// @param modelId The deprecated model.
    error ModelIsDeprecated(uint256 modelId);

    /// @notice Registers a model commitment; the caller becomes its owner.
    /// @param commitment The commitment; `modelHash` must be below the BN254 scalar field.
    /// @return modelId A new, unique id (ids start at 1).
    function registerModel(ModelCommitment calldata commitment) external returns (uint256 modelId);

    /// @notice Replaces the model's current commitment with a new version (owner only; see the versioning policy).
    /// @param modelId The model.
    /// @param newCommitment The new commitment.
    function updateModel(uint256 modelId, ModelCommitment calldata newCommitment) external;

    /// @notice Deprecates the model (owner only, irreversible).
    /// @param modelId The model.
    function deprecateModel(uint256 modelId) external;

    /// @notice The model's current commitment, deprecation status and owner.
    /// @param modelId The model.
    /// @return commitment The latest version's commitment.
    /// @return deprecated Whether the model is deprecated.
    /// @return owner The model owner.
    function getModel(
        uint256 modelId
    ) external view returns (ModelCommitment memory commitment, bool deprecated, address owner);
}
