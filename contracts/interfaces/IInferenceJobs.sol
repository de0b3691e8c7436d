// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Inference jobs market
/// @notice Requesters escrow a fee for "run model M (pinned version) on the input committed to by C"; a prover is
/// paid for the first valid proof. The contract rebuilds every public signal itself. A fee is ETH (`openJob`,
/// `openPrivateJob`, `openJobWithInputs`) or one ERC-20 token the requester names (`openTokenJob`,
/// `openPrivateTokenJob`, `openTokenJobWithInputs`); bonds, stake and bounties are always ETH. Rules:
/// docs/market-rules.md ("Payment tokens").
interface IInferenceJobs {
    /// @notice Lifecycle of a job: None -> Open <-> Claimed -> Fulfilled | Reclaimed. `Claimed` is Open with a claim
    /// record (live or expired, see `claimOf`); it returns to Open when an expired claim is settled. An optimistic job
    /// also goes Claimed -> Posted (its claimant posted a result without a proof) -> Fulfilled, or Posted -> Open (a
    /// challenge went unanswered); docs/market-rules.md, "Optimistic results".
    enum JobStatus {
        None,
        Open,
        Claimed,
        Fulfilled,
        Reclaimed,
        Posted
    }

    /// @notice A job as `getJob` returns it. Storage packs it in 3 slots (docs/contracts.md): the escrow slot (fee and
    /// bounty) is reused for the output on fulfilment, so a settled job reports `escrow = bounty = 0`; what was paid
    /// is in the events.
    /// @param requester Who opened it and gets the refund of its fee and the callback (never a slash).
    /// @param deadline Last second (inclusive) at which a result is accepted.
    /// @param modelId The registry model id.
    /// @param modelVersion The model version pinned at open.
    /// @param status The lifecycle state.
    /// @param callback Whether to call `IInferenceCallback(requester)` on fulfilment.
    /// @param privateInput Whether the opening is delivered encrypted to the claimant (`openPrivateJob`).
    /// @param inputCommitment The input commitment (public signal 2).
    /// @param escrow The fee still held for this job (the fee while Open, zero once Fulfilled or Reclaimed), in the
    /// job's fee token (`feeTokenOf`: wei for an ETH job, the token's units for a token job).
    /// @param bounty Slashed bonds of expired claims on this job, in wei (also on a token job), paid with the fee to
    /// whoever delivers (burned if the job is reclaimed).
    /// @param output The verified output (public signal 0) once Fulfilled, zero otherwise.
    struct Job {
        address requester;
        uint32 deadline;
        uint32 modelId;
        uint16 modelVersion;
        JobStatus status;
        bool callback;
        bool privateInput;
        uint256 inputCommitment;
        uint256 escrow;
        uint256 bounty;
        uint256 output;
    }

    /// @notice What jobs on one model version are verified against, copied from the registry by the first job on it.
    /// @param modelCommitment The model-commitment public signal.
    /// @param verifier The snarkjs verifier (called directly, without the adapter hop).
    /// @param selector Its `verifyProof` selector.
    /// @param proofLength The encoded proof length in bytes.
    /// @param inputMode 0 committed (`openJob`), 1 public (`openJobWithInputs`).
    /// @param inputSignals Number of input signals m (1 for committed mode).
    /// @param inputBits Public mode: signed width of each input value.
    /// @param inputCount Public mode: number of input values.
    /// @param verifierCodeHash The verifier's code hash recorded at registration; checked at open and submission.
    struct PinnedTarget {
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

    /// @notice A claim on a job (one slot).
    /// @param claimant The prover holding the claim (zero: none).
    /// @param leaseEnd Last second (inclusive) of the claimant's exclusivity. On a private job whose input was not
    /// delivered yet it is the end of the delivery window (`claim time + deliveryWindow`); delivery sets it to
    /// `delivery time + leaseDuration`.
    /// @param deliveredAt When the requester delivered the private input to this claimant (0: not delivered).
    struct Claim {
        address claimant;
        uint32 leaseEnd;
        uint32 deliveredAt;
    }

    /// @notice An address's balances held by the market (one slot).
    /// @param available Withdrawable now; also the stake that claims draw their bond from.
    /// @param locked Bonds of live claims.
    struct Account {
        uint128 available;
        uint128 locked;
    }

    /// @notice Emitted when a job is opened.
    /// @param jobId The new job.
    /// @param requester The requester.
    /// @param modelId The model.
    /// @param modelVersion The pinned version.
    /// @param inputCommitment The input commitment.
    /// @param fee The escrowed fee, in wei, or for a token job in the token's units (`JobFeeToken` follows in the same
    /// transaction and names the token).
    /// @param deadline The deadline.
    /// @param callback Whether the requester wants the callback.
    /// @param inputURI Where provers find the (encrypted or public) input; not stored.
    event JobOpened(
        uint256 indexed jobId,
        address indexed requester,
        uint256 indexed modelId,
        uint16 modelVersion,
        uint256 inputCommitment,
        uint256 fee,
        uint256 deadline,
        bool callback,
        string inputURI
    );

    /// @notice Emitted after `JobOpened` by a token open (`openTokenJob`, `openPrivateTokenJob`,
    /// `openTokenJobWithInputs`): the job's fee is `fee` units of the ERC-20 `token`, not wei. The fee amounts of the
    /// job's `JobOpened`, `JobFulfilled` and `JobReclaimed` are in the same token; its bounty stays in wei.
    /// @param jobId The job.
    /// @param token The ERC-20 token the fee was paid in.
    /// @param fee The fee received and escrowed, in the token's units.
    event JobFeeToken(uint256 indexed jobId, address indexed token, uint256 fee);

    /// @notice Emitted with `JobOpened` by `openJobWithInputs`: the public input values (provers prove on exactly these).
    /// @param jobId The job.
    /// @param inputs The quantized input values.
    event JobInputs(uint256 indexed jobId, int256[] inputs);

    /// @notice Emitted when the first job on a model version copies the version's verification target from the
    /// registry (versions are immutable, so the copy never goes stale).
    /// @param modelId The model.
    /// @param modelVersion The version.
    /// @param modelCommitment The version's public model commitment (signal 1): `Poseidon(modelHash, layoutWord)`, from the registry.
    /// @param verifier Its snarkjs verifier.
    /// @param verifierCodeHash The verifier's code hash recorded at registration.
    event VerificationTargetCached(
        uint256 indexed modelId,
        uint16 indexed modelVersion,
        uint256 modelCommitment,
        address verifier,
        bytes32 verifierCodeHash
    );

    /// @notice Emitted when a prover claims a job.
    /// @param jobId The job.
    /// @param prover The claimant.
    /// @param leaseEnd The last second of exclusivity.
    /// @param bond The bond locked from the claimant's stake.
    event JobClaimed(uint256 indexed jobId, address indexed prover, uint256 leaseEnd, uint256 bond);

    /// @notice Emitted when the requester delivers a private job's opening, encrypted to the claimant
    /// (docs/public-signals.md, "Delivering a committed input").
    /// @param jobId The job.
    /// @param claimant The claimant it is encrypted to.
    /// @param leaseEnd The claim's lease end, now `leaseDuration` after the delivery.
    /// @param ciphertext The encrypted opening (not stored).
    event InputDelivered(uint256 indexed jobId, address indexed claimant, uint256 leaseEnd, bytes ciphertext);

    /// @notice Emitted when the requester of a private job names the only address that may claim it (zero: anyone).
    /// @param jobId The job.
    /// @param claimant The designated claimant.
    event ClaimantDesignated(uint256 indexed jobId, address indexed claimant);

    /// @notice Emitted when a claimant gives up its claim on a private job without a slash (`releaseClaim`).
    /// @param jobId The job.
    /// @param prover The former claimant.
    /// @param returned The bond, returned whole.
    event ClaimReleased(uint256 indexed jobId, address indexed prover, uint256 returned);

    /// @notice Emitted when a claim whose lease ended without delivery is settled.
    /// @param jobId The job.
    /// @param prover The former claimant.
    /// @param slashed The part of the bond added to the job's bounty (zero if the verifier's code changed, or if the
    /// claim was on a private job whose input was never delivered).
    /// @param returned The part of the bond returned to the claimant.
    event ClaimExpired(uint256 indexed jobId, address indexed prover, uint256 slashed, uint256 returned);

    /// @notice Emitted when a valid result settles a job (its claimant's bond, if any, is released too): a verified
    /// proof, or an optimistic result finalised after its challenge window (`finalizeResult`).
    /// @param jobId The job.
    /// @param prover The prover credited with the fee and the bounty (for a posted result that was finalised or proven
    /// right, its poster).
    /// @param output The verified output.
    /// @param fee The fee credited, in the job's fee token (to the prover's token account for a token job).
    /// @param bounty The bounty (slashed bonds of earlier claims) credited, in wei.
    event JobFulfilled(uint256 indexed jobId, address indexed prover, uint256 output, uint256 fee, uint256 bounty);

    /// @notice Emitted when the requester takes back the fee of an unfulfilled job after its deadline.
    /// @param jobId The job.
    /// @param requester The requester, credited with the fee.
    /// @param fee The fee credited, in the job's fee token (to the requester's token account for a token job).
    /// @param burned The job's bounty, burned (it never reaches the requester).
    event JobReclaimed(uint256 indexed jobId, address indexed requester, uint256 fee, uint256 burned);

    /// @notice Emitted when the requester's result callback reverted or ran out of gas (settlement stands).
    /// @param jobId The job.
    /// @param requester The requester.
    event CallbackFailed(uint256 indexed jobId, address indexed requester);

    /// @notice Emitted on a deposit of stake.
    /// @param account The account credited.
    /// @param amount The amount.
    event Deposited(address indexed account, uint256 amount);

    /// @notice Emitted on a withdrawal.
    /// @param account The account paid.
    /// @param amount The amount.
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice Emitted on a withdrawal of a token account (`withdrawToken`).
    /// @param account The account paid.
    /// @param token The ERC-20 token.
    /// @param amount The amount, in the token's units.
    event TokenWithdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice Thrown at deployment on a parameter that would make griefing free or jobs unfulfillable
    /// (docs/market-rules.md): `registry` without code, `claimBond` 0 or so small that its slash rounds to 0,
    /// `leaseDuration` 0, `slashBps` 0 or above 10000, `callbackGasLimit` outside 25,000..5,000,000, `openWindow` 0,
    /// `deliveryWindow` 0 or above `leaseDuration`.
    /// @param parameter The constructor parameter's name.
    /// @param value The value given (an address as `uint160`).
    error InvalidMarketParameter(string parameter, uint256 value);

    /// @notice Thrown when a job is opened naming another version than the model's current one: the model was
    /// updated since the requester checked it (possibly by a front-running owner). Nothing is escrowed.
    /// @param modelId The model.
    /// @param expected The version the requester named.
    /// @param current The model's current version.
    error ModelVersionMismatch(uint256 modelId, uint256 expected, uint256 current);

    /// @notice Thrown when an address claims a private job it has claimed before (one claim per address per private
    /// job: an undelivered or declined claim costs no bond, so it may not be repeated).
    /// @param jobId The job.
    /// @param claimant The caller.
    error AlreadyClaimedOnce(uint256 jobId, address claimant);

    /// @notice Thrown when someone other than the claimant the requester designated claims a private job.
    /// @param jobId The job.
    /// @param designated The designated claimant.
    /// @param caller The caller.
    error NotDesignatedClaimant(uint256 jobId, address designated, address caller);

    /// @notice Thrown when `deliverInput` names another claimant than the live claim's (the ciphertext was made for a
    /// claim that ended).
    /// @param jobId The job.
    /// @param expected The claimant the requester encrypted to.
    /// @param actual The live claim's claimant.
    error ClaimantMismatch(uint256 jobId, address expected, address actual);

    /// @notice Thrown when a private-delivery function is called on a job opened without private delivery.
    /// @param jobId The job.
    error NotPrivateJob(uint256 jobId);

    /// @notice Thrown when `deliverInput` or `releaseClaim` finds no live claim on the job.
    /// @param jobId The job.
    error NoLiveClaim(uint256 jobId);

    /// @notice Thrown when the requester delivers a second time to the same claim.
    /// @param jobId The job.
    /// @param claimant The claimant already delivered to.
    error InputAlreadyDelivered(uint256 jobId, address claimant);

    /// @notice Thrown when someone other than the claimant releases a claim.
    /// @param jobId The job.
    /// @param caller The caller.
    error NotClaimant(uint256 jobId, address caller);

    /// @notice Thrown when a claimant releases a delivered claim after its decline window.
    /// @param jobId The job.
    /// @param lastReleaseTime The last second at which the release was possible (`deliveredAt + deliveryWindow`).
    error ReleaseWindowPassed(uint256 jobId, uint256 lastReleaseTime);

    /// @notice Thrown when a claim's lease plus the open window would not end before the deadline.
    /// @param jobId The job.
    /// @param latestClaimTime The last timestamp at which the job could be claimed (0 if never).
    error ClaimTooLate(uint256 jobId, uint256 latestClaimTime);

    /// @notice Thrown when the pinned version's verifier code is not the code recorded at registration.
    /// @param modelId The model.
    /// @param modelVersion The version.
    /// @param recorded The code hash recorded at registration.
    /// @param actual The verifier's code hash now.
    error VerifierCodeChanged(uint256 modelId, uint256 modelVersion, bytes32 recorded, bytes32 actual);

    /// @notice Thrown when a job is opened with the wrong entry point for its version's input mode.
    /// @param modelId The model.
    /// @param modelVersion The current version.
    /// @param inputMode The version's mode: 0 committed (use `openJob`), 1 public (use `openJobWithInputs`).
    error InputModeMismatch(uint256 modelId, uint256 modelVersion, uint8 inputMode);

    /// @notice Thrown when `openJobWithInputs` gets another number of values than the version's `inputCount`.
    /// @param expected The version's input count.
    /// @param actual The number given.
    error InputCountMismatch(uint256 expected, uint256 actual);

    /// @notice Thrown when a public input value is outside the version's signed input range.
    /// @param index The value's index.
    /// @param value The value.
    /// @param bits The version's input width: values must be in [-2^(bits-1), 2^(bits-1)).
    error InputOutOfRange(uint256 index, int256 value, uint256 bits);

    /// @notice Thrown by `valuesOf` for a job whose version has an argmax head (read `resultOf` instead).
    /// @param modelId The model.
    /// @param modelVersion The version.
    error NotAValuesModel(uint256 modelId, uint256 modelVersion);

    /// @notice Thrown when the proof's length is not the pinned verifier's encoding length.
    /// @param expected The length of the proof system's encoding.
    /// @param actual The length given.
    error InvalidProofLength(uint256 expected, uint256 actual);

    /// @notice Thrown when a job id was never opened.
    /// @param jobId The id.
    error JobNotFound(uint256 jobId);

    /// @notice Thrown when a job is not Open (or Claimed).
    /// @param jobId The job.
    /// @param status Its status.
    error JobNotOpen(uint256 jobId, JobStatus status);

    /// @notice Thrown when a job is opened without a fee.
    error ZeroFee();

    /// @notice Thrown when a fee or deposit does not fit in 96 bits.
    /// @param amount The amount.
    error AmountTooLarge(uint256 amount);

    /// @notice Thrown when an input commitment is not below the BN254 scalar field.
    /// @param inputCommitment The value.
    error InputCommitmentNotInField(uint256 inputCommitment);

    /// @notice Thrown when an output is not below the BN254 scalar field.
    /// @param output The value.
    error OutputNotInField(uint256 output);

    /// @notice Thrown when a deadline is not in the future or does not fit in 32 bits.
    /// @param deadline The deadline.
    /// @param timestamp The current block timestamp.
    error InvalidDeadline(uint256 deadline, uint256 timestamp);

    /// @notice Thrown when a job is opened on a deprecated model.
    /// @param modelId The model.
    error DeprecatedModel(uint256 modelId);

    /// @notice Thrown when the model's current version does not use the 4-signal layout (or has no verifier).
    /// @param modelId The model.
    /// @param numPublicSignals Its signal count.
    error UnsupportedModel(uint256 modelId, uint256 numPublicSignals);

    /// @notice Thrown when a job's deadline has passed.
    /// @param jobId The job.
    /// @param deadline Its deadline.
    error DeadlinePassed(uint256 jobId, uint256 deadline);

    /// @notice Thrown when a job's deadline has not passed yet.
    /// @param jobId The job.
    /// @param deadline Its deadline.
    error DeadlineNotPassed(uint256 jobId, uint256 deadline);

    /// @notice Thrown when someone other than the requester reclaims or delivers an input.
    /// @param jobId The job.
    /// @param caller The caller.
    error NotRequester(uint256 jobId, address caller);

    /// @notice Thrown when a job has a live claim (by another prover for `submitResult`, by anyone for `claim`).
    /// @param jobId The job.
    /// @param claimant The claimant.
    /// @param leaseEnd The lease's last second.
    error JobAlreadyClaimed(uint256 jobId, address claimant, uint256 leaseEnd);

    /// @notice Thrown when a claimant's available stake is below the bond.
    /// @param account The claimant.
    /// @param available Its available balance.
    /// @param required The bond.
    error InsufficientStake(address account, uint256 available, uint256 required);

    /// @notice Thrown when a job has no claim to expire.
    /// @param jobId The job.
    error NoClaim(uint256 jobId);

    /// @notice Thrown when a claim's lease has not ended yet.
    /// @param jobId The job.
    /// @param leaseEnd The lease's last second.
    error LeaseNotEnded(uint256 jobId, uint256 leaseEnd);

    /// @notice Thrown when the proof does not verify against the rebuilt public signals.
    /// @param jobId The job.
    error InvalidProof(uint256 jobId);

    /// @notice Thrown when `submitResults` gets no job or more than `maxBatchSize()` jobs.
    /// @param size The number of jobs given.
    /// @param max `maxBatchSize()`.
    error BatchSizeOutOfRange(uint256 size, uint256 max);

    /// @notice Thrown when `submitResults` gets arrays of different lengths.
    /// @param jobs The number of job ids.
    /// @param outputs The number of outputs.
    /// @param proofs The number of proofs.
    error BatchLengthMismatch(uint256 jobs, uint256 outputs, uint256 proofs);

    /// @notice Thrown when the job ids of a batch are not strictly increasing (which also refuses a job given twice).
    /// @param index The position of the offending id.
    /// @param previous The id before it.
    /// @param jobId The id at `index`.
    error JobIdsNotIncreasing(uint256 index, uint256 previous, uint256 jobId);

    /// @notice Thrown when a batch job's pinned version is not a Groth16 version (PLONK and FFLONK proofs are not
    /// batched).
    /// @param modelId The job's model.
    /// @param modelVersion Its pinned version.
    error BatchNotSupported(uint256 modelId, uint256 modelVersion);

    /// @notice Thrown when a batch job's pinned verifier (or signal count) is not the first job's: one batch, one
    /// verifying key.
    /// @param jobId The job.
    /// @param expected The first job's verifier.
    /// @param actual This job's verifier.
    error BatchVerifierMismatch(uint256 jobId, address expected, address actual);

    /// @notice Thrown when the pinned verifier has no working `verifyBatch` (a plain snarkjs verifier: submit the jobs
    /// one by one with `submitResult`).
    /// @param verifier The verifier.
    error BatchVerifierUnavailable(address verifier);

    /// @notice Thrown when the batched check of a batch's proofs fails: at least one proof does not verify against its
    /// job's rebuilt signals; nothing is settled.
    /// @param firstJobId The batch's first job id.
    /// @param count The number of jobs in the batch.
    error InvalidBatchProof(uint256 firstJobId, uint256 count);

    /// @notice Thrown when the submission leaves too little gas for the requester's callback.
    /// @param jobId The job.
    /// @param gasLeft The gas left before the callback.
    /// @param required The gas needed.
    error InsufficientCallbackGas(uint256 jobId, uint256 gasLeft, uint256 required);

    /// @notice Thrown on a zero deposit.
    error ZeroDeposit();

    /// @notice Thrown when an account has nothing available to withdraw.
    /// @param account The account.
    error NothingToWithdraw(address account);

    /// @notice Thrown when sending ETH to `account` failed.
    /// @param account The account.
    /// @param amount The amount.
    error TransferFailed(address account, uint256 amount);

    /// @notice Thrown when a token open names an address without code as the fee token (the zero address included:
    /// an ETH fee is paid with `openJob`, `openPrivateJob` or `openJobWithInputs`).
    /// @param token The address given.
    error FeeTokenNotContract(address token);

    /// @notice Thrown when a token open's `transferFrom` did not raise the market's balance of the token by exactly the
    /// fee (a fee-on-transfer or deflationary token, or one whose balance moves otherwise): the job is refused, so
    /// the escrow always equals what the market holds.
    /// @param token The fee token.
    /// @param expected The fee.
    /// @param received How much the market's balance grew (0 if it fell).
    error FeeNotReceived(address token, uint256 expected, uint256 received);

    /// @notice Thrown when a token open or `withdrawToken` is entered again while one runs (from the token's
    /// `transferFrom` or `transfer`): the market measures its token balance around `transferFrom`, so no token may
    /// enter or leave it in between.
    error TokenCallReentered();

    /// @notice Thrown when an account has nothing to withdraw in `token`.
    /// @param account The account.
    /// @param token The token.
    error NothingToWithdrawInToken(address account, address token);

    /// @notice Opens a job; `msg.value` is the fee, escrowed until fulfilment or reclaim.
    /// @param modelId A registered, non-deprecated model whose current version has a committed input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version
    /// (`ModelVersionMismatch` otherwise), which the job pins.
    /// @param inputCommitment The input commitment, below r.
    /// @param inputURI Where provers find the input (emitted only).
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id (ids start at 1).
    function openJob(
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId);

    /// @notice Opens a job on a public-input model with the quantized input values themselves; the market packs them
    /// into the public signals (docs/public-signals.md), so a valid proof means "this model on exactly these values".
    /// A contract can call this with its own state. `msg.value` is the fee.
    /// @param modelId A registered, non-deprecated model whose current version has a public input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version
    /// (`ModelVersionMismatch` otherwise), which the job pins.
    /// @param inputs Exactly `inputCount` values, each in the version's signed `inputBits` range.
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id.
    function openJobWithInputs(
        uint256 modelId,
        uint256 modelVersion,
        int256[] calldata inputs,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId);

    /// @notice Opens a committed-input job whose opening (input and salt) the requester delivers encrypted to the
    /// prover that claims it (`deliverInput`), instead of publishing it. `msg.value` is the fee.
    /// @param modelId A registered, non-deprecated model whose current version has a committed input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version
    /// (`ModelVersionMismatch` otherwise), which the job pins.
    /// @param inputCommitment The input commitment, below r.
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id.
    function openPrivateJob(
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256 jobId);

    /// @notice `openJob` with the fee paid in an ERC-20 token instead of ETH: pulls exactly `fee` units of `token`
    /// from the caller with `transferFrom` (approve the market first), after every other check and effect. Reverts
    /// `FeeTokenNotContract` for an address without code, `FeeNotReceived(token, fee, received)` unless the market's
    /// balance of `token` grew by exactly `fee` (fee-on-transfer tokens are refused), `SafeERC20FailedOperation(token)`
    /// (OpenZeppelin's SafeERC20) when the token returns false (a token that returns nothing is accepted if it does
    /// not revert), and `TokenCallReentered()` when entered again from the token during the pull. Emits `JobOpened` (its
    /// `fee` in the token's units) and `JobFeeToken`.
    /// @param token The ERC-20 fee token (a contract).
    /// @param fee The fee in the token's units: > 0, < 2^96.
    /// @param modelId A registered, non-deprecated model whose current version has a committed input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version.
    /// @param inputCommitment The input commitment, below r.
    /// @param inputURI Where provers find the input (emitted only).
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id.
    function openTokenJob(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline,
        bool callback
    ) external returns (uint256 jobId);

    /// @notice `openPrivateJob` with the fee paid in an ERC-20 token (as `openTokenJob`).
    /// @param token The ERC-20 fee token (a contract).
    /// @param fee The fee in the token's units: > 0, < 2^96.
    /// @param modelId A registered, non-deprecated model whose current version has a committed input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version.
    /// @param inputCommitment The input commitment, below r.
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id.
    function openPrivateTokenJob(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback
    ) external returns (uint256 jobId);

    /// @notice `openJobWithInputs` with the fee paid in an ERC-20 token (as `openTokenJob`).
    /// @param token The ERC-20 fee token (a contract).
    /// @param fee The fee in the token's units: > 0, < 2^96.
    /// @param modelId A registered, non-deprecated model whose current version has a public input mode.
    /// @param modelVersion The version the requester checked; must be the model's current version.
    /// @param inputs Exactly `inputCount` values, each in the version's signed `inputBits` range.
    /// @param deadline Last second (inclusive) for results; in the future, at most `type(uint32).max`.
    /// @param callback Whether to call `IInferenceCallback(msg.sender).onInferenceResult` on fulfilment.
    /// @return jobId The new job id.
    function openTokenJobWithInputs(
        address token,
        uint256 fee,
        uint256 modelId,
        uint256 modelVersion,
        int256[] calldata inputs,
        uint64 deadline,
        bool callback
    ) external returns (uint256 jobId);

    /// @notice Delivers a private job's opening, encrypted to the live claimant (requester only, once per claim,
    /// within `deliveryWindow` of the claim); gives the claim a full lease from now (`now + leaseDuration`).
    /// @param jobId The job.
    /// @param claimant The claimant the opening was encrypted to; must be the live claim's (`ClaimantMismatch`).
    /// @param ciphertext The encrypted opening (emitted in `InputDelivered`, not stored).
    function deliverInput(uint256 jobId, address claimant, bytes calldata ciphertext) external;

    /// @notice Names the only address that may claim the caller's private job from now on (zero: anyone again); a
    /// live claim is not affected. The requester's answer to claimants it will not deliver to, however many addresses
    /// they use (docs/market-rules.md, "Private delivery").
    /// @param jobId The job (Open or Claimed, private, opened by the caller).
    /// @param claimant The designated claimant, or zero.
    function designateClaimant(uint256 jobId, address claimant) external;

    /// @notice Gives up the caller's live claim on a private job with its whole bond back: while nothing was
    /// delivered, or within `deliveryWindow` of the delivery (a ciphertext it cannot use).
    /// @param jobId The job.
    function releaseClaim(uint256 jobId) external;

    /// @notice Claims exclusivity on an Open job until `now + leaseDuration` (on a private job: until `now +
    /// deliveryWindow`, then `leaseDuration` from the delivery), locking `claimBond` from the caller's available
    /// stake. Only while `now + leaseDuration + openWindow <= deadline` (private: `now + deliveryWindow +
    /// leaseDuration + openWindow <= deadline`), on a version whose verifier code is unchanged, and on a private job
    /// only once per address (`AlreadyClaimedOnce`). Settles an expired previous claim first.
    /// @param jobId The job.
    function claim(uint256 jobId) external;

    /// @notice Submits the output and proof for an Open job; pays the fee and the bounty to the caller if the proof
    /// verifies. On a Posted job (an optimistic result posted without a proof) anyone may submit while the result is
    /// disputable (`ChallengeWindowClosed` after an unchallenged window): a proof of the posted output pays the poster
    /// (and a bond challenger's bond to it), a proof of another output slashes the poster and pays the caller
    /// (docs/market-rules.md, "Optimistic results").
    /// @param jobId The job.
    /// @param output The claimed output (public signal 0), below r.
    /// @param proof The proof, in the pinned verifier adapter's encoding.
    function submitResult(uint256 jobId, uint256 output, bytes calldata proof) external;

    /// @notice Submits results for several Open jobs at once and checks all their proofs with one batched Groth16
    /// check (docs/contracts.md, "Batch settlement"). Every job is checked exactly as by `submitResult` (status,
    /// deadline, output below r, nobody else's live claim; its signals rebuilt with its own job id and `msg.sender`)
    /// and settled and paid exactly as by `submitResult`. All jobs must pin versions with the same Groth16 verifier,
    /// which must be a generated batch verifier (`IGroth16BatchVerifier`). The call is atomic: if any job fails its
    /// checks or the batched check fails, it reverts and settles nothing.
    /// @param jobIds The jobs, strictly increasing, 1..`maxBatchSize()` of them.
    /// @param outputs The claimed output of each job (public signal 0), below r.
    /// @param proofs The proof of each job, 256 bytes each (the Groth16 encoding of `submitResult`).
    function submitResults(uint256[] calldata jobIds, uint256[] calldata outputs, bytes[] calldata proofs) external;

    /// @notice After the deadline, credits an unfulfilled job's fee back to its requester (requester only) and burns
    /// its bounty. Not while an optimistic result is posted on it (`JobNotOpen(jobId, Posted)`: it is owed).
    /// @param jobId The job.
    function reclaim(uint256 jobId) external;

    /// @notice Settles a claim whose lease ended without delivery: slashes it into the job's bounty (nothing on a
    /// private job whose input was never delivered). Anyone may call. Not on a Posted job, whose claim record is its
    /// poster's (`JobNotOpen`).
    /// @param jobId The job.
    function expireClaim(uint256 jobId) external;

    /// @notice Adds `msg.value` (> 0, < 2^96) to the caller's available balance (stake for claims).
    function deposit() external payable;

    /// @notice Sends the caller's whole available balance to the caller.
    /// @return amount The amount sent.
    function withdraw() external returns (uint256 amount);

    /// @notice Sends the caller's whole balance in `token` (fees earned and refunds of token jobs) to the caller, with
    /// `transfer` (`SafeERC20FailedOperation(token)` if the token returns false; a token that refuses the transfer
    /// reverts the withdrawal and the balance stays credited). Affects no other account or job.
    /// @param token The ERC-20 token.
    /// @return amount The amount sent, in the token's units.
    function withdrawToken(address token) external returns (uint256 amount);

    /// @notice An address's balance in `token` held by the market (withdrawable with `withdrawToken`).
    /// @param account The address.
    /// @param token The ERC-20 token.
    /// @return The balance, in the token's units.
    function tokenBalanceOf(address account, address token) external view returns (uint256);

    /// @notice The token a job's fee is escrowed in: zero for an ETH fee. Known while the job holds its escrow (Open,
    /// Claimed or Posted); a settled job's escrow slot holds its output or nothing, so this reverts `JobNotOpen` then (the
    /// token is in the job's `JobFeeToken` event) and `JobNotFound` for an unknown job.
    /// @param jobId The job.
    /// @return The fee token, or zero for ETH.
    function feeTokenOf(uint256 jobId) external view returns (address);

    /// @notice Whether `account` has claimed the private job `jobId` (it may then never claim it again).
    /// @param jobId The job.
    /// @param account The address.
    /// @return Whether it has.
    function claimedOnce(uint256 jobId, address account) external view returns (bool);

    /// @notice The only address that may claim the private job `jobId` (zero: anyone).
    /// @param jobId The job.
    /// @return The designated claimant.
    function designatedClaimant(uint256 jobId) external view returns (address);

    /// @notice A job.
    /// @param jobId The job.
    /// @return job The job record.
    function getJob(uint256 jobId) external view returns (Job memory job);

    /// @notice The result of a job, for other contracts.
    /// @param jobId The job.
    /// @return fulfilled Whether a valid result was recorded.
    /// @return output The verified output (zero if not fulfilled).
    function resultOf(uint256 jobId) external view returns (bool fulfilled, uint256 output);

    /// @notice The decoded outputs of a job on a values-head model (`SignedPacking.unpack` of `resultOf`'s output).
    /// @param jobId The job.
    /// @return fulfilled Whether a valid result was recorded (values is empty otherwise).
    /// @return values The outputs, each meaning `value / 2^frac` in the model's output units.
    /// @return frac The version's `outputFrac`.
    function valuesOf(uint256 jobId) external view returns (bool fulfilled, int256[] memory values, uint8 frac);

    /// @notice The input signals of a job (`[inputCommitment]`, or the packed public values).
    /// @param jobId The job.
    /// @return words The m input signals.
    function inputSignalsOf(uint256 jobId) external view returns (uint256[] memory words);

    /// @notice The claim on a job (zero claimant: none). While an optimistic result is posted, the claimant is its
    /// poster and `leaseEnd` the last second of its challenge window.
    /// @param jobId The job.
    /// @return The claim.
    function claimOf(uint256 jobId) external view returns (Claim memory);

    /// @notice An address's balances.
    /// @param account The address.
    /// @return The account.
    function accountOf(address account) external view returns (Account memory);

    /// @notice The binding public signal a proof by `prover` for `jobId` must carry.
    /// @param jobId The job.
    /// @param prover The address that will submit.
    /// @return `uint256(keccak256(abi.encode(block.chainid, address(this), jobId, prover))) % r`.
    function jobBinding(uint256 jobId, address prover) external view returns (uint256);

    /// @notice The verification target a job on `(modelId, modelVersion)` is checked against (zero until cached by the
    /// first job on that version).
    /// @param modelId The model.
    /// @param modelVersion The version.
    /// @return target The pinned target.
    function verificationTargetOf(
        uint256 modelId,
        uint256 modelVersion
    ) external view returns (PinnedTarget memory target);

    /// @notice The most jobs `submitResults` takes in one call.
    /// @return The bound (32).
    function maxBatchSize() external pure returns (uint256);

    /// @notice The id the next opened job will get.
    /// @return The id.
    function nextJobId() external view returns (uint256);

    /// @notice The model registry.
    /// @return The registry's address.
    function registry() external view returns (address);

    /// @notice The bond a claim locks.
    /// @return Wei.
    function claimBond() external view returns (uint256);

    /// @notice The lease length of a claim.
    /// @return Seconds.
    function leaseDuration() external view returns (uint256);

    /// @notice The share of an expired claim's bond added to the job's bounty.
    /// @return Basis points.
    function slashBps() external view returns (uint256);

    /// @notice The last seconds before every deadline in which no claim can be live.
    /// @return Seconds.
    function openWindow() external view returns (uint256);

    /// @notice Private jobs: the requester's time to deliver after a claim, and the claimant's time to decline a
    /// delivery without a slash.
    /// @return Seconds.
    function deliveryWindow() external view returns (uint256);

    /// @notice Slashed bonds burned with reclaimed jobs; they stay in the contract and are never paid out.
    /// @return Wei.
    function burned() external view returns (uint256);

    /// @notice The gas given to a requester's result callback.
    /// @return Gas.
    function callbackGasLimit() external view returns (uint256);

    // ---- Optimistic results (docs/market-rules.md, "Optimistic results")

    /// @notice An optimistic job's state as `optimisticStateOf` returns it.
    /// @param optimistic Whether the job takes posted results (`setOptimistic`; off again after an unanswered
    /// challenge).
    /// @param poster The claimant that posted the pending result (zero: none pending).
    /// @param output The posted output (zero when none is pending).
    /// @param windowEnd The last second (inclusive) of the posted result's challenge window.
    /// @param challenger The bond challenger (zero: none).
    /// @param proofDeadline The last second (inclusive) at which the poster may answer the bond challenge with a proof.
    struct OptimisticState {
        bool optimistic;
        address poster;
        uint256 output;
        uint256 windowEnd;
        address challenger;
        uint256 proofDeadline;
    }

    /// @notice Emitted when a requester makes its job optimistic.
    /// @param jobId The job.
    event JobMadeOptimistic(uint256 indexed jobId);

    /// @notice Emitted when the live claimant of an optimistic job posts a result without a proof, backed by its claim
    /// bond.
    /// @param jobId The job (now Posted).
    /// @param poster The claimant.
    /// @param output The posted output.
    /// @param windowEnd The last second (inclusive) at which the result can be challenged.
    event ResultPosted(uint256 indexed jobId, address indexed poster, uint256 output, uint256 windowEnd);

    /// @notice Emitted when a posted result is challenged by bond: its poster must prove it by `proofDeadline`.
    /// @param jobId The job.
    /// @param challenger The challenger, whose `bond` is locked.
    /// @param proofDeadline The last second (inclusive) for the poster's proof.
    /// @param bond The challenge bond locked.
    event ResultChallenged(uint256 indexed jobId, address indexed challenger, uint256 proofDeadline, uint256 bond);

    /// @notice Emitted when a proof of the posted output answers a bond challenge: the challenge bond goes to the poster
    /// (`JobFulfilled` follows, paying the poster).
    /// @param jobId The job.
    /// @param poster The poster, credited with `bond`.
    /// @param challenger The challenger, which lost `bond`.
    /// @param bond The challenge bond.
    event ChallengeAnswered(uint256 indexed jobId, address indexed poster, address indexed challenger, uint256 bond);

    /// @notice Emitted when a poster loses its claim bond: a proof of another output disproved its result, or its bond
    /// challenge went unanswered. `reward + slashed` is the bond (both zero, bond returned, when the pinned verifier's
    /// code changed and nobody could prove).
    /// @param jobId The job.
    /// @param poster The poster.
    /// @param rewarded The first challenger (the bond challenger, or else the prover of the other output), credited
    /// with `reward`.
    /// @param reward `claimBond - slashed`.
    /// @param slashed `claimBond * slashBps / 10000`, added to the job's bounty.
    /// @param reopened Whether the job went back to Open for proven submissions (an unanswered challenge); otherwise
    /// `JobFulfilled` with the proven output follows.
    event PosterSlashed(
        uint256 indexed jobId,
        address indexed poster,
        address indexed rewarded,
        uint256 reward,
        uint256 slashed,
        bool reopened
    );

    /// @notice Thrown by `postResult` on a job that is not optimistic.
    /// @param jobId The job.
    error NotOptimistic(uint256 jobId);

    /// @notice Thrown by `postResult` when the challenge window, the proof window and the open window no longer fit
    /// before the deadline.
    /// @param jobId The job.
    /// @param latestPostTime The last second a post was possible (0 if never).
    error PostTooLate(uint256 jobId, uint256 latestPostTime);

    /// @notice Thrown when a challenge, a finalisation or a challenge expiry names a job without a posted result.
    /// @param jobId The job.
    /// @param status Its status.
    error ResultNotPosted(uint256 jobId, JobStatus status);

    /// @notice Thrown when a posted result is challenged (by bond, or by a proof while unchallenged) after its window.
    /// @param jobId The job.
    /// @param windowEnd The window's last second.
    error ChallengeWindowClosed(uint256 jobId, uint256 windowEnd);

    /// @notice Thrown by `finalizeResult` while the challenge window is open.
    /// @param jobId The job.
    /// @param windowEnd The window's last second.
    error ChallengeWindowOpen(uint256 jobId, uint256 windowEnd);

    /// @notice Thrown by `challengeResult` and `finalizeResult` when the posted result is already challenged by bond.
    /// @param jobId The job.
    /// @param challenger The challenger.
    /// @param proofDeadline The poster's last second to prove.
    error ResultUnderChallenge(uint256 jobId, address challenger, uint256 proofDeadline);

    /// @notice Thrown by `expireChallenge` when the posted result was not challenged by bond.
    /// @param jobId The job.
    error NotChallenged(uint256 jobId);

    /// @notice Thrown by `expireChallenge` while the poster may still answer.
    /// @param jobId The job.
    /// @param proofDeadline The poster's last second to prove.
    error ProofWindowOpen(uint256 jobId, uint256 proofDeadline);

    /// @notice Makes the caller's job optimistic: its live claimant may then post a result without a proof
    /// (`postResult`), final after a challenge window. Requester only (`NotRequester`), while the job is Open or Claimed
    /// (`JobNotOpen`). Proven submissions stay accepted as before.
    /// @param jobId The job.
    function setOptimistic(uint256 jobId) external;

    /// @notice Posts a result without a proof, backed by the caller's claim bond: the caller must hold the live claim
    /// of an optimistic job (`NotOptimistic`, `NoLiveClaim`, `NotClaimant`), `output < r`, and
    /// `now + challengeWindow + proofWindow + openWindow <= deadline` (`PostTooLate`). The job becomes Posted; the
    /// result can be challenged until `now + challengeWindow`.
    /// @param jobId The job.
    /// @param output The output (public signal 0 of the proof the poster must be able to produce).
    function postResult(uint256 jobId, uint256 output) external;

    /// @notice Challenges a posted result by bond, within its window (`ChallengeWindowClosed`), once
    /// (`ResultUnderChallenge`): locks `challengeBond` from the caller's available balance (`InsufficientStake`). The
    /// poster must then prove the posted output with `submitResult` within `proofWindow`, or `expireChallenge` slashes
    /// it. A proof of another output (`submitResult` by anyone) settles the job at once.
    /// @param jobId The job.
    function challengeResult(uint256 jobId) external;

    /// @notice Makes an unchallenged posted result final once its window has ended (`ChallengeWindowOpen` before,
    /// `ResultUnderChallenge` if challenged): pays fee and bounty to the poster, releases its bond and runs the
    /// requester's callback as `submitResult` does. Anyone may call.
    /// @param jobId The job.
    function finalizeResult(uint256 jobId) external;

    /// @notice Settles a bond challenge the poster did not answer by its proof deadline (`ProofWindowOpen` before,
    /// `NotChallenged` without one): the poster's bond goes to the challenger (less the slash, which joins the job's
    /// bounty), the challenger's bond comes back, and the job reopens for proven submissions only. Anyone may call.
    /// @param jobId The job.
    function expireChallenge(uint256 jobId) external;

    /// @notice A job's optimistic mode and pending posted result.
    /// @param jobId The job.
    /// @return state The state (`poster` zero when no result is pending).
    function optimisticStateOf(uint256 jobId) external view returns (OptimisticState memory state);

    /// @notice The optimistic parameters.
    /// @return challengeBond The bond a challenge locks (wei).
    /// @return challengeWindow How long a posted result can be challenged (s).
    /// @return proofWindow The poster's time to prove after a bond challenge (s).
    function optimisticParameters()
        external
        view
        returns (uint256 challengeBond, uint256 challengeWindow, uint256 proofWindow);
}
