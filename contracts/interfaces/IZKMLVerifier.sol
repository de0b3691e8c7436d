// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC165} from "./IERC165.sol";
import {IERCZKMLVerifier} from "./IERCZKMLVerifier.sol";
import {IERCZKMLStorageExtension} from "./IERCZKMLStorageExtension.sol";

/// @title Standalone ERC-7992 verifier over the project's four-signal layout
/// @notice Mapping of the ERC's arguments onto the public signals (docs/public-signals.md):
/// `output` must be exactly `abi.encode(uint256 out)` with `out < r` (signal 0); the model commitment is the
/// registry's `verificationTarget(...).modelCommitment` of the model's CURRENT version, `Poseidon(modelHash, L)`
/// (signal 1, docs/public-signals.md, "Layout binding"); `uint256(inputCommitment) < r` (signal 2);
/// the binding (signal 3) is `uint256(keccak256(abi.encode(block.chainid, address(this), caller, beneficiary,
/// nonce))) % r` with `nonce = nonceOf(caller, beneficiary)`, consumed by every successful verification, so a proof
/// verifies once (docs/market-rules.md, "Standalone verification"). The ERC entry points bind
/// `caller = beneficiary = msg.sender`; the `...For` variants take the beneficiary: a consumer contract passes its
/// own `msg.sender`, so its users cannot replay each other's proofs through it. A market proof (four-word binding,
/// other contract) can never verify here, nor a standalone proof in the market.
interface IZKMLVerifier is IERC165, IERCZKMLVerifier, IERCZKMLStorageExtension {
    /// @notice A stored record (`inferenceRecord`).
    /// @param modelId The model.
    /// @param modelVersion The version the proof verified against.
    /// @param inputCommitment The input commitment.
    /// @param output The ABI-encoded output.
    /// @param beneficiary The beneficiary the proof was bound to.
    struct InferenceRecord {
        uint256 modelId;
        uint16 modelVersion;
        bytes32 inputCommitment;
        bytes output;
        address beneficiary;
    }

    /// @notice Emitted with `InferenceVerified` on every successful verification: what the ERC event leaves out.
    /// @param modelId The model.
    /// @param modelVersion The version verified against (the current one).
    /// @param beneficiary The beneficiary the proof was bound to.
    /// @param caller The caller the proof was bound to.
    /// @param nonce The nonce the proof consumed.
    event InferenceVerifiedVersion(
        uint256 indexed modelId,
        uint16 indexed modelVersion,
        address indexed beneficiary,
        address caller,
        uint256 nonce
    );

    /// @notice Thrown when a record with this id is already stored.
    /// @param inferenceId The record id.
    error InferenceAlreadyStored(bytes32 inferenceId);

    /// @notice Thrown when no record with this id is stored.
    /// @param inferenceId The record id.
    error InferenceNotFound(bytes32 inferenceId);

    /// @notice Thrown when the beneficiary is the zero address.
    error ZeroBeneficiary();

    /// @notice Thrown when the current version's verifier code is not the code recorded at registration.
    /// @param modelId The model.
    /// @param modelVersion The version.
    error VerifierCodeChanged(uint256 modelId, uint256 modelVersion);

    /// @notice `verifyInference` for a named beneficiary (binding `caller = msg.sender`).
    /// @param modelId Registry model identifier.
    /// @param inputCommitment Commitment to the input.
    /// @param output `abi.encode(uint256 out)`.
    /// @param proof The proof, in the version's encoding.
    /// @param beneficiary Who the proof is for; a consumer contract passes its own `msg.sender`.
    function verifyInferenceFor(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof,
        address beneficiary
    ) external;

    /// @notice `verifyAndStoreInference` for a named beneficiary.
    /// @param modelId Registry model identifier.
    /// @param inputCommitment Commitment to the input.
    /// @param output `abi.encode(uint256 out)`.
    /// @param proof The proof, in the version's encoding.
    /// @param beneficiary Who the proof is for.
    /// @return inferenceId `keccak256(abi.encodePacked(modelId, uint16 version, inputCommitment, output,
    /// beneficiary))`: one record per beneficiary, so a front-runner cannot take it.
    function verifyAndStoreInferenceFor(
        uint256 modelId,
        bytes32 inputCommitment,
        bytes calldata output,
        bytes calldata proof,
        address beneficiary
    ) external returns (bytes32 inferenceId);

    /// @notice The next nonce a proof for `(caller, beneficiary)` must be bound to.
    /// @param caller The address that will call.
    /// @param beneficiary The beneficiary (for the ERC entry points: the caller).
    /// @return The nonce.
    function nonceOf(address caller, address beneficiary) external view returns (uint256);

    /// @notice The binding public signal the next proof for `(caller, beneficiary)` must carry.
    /// @param caller The address that will call.
    /// @param beneficiary The beneficiary.
    /// @return The binding, below r.
    function bindingOf(address caller, address beneficiary) external view returns (uint256);

    /// @notice A stored record with its version and beneficiary.
    /// @param inferenceId The record id.
    /// @return record The record.
    function inferenceRecord(bytes32 inferenceId) external view returns (InferenceRecord memory record);
}
