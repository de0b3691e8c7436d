// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "./interfaces/IERC165.sol";
import {IERCZKMLRegistry} from "./interfaces/IERCZKMLRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title ModelRegistry
/// @notice ERC-7992 model registry with immutable versions, a verifier adapter per version, per-model owners and
/// ownership transfer. Versioning policy: see `IModelRegistry`.
contract ModelRegistry is IModelRegistry {
    /// @dev One version. Slots: modelHash | circuitHash | vkHash | proofSystemId, verifier, numPublicSignals | uri.
    struct VersionRecord {
        bytes32 modelHash;
        bytes32 circuitHash;
        bytes32 vkHash;
        bytes4 proofSystemId;
        address verifier;
        uint8 numPublicSignals;
        string uri;
    }

    /// @dev Number of models; ids are 1..count. uint32 bounds ids so consumers can pack them (overflow reverts).
    uint32 private _modelCount;
    mapping(uint256 modelId => ModelInfo) private _models;
    mapping(uint256 modelId => mapping(uint256 version => VersionRecord)) private _versions;

    /// @dev Reverts unless `msg.sender` owns `modelId` (which must exist).
    modifier onlyModelOwner(uint256 modelId) {
        address owner = _models[modelId].owner;
        if (owner == address(0)) revert ModelNotFound(modelId);
        if (owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        _;
    }

    /// @inheritdoc IERCZKMLRegistry
    function registerModel(ModelCommitment calldata commitment) external returns (uint256 modelId) {
        return _register(commitment, address(0), 0);
    }

    /// @inheritdoc IModelRegistry
    function registerModelWithVerifier(
        ModelCommitment calldata commitment,
        address verifier,
        uint8 numPublicSignals
    ) external returns (uint256 modelId) {
        return _register(commitment, verifier, numPublicSignals);
    }

    /// @inheritdoc IERCZKMLRegistry
    /// @dev Keeps the current version's verifier and signal count (e.g. new private weights, same circuit).
    function updateModel(uint256 modelId, ModelCommitment calldata newCommitment) external onlyModelOwner(modelId) {
        VersionRecord storage current = _versions[modelId][_models[modelId].latestVersion];
        _update(modelId, newCommitment, current.verifier, current.numPublicSignals);
    }

    /// @inheritdoc IModelRegistry
    function updateModelWithVerifier(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        uint8 numPublicSignals
    ) external onlyModelOwner(modelId) {
        _update(modelId, newCommitment, verifier, numPublicSignals);
    }

    /// @inheritdoc IERCZKMLRegistry
    function deprecateModel(uint256 modelId) external onlyModelOwner(modelId) {
        ModelInfo storage info = _models[modelId];
        if (info.deprecated) revert ModelIsDeprecated(modelId);
        info.deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /// @inheritdoc IModelRegistry
    function transferModelOwnership(uint256 modelId, address newOwner) external onlyModelOwner(modelId) {
        if (newOwner == address(0)) revert InvalidNewOwner(newOwner);
        _models[modelId].owner = newOwner;
        emit ModelOwnershipTransferred(modelId, msg.sender, newOwner);
    }

    /// @inheritdoc IERCZKMLRegistry
    function getModel(
        uint256 modelId
    ) external view returns (ModelCommitment memory commitment, bool deprecated, address owner) {
        ModelInfo memory info = _info(modelId);
        commitment = _commitment(_versions[modelId][info.latestVersion]);
        return (commitment, info.deprecated, info.owner);
    }

    /// @inheritdoc IModelRegistry
    function modelInfo(uint256 modelId) external view returns (ModelInfo memory info) {
        return _info(modelId);
    }

    /// @inheritdoc IModelRegistry
    function getModelVersion(
        uint256 modelId,
        uint256 version
    ) external view returns (ModelCommitment memory commitment, address verifier, uint8 numPublicSignals) {
        VersionRecord storage v = _version(modelId, version);
        return (_commitment(v), v.verifier, v.numPublicSignals);
    }

    /// @inheritdoc IModelRegistry
    function currentVersion(
        uint256 modelId
    ) external view returns (uint16 version, uint8 numPublicSignals, bool deprecated) {
        ModelInfo memory info = _info(modelId);
        return (info.latestVersion, _versions[modelId][info.latestVersion].numPublicSignals, info.deprecated);
    }

    /// @inheritdoc IModelRegistry
    function verificationTarget(
        uint256 modelId,
        uint256 version
    ) external view returns (uint256 modelCommitment, address verifier) {
        // Hot path of every submission: two SLOADs. An unknown version (or one without a verifier) has no verifier.
        VersionRecord storage v = _versions[modelId][version];
        verifier = v.verifier;
        if (verifier == address(0)) revert VersionNotFound(modelId, version);
        return (uint256(v.modelHash), verifier);
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(IERC165).interfaceId ||
            interfaceId == type(IERCZKMLRegistry).interfaceId ||
            interfaceId == type(IModelRegistry).interfaceId;
    }

    function _register(
        ModelCommitment calldata commitment,
        address verifier,
        uint8 numPublicSignals
    ) private returns (uint256 modelId) {
        _checkCommitment(commitment, verifier, numPublicSignals);
        modelId = ++_modelCount;
        _models[modelId] = ModelInfo({owner: msg.sender, latestVersion: 1, deprecated: false});
        _write(modelId, 1, commitment, verifier, numPublicSignals);
        emit ModelRegistered(modelId, msg.sender, commitment);
        emit ModelVersionCreated(modelId, 1, verifier, numPublicSignals);
    }

    function _update(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        uint8 numPublicSignals
    ) private {
        ModelInfo storage info = _models[modelId];
        if (info.deprecated) revert ModelIsDeprecated(modelId);
        _checkCommitment(newCommitment, verifier, numPublicSignals);
        uint16 oldVersion = info.latestVersion;
        uint16 newVersion = oldVersion + 1; // checked: reverts after 65535 versions
        info.latestVersion = newVersion;
        _write(modelId, newVersion, newCommitment, verifier, numPublicSignals);
        emit ModelUpdated(modelId, _commitment(_versions[modelId][oldVersion]), newCommitment);
        emit ModelVersionCreated(modelId, newVersion, verifier, numPublicSignals);
    }

    function _write(
        uint256 modelId,
        uint256 version,
        ModelCommitment calldata c,
        address verifier,
        uint8 numPublicSignals
    ) private {
        _versions[modelId][version] = VersionRecord({
            modelHash: c.modelHash,
            circuitHash: c.circuitHash,
            vkHash: c.vkHash,
            proofSystemId: c.proofSystemId,
            verifier: verifier,
            numPublicSignals: numPublicSignals,
            uri: c.uri
        });
    }

    function _checkCommitment(ModelCommitment calldata c, address verifier, uint8 numPublicSignals) private view {
        if (uint256(c.modelHash) >= PublicSignals.SNARK_SCALAR_FIELD) revert ModelHashNotInField(c.modelHash);
        bool hasVerifier = verifier != address(0);
        if (hasVerifier != (numPublicSignals != 0) || (hasVerifier && verifier.code.length == 0)) {
            revert InvalidVerifierConfig(verifier, numPublicSignals);
        }
        if (hasVerifier) {
            bytes4 adapterSystem = IProofVerifier(verifier).proofSystemId();
            uint256 adapterSignals = IProofVerifier(verifier).numPublicSignals();
            if (adapterSystem != c.proofSystemId || adapterSignals != numPublicSignals) {
                revert VerifierMismatch(verifier, adapterSystem, adapterSignals);
            }
        }
    }

    function _info(uint256 modelId) private view returns (ModelInfo memory info) {
        info = _models[modelId];
        if (info.owner == address(0)) revert ModelNotFound(modelId);
    }

    function _version(uint256 modelId, uint256 version) private view returns (VersionRecord storage v) {
        uint16 latest = _models[modelId].latestVersion;
        if (latest == 0) revert ModelNotFound(modelId);
        if (version == 0 || version > latest) revert VersionNotFound(modelId, version);
        return _versions[modelId][version];
    }

    function _commitment(VersionRecord storage v) private view returns (ModelCommitment memory) {
        return
            ModelCommitment({
                modelHash: v.modelHash,
                circuitHash: v.circuitHash,
                vkHash: v.vkHash,
                proofSystemId: v.proofSystemId,
                uri: v.uri
            });
    }
}
