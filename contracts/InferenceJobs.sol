// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "./interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "./interfaces/IInferenceCallback.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IGroth16BatchVerifier} from "./interfaces/IGroth16BatchVerifier.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";
import {VerifierCall} from "./libraries/VerifierCall.sol";
import {SignedPacking} from "./libraries/SignedPacking.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {TokenPull} from "./utils/TokenPull.sol";
import {OptimisticResults} from "./OptimisticResults.sol";

/// @title InferenceJobs
/// @notice Escrowed inference jobs paid for by a verified proof, or on optimistic jobs by a posted result that was
/// not successfully challenged (its rules run in the linked library `OptimisticResults`); optional claims with a
/// bonded lease.
/// Rules: docs/market-rules.md. Storage and gas: docs/contracts.md.
/// @dev Every function follows checks-effects-interactions strictly. The external calls are the registry and the
/// pinned snarkjs verifier (both `view`, so STATICCALL: they cannot re-enter a state change), the requester callback
/// (after all effects, fixed gas), the ETH transfer in `withdraw` (after zeroing the balance), and the fee token:
/// `balanceOf` (view), `transferFrom` at a token open (after every effect) and `transfer` in `withdrawToken` (after
/// zeroing the balance). The token functions alone also hold a transient lock (`tokenLock`): a token open measures
/// the market's balance before and after `transferFrom`, and another token open or withdrawal run from inside that
/// call would move the balance between the two reads (docs/market-rules.md, "Payment tokens"). The linked library
/// `OptimisticResults` runs by DELEGATECALL as part of this contract (its address is fixed at deployment) and makes no
/// external call; its effects come before the payout and the callback that follow it.
contract InferenceJobs is IInferenceJobs {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;
    /// @dev Gas reserved per callback on top of its allowance and the 1/64 the CALL keeps: the CALL itself (cold
    /// account access, memory, value-free) and the loop around it (reading the job, encoding the call).
    uint256 private constant CALLBACK_CALL_OVERHEAD = 10_000;
    /// @dev Bounds of `callbackGasLimit`: enough to store one word (a fresh SSTORE costs 22.1k), and far below any
    /// block gas limit so a callback job stays fulfillable.
    uint256 private constant MIN_CALLBACK_GAS = 25_000;
    uint256 private constant MAX_CALLBACK_GAS = 5_000_000;
    /// @dev While a job is open its escrow slot packs `fee` (low 96 bits) and, above it, `bounty` (ETH job) or the fee
    /// token's address (token job; its bounty, if any, is in `_tokenJobBounty`).
    uint256 private constant FEE_BITS = 96;
    uint256 private constant FEE_MASK = (1 << FEE_BITS) - 1;
    /// @dev `Layout.inputMode` values (docs/public-signals.md).
    uint8 private constant COMMITTED = 0;
    uint8 private constant PUBLIC = 1;
    /// @dev `JobRecord.flags` bits.
    uint8 private constant FLAG_CALLBACK = 1;
    uint8 private constant FLAG_PRIVATE = 2;
    /// @dev The fee is in an ERC-20 token, whose address is in the escrow slot above the fee.
    uint8 private constant FLAG_TOKEN = 4;
    /// @dev A token job whose `_tokenJobBounty` is non-zero (so settling a token job without slashes reads no more).
    uint8 private constant FLAG_BOUNTY = 8;
    /// @dev The posted result of an optimistic job is challenged by bond (the challenge is in `_optimistic.challenges`).
    /// `OptimisticResults.FLAG_OPTIMISTIC` (16) marks an optimistic job.
    uint8 private constant FLAG_CHALLENGED = OptimisticResults.FLAG_CHALLENGED;
    /// @dev `_checkSubmission` marks the (empty) claim it returns for a Posted job with this `deliveredAt`, so that
    /// settling a proven result needs no second read of the job's status (no stored claim has it: delivery times are
    /// block times, below 2^32 - 1 until 2106, and the claim returned for a Posted job has no claimant).
    uint32 private constant POSTED = type(uint32).max;
    /// @dev Most results `submitResults` settles in one call (bounds its loops and the verifier's memory).
    uint256 private constant MAX_BATCH_SIZE = 32;
    /// @dev `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)`: the only proof encoding a batch takes.
    uint256 private constant GROTH16_PROOF_BYTES = 256;

    IModelRegistry private immutable _registry;
    uint96 private immutable _claimBond;
    uint32 private immutable _leaseDuration;
    uint16 private immutable _slashBps;
    uint32 private immutable _callbackGasLimit;
    uint32 private immutable _openWindow;
    uint32 private immutable _deliveryWindow;
    /// @dev The optimistic parameters, packed as `OptimisticResults.Call` takes them: `claimBond | challengeBond << 96 |
    /// slashBps << 192` and `challengeWindow | proofWindow << 32 | openWindow << 64`.
    uint256 private immutable _optimisticBonds;
    uint256 private immutable _optimisticTimes;

    /// @dev A job in storage, 3 slots: [requester | deadline | modelId | modelVersion | status | flags],
    /// [inputCommitment], [fee | bounty << 96 (ETH job) or fee | token << 96 (token job) while Open -> output once
    /// Fulfilled (0 once Reclaimed)]. Reusing the escrow slot for the output saves a fresh 22.1k-gas SSTORE on every
    /// submission (the escrow is credited away at that moment); packing the token with the fee keeps a token job at
    /// 3 slots.
    struct JobRecord {
        address requester;
        uint32 deadline;
        uint32 modelId;
        uint16 modelVersion;
        JobStatus status;
        uint8 flags; // FLAG_CALLBACK | FLAG_PRIVATE | FLAG_TOKEN | FLAG_BOUNTY
        uint256 inputCommitment;
        uint256 escrowOrOutput;
    }

    /// @dev A model version's verification target, copied from the registry by the first job on it (3 slots:
    /// [modelCommitment], [verifier | selector | proofLength | inputMode | inputSignals | inputBits | inputCount],
    /// [verifierCodeHash]). Reading it here instead of calling the registry on every submission saves ~4k gas per
    /// submission.
    struct Target {
        uint256 modelCommitment;
        address verifier;
        bytes4 selector;
        uint16 proofLength;
        uint8 inputMode;
        uint8 inputSignals;
        uint8 inputBits;
        uint16 inputCount;
        bytes32 verifierCodeHash;
    }

    /// @dev What `submitResults` collects from its jobs before the batched check (memory only).
    struct Batch {
        address verifier;
        uint256 width;
        bytes data; // the calldata of verifyBatch(proofs, signals), filled in place
        Claim[] claims;
    }

    /// @dev Set while a token open or `withdrawToken` runs (EIP-1153 transient storage: cleared at the end of the call
    /// by `tokenLock`, and by the EVM at the end of the transaction whatever happens).
    /// A full word (1 while locked), so that setting it needs no read first (a packed bool would).
    uint256 private transient _tokenLocked;

    /// @dev Starts at 1 (so opening a job never writes a zero slot, and job id 0 is the standalone domain).
    uint256 private _nextJobId = 1;
    mapping(uint256 jobId => JobRecord) private _jobs;
    mapping(uint256 jobId => Claim) private _claims;
    mapping(address account => Account) private _accounts;
    mapping(uint256 modelId => mapping(uint256 modelVersion => Target)) private _targets;
    uint256 private _burned;
    /// @dev Packed public inputs 1..m-1 of public-mode jobs (word 0 is the job's `inputCommitment` slot).
    mapping(uint256 jobId => mapping(uint256 index => uint256 word)) private _inputWords;
    /// @dev Private jobs: the addresses that have claimed the job once (one claim per address per private job).
    mapping(uint256 jobId => mapping(address claimant => bool)) private _claimedOnce;
    /// @dev Private jobs: the only address the requester lets claim the job (zero: anyone).
    mapping(uint256 jobId => address claimant) private _designated;
    /// @dev Token accounts: fees earned and refunds of token jobs, withdrawn with `withdrawToken`.
    mapping(address token => mapping(address account => uint256 amount)) private _tokenBalances;
    /// @dev Token jobs: the ETH bounty (slashed bonds) while Open; written only by a slash (`FLAG_BOUNTY`).
    mapping(uint256 jobId => uint256 bounty) private _tokenJobBounty;
    /// @dev Optimistic results: posted outputs and bond challenges (a Posted job's poster is its claim's claimant, its
    /// window end the claim's `leaseEnd`).
    OptimisticResults.Store private _optimistic;

    /// @dev The functions that move tokens (token opens, `withdrawToken`) exclude each other for the whole call,
    /// so no token enters or leaves the market while a token open measures its balance.
    modifier tokenLock() {
        _lockTokens();
        _;
        _tokenLocked = 0;
    }

    /// @param registry_ The model registry (has code).
    /// @param claimBond_ The bond a claim locks (> 0, and its slash must not round to 0).
    /// @param leaseDuration_ The lease of a claim in seconds (> 0).
    /// @param slashBps_ The share of an expired claim's bond added to the job's bounty (1..10000).
    /// @param callbackGasLimit_ The gas given to a requester's result callback (25,000..5,000,000).
    /// @param openWindow_ The last seconds before every deadline in which no claim can be live (> 0).
    /// @param deliveryWindow_ Private jobs: the time to deliver after a claim and to decline a delivery
    /// (1..leaseDuration).
    /// @param challengeBond_ Optimistic results: the bond a challenge locks (> 0).
    /// @param challengeWindow_ Optimistic results: how long a posted result can be challenged (> 0).
    /// @param proofWindow_ Optimistic results: the poster's time to prove after a bond challenge (> 0).
    constructor(
        IModelRegistry registry_,
        uint96 claimBond_,
        uint32 leaseDuration_,
        uint16 slashBps_,
        uint32 callbackGasLimit_,
        uint32 openWindow_,
        uint32 deliveryWindow_,
        uint96 challengeBond_,
        uint32 challengeWindow_,
        uint32 proofWindow_
    ) {
        if (address(registry_).code.length == 0) {
            revert InvalidMarketParameter("registry", uint160(address(registry_)));
        }
        if (slashBps_ == 0 || slashBps_ > BPS) revert InvalidMarketParameter("slashBps", slashBps_);
        if ((uint256(claimBond_) * slashBps_) / BPS == 0) revert InvalidMarketParameter("claimBond", claimBond_);
        if (leaseDuration_ == 0) revert InvalidMarketParameter("leaseDuration", leaseDuration_);
        if (callbackGasLimit_ < MIN_CALLBACK_GAS || callbackGasLimit_ > MAX_CALLBACK_GAS) {
            revert InvalidMarketParameter("callbackGasLimit", callbackGasLimit_);
        }
        if (openWindow_ == 0) revert InvalidMarketParameter("openWindow", openWindow_);
        if (deliveryWindow_ == 0 || deliveryWindow_ > leaseDuration_) {
            revert InvalidMarketParameter("deliveryWindow", deliveryWindow_);
        }
        if (challengeBond_ == 0) revert InvalidMarketParameter("challengeBond", challengeBond_);
        if (challengeWindow_ == 0) revert InvalidMarketParameter("challengeWindow", challengeWindow_);
        if (proofWindow_ == 0) revert InvalidMarketParameter("proofWindow", proofWindow_);
        _registry = registry_;
        _claimBond = claimBond_;
        _leaseDuration = leaseDuration_;
        _slashBps = slashBps_;
        _callbackGasLimit = callbackGasLimit_;
        _openWindow = openWindow_;
        _deliveryWindow = deliveryWindow_;
        _optimisticBonds = claimBond_ | (uint256(challengeBond_) << 96) | (uint256(slashBps_) << 192);
        _optimisticTimes = challengeWindow_ | (uint256(proofWindow_) << 32) | (uint256(openWindow_) << 64);
    }

    /// @inheritdoc IInferenceJobs
    function openJob(
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId) {
        if (inputCommitment >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentNotInField(inputCommitment);
        (uint16 version, ) = _begin(msg.value, modelId, modelVersion, deadline, COMMITTED);
        jobId = _store(msg.value, modelId, version, inputCommitment, deadline, callback ? FLAG_CALLBACK : 0);
        emit JobOpened(jobId, msg.sender, modelId, version, inputCommitment, msg.value, deadline, callback, inputURI);
    }

    /// @inheritdoc IInferenceJobs
    function openTokenJob(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline,
        bool callback
    ) external tokenLock returns (uint256 jobId) {
        // ---- checks and effects (as openJob), then the fee pulled in _pullFee
        jobId = _openCommittedWithToken(token, fee, modelId, modelVersion, inputCommitment, deadline, callback, 0);
        emit JobOpened(
            jobId,
            msg.sender,
            modelId,
            uint16(modelVersion),
            inputCommitment,
            fee,
            deadline,
            callback,
            inputURI
        );
        _pullFee(jobId, token, fee);
    }

    /// @inheritdoc IInferenceJobs
    function openPrivateTokenJob(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback
    ) external tokenLock returns (uint256 jobId) {
        jobId = _openCommittedWithToken(
            token,
            fee,
            modelId,
            modelVersion,
            inputCommitment,
            deadline,
            callback,
            FLAG_PRIVATE
        );
        emit JobOpened(jobId, msg.sender, modelId, uint16(modelVersion), inputCommitment, fee, deadline, callback, "");
        _pullFee(jobId, token, fee);
    }

    /// @inheritdoc IInferenceJobs
    function openTokenJobWithInputs(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        int256[] calldata inputs,
        uint64 deadline,
        bool callback
    ) external tokenLock returns (uint256 jobId) {
        uint256 input0;
        (jobId, input0) = _openWithInputs(
            fee,
            _tokenEscrow(token, fee),
            modelId,
            modelVersion,
            inputs,
            deadline,
            callback,
            FLAG_TOKEN
        );
        emit JobOpened(jobId, msg.sender, modelId, uint16(modelVersion), input0, fee, deadline, callback, "");
        emit JobInputs(jobId, inputs);
        _pullFee(jobId, token, fee);
    }

    /// @inheritdoc IInferenceJobs
    function openPrivateJob(
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId) {
        if (inputCommitment >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentNotInField(inputCommitment);
        (uint16 version, ) = _begin(msg.value, modelId, modelVersion, deadline, COMMITTED);
        jobId = _store(
            msg.value,
            modelId,
            version,
            inputCommitment,
            deadline,
            FLAG_PRIVATE | (callback ? FLAG_CALLBACK : 0)
        );
        emit JobOpened(jobId, msg.sender, modelId, version, inputCommitment, msg.value, deadline, callback, "");
    }

    /// @inheritdoc IInferenceJobs
    function deliverInput(uint256 jobId, address claimant, bytes calldata ciphertext) external {
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        _requireOpen(jobId, status);
        if (job.flags & FLAG_PRIVATE == 0) revert NotPrivateJob(jobId);
        if (msg.sender != job.requester) revert NotRequester(jobId, msg.sender);
        Claim storage c = _claims[jobId];
        if (status != JobStatus.Claimed || block.timestamp > c.leaseEnd) revert NoLiveClaim(jobId);
        address current = c.claimant;
        if (current != claimant) revert ClaimantMismatch(jobId, claimant, current);
        if (c.deliveredAt != 0) revert InputAlreadyDelivered(jobId, current);
        // A full lease from the delivery: the claim was made no later than deadline - (deliveryWindow +
        // leaseDuration + openWindow) and delivered within deliveryWindow of it, so this ends before the deadline.
        uint256 leaseEnd = block.timestamp + _leaseDuration;
        c.deliveredAt = uint32(block.timestamp); // <= leaseEnd < 2^32
        c.leaseEnd = uint32(leaseEnd); // < deadline < 2^32
        emit InputDelivered(jobId, current, leaseEnd, ciphertext);
    }

    /// @inheritdoc IInferenceJobs
    function designateClaimant(uint256 jobId, address claimant) external {
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        if (job.flags & FLAG_PRIVATE == 0) revert NotPrivateJob(jobId);
        if (msg.sender != job.requester) revert NotRequester(jobId, msg.sender);
        _designated[jobId] = claimant;
        emit ClaimantDesignated(jobId, claimant);
    }

    /// @inheritdoc IInferenceJobs
    function releaseClaim(uint256 jobId) external {
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        _requireOpen(jobId, status);
        if (job.flags & FLAG_PRIVATE == 0) revert NotPrivateJob(jobId);
        Claim memory c = _claims[jobId];
        if (status != JobStatus.Claimed || block.timestamp > c.leaseEnd) revert NoLiveClaim(jobId);
        if (msg.sender != c.claimant) revert NotClaimant(jobId, msg.sender);
        if (c.deliveredAt != 0) {
            uint256 last = uint256(c.deliveredAt) + _deliveryWindow;
            if (block.timestamp > last) revert ReleaseWindowPassed(jobId, last);
        }
        uint96 bond = _claimBond;
        Account storage account = _accounts[msg.sender];
        account.locked -= bond;
        account.available += bond;
        delete _claims[jobId];
        job.status = JobStatus.Open;
        emit ClaimReleased(jobId, msg.sender, bond);
    }

    /// @inheritdoc IInferenceJobs
    function openJobWithInputs(
        uint256 modelId,
        uint256 modelVersion,
        int256[] calldata inputs,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId) {
        uint256 input0;
        (jobId, input0) = _openWithInputs(msg.value, msg.value, modelId, modelVersion, inputs, deadline, callback, 0);
        emit JobOpened(jobId, msg.sender, modelId, uint16(modelVersion), input0, msg.value, deadline, callback, "");
        emit JobInputs(jobId, inputs);
    }

    /// @inheritdoc IInferenceJobs
    function claim(uint256 jobId) external {
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        bool isPrivate = job.flags & FLAG_PRIVATE != 0;
        {
            // The latest lease end: a private claim's delivery opens a full lease up to deliveryWindow later.
            uint256 span = uint256(_leaseDuration) + _openWindow + (isPrivate ? _deliveryWindow : 0);
            uint256 deadline = job.deadline;
            if (block.timestamp + span > deadline) revert ClaimTooLate(jobId, deadline > span ? deadline - span : 0);
        }
        _requireVerifierIntact(job.modelId, job.modelVersion, _targets[job.modelId][job.modelVersion]);
        if (job.status == JobStatus.Claimed) {
            Claim memory previous = _claims[jobId];
            if (block.timestamp <= previous.leaseEnd) {
                revert JobAlreadyClaimed(jobId, previous.claimant, previous.leaseEnd);
            }
            _settleExpired(jobId, job, previous);
        }
        uint256 leaseEnd = block.timestamp + _leaseDuration;
        if (isPrivate) {
            // One claim per address: an undelivered or declined claim costs no bond, so it may not be repeated.
            if (_claimedOnce[jobId][msg.sender]) revert AlreadyClaimedOnce(jobId, msg.sender);
            // The requester may have named the one prover it delivers to (its answer to a griefer with many addresses).
            address designated = _designated[jobId];
            if (designated != address(0) && designated != msg.sender)
                revert NotDesignatedClaimant(jobId, designated, msg.sender);
            _claimedOnce[jobId][msg.sender] = true;
            // The claim first lasts the delivery window; a delivery gives it a full lease from then.
            leaseEnd = block.timestamp + _deliveryWindow;
        }
        uint96 bond = _claimBond;
        Account storage account = _accounts[msg.sender];
        if (account.available < bond) revert InsufficientStake(msg.sender, account.available, bond);
        account.available -= bond;
        account.locked += bond;
        _claims[jobId] = Claim({claimant: msg.sender, leaseEnd: uint32(leaseEnd), deliveredAt: 0}); // < deadline
        job.status = JobStatus.Claimed;
        emit JobClaimed(jobId, msg.sender, leaseEnd, bond);
    }

    /// @inheritdoc IInferenceJobs
    function submitResult(uint256 jobId, uint256 output, bytes calldata proof) external {
        // ---- checks
        JobRecord storage job = _jobs[jobId];
        (Claim memory c, bool live) = _checkSubmission(jobId, job, output);
        _verifyProof(jobId, job, output, proof);
        // ---- effects
        _settleFulfilled(jobId, job, output, msg.sender, c, live);
        // ---- interactions
        _callbackIfAsked(jobId, job, output);
    }

    /// @inheritdoc IInferenceJobs
    function submitResults(uint256[] calldata jobIds, uint256[] calldata outputs, bytes[] calldata proofs) external {
        uint256 n = jobIds.length;
        if (n == 0 || n > MAX_BATCH_SIZE) revert BatchSizeOutOfRange(n, MAX_BATCH_SIZE);
        if (outputs.length != n || proofs.length != n) revert BatchLengthMismatch(n, outputs.length, proofs.length);
        // ---- checks: every job as in submitResult, then one batched check of all proofs
        Claim[] memory claims = _checkBatch(jobIds, outputs, proofs);
        // ---- effects, then interactions
        _settleBatch(jobIds, outputs, claims);
    }

    /// @inheritdoc IInferenceJobs
    function reclaim(uint256 jobId) external {
        JobRecord storage job = _jobs[jobId];
        _requireOpen(jobId, job.status);
        address requester = job.requester;
        if (msg.sender != requester) revert NotRequester(jobId, msg.sender);
        if (block.timestamp <= job.deadline) revert DeadlineNotPassed(jobId, job.deadline);
        // A claim can only be expired here: leaseEnd < deadline < now.
        if (job.status == JobStatus.Claimed) _settleExpired(jobId, job, _claims[jobId]);
        job.status = JobStatus.Reclaimed;
        uint256 escrow = job.escrowOrOutput;
        uint256 fee = escrow & FEE_MASK;
        uint256 bounty;
        job.escrowOrOutput = 0;
        uint8 flags = job.flags;
        if (flags & FLAG_TOKEN == 0) {
            bounty = escrow >> FEE_BITS;
            _accounts[requester].available += uint128(fee); // < 2^96
        } else {
            _tokenBalances[address(uint160(escrow >> FEE_BITS))][requester] += fee;
            if (flags & FLAG_BOUNTY != 0) bounty = _takeTokenJobBounty(jobId);
        }
        if (bounty != 0) _burned += bounty;
        emit JobReclaimed(jobId, requester, fee, bounty);
    }

    /// @inheritdoc IInferenceJobs
    function expireClaim(uint256 jobId) external {
        Claim memory c = _claims[jobId];
        if (c.claimant == address(0)) revert NoClaim(jobId);
        JobRecord storage job = _jobs[jobId];
        // A Posted job's claim record is its poster's (docs/market-rules.md, "Optimistic results").
        if (job.status == JobStatus.Posted) revert JobNotOpen(jobId, JobStatus.Posted);
        if (block.timestamp <= c.leaseEnd) revert LeaseNotEnded(jobId, c.leaseEnd);
        _settleExpired(jobId, job, c);
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
    function withdrawToken(address token) external tokenLock returns (uint256 amount) {
        mapping(address => uint256) storage balances = _tokenBalances[token];
        amount = balances[msg.sender];
        if (amount == 0) revert NothingToWithdrawInToken(msg.sender, token);
        balances[msg.sender] = 0;
        emit TokenWithdrawn(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IInferenceJobs
    function tokenBalanceOf(address account, address token) external view returns (uint256) {
        return _tokenBalances[token][account];
    }

    /// @inheritdoc IInferenceJobs
    function feeTokenOf(uint256 jobId) external view returns (address) {
        JobRecord storage job = _jobs[jobId];
        if (job.status != JobStatus.Posted) _requireOpen(jobId, job.status);
        return job.flags & FLAG_TOKEN == 0 ? address(0) : address(uint160(job.escrowOrOutput >> FEE_BITS));
    }

    /// @inheritdoc IInferenceJobs
    function getJob(uint256 jobId) external view returns (Job memory job) {
        JobRecord storage r = _jobs[jobId];
        JobStatus status = r.status;
        if (status == JobStatus.None) revert JobNotFound(jobId);
        bool fulfilled = status == JobStatus.Fulfilled;
        uint256 escrow = fulfilled ? 0 : r.escrowOrOutput;
        uint256 bounty = escrow >> FEE_BITS;
        if (r.flags & FLAG_TOKEN != 0) bounty = r.flags & FLAG_BOUNTY != 0 ? _tokenJobBounty[jobId] : 0;
        return
            Job({
                requester: r.requester,
                deadline: r.deadline,
                modelId: r.modelId,
                modelVersion: r.modelVersion,
                status: status,
                callback: r.flags & FLAG_CALLBACK != 0,
                privateInput: r.flags & FLAG_PRIVATE != 0,
                inputCommitment: r.inputCommitment,
                escrow: escrow & FEE_MASK,
                bounty: bounty,
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
    function valuesOf(uint256 jobId) external view returns (bool fulfilled, int256[] memory values, uint8 frac) {
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.None) revert JobNotFound(jobId);
        IModelRegistry.Layout memory layout = _registry.layoutOf(job.modelId, job.modelVersion);
        if (layout.outputHead != 1) revert NotAValuesModel(job.modelId, job.modelVersion);
        fulfilled = status == JobStatus.Fulfilled;
        values =
            fulfilled
                ? SignedPacking.unpack(job.escrowOrOutput, layout.outputCount, layout.outputBits)
                : new int256[](0);
        frac = layout.outputFrac;
    }

    /// @inheritdoc IInferenceJobs
    function inputSignalsOf(uint256 jobId) external view returns (uint256[] memory words) {
        JobRecord storage job = _jobs[jobId];
        if (job.status == JobStatus.None) revert JobNotFound(jobId);
        Target storage target = _targets[job.modelId][job.modelVersion];
        words = new uint256[](target.inputSignals);
        words[0] = job.inputCommitment;
        for (uint256 i = 1; i < words.length; ++i) words[i] = _inputWords[jobId][i]; // < 16 (registry)
    }

    /// @inheritdoc IInferenceJobs
    function claimOf(uint256 jobId) external view returns (Claim memory) {
        return _claims[jobId];
    }

    /// @inheritdoc IInferenceJobs
    function claimedOnce(uint256 jobId, address account) external view returns (bool) {
        return _claimedOnce[jobId][account];
    }

    /// @inheritdoc IInferenceJobs
    function designatedClaimant(uint256 jobId) external view returns (address) {
        return _designated[jobId];
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
    ) external view returns (PinnedTarget memory target) {
        Target storage t = _targets[modelId][modelVersion];
        return
            PinnedTarget({
                modelCommitment: t.modelCommitment,
                verifier: t.verifier,
                selector: t.selector,
                proofLength: t.proofLength,
                inputMode: t.inputMode,
                inputSignals: t.inputSignals,
                inputBits: t.inputBits,
                inputCount: t.inputCount,
                verifierCodeHash: t.verifierCodeHash
            });
    }

    /// @inheritdoc IInferenceJobs
    function maxBatchSize() external pure returns (uint256) {
        return MAX_BATCH_SIZE;
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

    /// @inheritdoc IInferenceJobs
    function openWindow() external view returns (uint256) {
        return _openWindow;
    }

    /// @inheritdoc IInferenceJobs
    function deliveryWindow() external view returns (uint256) {
        return _deliveryWindow;
    }

    /// @inheritdoc IInferenceJobs
    function burned() external view returns (uint256) {
        return _burned;
    }

    /// @dev Rebuilds every public signal but the output from storage (the pinned version) and `msg.sender`, checks
    /// that the pinned verifier's code is the registered code, and calls it directly. Reverts unless the proof
    /// verifies.
    function _verifyProof(uint256 jobId, JobRecord storage job, uint256 output, bytes calldata proof) private view {
        Target storage target = _targets[job.modelId][job.modelVersion];
        if (proof.length != target.proofLength) revert InvalidProofLength(target.proofLength, proof.length);
        address verifier = _requireVerifierIntact(job.modelId, job.modelVersion, target);
        uint256 binding = PublicSignals.binding(address(this), jobId, msg.sender);
        if (target.inputSignals != 1) {
            if (!_verifyMany(jobId, job, target, verifier, output, proof, binding)) revert InvalidProof(jobId);
            return;
        }
        if (
            !VerifierCall.verify4(
                verifier,
                target.selector,
                proof,
                output,
                target.modelCommitment,
                job.inputCommitment,
                binding
            )
        ) revert InvalidProof(jobId);
    }

    /// @dev The general case of `_verifyProof`: `[output, modelCommitment, input[0..m-1], binding]` with m > 1.
    function _verifyMany(
        uint256 jobId,
        JobRecord storage job,
        Target storage target,
        address verifier,
        uint256 output,
        bytes calldata proof,
        uint256 binding
    ) private view returns (bool) {
        uint256 m = target.inputSignals;
        uint256[] memory signals = new uint256[](m + 3);
        signals[0] = output;
        signals[1] = target.modelCommitment;
        signals[2] = job.inputCommitment;
        for (uint256 i = 1; i < m; ++i) signals[2 + i] = _inputWords[jobId][i]; // m <= 16 (registry)
        signals[m + 2] = binding;
        return VerifierCall.verify(verifier, target.selector, proof, signals);
    }

    /// @dev The checks `submitResult` makes before verifying: the job is Open or Claimed, its deadline has not passed,
    /// the output is below r and nobody else holds a live claim. Returns the claim (read only when there is one,
    /// which saves a cold SLOAD on unclaimed jobs) and whether it is live (then its claimant is `msg.sender`).
    function _checkSubmission(
        uint256 jobId,
        JobRecord storage job,
        uint256 output
    ) private view returns (Claim memory c, bool live) {
        JobStatus status = job.status;
        bool posted;
        if (status != JobStatus.Open && status != JobStatus.Claimed) {
            posted = status == JobStatus.Posted;
            if (!posted) _requireOpen(jobId, status); // reverts: an unknown or settled job
        }
        if (block.timestamp > job.deadline) revert DeadlinePassed(jobId, job.deadline);
        if (output >= PublicSignals.SNARK_SCALAR_FIELD) revert OutputNotInField(output);
        if (posted) {
            // A posted result is disputable within its window, or until the deadline once challenged by bond.
            if (job.flags & FLAG_CHALLENGED == 0) {
                uint256 windowEnd = _claims[jobId].leaseEnd;
                if (block.timestamp > windowEnd) revert ChallengeWindowClosed(jobId, windowEnd);
            }
            c.deliveredAt = POSTED; // no claimant, not live: only `_settleFulfilled` looks at the mark
            return (c, false);
        }
        if (status == JobStatus.Claimed) c = _claims[jobId];
        live = c.claimant != address(0) && block.timestamp <= c.leaseEnd;
        if (live && c.claimant != msg.sender) revert JobAlreadyClaimed(jobId, c.claimant, c.leaseEnd);
    }

    /// @dev All checks of `submitResults`: each job's (`_collectBatch`), then the batched proof check.
    function _checkBatch(
        uint256[] calldata jobIds,
        uint256[] calldata outputs,
        bytes[] calldata proofs
    ) private view returns (Claim[] memory claims) {
        Batch memory b = _collectBatch(jobIds, outputs, proofs);
        _verifyBatch(b.verifier, jobIds[0], jobIds.length, b.data);
        return b.claims;
    }

    /// @dev Effects then interactions of `submitResults`: each job settles as if submitted alone (the ids are
    /// strictly increasing, so each job once), then the callbacks run, after every effect.
    function _settleBatch(uint256[] calldata jobIds, uint256[] calldata outputs, Claim[] memory claims) private {
        uint256 n = jobIds.length;
        for (uint256 i; i < n; ++i) {
            // n <= MAX_BATCH_SIZE
            Claim memory c = claims[i];
            bool live = c.claimant != address(0) && block.timestamp <= c.leaseEnd;
            _settleFulfilled(jobIds[i], _jobs[jobIds[i]], outputs[i], msg.sender, c, live);
        }
        // Every callback's allowance is reserved before the first one runs: a callback that burns all of its gas
        // cannot leave a later one short and revert the batch.
        uint256 callbacks;
        for (uint256 i; i < n; ++i) {
            // n <= MAX_BATCH_SIZE
            if (_jobs[jobIds[i]].flags & FLAG_CALLBACK != 0) ++callbacks;
        }
        if (callbacks == 0) return;
        _requireCallbackGas(jobIds[0], callbacks);
        for (uint256 i; i < n; ++i) {
            // n <= MAX_BATCH_SIZE
            JobRecord storage job = _jobs[jobIds[i]];
            if (job.flags & FLAG_CALLBACK != 0) _callback(jobIds[i], job.requester, outputs[i]);
        }
    }

    /// @dev Checks every job of a batch (`_checkSubmission`, strictly increasing ids, one shared intact Groth16
    /// verifier and signal count) and writes what the batch verifier checks straight into the calldata of
    /// `verifyBatch(uint256[] proofs, uint256[] signals)`: the 8 words of each proof and the rebuilt public signals of
    /// each job, `[output, modelCommitment, input[0..m-1], binding(jobId, msg.sender)]`.
    function _collectBatch(
        uint256[] calldata jobIds,
        uint256[] calldata outputs,
        bytes[] calldata proofs
    ) private view returns (Batch memory b) {
        uint256 n = jobIds.length;
        b.claims = new Claim[](n);
        uint256 pinned; // (modelId << 16 | version) + 1 of the last target checked: consecutive jobs share it
        for (uint256 i; i < n; ++i) {
            // n <= MAX_BATCH_SIZE
            uint256 jobId = jobIds[i];
            if (i != 0 && jobId <= jobIds[i - 1]) revert JobIdsNotIncreasing(i, jobIds[i - 1], jobId);
            JobRecord storage job = _jobs[jobId];
            (b.claims[i], ) = _checkSubmission(jobId, job, outputs[i]);
            uint256 key = ((uint256(job.modelId) << 16) | job.modelVersion) + 1;
            if (key != pinned) {
                pinned = key;
                Target storage target = _batchTarget(job);
                uint256 width = uint256(target.inputSignals) + 3;
                if (i == 0) {
                    b.verifier = target.verifier;
                    b.width = width;
                    b.data = _batchCalldata(n, width);
                } else if (target.verifier != b.verifier || width != b.width) {
                    revert BatchVerifierMismatch(jobId, b.verifier, target.verifier);
                }
            }
            _copyProof(b.data, i, proofs[i]);
            _batchSignals(b.data, 0xa4 + 0x100 * n + 0x20 * (i * b.width), jobId, outputs[i]);
        }
    }

    /// @dev A batch job's pinned target: a Groth16 version whose verifier code is the registered code.
    function _batchTarget(JobRecord storage job) private view returns (Target storage target) {
        uint256 modelId = job.modelId;
        uint256 version = job.modelVersion;
        target = _targets[modelId][version];
        if (target.proofLength != GROTH16_PROOF_BYTES) revert BatchNotSupported(modelId, version);
        _requireVerifierIntact(modelId, version, target);
    }

    /// @dev The calldata of `verifyBatch` for n proofs of `width` signals, heads and lengths written: selector (4),
    /// two offsets (0x40), 8n proof words at 0x64 after their length, then the signals' length and width*n words.
    function _batchCalldata(uint256 n, uint256 width) private pure returns (bytes memory data) {
        uint256 words = 8 * n;
        data = new bytes(4 + 0x60 + 0x20 * words + 0x20 + 0x20 * width * n);
        bytes4 selector = IGroth16BatchVerifier.verifyBatch.selector;
        assembly ("memory-safe") {
            let p := add(data, 0x20)
            mstore(p, selector)
            mstore(add(p, 0x04), 0x40)
            mstore(add(p, 0x24), add(0x60, mul(words, 0x20)))
            mstore(add(p, 0x44), words)
            mstore(add(p, add(0x64, mul(words, 0x20))), mul(width, n))
        }
    }

    /// @dev Copies a 256-byte proof into proof words `[8i, 8i + 8)` of the `verifyBatch` calldata.
    function _copyProof(bytes memory data, uint256 i, bytes calldata proof) private pure {
        if (proof.length != GROTH16_PROOF_BYTES) revert InvalidProofLength(GROTH16_PROOF_BYTES, proof.length);
        assembly ("memory-safe") {
            calldatacopy(add(add(data, 0x84), mul(i, 256)), proof.offset, 256)
        }
    }

    /// @dev Writes one job's public signals at byte `at` of the `verifyBatch` calldata (after its 32-byte length
    /// prefix), rebuilt as `_verifyProof` does.
    function _batchSignals(bytes memory data, uint256 at, uint256 jobId, uint256 output) private view {
        JobRecord storage job = _jobs[jobId];
        Target storage target = _targets[job.modelId][job.modelVersion];
        uint256 m = target.inputSignals;
        uint256 commitment = target.modelCommitment;
        uint256 input0 = job.inputCommitment;
        uint256 binding = PublicSignals.binding(address(this), jobId, msg.sender);
        assembly ("memory-safe") {
            let p := add(data, at)
            mstore(p, output)
            mstore(add(p, 0x20), commitment)
            mstore(add(p, 0x40), input0)
            mstore(add(p, mul(add(m, 2), 0x20)), binding)
        }
        for (uint256 k = 1; k < m; ++k) {
            // m <= 16 (registry)
            uint256 word = _inputWords[jobId][k];
            assembly ("memory-safe") {
                mstore(add(data, add(at, mul(add(k, 2), 0x20))), word)
            }
        }
    }

    /// @dev Calls the pinned verifier's `verifyBatch` with the calldata `_collectBatch` built (the generated batch
    /// verifier, docs/contracts.md "Batch settlement"). Reverts `BatchVerifierUnavailable` if the call fails or
    /// returns anything but one word (a plain snarkjs verifier has no `verifyBatch`), `InvalidBatchProof` if it
    /// returns anything but true.
    function _verifyBatch(address verifier, uint256 firstJobId, uint256 n, bytes memory data) private view {
        bool ok;
        uint256 size;
        uint256 result;
        // Copies at most one word of return data (no return bomb).
        assembly ("memory-safe") {
            ok := staticcall(gas(), verifier, add(data, 0x20), mload(data), 0, 0x20)
            size := returndatasize()
            result := mload(0)
        }
        if (!ok || size != 0x20) revert BatchVerifierUnavailable(verifier);
        if (result != 1) revert InvalidBatchProof(firstJobId, n);
    }

    /// @dev Checks fee and deadline, pins the model's current version, which must be the requester's `expected` one,
    /// and checks its input mode. Returns the version and its cached target.
    function _begin(
        uint256 fee,
        uint256 modelId,
        uint256 expected,
        uint64 deadline,
        uint8 mode
    ) private returns (uint16 version, Target storage target) {
        if (fee == 0) revert ZeroFee();
        if (fee > type(uint96).max) revert AmountTooLarge(fee);
        if (deadline <= block.timestamp || deadline > type(uint32).max) {
            revert InvalidDeadline(deadline, block.timestamp);
        }
        version = _pinModel(modelId, expected);
        target = _targets[modelId][version];
        if (target.inputMode != mode) revert InputModeMismatch(modelId, version, target.inputMode);
    }

    /// @dev Writes a new job with its first input word (the commitment, or the first packed public word) and its
    /// escrow word (the fee, and the fee token's address above it for a token job).
    function _store(
        uint256 escrow,
        uint256 modelId,
        uint16 version,
        uint256 inputWord,
        uint64 deadline,
        uint8 flags
    ) private returns (uint256 jobId) {
        jobId = _nextJobId++;
        JobRecord storage job = _jobs[jobId];
        job.requester = msg.sender;
        job.deadline = uint32(deadline); // checked in _begin
        job.modelId = uint32(modelId); // the registry's ids are uint32 (its counter is uint32)
        job.modelVersion = version;
        job.status = JobStatus.Open;
        job.flags = flags;
        job.inputCommitment = inputWord;
        job.escrowOrOutput = escrow;
    }

    /// @dev Checks and effects of `openTokenJob` and `openPrivateTokenJob` (`extraFlags`: FLAG_PRIVATE or 0).
    function _openCommittedWithToken(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback,
        uint8 extraFlags
    ) private returns (uint256 jobId) {
        if (inputCommitment >= PublicSignals.SNARK_SCALAR_FIELD) revert InputCommitmentNotInField(inputCommitment);
        uint256 escrow = _tokenEscrow(token, fee);
        (uint16 version, ) = _begin(fee, modelId, modelVersion, deadline, COMMITTED);
        uint8 flags = FLAG_TOKEN | extraFlags | (callback ? FLAG_CALLBACK : 0);
        jobId = _store(escrow, modelId, version, inputCommitment, deadline, flags);
    }

    /// @dev Checks and effects of `openJobWithInputs` and `openTokenJobWithInputs`: packs the values, writes the job
    /// and its further input words. Returns the job id and its first input word.
    function _openWithInputs(
        uint256 fee,
        uint256 escrow,
        uint256 modelId,
        uint256 modelVersion,
        int256[] calldata inputs,
        uint64 deadline,
        bool callback,
        uint8 extraFlags
    ) private returns (uint256 jobId, uint256 input0) {
        (uint16 version, Target storage target) = _begin(fee, modelId, modelVersion, deadline, PUBLIC);
        uint256[] memory words = _packInputs(target, inputs);
        input0 = words[0];
        jobId = _store(escrow, modelId, version, input0, deadline, extraFlags | (callback ? FLAG_CALLBACK : 0));
        for (uint256 i = 1; i < words.length; ++i) _inputWords[jobId][i] = words[i]; // < 16 words (registry)
    }

    /// @dev The escrow word of a token job (`fee | token << 96`); reverts unless `token` has code (`fee` is checked in
    /// `_begin`).
    function _tokenEscrow(address token, uint256 fee) private view returns (uint256) {
        if (token.code.length == 0) revert FeeTokenNotContract(token);
        return fee | (uint256(uint160(token)) << FEE_BITS);
    }

    /// @dev The interaction of a token open, after every check and effect: pulls `fee` of `token` from the caller
    /// (`SafeERC20`: a token returning false is refused, one returning nothing is accepted if it does not revert) and
    /// reverts, undoing the job, unless the market's balance grew by exactly `fee`. The caller holds the lock, so no
    /// other token open or withdrawal can run inside `transferFrom` and move the balance between the two reads.
    function _pullFee(uint256 jobId, address token, uint256 fee) private {
        emit JobFeeToken(jobId, token, fee);
        uint256 received = TokenPull.pull(token, msg.sender, fee);
        if (received != fee) revert FeeNotReceived(token, fee, received);
    }

    /// @dev The entry half of `tokenLock` (a function, so the four functions that use it share its code).
    function _lockTokens() private {
        if (_tokenLocked != 0) revert TokenCallReentered();
        _tokenLocked = 1;
    }

    /// @dev Takes a token job's ETH bounty out of `_tokenJobBounty` (its caller settles the job).
    function _takeTokenJobBounty(uint256 jobId) private returns (uint256 bounty) {
        bounty = _tokenJobBounty[jobId];
        delete _tokenJobBounty[jobId];
    }

    /// @dev Packs public input values as the circuit does (`SignedPacking`): offset by 2^(bits-1), floor(248/bits)
    /// per word, little-endian. Reverts naming the index of a value outside the version's signed input range.
    function _packInputs(
        Target storage target,
        int256[] calldata inputs
    ) private view returns (uint256[] memory words) {
        uint256 count = target.inputCount;
        if (inputs.length != count) revert InputCountMismatch(count, inputs.length);
        uint256 bits = target.inputBits;
        uint256 per = SignedPacking.perWord(bits);
        int256 half = int256(1 << (bits - 1));
        words = new uint256[](target.inputSignals);
        for (uint256 i; i < count; ++i) {
            // count <= 16 words of values: bounded by the version's layout
            int256 v = inputs[i];
            if (v < -half || v >= half) revert InputOutOfRange(i, v, bits);
            words[i / per] |= uint256(v + half) << ((i % per) * bits);
        }
    }

    /// @dev Settles a job for a verified result of `msg.sender` (`_pay`). On a Posted job the library first settles the
    /// dispute and names the payee: the poster if `output` is the posted output, else `msg.sender` (docs/market-rules.md,
    /// "Optimistic results").
    function _settleFulfilled(
        uint256 jobId,
        JobRecord storage job,
        uint256 output,
        address payee,
        Claim memory c,
        bool live
    ) private {
        // A posted result (c is empty): the poster is paid if `output` is its output, else it is slashed.
        if (c.deliveredAt == POSTED) (payee, live) = _optimisticCall(OptimisticResults.OP_SETTLE, jobId, output);
        Account storage account = _accounts[payee];
        if (live) {
            uint96 bond = _claimBond;
            account.locked -= bond;
            account.available += bond;
            delete _claims[jobId];
        } else if (c.claimant != address(0)) {
            // Settle an expired claim first: its slash joins the bounty paid below; the status it resets to Open is
            // overwritten just below.
            _settleExpired(jobId, job, c);
        }
        uint256 escrow = job.escrowOrOutput;
        uint256 fee = escrow & FEE_MASK;
        uint256 bounty;
        uint8 flags = job.flags;
        if (flags & FLAG_TOKEN == 0) {
            bounty = escrow >> FEE_BITS;
            account.available += uint128(fee + bounty); // bounded by the ETH the contract holds
        } else {
            _tokenBalances[address(uint160(escrow >> FEE_BITS))][payee] += fee;
            if (flags & FLAG_BOUNTY != 0) {
                bounty = _takeTokenJobBounty(jobId);
                account.available += uint128(bounty); // bounded by the ETH the contract holds
            }
        }
        job.status = JobStatus.Fulfilled;
        job.escrowOrOutput = output;
        emit JobFulfilled(jobId, payee, output, fee, bounty);
    }

    /// @dev Settles a claim whose lease ended without delivery: the slash joins the job's bounty (paid to whoever
    /// delivers, burned on reclaim; never the requester's), the rest goes back to the claimant. If the pinned
    /// verifier's code changed nobody could deliver, and a private job's claimant that never got its input could not
    /// prove: nothing is slashed.
    function _settleExpired(uint256 jobId, JobRecord storage job, Claim memory c) private {
        uint96 bond = _claimBond;
        address claimant = c.claimant;
        Target storage target = _targets[job.modelId][job.modelVersion];
        bool undelivered = job.flags & FLAG_PRIVATE != 0 && c.deliveredAt == 0;
        uint96 slashed =
            !undelivered && target.verifier.codehash == target.verifierCodeHash
                ? uint96((uint256(bond) * _slashBps) / BPS) // <= bond since slashBps <= BPS
                : 0;
        uint96 returned = bond - slashed;
        Account storage account = _accounts[claimant];
        account.locked -= bond;
        account.available += returned;
        _addBounty(jobId, job, slashed);
        delete _claims[jobId];
        // Callers that settle the job right after overwrite this; claim() sets Claimed again.
        job.status = JobStatus.Open;
        emit ClaimExpired(jobId, claimant, slashed, returned);
    }

    /// @dev Adds a slash to the job's bounty: above the fee in an ETH job's escrow slot, beside the job for a token job
    /// (whose escrow slot holds the token above the fee).
    function _addBounty(uint256 jobId, JobRecord storage job, uint256 slashed) private {
        if (job.flags & FLAG_TOKEN == 0) {
            job.escrowOrOutput += slashed << FEE_BITS;
        } else if (slashed != 0) {
            _tokenJobBounty[jobId] += slashed;
            job.flags |= FLAG_BOUNTY;
        }
    }

    /// @dev Runs the requester's callback if it asked for one, with its full allowance reserved first.
    function _callbackIfAsked(uint256 jobId, JobRecord storage job, uint256 output) private {
        if (job.flags & FLAG_CALLBACK != 0) {
            _requireCallbackGas(jobId, 1);
            _callback(jobId, job.requester, output);
        }
    }

    /// @dev Reverts with `InsufficientCallbackGas` unless the gas left covers `count` callbacks, each with its full
    /// allowance. EIP-150: a CALL forwards at most 63/64 of the gas left, so each needs `limit + limit / 63` plus the
    /// call's own cost; every callback uses at most its allowance, so each one finds its reserve intact.
    function _requireCallbackGas(uint256 jobId, uint256 count) private view {
        uint256 limit = _callbackGasLimit;
        uint256 required = count * (limit + limit / 63 + CALLBACK_CALL_OVERHEAD);
        uint256 left = gasleft();
        if (left < required) revert InsufficientCallbackGas(jobId, left, required);
    }

    /// @dev Calls the requester's `onInferenceResult` with exactly `_callbackGasLimit` gas (reserved beforehand by
    /// `_requireCallbackGas`), ignoring the outcome (no return data is copied, so a return-data bomb cannot cost the
    /// caller gas).
    function _callback(uint256 jobId, address requester, uint256 output) private {
        uint256 limit = _callbackGasLimit;
        bytes memory data = abi.encodeCall(IInferenceCallback.onInferenceResult, (jobId, output));
        bool ok;
        // A low-level call that copies no return data: a callee returning (or reverting with) a huge payload cannot
        // make settlement run out of gas ("return bomb").
        assembly ("memory-safe") {
            ok := call(limit, requester, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!ok) emit CallbackFailed(jobId, requester);
    }

    /// @dev The version a new job on `modelId` pins; reverts unless the model takes jobs and its verifier code is the
    /// registered code. Caches the version's target on its first job. The registry reverts with `ModelNotFound` for
    /// an unknown model.
    function _pinModel(uint256 modelId, uint256 expected) private returns (uint16 version) {
        uint8 numSignals;
        bool deprecated;
        (version, numSignals, deprecated) = _registry.currentVersion(modelId);
        if (version != expected) revert ModelVersionMismatch(modelId, expected, version);
        if (deprecated) revert DeprecatedModel(modelId);
        if (numSignals == 0) revert UnsupportedModel(modelId, numSignals); // commitment only: no verifier
        Target storage target = _targets[modelId][version];
        if (target.verifier == address(0)) _cacheTarget(modelId, version);
        _requireVerifierIntact(modelId, version, target);
    }

    /// @dev Copies a version's verification target from the registry (reverts there if it has no verifier).
    function _cacheTarget(uint256 modelId, uint16 version) private {
        IModelRegistry.VerificationTarget memory t = _registry.verificationTarget(modelId, version);
        _targets[modelId][version] = Target({
            modelCommitment: t.modelCommitment,
            verifier: t.verifier,
            selector: t.selector,
            proofLength: t.proofLength,
            inputMode: t.layout.inputMode,
            inputSignals: t.numPublicSignals - 3, // the registry checked numPublicSignals == 3 + input signals
            inputBits: t.layout.inputBits,
            inputCount: t.layout.inputCount,
            verifierCodeHash: t.verifierCodeHash
        });
        emit VerificationTargetCached(modelId, version, t.modelCommitment, t.verifier, t.verifierCodeHash);
    }

    /// @dev Reverts with `VerifierCodeChanged` unless the pinned verifier's code is the code recorded at registration
    /// (a verifier that self-destructed in its creation transaction and was redeployed with other code).
    function _requireVerifierIntact(
        uint256 modelId,
        uint256 version,
        Target storage target
    ) private view returns (address verifier) {
        verifier = target.verifier;
        bytes32 recorded = target.verifierCodeHash;
        bytes32 actual = verifier.codehash;
        if (actual != recorded) revert VerifierCodeChanged(modelId, version, recorded, actual);
    }

    /// @dev Reverts unless the job exists and is Open or Claimed.
    function _requireOpen(uint256 jobId, JobStatus status) private pure {
        if (status == JobStatus.None) revert JobNotFound(jobId);
        if (status != JobStatus.Open && status != JobStatus.Claimed) revert JobNotOpen(jobId, status);
    }

    // ---- Optimistic results (docs/market-rules.md, "Optimistic results"): the rules run in the linked library
    // `OptimisticResults` on this contract's storage; payouts and callbacks stay here.

    /// @inheritdoc IInferenceJobs
    function setOptimistic(uint256 jobId) external {
        _optimisticCall(OptimisticResults.OP_SET, jobId, 0);
    }

    /// @inheritdoc IInferenceJobs
    function postResult(uint256 jobId, uint256 output) external {
        _optimisticCall(OptimisticResults.OP_POST, jobId, output);
    }

    /// @inheritdoc IInferenceJobs
    function challengeResult(uint256 jobId) external {
        _optimisticCall(OptimisticResults.OP_CHALLENGE, jobId, 0);
    }

    /// @inheritdoc IInferenceJobs
    function expireChallenge(uint256 jobId) external {
        _optimisticCall(OptimisticResults.OP_EXPIRE, jobId, 0);
    }

    /// @inheritdoc IInferenceJobs
    function finalizeResult(uint256 jobId) external {
        // ---- checks (here, not in the library: this is the path every unchallenged result takes)
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status != JobStatus.Posted) revert ResultNotPosted(jobId, status);
        if (job.flags & FLAG_CHALLENGED != 0) {
            OptimisticResults.Challenge memory ch = _optimistic.challenges[jobId];
            revert ResultUnderChallenge(jobId, ch.challenger, ch.proofDeadline);
        }
        Claim memory post = _claims[jobId]; // the poster and the window's end
        if (block.timestamp <= post.leaseEnd) revert ChallengeWindowOpen(jobId, post.leaseEnd);
        // ---- effects: paid as a proof of the posted output is paid (the poster, its bond released)
        uint256 output = _optimistic.postedOutputs[jobId];
        delete _optimistic.postedOutputs[jobId];
        _settleFulfilled(jobId, job, output, post.claimant, post, true);
        // ---- interactions
        _callbackIfAsked(jobId, job, output);
    }

    /// @inheritdoc IInferenceJobs
    function optimisticStateOf(uint256 jobId) external view returns (OptimisticState memory state) {
        JobRecord storage job = _jobs[jobId];
        JobStatus status = job.status;
        if (status == JobStatus.None) revert JobNotFound(jobId);
        state.optimistic = job.flags & OptimisticResults.FLAG_OPTIMISTIC != 0;
        if (status == JobStatus.Posted) {
            Claim storage c = _claims[jobId];
            state.poster = c.claimant;
            state.windowEnd = c.leaseEnd;
            state.output = _optimistic.postedOutputs[jobId];
            OptimisticResults.Challenge storage ch = _optimistic.challenges[jobId];
            state.challenger = ch.challenger;
            state.proofDeadline = ch.proofDeadline;
        }
    }

    /// @inheritdoc IInferenceJobs
    function optimisticParameters()
        external
        view
        returns (uint256 challengeBond, uint256 challengeWindow, uint256 proofWindow)
    {
        uint256 times = _optimisticTimes;
        return (uint96(_optimisticBonds >> 96), uint32(times), uint32(times >> 32));
    }

    /// @dev The one call into the library (every optimistic operation but finalising shares it): runs `op` on job
    /// `jobId` and adds the slash it returns (a poster's lost bond, less the challenger's reward) to the job's bounty.
    /// @return payee Who is paid the fee and bounty (OP_SETTLE).
    /// @return posterPaid Whether that is the poster, whose claim bond is then released (OP_SETTLE).
    function _optimisticCall(
        uint256 op,
        uint256 jobId,
        uint256 output
    ) private returns (address payee, bool posterPaid) {
        uint256 slashed;
        (payee, posterPaid, slashed) = OptimisticResults.run(
            _jobs,
            _claims,
            _accounts,
            _targets,
            _optimistic,
            OptimisticResults.Call({
                op: op,
                jobId: jobId,
                output: output,
                bonds: _optimisticBonds,
                times: _optimisticTimes
            })
        );
        if (slashed != 0) _addBounty(jobId, _jobs[jobId], slashed);
    }
}
