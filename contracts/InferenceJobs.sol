// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "./interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "./interfaces/IInferenceCallback.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title InferenceJobs
/// @notice Escrowed inference jobs paid for by a verified proof; optional claims with a bonded lease.
/// Rules: docs/market-rules.md. Storage and gas: docs/contracts.md.
/// @dev No reentrancy guard: every function follows checks-effects-interactions strictly. The only external calls
/// are the registry and the verifier adapter (both `view`, so STATICCALL: they cannot re-enter a state change), the
/// requester callback (after all effects, fixed gas) and the ETH transfer in `withdraw` (after zeroing the balance).
contract InferenceJobs is IInferenceJobs {
    uint256 private constant BPS = 10_000;
    /// @dev Gas kept on top of the callback allowance for the CALL itself (cold account access, memory, value-free).
    uint256 private constant CALLBACK_CALL_OVERHEAD = 5_000;

    IModelRegistry private immutable _registry;
    uint96 private immutable _claimBond;
    uint32 private immutable _leaseDuration;
    uint16 private immutable _slashBps;
    uint32 private immutable _callbackGasLimit;

    /// @dev A job in storage, 3 slots: [requester | deadline | modelId | modelVersion | status | callback],
    /// [inputCommitment], [escrow while Open -> output once Fulfilled (0 once Reclaimed)]. Reusing the escrow slot for
    /// the output saves a fresh 22.1k-gas SSTORE on every submission (the fee is credited away at that moment).
    struct JobRecord {
        address requester;
        uint32 deadline;
        uint32 modelId;
        uint16 modelVersion;
        JobStatus status;
        bool callback;
        uint256 inputCommitment;
        uint256 escrowOrOutput;
    }

    /// @dev A model version's verification target, copied from the registry by the first job on it (2 slots). Reading
    /// it here instead of calling the registry on every submission saves ~4k gas per submission.
    struct Target {
        uint256 modelCommitment;
        address verifier;
    }

    /// @dev Starts at 1 (so opening a job never writes a zero slot, and job id 0 is the standalone domain).
    uint256 private _nextJobId = 1;
    mapping(uint256 jobId => JobRecord) private _jobs;
    mapping(uint256 jobId => Claim) private _claims;
    mapping(address account => Account) private _accounts;
    mapping(uint256 modelId => mapping(uint256 modelVersion => Target)) private _targets;

    /// @param registry_ The model registry.
    /// @param claimBond_ The bond a claim locks (> 0).
    /// @param leaseDuration_ The lease of a claim in seconds (> 0).
    /// @param slashBps_ The share of an expired claim's bond credited to the requester (<= 10000).
    /// @param callbackGasLimit_ The gas given to a requester's result callback.
    constructor(
        IModelRegistry registry_,
        uint96 claimBond_,
        uint32 leaseDuration_,
        uint16 slashBps_,
        uint32 callbackGasLimit_
    ) {
        if (address(registry_).code.length == 0 || claimBond_ == 0 || leaseDuration_ == 0 || slashBps_ > BPS) {
            revert InvalidMarketConfig(address(registry_), claimBond_, leaseDuration_, slashBps_);
        }
        _registry = registry_;
        _claimBond = claimBond_;
        _leaseDuration = leaseDuration_;
        _slashBps = slashBps_;
        _callbackGasLimit = callbackGasLimit_;
    }

    /// @inheritdoc IInferenceJobs
    function openJob(
        uint256 modelId,
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId) {
        if (msg.value == 0) revert ZeroFee();
        if (msg.value > type(uint96).max) revert AmountTooLarge(msg.value);
        if (inputCommitment >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentNotInField(inputCommitment);
        if (deadline <= block.timestamp || deadline > type(uint32).max) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
        uint16 version = _pinModel(modelId);
        if (_targets[modelId][version].verifier == address(0)) _cacheTarget(modelId, version);
        jobId = _nextJobId++;
        JobRecord storage job = _jobs[jobId];
        job.requester = msg.sender;
        job.deadline = uint32(deadline); // checked above
        job.modelId = uint32(modelId); // the registry's ids are uint32 (its counter is uint32)
        job.modelVersion = version;
        job.status = JobStatus.Open;
        job.callback = callback;
        job.inputCommitment = inputCommitment;
        job.escrowOrOutput = msg.value;
        emit JobOpened(jobId, msg.sender, modelId, version, inputCommitment, msg.value, deadline, callback, inputURI);
    }

    /// @inheritdoc IInferenceJobs
    function claim(uint256 jobId) external {
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        uint256 deadline = job.deadline;
        if (block.timestamp > deadline) revert DeadlinePassed(jobId, deadline);
        if (job.status == JobStatus.Claimed) {
            Claim memory previous = _claims[jobId];
            if (block.timestamp <= previous.leaseEnd) {
                revert JobAlreadyClaimed(jobId, previous.claimant, previous.leaseEnd);
            }
            _settleExpired(jobId, previous.claimant, job.requester);
        }
        uint96 bond = _claimBond;
        Account storage account = _accounts[msg.sender];
        if (account.available < bond) revert InsufficientStake(msg.sender, account.available, bond);
        account.available -= bond;
        account.locked += bond;
        uint256 leaseEnd = block.timestamp + _leaseDuration;
        if (leaseEnd > deadline) leaseEnd = deadline;
        _claims[jobId] = Claim({claimant: msg.sender, leaseEnd: uint32(leaseEnd)}); // <= deadline < 2^32
        job.status = JobStatus.Claimed;
        emit JobClaimed(jobId, msg.sender, leaseEnd, bond);
    }

    /// @inheritdoc IInferenceJobs
    function submitResult(uint256 jobId, uint256 output, bytes calldata proof) external {
        // ---- checks
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (output >= PublicSignals.SNARK_SCALAR_FIELD) revert OutputNotInField(output);
        Claim memory c; // read only when there is one (saves a cold SLOAD on unclaimed jobs)
        if (job.status == JobStatus.Claimed) c = _claims[jobId];
        bool live = c.claimant != address(0) && block.timestamp <= c.leaseEnd;
        if (live && c.claimant != msg.sender) revert JobAlreadyClaimed(jobId, c.claimant, c.leaseEnd);
        _verifyProof(jobId, job, output, proof);
        // ---- effects
        _settleFulfilled(jobId, job, output, c.claimant, live);
        // ---- interactions
        if (job.callback) _callback(jobId, job.requester, output);
    }

    /// @inheritdoc IInferenceJobs
    function reclaim(uint256 jobId) external {
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        address requester = job.requester;
        if (msg.sender != requester) revert NotRequester(jobId, msg.sender);
        if (block.timestamp <= job.deadline) revert DeadlineNotPassed(jobId, job.deadline);
        // A claim can only be expired here: leaseEnd <= deadline < now.
        if (job.status == JobStatus.Claimed) _settleExpired(jobId, _claims[jobId].claimant, requester);
        job.status = JobStatus.Reclaimed;
        uint96 fee = uint96(job.escrowOrOutput); // < 2^96 (checked at open)
        job.escrowOrOutput = 0;
        _accounts[requester].available += fee;
        emit JobReclaimed(jobId, requester, fee);
    }

    /// @inheritdoc IInferenceJobs
    function expireClaim(uint256 jobId) external {
        Claim memory c = _claims[jobId];
        if (c.claimant == address(0)) revert NoClaim(jobId);
        if (block.timestamp <= c.leaseEnd) revert LeaseNotEnded(jobId, c.leaseEnd);
        _settleExpired(jobId, c.claimant, _jobs[jobId].requester);
    }

    /// @inheritdoc IInferenceJobs
    function deposit() external payable {
        if (msg.value == 0) revert ZeroDeposit();
        if (msg.value > type(uint96).max) revert AmountTooLarge(msg.value);
        _accounts[msg.sender].available += uint96(msg.value); // checked above
        emit Deposited(msg.sender, msg.value);
    }

    /// @inheritdoc IInferenceJobs
    function withdraw() external returns (uint256 amount) {
        Account storage account = _accounts[msg.sender];
        amount = account.available;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        account.available = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    /// @inheritdoc IInferenceJobs
    function getJob(uint256 jobId) external view returns (Job memory job) {
        JobRecord storage r = _jobs[jobId];
        JobStatus status = r.status;
        if (status == JobStatus.None) revert JobNotFound(jobId);
        bool fulfilled = status == JobStatus.Fulfilled;
        return
            Job({
                requester: r.requester,
                deadline: r.deadline,
                modelId: r.modelId,
                modelVersion: r.modelVersion,
                status: status,
                callback: r.callback,
                inputCommitment: r.inputCommitment,
                escrow: fulfilled ? 0 : r.escrowOrOutput,
                output: fulfilled ? r.escrowOrOutput : 0
            });
    }

    /// @inheritdoc IInferenceJobs
    function resultOf(uint256 jobId) external view returns (bool fulfilled, uint256 output) {
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.None) revert JobNotFound(jobId);
        fulfilled = status == JobStatus.Fulfilled;
        output = fulfilled ? job.escrowOrOutput : 0;
    }

    /// @inheritdoc IInferenceJobs
    function claimOf(uint256 jobId) external view returns (Claim memory) {
        return _claims[jobId];
    }

    /// @inheritdoc IInferenceJobs
    function accountOf(address account) external view returns (Account memory) {
        return _accounts[account];
    }

    /// @inheritdoc IInferenceJobs
    function jobBinding(uint256 jobId, address prover) external view returns (uint256) {
        return PublicSignals.binding(address(this), jobId, prover);
    }

    /// @inheritdoc IInferenceJobs
    function verificationTargetOf(
        uint256 modelId,
        uint256 modelVersion
    ) external view returns (uint256 modelCommitment, address verifier) {
        Target storage t = _targets[modelId][modelVersion];
        return (t.modelCommitment, t.verifier);
    }

    /// @inheritdoc IInferenceJobs
    function nextJobId() external view returns (uint256) {
        return _nextJobId;
    }

    /// @inheritdoc IInferenceJobs
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IInferenceJobs
    function claimBond() external view returns (uint256) {
        return _claimBond;
    }

    /// @inheritdoc IInferenceJobs
    function leaseDuration() external view returns (uint256) {
        return _leaseDuration;
    }

    /// @inheritdoc IInferenceJobs
    function slashBps() external view returns (uint256) {
        return _slashBps;
    }

    /// @inheritdoc IInferenceJobs
    function callbackGasLimit() external view returns (uint256) {
        return _callbackGasLimit;
    }

    /// @dev Rebuilds every public signal but the output from storage (the pinned version) and `msg.sender`, and
    /// verifies through the pinned version's adapter. Reverts unless the proof verifies; an adapter revert (malformed
    /// proof) bubbles up. Equivalent to `IProofVerifier(verifier).verify(proof, [output, modelCommitment,
    /// inputCommitment, binding])`, ABI-encoded by hand to keep the submission under its gas target.
    function _verifyProof(uint256 jobId, JobRecord storage job, uint256 output, bytes calldata proof) private view {
        Target storage target = _targets[job.modelId][job.modelVersion];
        address verifier = target.verifier;
        uint256 modelCommitment = target.modelCommitment;
        uint256 inputCommitment = job.inputCommitment;
        uint256 binding = PublicSignals.binding(address(this), jobId, msg.sender);
        bytes4 selector = IProofVerifier.verify.selector;
        bool valid;
        // ABI-encodes verify(bytes proof, uint256[] signals) by hand, past the free memory pointer: the 4 signals are
        // written from the stack instead of building a memory array first, which keeps submitResult under the gas
        // target. A reverting adapter's error data is bubbled up unchanged.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := proof.length
            let padded := and(add(len, 31), not(31))
            mstore(ptr, selector)
            let args := add(ptr, 4)
            mstore(args, 0x40) // offset of `proof`
            mstore(add(args, 0x20), add(0x60, padded)) // offset of `publicSignals`
            mstore(add(args, 0x40), len)
            if padded {
                mstore(add(args, add(0x40, padded)), 0) // zero the padding of the last word
            }
            calldatacopy(add(args, 0x60), proof.offset, len)
            let sig := add(args, add(0x60, padded))
            mstore(sig, 4)
            mstore(add(sig, 0x20), output)
            mstore(add(sig, 0x40), modelCommitment)
            mstore(add(sig, 0x60), inputCommitment)
            mstore(add(sig, 0x80), binding)
            let ok := staticcall(gas(), verifier, ptr, add(sub(sig, ptr), 0xa0), 0, 0x20)
            if iszero(ok) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            valid := and(eq(returndatasize(), 0x20), eq(mload(0), 1))
        }
        if (!valid) revert InvalidProof(jobId);
    }

    /// @dev Records the result, pays the fee to `msg.sender` and settles the claim (released if `live`, which implies
    /// the claimant is `msg.sender`; slashed if it expired).
    function _settleFulfilled(
        uint256 jobId,
        JobRecord storage job,
        uint256 output,
        address claimant,
        bool live
    ) private {
        Account storage account = _accounts[msg.sender];
        uint96 fee = uint96(job.escrowOrOutput); // < 2^96 (checked at open)
        if (live) {
            uint96 bond = _claimBond;
            account.locked -= bond;
            account.available += uint128(fee) + bond;
            delete _claims[jobId];
        } else {
            // Settle an expired claim first: it resets the status to Open, which is overwritten just below.
            if (claimant != address(0)) _settleExpired(jobId, claimant, job.requester);
            account.available += fee;
        }
        job.status = JobStatus.Fulfilled;
        job.escrowOrOutput = output;
        emit JobFulfilled(jobId, msg.sender, output, fee);
    }

    /// @dev Settles a claim whose lease ended without delivery: slash to the requester, rest back, delete.
    function _settleExpired(uint256 jobId, address claimant, address requester) private {
        uint96 bond = _claimBond;
        uint96 slashed = uint96((uint256(bond) * _slashBps) / BPS); // <= bond since slashBps <= BPS
        uint96 returned = bond - slashed;
        Account storage account = _accounts[claimant];
        account.locked -= bond;
        account.available += returned;
        _accounts[requester].available += slashed;
        delete _claims[jobId];
        // Callers that settle the job right after overwrite this; claim() sets Claimed again.
        _jobs[jobId].status = JobStatus.Open;
        emit ClaimExpired(jobId, claimant, requester, slashed, returned);
    }

    /// @dev Calls the requester's `onInferenceResult` with exactly `_callbackGasLimit` gas, ignoring the outcome
    /// (no return data is copied, so a return-data bomb cannot cost the caller gas).
    function _callback(uint256 jobId, address requester, uint256 output) private {
        uint256 limit = _callbackGasLimit;
        // EIP-150: a CALL forwards at most 63/64 of the gas left; demand enough that the callee gets `limit`.
        uint256 required = limit + limit / 63 + CALLBACK_CALL_OVERHEAD;
        uint256 left = gasleft();
        if (left < required) revert InsufficientCallbackGas(jobId, left, required);
        bytes memory data = abi.encodeCall(IInferenceCallback.onInferenceResult, (jobId, output));
        bool ok;
        // A low-level call that copies no return data: a callee returning (or reverting with) a huge payload cannot
        // make settlement run out of gas ("return bomb").
        assembly ("memory-safe") {
            ok := call(limit, requester, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!ok) emit CallbackFailed(jobId, requester);
    }

    /// @dev The version a new job on `modelId` pins; reverts unless the model takes jobs. The registry reverts with
    /// `ModelNotFound` for an unknown model.
    function _pinModel(uint256 modelId) private view returns (uint16 version) {
        uint8 numSignals;
        bool deprecated;
        (version, numSignals, deprecated) = _registry.currentVersion(modelId);
        if (deprecated) revert DeprecatedModel(modelId);
        if (numSignals != PublicSignals.COUNT) revert UnsupportedModel(modelId, numSignals);
    }

    /// @dev Copies a version's verification target from the registry (reverts there if it has no verifier).
    function _cacheTarget(uint256 modelId, uint16 version) private {
        (uint256 modelCommitment, address verifier) = _registry.verificationTarget(modelId, version);
        _targets[modelId][version] = Target({modelCommitment: modelCommitment, verifier: verifier});
        emit VerificationTargetCached(modelId, version, modelCommitment, verifier);
    }

    /// @dev Reverts unless the job exists and is Open or Claimed.
    function _requireOpen(uint256 jobId, JobStatus status) private pure {
        if (status == JobStatus.None) revert JobNotFound(jobId);
        if (status != JobStatus.Open && status != JobStatus.Claimed) revert JobNotOpen(jobId, status);
    }
}
