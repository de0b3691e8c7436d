// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC165} from "./IERC165.sol";
import {IERCZKMLRegistry} from "./IERCZKMLRegistry.sol";

/// @title Model registry: ERC-7992 plus versions, verifier adapters and ownership transfer
/// @notice Versioning policy: `registerModel*` creates version 1; every `updateModel*` appends version
/// `latest + 1` and makes it current. Versions are immutable once written and stay readable forever, so a consumer
/// (e.g. `InferenceJobs`) that pinned `(modelId, version)` keeps verifying against exactly that commitment and
/// verifier. Deprecation is irreversible and blocks updates; it does not erase versions.
/// Each version also carries the verifier adapter (`IProofVerifier`) and the number of public signals its circuit
/// exposes. `verifier == address(0)` (and then `numPublicSignals == 0`) means "commitment only, not verifiable here":
/// that is what the ERC's own `registerModel` / `updateModel` (which take no verifier) write for a new model; the
/// owner makes it verifiable by appending a version with `updateModelWithVerifier`.
/// Adapters must come from the registry's `IVerifierAdapterFactory` (immutable code); the registry records, per
/// version, the wrapped snarkjs verifier, its `verifyProof` selector, the proof length and the verifier's code hash,
/// so consumers can call the verifier directly and check that its code never changed.
interface IModelRegistry is IERC165, IERCZKMLRegistry {
    /// @notice A version's public-signal layout (docs/public-signals.md): signals are
    /// `[output, modelCommitment, input[0..m-1], jobBinding]`, m = 1 (committed) or
    /// `ceil(inputCount / floor(248 / inputBits))` (public).
    /// @param inputMode 0: committed (salted Poseidon commitment), 1: public (values packed by the market).
    /// @param outputHead 0: argmax (class index), 1: values (packed signed fixed-point outputs, one word).
    /// @param inputCount Number of quantized input values (0 with inputBits 0: not recorded, committed mode only).
    /// @param inputBits Signed width of each input value, 2..64.
    /// @param outputCount argmax: number of classes; values: number of outputs (<= floor(248 / outputBits)).
    /// @param outputBits values: signed width of each output, 2..124; argmax: 0.
    /// @param outputFrac values: fractional bits of the outputs (<= outputBits); argmax: 0.
    struct Layout {
        uint8 inputMode;
        uint8 outputHead;
        uint16 inputCount;
        uint8 inputBits;
        uint8 outputCount;
        uint8 outputBits;
        uint8 outputFrac;
    }

    /// @notice Everything a proof for one version is checked against.
    /// @param modelCommitment The model-commitment public signal (signal [1]): `Poseidon(uint256(modelHash), L)`, L
    /// the version's `layoutWord(layout)`, computed by the registry when the version was written. `modelHash` (ERC-7992)
    /// stays the weights commitment; this binds the weights and the layout to the circuit (docs/public-signals.md).
    /// @param adapter The version's factory-made adapter (`IProofVerifier`).
    /// @param verifier The snarkjs verifier the adapter wraps.
    /// @param selector The verifier's `verifyProof` selector for `numPublicSignals` signals.
    /// @param proofLength The length in bytes of an encoded proof.
    /// @param numPublicSignals The circuit's number of public signals.
    /// @param verifierCodeHash `verifier.codehash` when the version was written.
    /// @param layout The version's public-signal layout.
    struct VerificationTarget {
        uint256 modelCommitment;
        address adapter;
        address verifier;
        bytes4 selector;
        uint16 proofLength;
        uint8 numPublicSignals;
        bytes32 verifierCodeHash;
        Layout layout;
    }

    /// @notice Registry bookkeeping for one model.
    /// @param owner The model owner (the registrant, or whom it transferred the model to).
    /// @param latestVersion The current version (versions are 1..latestVersion).
    /// @param deprecated Whether the model is deprecated.
    struct ModelInfo {
        address owner;
        uint16 latestVersion;
        bool deprecated;
    }

    /// @notice Emitted for every version written (registration and each update): its verifier configuration.
    /// @param modelId The model.
    /// @param version The version written.
    /// @param verifier The version's verifier adapter (zero: none).
    /// @param numPublicSignals The number of public signals its circuit exposes (zero: none).
    /// @param snarkjsVerifier The verifier the adapter wraps (zero: none).
    /// @param verifierCodeHash Its code hash, fixed for this version (zero: none).
    event ModelVersionCreated(
        uint256 indexed modelId,
        uint16 indexed version,
        address verifier,
        uint8 numPublicSignals,
        address snarkjsVerifier,
        bytes32 verifierCodeHash
    );

    /// @notice Emitted for every verifiable version written: its public-signal layout.
    /// @param modelId The model.
    /// @param version The version written.
    /// @param layout The layout.
    event VersionLayout(uint256 indexed modelId, uint16 indexed version, Layout layout);

    /// @notice Emitted when a model changes owner.
    /// @param modelId The model.
    /// @param previousOwner The old owner.
    /// @param newOwner The new owner.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);

    /// @notice Thrown when `modelHash` (the model-commitment public signal) is not below the BN254 scalar field.
    /// @param modelHash The rejected hash.
    error ModelHashNotInField(bytes32 modelHash);

    /// @notice Thrown when a verifier configuration is inconsistent: a verifier without code, a verifier with zero
    /// public signals, or signals without a verifier.
    /// @param verifier The verifier adapter given.
    /// @param numPublicSignals The signal count given.
    error InvalidVerifierConfig(address verifier, uint8 numPublicSignals);

    /// @notice Thrown when the verifier adapter disagrees with the commitment's `proofSystemId` or with
    /// `numPublicSignals`.
    /// @param verifier The verifier adapter.
    /// @param adapterProofSystemId What the adapter reports.
    /// @param adapterNumPublicSignals What the adapter reports.
    error VerifierMismatch(address verifier, bytes4 adapterProofSystemId, uint256 adapterNumPublicSignals);

    /// @notice Thrown at deployment when the adapter factory has no code.
    /// @param factory The address given.
    error InvalidFactory(address factory);

    /// @notice Thrown when a version's adapter was not created by the registry's adapter factory (so its code could
    /// switch its answer later).
    /// @param verifier The adapter given; create one with `factory().createAdapter(...)`.
    error AdapterNotFromFactory(address verifier);

    /// @notice Thrown when the snarkjs verifier behind an adapter has no code (any more).
    /// @param snarkjsVerifier The wrapped verifier.
    error WrappedVerifierHasNoCode(address snarkjsVerifier);

    /// @notice Thrown when a layout is malformed, or when a version registered without a layout (default layout: 4
    /// signals) has another signal count. (With a layout, an adapter of another count fails `VerifierMismatch`.)
    /// @param field The offending field (`inputMode`, `outputHead`, `inputCount`, `inputBits`, `outputCount`,
    /// `outputBits`, `outputFrac`, `inputSignals` (more than 16) or `numPublicSignals` (not 4 without a layout)).
    /// @param value The value given.
    error InvalidLayout(string field, uint256 value);

    /// @notice Thrown when a model is transferred to the zero address (ownership cannot be renounced).
    /// @param newOwner The rejected owner.
    error InvalidNewOwner(address newOwner);

    /// @notice Thrown when `version` of `modelId` does not exist (or, for `verificationTarget`, has no verifier).
    /// @param modelId The model.
    /// @param version The unknown version.
    error VersionNotFound(uint256 modelId, uint256 version);

    /// @notice Registers a model with its verifier adapter and the default layout (committed input, argmax head,
    /// input format not recorded: 4 public signals); the caller becomes its owner.
    /// @param commitment The commitment; `modelHash` must be below the BN254 scalar field.
    /// @param verifier The `IProofVerifier` adapter for this circuit (zero for none), created by `factory()`; its
    /// `proofSystemId()` and `numPublicSignals()` must match the commitment and `numPublicSignals`.
    /// @param numPublicSignals The circuit's number of public signals (zero iff no verifier).
    /// @return modelId The new model id (ids start at 1).
    function registerModelWithVerifier(
        ModelCommitment calldata commitment,
        address verifier,
        uint8 numPublicSignals
    ) external returns (uint256 modelId);

    /// @notice Registers a model with its verifier adapter and public-signal layout; the caller becomes its owner.
    /// @param commitment The commitment; `modelHash` must be below the BN254 scalar field.
    /// @param verifier A factory adapter whose signal count is the layout's (`3 + input signals`).
    /// @param layout The layout (docs/public-signals.md).
    /// @return modelId The new model id.
    function registerModelWithLayout(
        ModelCommitment calldata commitment,
        address verifier,
        Layout calldata layout
    ) external returns (uint256 modelId);

    /// @notice Appends a version with a new verifier adapter and layout (owner only, not when deprecated).
    /// @param modelId The model.
    /// @param newCommitment The new commitment.
    /// @param verifier A factory adapter whose signal count is the layout's.
    /// @param layout The layout.
    function updateModelWithLayout(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        Layout calldata layout
    ) external;

    /// @notice A version's public-signal layout (all zero for a commitment-only version).
    /// @param modelId The model.
    /// @param version The version.
    /// @return The layout.
    function layoutOf(uint256 modelId, uint256 version) external view returns (Layout memory);

    /// @notice Appends a new version with a new verifier configuration (owner only, not when deprecated).
    /// @param modelId The model.
    /// @param newCommitment The new commitment.
    /// @param verifier The new version's verifier adapter (zero for none).
    /// @param numPublicSignals Its number of public signals (zero iff no verifier).
    function updateModelWithVerifier(
        uint256 modelId,
        ModelCommitment calldata newCommitment,
        address verifier,
        uint8 numPublicSignals
    ) external;

    /// @notice Transfers a model to `newOwner` (owner only; allowed when deprecated).
    /// @param modelId The model.
    /// @param newOwner The new owner, not zero.
    function transferModelOwnership(uint256 modelId, address newOwner) external;

    /// @notice Owner, current version and deprecation of a model.
    /// @param modelId The model.
    /// @return info The bookkeeping record.
    function modelInfo(uint256 modelId) external view returns (ModelInfo memory info);

    /// @notice One version of a model.
    /// @param modelId The model.
    /// @param version The version (1..latestVersion).
    /// @return commitment The version's commitment.
    /// @return verifier The version's verifier adapter.
    /// @return numPublicSignals The version's number of public signals.
    function getModelVersion(
        uint256 modelId,
        uint256 version
    ) external view returns (ModelCommitment memory commitment, address verifier, uint8 numPublicSignals);

    /// @notice What a new job on `modelId` would pin: the current version and its signal count (cheap view).
    /// @param modelId The model.
    /// @return version The current version.
    /// @return numPublicSignals Its number of public signals.
    /// @return deprecated Whether the model is deprecated.
    function currentVersion(
        uint256 modelId
    ) external view returns (uint16 version, uint8 numPublicSignals, bool deprecated);

    /// @notice What a proof for `(modelId, version)` is checked against. Reverts with `VersionNotFound` for an
    /// unknown version and for a version without a verifier.
    /// @param modelId The model.
    /// @param version The version.
    /// @return target The version's verification target.
    function verificationTarget(
        uint256 modelId,
        uint256 version
    ) external view returns (VerificationTarget memory target);

    /// @notice The public model commitment (signal [1]) a version with weights commitment `modelHash` and `layout`
    /// gets: `Poseidon(uint256(modelHash), layoutWord(layout))` (circomlib's Poseidon(2)); the circuit outputs the
    /// same value for its own weights and layout, so a registered layout that is not the circuit's verifies nothing.
    /// @param modelHash The weights commitment (ERC-7992 `modelHash`), below the BN254 scalar field.
    /// @param layout The layout.
    /// @return The commitment `verificationTarget(...).modelCommitment` returns for such a version.
    function modelCommitmentOf(bytes32 modelHash, Layout calldata layout) external view returns (uint256);

    /// @notice The canonical word `L` of a layout (`LayoutWord.encode`: fields at fixed bit positions plus an
    /// encoding version; docs/public-signals.md, "Layout binding").
    /// @param layout The layout.
    /// @return The word.
    function layoutWord(Layout calldata layout) external pure returns (uint256);

    /// @notice The Poseidon(2) contract the registry created (circomlibjs' generated code).
    /// @return Its address.
    function poseidon() external view returns (address);

    /// @notice The only adapter factory whose adapters versions may use.
    /// @return The factory.
    function factory() external view returns (address);

    /// @notice The number of models registered (the highest model id).
    /// @return The count.
    function modelCount() external view returns (uint256);
}
