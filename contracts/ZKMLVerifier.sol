// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "./interfaces/IERC165.sol";
import {IERCZKMLVerifier} from "./interfaces/IERCZKMLVerifier.sol";
import {IERCZKMLStorageExtension} from "./interfaces/IERCZKMLStorageExtension.sol";
import {IZKMLVerifier} from "./interfaces/IZKMLVerifier.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IERCZKMLRegistry} from "./interfaces/IERCZKMLRegistry.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";
import {VerifierCall} from "./libraries/VerifierCall.sol";

/// @title ZKMLVerifier
/// @notice ERC-7992 `verifyInference` plus the optional storage extension, usable without the jobs market.
/// Signal mapping, binding and nonces: see `IZKMLVerifier`.
contract ZKMLVerifier is IZKMLVerifier {
    IModelRegistry private immutable _registry;
    mapping(bytes32 inferenceId => InferenceRecord) private _inferences;
    mapping(address caller => mapping(address beneficiary => uint256)) private _nonces;

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
        _verify(modelId, inputCommitment, output, proof, msg.sender);
    }

    /// @inheritdoc IZKMLVerifier
    function verifyInferenceFor(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof,
        address beneficiary
    ) external {
        _verify(modelId, inputCommitment, output, proof, beneficiary);
    }

    /// @inheritdoc IERCZKMLStorageExtension
    /// @dev The id also covers the version (unlike the ERC's formula), so a v1 record does not block v2.
    function verifyAndStoreInference(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof
    ) external returns (bytes32 inferenceId) {
        uint16 version = _verify(modelId, inputCommitment, output, proof, msg.sender);
        return _store(modelId, inputCommitment, output, version, msg.sender);
    }

    /// @inheritdoc IZKMLVerifier
    function verifyAndStoreInferenceFor(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof,
        address beneficiary
    ) external returns (bytes32 inferenceId) {
        uint16 version = _verify(modelId, inputCommitment, output, proof, beneficiary);
        return _store(modelId, inputCommitment, output, version, beneficiary);
    }

    /// @inheritdoc IERCZKMLStorageExtension
    function getInference(
        bytes32 inferenceId
    ) external view returns (uint256 modelId, bytes32 inputCommitment, bytes memory output) {
        InferenceRecord storage rec = _record(inferenceId);
        return (rec.modelId, rec.inputCommitment, rec.output);
    }

    /// @inheritdoc IZKMLVerifier
    function inferenceRecord(bytes32 inferenceId) external view returns (InferenceRecord memory record) {
        return _record(inferenceId);
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
    function nonceOf(address caller, address beneficiary) external view returns (uint256) {
        return _nonces[caller][beneficiary];
    }

    /// @inheritdoc IZKMLVerifier
    function bindingOf(address caller, address beneficiary) external view returns (uint256) {
        return PublicSignals.standaloneBinding(address(this), caller, beneficiary, _nonces[caller][beneficiary]);
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERCZKMLVerifier).interfaceId ||
            interfaceId == type(IERCZKMLStorageExtension).interfaceId ||
            interfaceId == type(IZKMLVerifier).interfaceId;
    }

    /// @dev Checks, rebuilds the four signals from the current version's pinned target, `msg.sender`, the
    /// beneficiary and its nonce, verifies by calling the snarkjs verifier directly, consumes the nonce, emits.
    /// Returns the version verified against.
    function _verify(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof,
        address beneficiary
    ) private returns (uint16 version) {
        if (output.length != 32) revert OutputMismatch();
        uint256 out = abi.decode(output, (uint256));
        if (out >= PublicSignals.SNARK_SCALAR_FIELD) revert OutputMismatch();
        if (uint256(inputCommitment) >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentMismatch();
        if (beneficiary == address(0)) revert ZeroBeneficiary();
        IModelRegistry.VerificationTarget memory t;
        (version, t) = _currentTarget(modelId);
        uint256 nonce = _consumeAndCheck(t, proof, out, uint256(inputCommitment), beneficiary);
        emit InferenceVerified(modelId, inputCommitment, output, msg.sender);
        emit InferenceVerifiedVersion(modelId, version, beneficiary, msg.sender, nonce);
    }

    /// @dev Consumes the `(msg.sender, beneficiary)` nonce and reverts with `InvalidProof` unless the proof verifies
    /// against the target for it. Returns the nonce consumed.
    function _consumeAndCheck(
        IModelRegistry.VerificationTarget memory t,
        bytes calldata proof,
        uint256 out,
        uint256 inputCommitment,
        address beneficiary
    ) private returns (uint256 nonce) {
        if (proof.length != t.proofLength) revert InvalidProof();
        nonce = _nonces[msg.sender][beneficiary]++;
        uint256 binding = PublicSignals.standaloneBinding(address(this), msg.sender, beneficiary, nonce);
        if (!VerifierCall.verify4(t.verifier, t.selector, proof, out, t.modelCommitment, inputCommitment, binding)) {
            revert InvalidProof();
        }
    }

    /// @dev The current version of a model and its verification target; reverts unless it can verify proofs in the
    /// four-signal layout and its verifier's code is the registered code.
    function _currentTarget(
        uint256 modelId
    ) private view returns (uint16 version, IModelRegistry.VerificationTarget memory t) {
        uint8 numSignals;
        bool deprecated;
        (version, numSignals, deprecated) = _registry.currentVersion(modelId);
        if (deprecated) revert VerificationRefused_ModelDeprecated(modelId);
        if (numSignals != PublicSignals.COUNT) {
            // No verifier (a commitment-only version, e.g. from the ERC's registerModel) or another layout.
            (IERCZKMLRegistry.ModelCommitment memory c, , ) = _registry.getModelVersion(modelId, version);
            revert UnsupportedProofSystem(c.proofSystemId);
        }
        t = _registry.verificationTarget(modelId, version);
        if (t.verifier.codehash != t.verifierCodeHash) revert VerifierCodeChanged(modelId, version);
    }

    /// @dev Stores a verified inference once per (model, version, input, output, beneficiary): the record belongs to
    /// the beneficiary the proof was bound to, so whoever proves the same inference first cannot take another's.
    function _store(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        uint16 version,
        address beneficiary
    ) private returns (bytes32 inferenceId) {
        inferenceId = keccak256(abi.encodePacked(modelId, version, inputCommitment, output, beneficiary));
        InferenceRecord storage rec = _inferences[inferenceId];
        if (rec.output.length != 0) revert InferenceAlreadyStored(inferenceId);
        rec.modelId = modelId;
        rec.modelVersion = version;
        rec.inputCommitment = inputCommitment;
        rec.output = output;
        rec.beneficiary = beneficiary;
        emit InferenceStored(inferenceId);
    }

    /// @dev A stored record; every stored output is exactly 32 bytes, so an empty one means "not stored".
    function _record(bytes32 inferenceId) private view returns (InferenceRecord storage rec) {
        rec = _inferences[inferenceId];
        if (rec.output.length == 0) revert InferenceNotFound(inferenceId);
    }
}
