// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC165} from "./IERC165.sol";
import {IERCZKMLVerifier} from "./IERCZKMLVerifier.sol";
import {IERCZKMLStorageExtension} from "./IERCZKMLStorageExtension.sol";

/// @title Standalone ERC-7992 verifier over the project's four-signal layout
/// @notice Mapping of the ERC's arguments onto the public signals (docs/public-signals.md):
/// `output` must be exactly `abi.encode(uint256 out)` with `out < r` (signal 0); the model commitment is
/// `uint256(modelHash)` of the model's CURRENT version (signal 1); `uint256(inputCommitment) < r` (signal 2);
/// the binding (signal 3) is `uint256(keccak256(abi.encode(block.chainid, address(this), 0, msg.sender))) % r`.
/// Job id 0 never exists in `InferenceJobs` and the contract address differs, so a market proof cannot be replayed
/// here and a standalone proof cannot be replayed in the market. A proof is bound to its caller.
interface IZKMLVerifier is IERC165, IERCZKMLVerifier, IERCZKMLStorageExtension {
    /// @notice Thrown when a record with this id is already stored.
    /// @param inferenceId The record id.
    error InferenceAlreadyStored(bytes32 inferenceId);

    /// @notice Thrown when no record with this id is stored.
    /// @param inferenceId The record id.
    error InferenceNotFound(bytes32 inferenceId);

    /// @notice The binding public signal a proof for `caller` must carry here.
    /// @param caller The address that will call `verifyInference` / `verifyAndStoreInference`.
    /// @return The binding, below r.
    function bindingOf(address caller) external view returns (uint256);
}
