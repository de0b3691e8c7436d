// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInferenceJobs} from "./IInferenceJobs.sol";

/// @title Inference subscriptions
/// @notice A consumer contract subscribes once to a verified inference every `interval` seconds, on inputs (or, for a
/// committed-input model version, an input commitment) read from its own view at each interval, paid up front. Each
/// run is an ordinary `InferenceJobs` job (claims, proofs, binding, private delivery, settlement unchanged) whose
/// requester is this contract. Rules: docs/market-rules.md, "Subscriptions".
interface IInferenceSubscriptions {
    /// @notice One subscription.
    /// @param owner The consumer: the contract that created it, whose `subscriptionInputs` (or `subscriptionCommitment`)
    /// gives each run's inputs and whose `onSubscriptionResult` receives each result.
    /// @param modelId The model.
    /// @param modelVersion The version every run pins (the consumer moves it with `pinVersion`).
    /// @param interval Seconds between runs.
    /// @param start When run 0's interval begins.
    /// @param runs Runs paid for (creation plus top-ups).
    /// @param nextRun The lowest run that may still be opened (runs below it were opened, skipped or missed).
    /// @param runDeadline Seconds each run's job stays open for results.
    /// @param cancelled Whether the owner cancelled it.
    /// @param inputMode The pinned version's input mode, read from its registered layout at creation and at each
    /// `pinVersion`: 1 public (each run reads `subscriptionInputs`), 0 committed (each run reads
    /// `subscriptionCommitment`).
    /// @param optimistic Whether runs opened from now on are optimistic market jobs (`setRunsOptimistic`; in the same
    /// storage word as the fields before it, so an opening reads it for free).
    /// @param feePerRun Each run's job fee (wei).
    /// @param tipPerRun Paid to whoever opens a run (wei).
    /// @param feeToken The ERC-20 token the escrow, fees and tips are in (`feePerRun` and `tipPerRun` in its units),
    /// or the zero address for ETH.
    struct Subscription {
        address owner;
        uint32 modelId;
        uint16 modelVersion;
        uint32 interval;
        uint32 start;
        uint32 runs;
        uint32 nextRun;
        uint32 runDeadline;
        bool cancelled;
        uint8 inputMode;
        bool optimistic;
        uint96 feePerRun;
        uint96 tipPerRun;
        address feeToken;
    }

    /// @notice Emitted when a subscription is created.
    /// @param subscriptionId The subscription.
    /// @param owner The consumer.
    /// @param modelId The model.
    /// @param modelVersion The pinned version.
    /// @param interval Seconds between runs.
    /// @param start When run 0's interval begins.
    /// @param runs Runs paid for.
    /// @param feePerRun Each run's job fee.
    /// @param tipPerRun Each run's opener tip.
    /// @param runDeadline Seconds each run's job stays open.
    event SubscriptionCreated(
        uint256 indexed subscriptionId,
        address indexed owner,
        uint256 indexed modelId,
        uint16 modelVersion,
        uint32 interval,
        uint32 start,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    );
    /// @notice Emitted with `SubscriptionCreated` for a subscription paid in an ERC-20 token.
    /// @param subscriptionId The subscription.
    /// @param token The token (fees and tips are in its units).
    event SubscriptionFeeToken(uint256 indexed subscriptionId, address indexed token);
    /// @notice Emitted when runs are added.
    /// @param subscriptionId The subscription.
    /// @param runs The runs paid for now.
    event SubscriptionToppedUp(uint256 indexed subscriptionId, uint32 runs);
    /// @notice Emitted when the owner cancels.
    /// @param subscriptionId The subscription.
    /// @param refunded Wei credited back to the owner (the runs never opened).
    event SubscriptionCancelled(uint256 indexed subscriptionId, uint256 refunded);
    /// @notice Emitted when the owner pins another version.
    /// @param subscriptionId The subscription.
    /// @param modelVersion The version pinned now.
    event SubscriptionVersionPinned(uint256 indexed subscriptionId, uint16 modelVersion);
    /// @notice Emitted when a run's job is opened (with the market's `JobOpened`, and `JobInputs` for public inputs).
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its market job.
    /// @param opener Who opened it (credited the tip).
    event RunOpened(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, address opener);
    /// @notice Emitted when a run could not be opened: its fee is credited back to the owner, the tip to the opener.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param reason 1 the input view reverted or ran out of its gas, 2 it returned malformed or too many values (or a
    /// malformed commitment answer, or a URI above 8,192 bytes), 3 the market refused the job (inputs out of range or
    /// of the wrong count, a commitment not below r, the model deprecated, another version current).
    event RunSkipped(uint256 indexed subscriptionId, uint256 indexed run, uint8 reason);
    /// @notice Emitted when intervals passed without anyone opening their runs: their fees go back to the owner.
    /// @param subscriptionId The subscription.
    /// @param fromRun The first missed run.
    /// @param count How many.
    event RunsMissed(uint256 indexed subscriptionId, uint256 fromRun, uint256 count);
    /// @notice Emitted when a run's verified result reached this contract (before the consumer's callback).
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its job.
    /// @param output The verified output.
    event RunDelivered(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, uint256 output);
    /// @notice Emitted when the consumer's `onSubscriptionResult` reverted or ran out of gas (the prover is paid anyway).
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its job.
    event RunCallbackFailed(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId);
    /// @notice Emitted when a run's job expired unfulfilled and its fee came back to the owner.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its job.
    /// @param fee Wei credited to the owner.
    event RunReclaimed(uint256 indexed subscriptionId, uint256 indexed run, uint256 indexed jobId, uint256 fee);
    /// @notice Emitted when an account withdraws.
    /// @param account The account.
    /// @param amount Wei sent.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Emitted when an account withdraws its credit in a token.
    /// @param account The account.
    /// @param token The token.
    /// @param amount The amount sent.
    event TokenWithdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice Thrown when a subscription parameter is unusable.
    /// @param name The parameter.
    /// @param value Its value.
    error InvalidSubscriptionParameter(string name, uint256 value);
    /// @notice Thrown when `msg.value` is not the escrow the call needs.
    /// @param expected Wei required (`runs * (feePerRun + tipPerRun)`).
    /// @param sent Wei sent.
    error WrongEscrow(uint256 expected, uint256 sent);
    /// @notice Thrown when a token subscription's escrow did not arrive in full (a fee-on-transfer or rebasing token):
    /// the market would be owed more than it holds, so such tokens are refused at creation and top-up.
    /// @param token The token.
    /// @param expected The amount pulled.
    /// @param received What the contract's balance grew by.
    error TokenAmountNotReceived(address token, uint256 expected, uint256 received);
    /// @notice Thrown when a token-moving function is entered again from inside a token call.
    error Reentered();
    /// @notice Thrown for a subscription id that does not exist.
    /// @param subscriptionId The id.
    error UnknownSubscription(uint256 subscriptionId);
    /// @notice Thrown when the caller is not the subscription's owner.
    /// @param subscriptionId The subscription.
    /// @param caller The caller.
    error NotSubscriptionOwner(uint256 subscriptionId, address caller);
    /// @notice Thrown when a cancelled subscription is used.
    /// @param subscriptionId The subscription.
    error SubscriptionIsCancelled(uint256 subscriptionId);
    /// @notice Thrown when no run is due: the current interval's run was already opened (or skipped), or the first
    /// interval has not begun.
    /// @param subscriptionId The subscription.
    /// @param nextOpenTime The first second at which a run may be opened.
    error RunNotDue(uint256 subscriptionId, uint256 nextOpenTime);
    /// @notice Thrown when every paid run's interval has passed.
    /// @param subscriptionId The subscription.
    /// @param runs Runs paid for.
    error SubscriptionEnded(uint256 subscriptionId, uint256 runs);
    /// @notice Thrown when the caller left too little gas for the input view or the market to run in full (so a run
    /// cannot be skipped by starving it of gas).
    /// @param needed Gas the call needs at least.
    /// @param left Gas left.
    error InsufficientGas(uint256 needed, uint256 left);
    /// @notice Thrown when a callback, reclaim or delivery names a job that is not an awaited run of this contract.
    /// @param jobId The job.
    error UnknownRun(uint256 jobId);
    /// @notice Thrown when the result callback does not come from the market.
    /// @param caller The caller.
    error NotInferenceJobs(address caller);
    /// @notice Thrown when ETH comes from anywhere but the market (refunds of reclaimed runs).
    /// @param sender The sender.
    error UnexpectedEther(address sender);
    /// @notice Thrown when `withdraw` finds nothing to send.
    /// @param account The caller.
    error NothingToWithdraw(address account);
    /// @notice Thrown when sending ETH to an account fails.
    /// @param account The account.
    error TransferFailed(address account);

    /// @notice Creates a subscription owned by the caller (a contract implementing `ISubscriptionConsumer`), paying
    /// every run up front: `msg.value == runs * (feePerRun + tipPerRun)`.
    /// @param modelId A registered model.
    /// @param modelVersion The version the caller checked (it must be in the registry; its input mode is recorded);
    /// every run pins it (the market refuses another).
    /// @param interval Seconds between runs (>= 60).
    /// @param start When run 0's interval begins (0: now); at most a year ahead.
    /// @param runs Runs to pay for (1..1,000,000).
    /// @param feePerRun Each run's job fee (> 0, fits in 96 bits).
    /// @param tipPerRun Paid to whoever opens each run (may be 0; covers the opener's gas).
    /// @param runDeadline Seconds each run's job stays open for results (> 0).
    /// @return subscriptionId The new id (ids start at 1).
    function createSubscription(
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 start,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external payable returns (uint256 subscriptionId);

    /// @notice Creates a subscription paid in an ERC-20 token (fees and tips in its units), like `createSubscription`:
    /// pulls `runs * (feePerRun + tipPerRun)` of `token` from the caller (approve it first) and refuses a token whose
    /// transfer delivers less (`TokenAmountNotReceived`) or that has no code. Each run's job is an ERC-20 job of the
    /// market (`openTokenJobWithInputs`, or `openTokenJob` / `openPrivateTokenJob` on a committed-input version).
    /// @param token The token.
    /// @param modelId A registered model.
    /// @param modelVersion The version the caller checked (in the registry).
    /// @param interval Seconds between runs (>= 60).
    /// @param start When run 0's interval begins (0: now).
    /// @param runs Runs to pay for.
    /// @param feePerRun Each run's job fee, in the token's units.
    /// @param tipPerRun Paid to each run's opener, in the token's units.
    /// @param runDeadline Seconds each run's job stays open.
    /// @return subscriptionId The new id.
    function createTokenSubscription(
        address token,
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 start,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external returns (uint256 subscriptionId);

    /// @notice Pays for `runs` more runs (anyone may): `msg.value == runs * (feePerRun + tipPerRun)`, or for a token
    /// subscription that amount of its token pulled from the caller (and no ETH).
    /// @param subscriptionId The subscription (not cancelled).
    /// @param runs Runs to add (> 0).
    function topUp(uint256 subscriptionId, uint32 runs) external payable;

    /// @notice Cancels (owner only): the runs never opened are credited back to the owner; runs already opened stay
    /// open in the market and their results are still delivered (or their fees reclaimed).
    /// @param subscriptionId The subscription.
    function cancel(uint256 subscriptionId) external;

    /// @notice Moves later runs to another version of the model (owner only), once the owner checked it; records that
    /// version's input mode (a version the registry does not have is refused).
    /// @param subscriptionId The subscription.
    /// @param modelVersion The version.
    function pinVersion(uint256 subscriptionId, uint256 modelVersion) external;

    /// @notice Opens the current interval's run (anyone may, once per interval): reads the owner's
    /// `subscriptionInputs(subscriptionId, run)` now and opens the market job on exactly those values, its fee from
    /// the escrow, deadline `now + runDeadline`, callback to this contract. On a committed-input version it reads
    /// `subscriptionCommitment(subscriptionId, run)` instead and opens a committed job on that commitment: a
    /// public-opening job (`openJob`) with the URI, or a private-delivery job (`openPrivateJob`) when the URI is empty. The tip is credited to the caller, also
    /// when the run is skipped (`RunSkipped`: a broken input view or a job the market refuses costs the owner its
    /// tip, never the opener). Runs of intervals nobody opened are credited back to the owner (`RunsMissed`).
    /// @param subscriptionId The subscription.
    /// @return jobId The run's job, or 0 when the run was skipped.
    function openRun(uint256 subscriptionId) external returns (uint256 jobId);

    /// @notice The market's callback: forwards a run's verified result to the owner's `onSubscriptionResult`.
    /// @param jobId The job.
    /// @param output The verified output.
    function onInferenceResult(uint256 jobId, uint256 output) external;

    /// @notice Reclaims an expired, unfulfilled run's job (anyone may, after its deadline): its fee is credited back
    /// to the owner.
    /// @param jobId The run's job.
    function reclaimRun(uint256 jobId) external;

    /// @notice Delivers a private run's opening to the claimant of its job (owner of the run's subscription only):
    /// forwards the market's `deliverInput`, which only the requester (this contract) may call; the market checks the
    /// rest (a private job, a live claim not yet delivered, the claimant named). docs/market-rules.md, "Private
    /// delivery".
    /// @param jobId The run's job (awaited: not yet delivered or reclaimed).
    /// @param claimant The live claim's claimant the ciphertext is encrypted to.
    /// @param ciphertext The opening encrypted to the claimant (scripts/chain/private-input.ts).
    function deliverRunInput(uint256 jobId, address claimant, bytes calldata ciphertext) external;

    /// @notice Names the only address that may claim a private run's job from now on, or zero for anyone (owner of
    /// the run's subscription only): forwards the market's `designateClaimant`.
    /// @param jobId The run's job (awaited).
    /// @param claimant The claimant, or zero.
    function designateRunClaimant(uint256 jobId, address claimant) external;

    /// @notice Sends the caller's credited wei (tips, refunds).
    /// @return amount Wei sent.
    function withdraw() external returns (uint256 amount);

    /// @notice Sends the caller's credit in a token (tips and refunds of token subscriptions).
    /// @param token The token.
    /// @return amount The amount sent.
    function withdrawToken(address token) external returns (uint256 amount);

    /// @notice A subscription.
    /// @param subscriptionId The id.
    /// @return subscription Its record.
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory subscription);

    /// @notice The run a job belongs to, while it awaits its result.
    /// @param jobId The job.
    /// @return subscriptionId The subscription (0 if the job is not an awaited run).
    /// @return run The run.
    function runOf(uint256 jobId) external view returns (uint256 subscriptionId, uint256 run);

    /// @notice The run open now, and when it may be opened.
    /// @param subscriptionId The subscription.
    /// @return run The current interval's run.
    /// @return due Whether it may be opened now (not yet opened, within the paid runs, not cancelled).
    /// @return opensAt When the next run may be opened (its interval's start), or 0 when no run is left.
    function currentRun(uint256 subscriptionId) external view returns (uint256 run, bool due, uint256 opensAt);

    /// @notice Wei an account can withdraw.
    /// @param account The account.
    /// @return amount The credit.
    function creditOf(address account) external view returns (uint256 amount);

    /// @notice What an account can withdraw in a token.
    /// @param account The account.
    /// @param token The token.
    /// @return amount The credit.
    function tokenCreditOf(address account, address token) external view returns (uint256 amount);

    /// @notice What is held (wei, or units of its token) for a subscription's runs not yet opened: `(runs - nextRun) * (feePerRun + tipPerRun)`, 0 once
    /// cancelled.
    /// @param subscriptionId The subscription.
    /// @return amount The escrow.
    function escrowOf(uint256 subscriptionId) external view returns (uint256 amount);

    /// @notice The market runs are opened in.
    /// @return jobs The `InferenceJobs` contract.
    function inferenceJobs() external view returns (IInferenceJobs jobs);

    /// @notice Gas the input view gets at each opening.
    /// @return gas The allowance.
    function inputViewGas() external view returns (uint256 gas);

    // ---- Optimistic runs (docs/market-rules.md, "Optimistic results")

    /// @notice Emitted when the owner switches the optimistic mode of its subscription's future runs.
    /// @param subscriptionId The subscription.
    /// @param optimistic Whether runs opened from now on are optimistic market jobs.
    event RunsOptimisticSet(uint256 indexed subscriptionId, bool optimistic);

    /// @notice Makes the runs opened from now on optimistic market jobs (`InferenceJobs.setOptimistic` on each run's
    /// job, which this contract opens as its requester), or proven ones again (owner only, on a live subscription;
    /// `getSubscription(id).optimistic` shows the mode). Runs already opened keep their mode. An optimistic run's
    /// result reaches the owner when it is finalised unproven (or proven, if challenged): choose it for results whose
    /// manipulation is worth less than the bond.
    /// @param subscriptionId The subscription.
    /// @param optimistic The mode of later runs.
    function setRunsOptimistic(uint256 subscriptionId, bool optimistic) external;
}
