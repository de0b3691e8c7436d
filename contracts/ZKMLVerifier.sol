// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "./interfaces/IERC165.sol";
import {IERCZKMLVerifier} from "./interfaces/IERCZKMLVerifier.sol";
import {IERCZKMLStorageExtension} from "./interfaces/IERCZKMLStorageExtension.sol";
import {IZKMLVerifier} from "./interfaces/IZKMLVerifier.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IERCZKMLRegistry} from "./interfaces/IERCZKMLRegistry.sol";
import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title ZKMLVerifier
/// @notice ERC-7992 `verifyInference` plus the optional storage extension, usable without the jobs market.
/// Signal mapping and binding: see `IZKMLVerifier`.
contract ZKMLVerifier is IZKMLVerifier {
    /// @dev Job id used in the binding of standalone verification; `InferenceJobs` ids start at 1.
    uint256 private constant STANDALONE_JOB_ID = 0;

    /// @dev A stored record (`getInference`).
    struct InferenceRecord {
        uint256 modelId;
        bytes32 inputCommitment;
        bytes output;
    }

    IModelRegistry private immutable _registry;
    mapping(bytes32 inferenceId => InferenceRecord) private _inferences;

    /// @param registry_ The model registry.
    constructor(IModelRegistry registry_) {
        _registry = registry_;
    }

    /// @inheritdoc IERCZKMLVerifier
    function verifyInference(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external {
        _verify(modelId, inputCommitment, output, proof);
    }

    /// @inheritdoc IERCZKMLStorageExtension
    function verifyAndStoreInference(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external returns (bytes32 inferenceId) {
        _verify(modelId, inputCommitment, output, proof);
        inferenceId = keccak256(abi.encodePacked(modelId, inputCommitment, output));
        InferenceRecord storage rec = _inferences[inferenceId];
        if (rec.output.length != 0) revert InferenceAlreadyStored(inferenceId);
        rec.modelId = modelId;
        rec.inputCommitment = inputCommitment;
        rec.output = output;
        emit InferenceStored(inferenceId);
    }

    /// @inheritdoc IERCZKMLStorageExtension
    function getInference(
        bytes32 inferenceId
    ) external view returns (uint256 modelId, bytes32 inputCommitment, bytes memory output) {
        InferenceRecord storage rec = _inferences[inferenceId];
        // Every stored output is exactly 32 bytes, so an empty one means "not stored".
        if (rec.output.length == 0) revert InferenceNotFound(inferenceId);
        return (rec.modelId, rec.inputCommitment, rec.output);
    }

    /// @inheritdoc IERCZKMLVerifier
    function proofSystemOf(uint256 modelId) external view returns (bytes4) {
        (IERCZKMLRegistry.ModelCommitment memory c, , ) = _registry.getModel(modelId);
        return c.proofSystemId;
    }

    /// @inheritdoc IERCZKMLVerifier
    function registry() external view returns (address registryAddress) {
        return address(_registry);
    }

    /// @inheritdoc IZKMLVerifier
    function bindingOf(address caller) external view returns (uint256) {
        return PublicSignals.binding(address(this), STANDALONE_JOB_ID, caller);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERCZKMLVerifier).interfaceId ||
            interfaceId == type(IERCZKMLStorageExtension).interfaceId ||
            interfaceId == type(IZKMLVerifier).interfaceId;
    }

    /// @dev Checks, rebuilds the four signals from the current model version and `msg.sender`, verifies, emits.
    function _verify(uint256 modelId, bytes32 inputCommitment, bytes calldata output, bytes calldata proof) private {
        if (output.length != 32) revert OutputMismatch();
        uint256 out = abi.decode(output, (uint256));
        if (out >= PublicSignals.SNARK_SCALAR_FIELD) revert OutputMismatch();
        if (uint256(inputCommitment) >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentMismatch();

        IModelRegistry.ModelInfo memory info = _registry.modelInfo(modelId);
        if (info.deprecated) revert VerificationRefused_ModelDeprecated(modelId);
        (IERCZKMLRegistry.ModelCommitment memory c, address verifier, uint8 numSignals) = _registry.getModelVersion(
            modelId,
            info.latestVersion
        );
        if (verifier == address(0) || numSignals != PublicSignals.COUNT) {
            revert UnsupportedProofSystem(c.proofSystemId);
        }
        uint256[] memory signals = PublicSignals.build(
            out,
            uint256(c.modelHash),
            uint256(inputCommitment),
            PublicSignals.binding(address(this), STANDALONE_JOB_ID, msg.sender)
        );
        if (!IProofVerifier(verifier).verify(proof, signals)) revert InvalidProof();
        emit InferenceVerified(modelId, inputCommitment, output, msg.sender);
    }
}
