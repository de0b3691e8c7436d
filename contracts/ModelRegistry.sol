// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "./interfaces/IERC165.sol";
import {IERCZKMLRegistry} from "./interfaces/IERCZKMLRegistry.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {ISnarkjsVerifierAdapter} from "./interfaces/ISnarkjsVerifierAdapter.sol";
import {IVerifierAdapterFactory} from "./interfaces/IVerifierAdapterFactory.sol";
import {IPoseidonT3} from "./interfaces/IPoseidonT3.sol";
import {PoseidonT3Code} from "./generated/PoseidonT3Code.sol";
import {LayoutWord} from "./libraries/LayoutWord.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title ModelRegistry
/// @notice ERC-7992 model registry with immutable versions, a verifier adapter per version, per-model owners and
/// ownership transfer. Versioning policy: see `IModelRegistry`. Every verifiable version's public model commitment
/// (signal [1]) is computed here, `Poseidon(modelHash, LayoutWord.encode(layout))`, so a proof verifies only against
/// the weights and the layout its circuit was compiled with (docs/public-signals.md, "Layout binding").
contract ModelRegistry is IModelRegistry {
    /// @dev One version. Slots: modelHash | circuitHash | vkHash | proofSystemId, verifier, numPublicSignals |
    /// snarkjsVerifier, selector, proofLength | verifierCodeHash | layout | modelCommitment | uri.
    struct VersionRecord {
        bytes32 modelHash;
        bytes32 circuitHash;
        bytes32 vkHash;
        bytes4 proofSystemId;
        address verifier;
        uint8 numPublicSignals;
        address snarkjsVerifier;
        bytes4 selector;
        uint16 proofLength;
        bytes32 verifierCodeHash;
        Layout layout;
        uint256 modelCommitment;
        string uri;
    }

    /// @dev The verifier configuration of a version, resolved from its adapter at write time.
    struct Resolved {
        address verifier;
        uint8 numPublicSignals;
        address snarkjsVerifier;
        bytes4 selector;
        uint16 proofLength;
        bytes32 verifierCodeHash;
    }

    /// @dev At most this many input signals per version (bounds the market's signal loop and packing).
    uint256 private constant MAX_INPUT_SIGNALS = 16;
    /// @dev Bits packed per field element (docs/public-signals.md).
    uint256 private constant PACK_BITS = 248;

    IVerifierAdapterFactory private immutable _factory;
    /// @dev circomlibjs' Poseidon(2) contract, created by the constructor from generated code.
    IPoseidonT3 private immutable _poseidon;

    /// @dev Number of models; ids are 1..count. uint32 bounds ids so consumers can pack them (overflow reverts).
    uint32 private _modelCount;
    mapping(uint256 modelId => ModelInfo) private _models;
    mapping(uint256 modelId => mapping(uint256 version => VersionRecord)) private _versions;

    /// @param factory_ The adapter factory whose adapters versions may use.
    constructor(IVerifierAdapterFactory factory_) {
        if (address(factory_).code.length == 0) revert InvalidFactory(address(factory_));
        _factory = factory_;
        // Fixed code: CREATE fails only for lack of gas. If it did, `_poseidon` would be address 0, whose call returns
        // no data, which Solidity's return-data decoding rejects: every verifiable registration would revert.
        bytes memory code = PoseidonT3Code.CREATION_CODE;
        address deployed;
        // Plain CREATE of the generated creation code (no Solidity construct deploys raw bytecode).
        assembly {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        _poseidon = IPoseidonT3(deployed);
    }

    /// @dev Reverts unless `msg.sender` owns `modelId` (which must exist).
    modifier onlyModelOwner(uint256 modelId) {
        address owner = _models[modelId].owner;
        if (owner == address(0)) revert ModelNotFound(modelId);
        if (owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        _;
    }

    /// @inheritdoc IERCZKMLRegistry
    function registerModel(ModelCommitment calldata commitment) external returns (uint256 modelId) {
        return _register(commitment, _resolve(commitment, address(0), 0), _defaultLayout());
    }

    /// @inheritdoc IModelRegistry
    function registerModelWithVerifier(
        ModelCommitment calldata commitment,
        address verifier,
        uint8 numPublicSignals
    ) external returns (uint256 modelId) {
        Resolved memory r = _resolve(commitment, verifier, numPublicSignals);
        _requireDefaultLayout(r);
        return _register(commitment, r, _defaultLayout());
    }

    /// @inheritdoc IModelRegistry
    function registerModelWithLayout(
        ModelCommitment calldata commitment,
        address verifier,
        Layout calldata layout
    ) external returns (uint256 modelId) {
        if (verifier == address(0)) revert InvalidVerifierConfig(verifier, 0);
        return _register(commitment, _resolve(commitment, verifier, _layoutSignals(layout)), layout);
    }

    /// @inheritdoc IModelRegistry
    function updateModelWithLayout(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        Layout calldata layout
    ) external onlyModelOwner(modelId) {
        if (verifier == address(0)) revert InvalidVerifierConfig(verifier, 0);
        _update(modelId, newCommitment, _resolve(newCommitment, verifier, _layoutSignals(layout)), layout);
    }

    /// @inheritdoc IERCZKMLRegistry
    /// @dev Keeps the current version's verifier and signal count (e.g. new private weights, same circuit), re-read
    /// from the adapter, so a verifier whose code changed cannot be carried over.
    function updateModel(uint256 modelId, ModelCommitment calldata newCommitment) external onlyModelOwner(modelId) {
        VersionRecord storage current = _versions[modelId][_models[modelId].latestVersion];
        _update(
            modelId,
            newCommitment,
            _resolve(newCommitment, current.verifier, current.numPublicSignals),
            current.layout
        );
    }

    /// @inheritdoc IModelRegistry
    function updateModelWithVerifier(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        uint8 numPublicSignals
    ) external onlyModelOwner(modelId) {
        Resolved memory r = _resolve(newCommitment, verifier, numPublicSignals);
        _requireDefaultLayout(r);
        _update(modelId, newCommitment, r, _defaultLayout());
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
    ) external view returns (VerificationTarget memory target) {
        // An unknown version (or one without a verifier) has no verifier.
        VersionRecord storage v = _versions[modelId][version];
        address adapter = v.verifier;
        if (adapter == address(0)) revert VersionNotFound(modelId, version);
        return
            VerificationTarget({
                modelCommitment: v.modelCommitment,
                adapter: adapter,
                verifier: v.snarkjsVerifier,
                selector: v.selector,
                proofLength: v.proofLength,
                numPublicSignals: v.numPublicSignals,
                verifierCodeHash: v.verifierCodeHash,
                layout: v.layout
            });
    }

    /// @inheritdoc IModelRegistry
    function layoutOf(uint256 modelId, uint256 version) external view returns (Layout memory) {
        return _version(modelId, version).layout;
    }

    /// @inheritdoc IModelRegistry
    function modelCommitmentOf(bytes32 modelHash, Layout calldata layout) external view returns (uint256) {
        if (uint256(modelHash) >= PublicSignals.SNARK_SCALAR_FIELD) revert ModelHashNotInField(modelHash);
        return _publicCommitment(modelHash, layout);
    }

    /// @inheritdoc IModelRegistry
    function layoutWord(Layout calldata layout) external pure returns (uint256) {
        return LayoutWord.encode(layout);
    }

    /// @inheritdoc IModelRegistry
    function poseidon() external view returns (address) {
        return address(_poseidon);
    }

    /// @inheritdoc IModelRegistry
    function factory() external view returns (address) {
        return address(_factory);
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
        Resolved memory r,
        Layout memory layout
    ) private returns (uint256 modelId) {
        modelId = ++_modelCount;
        _models[modelId] = ModelInfo({owner: msg.sender, latestVersion: 1, deprecated: false});
        _write(modelId, 1, commitment, r, layout);
        emit ModelRegistered(modelId, msg.sender, commitment);
        emit ModelVersionCreated(modelId, 1, r.verifier, r.numPublicSignals, r.snarkjsVerifier, r.verifierCodeHash);
        if (r.verifier != address(0)) emit VersionLayout(modelId, 1, layout);
    }

    function _update(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        Resolved memory r,
        Layout memory layout
    ) private {
        ModelInfo storage info = _models[modelId];
        if (info.deprecated) revert ModelIsDeprecated(modelId);
        uint16 oldVersion = info.latestVersion;
        uint16 newVersion = oldVersion + 1; // checked: reverts after 65535 versions
        info.latestVersion = newVersion;
        _write(modelId, newVersion, newCommitment, r, layout);
        emit ModelUpdated(modelId, _commitment(_versions[modelId][oldVersion]), newCommitment);
        emit ModelVersionCreated(
            modelId,
            newVersion,
            r.verifier,
            r.numPublicSignals,
            r.snarkjsVerifier,
            r.verifierCodeHash
        );
        if (r.verifier != address(0)) emit VersionLayout(modelId, newVersion, layout);
    }

    function _write(
        uint256 modelId,
        uint256 version,
        ModelCommitment calldata c,
        Resolved memory r,
        Layout memory layout
    ) private {
        _versions[modelId][version] = VersionRecord({
            modelHash: c.modelHash,
            circuitHash: c.circuitHash,
            vkHash: c.vkHash,
            proofSystemId: c.proofSystemId,
            verifier: r.verifier,
            numPublicSignals: r.numPublicSignals,
            snarkjsVerifier: r.snarkjsVerifier,
            selector: r.selector,
            proofLength: r.proofLength,
            verifierCodeHash: r.verifierCodeHash,
            layout: layout,
            modelCommitment: r.verifier == address(0) ? 0 : _publicCommitment(c.modelHash, layout),
            uri: c.uri
        });
    }

    /// @dev The public model commitment (signal [1]) of weights `modelHash` (below r) under `layout`.
    function _publicCommitment(bytes32 modelHash, Layout memory layout) private view returns (uint256) {
        return _poseidon.poseidon([uint256(modelHash), LayoutWord.encode(layout)]);
    }

    /// @dev The layout of versions registered without one (committed input, argmax head, input format not recorded),
    /// and the all-zero layout of commitment-only versions.
    function _defaultLayout() private pure returns (Layout memory layout) {
        return layout;
    }

    /// @dev The default layout has 4 signals: reverts unless a verifiable version registered without a layout has 4.
    function _requireDefaultLayout(Resolved memory r) private pure {
        if (r.verifier != address(0) && r.numPublicSignals != 4) {
            revert InvalidLayout("numPublicSignals", r.numPublicSignals);
        }
    }

    /// @dev Reverts with `InvalidLayout` unless `layout` is well formed; returns its signal count `3 + input signals`
    /// (docs/public-signals.md), which the adapter must report.
    function _layoutSignals(Layout calldata layout) private pure returns (uint8) {
        if (layout.inputMode > 1) revert InvalidLayout("inputMode", layout.inputMode);
        if (layout.outputHead > 1) revert InvalidLayout("outputHead", layout.outputHead);
        if (layout.inputMode == 1 || layout.inputCount != 0 || layout.inputBits != 0) {
            if (layout.inputCount == 0) revert InvalidLayout("inputCount", 0);
            if (layout.inputBits < 2 || layout.inputBits > 64) revert InvalidLayout("inputBits", layout.inputBits);
        }
        if (layout.outputHead == 1) {
            if (layout.outputBits < 2 || layout.outputBits > 124) revert InvalidLayout("outputBits", layout.outputBits);
            if (layout.outputCount == 0 || layout.outputCount > PACK_BITS / layout.outputBits) {
                revert InvalidLayout("outputCount", layout.outputCount);
            }
            if (layout.outputFrac > layout.outputBits) revert InvalidLayout("outputFrac", layout.outputFrac);
        } else {
            if (layout.outputBits != 0) revert InvalidLayout("outputBits", layout.outputBits);
            if (layout.outputFrac != 0) revert InvalidLayout("outputFrac", layout.outputFrac);
        }
        uint256 inputSignals = 1;
        if (layout.inputMode == 1) {
            uint256 per = PACK_BITS / layout.inputBits;
            inputSignals = (uint256(layout.inputCount) + per - 1) / per;
            if (inputSignals > MAX_INPUT_SIGNALS) revert InvalidLayout("inputSignals", inputSignals);
        }
        return uint8(3 + inputSignals); // <= 19
    }

    /// @dev Checks a commitment and its verifier configuration, and resolves the adapter into what consumers call:
    /// the adapter must be the factory's (immutable code) and agree with the commitment; its wrapped verifier must
    /// have code, whose hash is recorded.
    function _resolve(
        ModelCommitment calldata c,
        address verifier,
        uint8 numPublicSignals
    ) private view returns (Resolved memory r) {
        if (uint256(c.modelHash) >= PublicSignals.SNARK_SCALAR_FIELD) revert ModelHashNotInField(c.modelHash);
        bool hasVerifier = verifier != address(0);
        if (hasVerifier != (numPublicSignals != 0)) revert InvalidVerifierConfig(verifier, numPublicSignals);
        if (!hasVerifier) return r;
        if (!_factory.isAdapter(verifier)) revert AdapterNotFromFactory(verifier);
        ISnarkjsVerifierAdapter adapter = ISnarkjsVerifierAdapter(verifier);
        bytes4 adapterSystem = adapter.proofSystemId();
        uint256 adapterSignals = adapter.numPublicSignals();
        if (adapterSystem != c.proofSystemId || adapterSignals != numPublicSignals) {
            revert VerifierMismatch(verifier, adapterSystem, adapterSignals);
        }
        address snark = adapter.verifier();
        if (snark.code.length == 0) revert WrappedVerifierHasNoCode(snark);
        r.verifier = verifier;
        r.numPublicSignals = numPublicSignals;
        r.snarkjsVerifier = snark;
        r.selector = adapter.verifyProofSelector();
        r.proofLength = uint16(adapter.proofLength()); // factory adapters: 256 or 768 bytes
        r.verifierCodeHash = snark.codehash;
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
