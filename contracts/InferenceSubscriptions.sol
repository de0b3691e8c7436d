// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "./interfaces/IInferenceJobs.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IInferenceCallback} from "./interfaces/IInferenceCallback.sol";
import {IInferenceSubscriptions} from "./interfaces/IInferenceSubscriptions.sol";
import {ISubscriptionConsumer} from "./interfaces/ISubscriptionConsumer.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {TokenPull} from "./utils/TokenPull.sol";

/// @title InferenceSubscriptions
/// @notice Verified inference on a schedule: a consumer contract pays up front for `runs` runs, one per `interval`;
/// anyone opens the current interval's run, which reads the consumer's inputs from its view at that moment and opens
/// an ordinary `InferenceJobs` public-input job on them (on a committed-input model version: a committed job on the
/// consumer's commitment for that run, with a public opening or delivered privately through its owner); this contract
/// is the job's requester; the market verifies and pays the prover as for any job, then calls back here and the
/// result is forwarded to the consumer with the run index. Rules and economics: docs/market-rules.md, "Subscriptions".
/// @dev Effects come before every external call. The external calls are the registry (STATICCALL: a version's input
/// mode), the consumer's input view (STATICCALL, fixed gas, bounded return data), the market (immutable, trusted: its
/// opens, `getJob`, `reclaim`, `withdraw` / `withdrawToken`, `deliverInput`, `designateClaimant`), the consumer's
/// result callback (after all effects, no return
/// data copied), the ETH transfer in `withdraw` (after zeroing the credit) and a subscription's ERC-20 token. Because a
/// token is arbitrary code and a pull is checked by the balance before and after it, every function that can move a
/// token takes one transient lock (`Reentered`), so nothing else moves a balance inside a token call. Every function
/// is O(1).
contract InferenceSubscriptions is IInferenceSubscriptions, IInferenceCallback {
    using SafeERC20 for IERC20;

    /// @dev Gas the input view gets; a view that needs more is skipped (reason 1).
    uint256 private constant INPUT_VIEW_GAS = 150_000;
    /// @dev Most input values a run takes (the return data copied is bounded by it: 64 + 32 * 256 bytes).
    uint256 private constant MAX_INPUTS = 256;
    /// @dev Longest opening URI of a committed run (the return data copied is bounded by it: 96 + 8192 bytes).
    uint256 private constant MAX_URI_BYTES = 8192;
    /// @dev `Layout.inputMode` of a public-input version (0: committed).
    uint8 private constant PUBLIC_INPUTS = 1;
    /// @dev Gas kept back from the consumer's result callback to finish this call after it.
    uint256 private constant CALLBACK_RESERVE = 10_000;
    /// @dev Gas an opening needs after the market call fails, to record the skip: a call that left less ran out of
    /// gas because its caller starved it, and the whole opening reverts.
    uint256 private constant SKIP_GAS = 40_000;
    uint256 private constant MIN_INTERVAL = 60;
    uint256 private constant MAX_RUNS = 1_000_000;
    uint256 private constant MAX_START_AHEAD = 365 days;
    /// @dev Entries of the run table (docs/contracts.md, "Subscriptions (gas)").
    uint256 private constant RUN_SLOTS = 256;
    /// @dev A run-table entry that holds no run (its job-id field is 0, and no job id is 0).
    uint256 private constant EMPTY_RUN = 1;
    /// @dev A run-table entry: `jobId << 208 | subscriptionId << 180 | run << 160 | owner`. A run whose job id needs
    /// more than 48 bits or whose subscription id more than 28 is recorded beside the table (runs need at most 20 bits:
    /// MAX_RUNS < 2^20).
    uint256 private constant ENTRY_JOB_SHIFT = 208;
    uint256 private constant ENTRY_SUB_SHIFT = 180;
    uint256 private constant ENTRY_RUN_SHIFT = 160;
    uint256 private constant ENTRY_SUB_MASK = (1 << 28) - 1;
    uint256 private constant ENTRY_RUN_MASK = (1 << 20) - 1;

    uint8 private constant SKIP_VIEW_FAILED = 1;
    uint8 private constant SKIP_VIEW_MALFORMED = 2;
    uint8 private constant SKIP_MARKET_REFUSED = 3;

    IInferenceJobs private immutable _jobs;
    /// @dev The market's registry: a version's input mode is read from it when the version is pinned.
    IModelRegistry private immutable _registry;

    uint256 private _nextId = 1;
    mapping(uint256 subscriptionId => Subscription) private _subs;
    /// @dev The awaited runs, by job: entry `jobId % RUN_SLOTS` holds the run of that job (its job id, subscription,
    /// run and the subscription's owner, so a delivery reads no subscription record) while it is awaited, else
    /// EMPTY_RUN. The slots are written non-zero at deployment and never zeroed, so recording a run rewrites a slot
    /// (2.9k gas) instead of creating one (22.1k): a run's record costs its opener 5k, paid back by nobody (a delivery
    /// writes EMPTY_RUN back instead of clearing the slot for a refund).
    uint256[RUN_SLOTS] private _runTable;
    /// @dev Awaited runs whose table entry held another awaited run (or whose job id is above 128 bits): job ->
    /// `subscriptionId << 32 | run` (non-zero: ids start at 1); deleted on delivery or reclaim.
    mapping(uint256 jobId => uint256) private _runs;
    mapping(address account => uint256) private _credits;
    mapping(address token => mapping(address account => uint256)) private _tokenCredits;
    uint256 private transient _locked;

    /// @dev An awaited run, as `_findRun` reads it (memory only).
    struct AwaitedRun {
        uint256 subscriptionId;
        uint256 run;
        address owner;
        bool inTable;
    }

    /// @dev One transient lock over every function that can move a token (or ETH).
    modifier locked() {
        if (_locked != 0) revert Reentered();
        _locked = 1;
        _;
        _locked = 0;
    }

    /// @param jobs The market runs are opened in.
    constructor(IInferenceJobs jobs) {
        if (address(jobs).code.length == 0)
            revert InvalidSubscriptionParameter("jobs", uint256(uint160(address(jobs))));
        _jobs = jobs;
        _registry = IModelRegistry(jobs.registry());
        for (uint256 i; i < RUN_SLOTS; ++i) _runTable[i] = EMPTY_RUN; // a constant 256 slots, once
    }

    /// @notice Accepts the refunds of reclaimed runs from the market only.
    receive() external payable {
        if (msg.sender != address(_jobs)) revert UnexpectedEther(msg.sender);
    }

    /// @inheritdoc IInferenceSubscriptions
    function createSubscription(
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 start,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external payable returns (uint256 subscriptionId) {
        uint256 due;
        (subscriptionId, due) = _create(
            address(0),
            modelId,
            modelVersion,
            interval,
            start,
            runs,
            feePerRun,
            tipPerRun,
            runDeadline
        );
        if (msg.value != due) revert WrongEscrow(due, msg.value);
    }

    /// @inheritdoc IInferenceSubscriptions
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
    ) external locked returns (uint256 subscriptionId) {
        if (token.code.length == 0) revert InvalidSubscriptionParameter("token", uint256(uint160(token)));
        uint256 due;
        (subscriptionId, due) = _create(
            token,
            modelId,
            modelVersion,
            interval,
            start,
            runs,
            feePerRun,
            tipPerRun,
            runDeadline
        );
        emit SubscriptionFeeToken(subscriptionId, token);
        _pull(token, due);
        // the market pulls each run's fee from this contract: one standing allowance per token
        if (IERC20(token).allowance(address(this), address(_jobs)) < feePerRun)
            IERC20(token).forceApprove(address(_jobs), type(uint256).max);
    }

    /// @inheritdoc IInferenceSubscriptions
    function topUp(uint256 subscriptionId, uint32 runs) external payable locked {
        Subscription storage s = _live(subscriptionId);
        uint256 total = uint256(s.runs) + runs;
        if (runs == 0 || total > MAX_RUNS) revert InvalidSubscriptionParameter("runs", runs);
        if (uint256(s.start) + uint256(s.interval) * total + s.runDeadline > type(uint32).max)
            revert InvalidSubscriptionParameter("runs", runs);
        uint256 due = uint256(runs) * (uint256(s.feePerRun) + s.tipPerRun);
        address token = s.feeToken;
        if (msg.value != (token == address(0) ? due : 0)) revert WrongEscrow(token == address(0) ? due : 0, msg.value);
        s.runs = uint32(total);
        emit SubscriptionToppedUp(subscriptionId, uint32(total));
        if (token != address(0)) _pull(token, due);
    }

    /// @inheritdoc IInferenceSubscriptions
    function cancel(uint256 subscriptionId) external {
        Subscription storage s = _live(subscriptionId);
        if (msg.sender != s.owner) revert NotSubscriptionOwner(subscriptionId, msg.sender);
        uint256 refund = uint256(s.runs - s.nextRun) * (uint256(s.feePerRun) + s.tipPerRun);
        s.cancelled = true;
        s.nextRun = s.runs;
        _credit(s.feeToken, s.owner, refund);
        emit SubscriptionCancelled(subscriptionId, refund);
    }

    /// @inheritdoc IInferenceSubscriptions
    function pinVersion(uint256 subscriptionId, uint256 modelVersion) external {
        Subscription storage s = _live(subscriptionId);
        if (msg.sender != s.owner) revert NotSubscriptionOwner(subscriptionId, msg.sender);
        s.inputMode = _inputModeOf(s.modelId, modelVersion);
        s.modelVersion = uint16(modelVersion);
        emit SubscriptionVersionPinned(subscriptionId, uint16(modelVersion));
    }

    /// @inheritdoc IInferenceSubscriptions
    function openRun(uint256 subscriptionId) external locked returns (uint256 jobId) {
        // one copy of the record: three storage words, each read once
        Subscription memory s = _subs[subscriptionId];
        if (s.owner == address(0)) revert UnknownSubscription(subscriptionId);
        if (s.cancelled) revert SubscriptionIsCancelled(subscriptionId);
        if (block.timestamp < s.start) revert RunNotDue(subscriptionId, s.start);
        uint256 run = (block.timestamp - s.start) / s.interval;
        if (run >= s.runs) revert SubscriptionEnded(subscriptionId, s.runs);
        uint256 next = s.nextRun;
        if (run < next) revert RunNotDue(subscriptionId, s.start + next * s.interval);
        // effects first: this interval's run is used now, whatever happens below
        _subs[subscriptionId].nextRun = uint32(run + 1);
        if (run > next) {
            _credit(s.feeToken, s.owner, (run - next) * (uint256(s.feePerRun) + s.tipPerRun));
            emit RunsMissed(subscriptionId, next, run - next);
        }
        if (s.tipPerRun != 0) _credit(s.feeToken, msg.sender, s.tipPerRun);

        uint8 reason;
        (jobId, reason) = s.inputMode == PUBLIC_INPUTS
            ? _openPublicRun(s, subscriptionId, run)
            : _openCommittedRun(s, subscriptionId, run);
        if (reason != 0) {
            _credit(s.feeToken, s.owner, s.feePerRun);
            emit RunSkipped(subscriptionId, run, reason);
            emit RunOpened(subscriptionId, run, 0, msg.sender);
            return 0;
        }
        // the market trusts its requester's choice; the job was opened just now, so this cannot revert
        if (s.optimistic) _jobs.setOptimistic(jobId);
        _recordRun(jobId, subscriptionId, run, s.owner);
        emit RunOpened(subscriptionId, run, jobId, msg.sender);
    }

    /// @inheritdoc IInferenceSubscriptions
    function onInferenceResult(
        uint256 jobId,
        uint256 output
    ) external override(IInferenceCallback, IInferenceSubscriptions) {
        if (msg.sender != address(_jobs)) revert NotInferenceJobs(msg.sender);
        AwaitedRun memory r = _takeRun(jobId);
        (uint256 subscriptionId, uint256 run, address owner) = (r.subscriptionId, r.run, r.owner);
        emit RunDelivered(subscriptionId, run, jobId, output);
        bytes memory data = abi.encodeCall(
            ISubscriptionConsumer.onSubscriptionResult,
            (subscriptionId, run, jobId, output)
        );
        uint256 allowance = gasleft();
        allowance = allowance > CALLBACK_RESERVE ? allowance - CALLBACK_RESERVE : 0;
        bool ok;
        // no return data is copied: a consumer cannot make this call run out of gas after its own
        assembly ("memory-safe") {
            ok := call(allowance, owner, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!ok) emit RunCallbackFailed(subscriptionId, run, jobId);
    }

    /// @inheritdoc IInferenceSubscriptions
    function reclaimRun(uint256 jobId) external locked {
        AwaitedRun memory r = _takeRun(jobId);
        uint256 fee = _jobs.getJob(jobId).escrow;
        address token = _subs[r.subscriptionId].feeToken;
        _credit(token, r.owner, fee);
        emit RunReclaimed(r.subscriptionId, r.run, jobId, fee);
        // the market checks the deadline passed and credits the fee to this contract's account there; withdraw it
        _jobs.reclaim(jobId);
        if (token == address(0)) _jobs.withdraw();
        else _jobs.withdrawToken(token);
    }

    /// @inheritdoc IInferenceSubscriptions
    function deliverRunInput(uint256 jobId, address claimant, bytes calldata ciphertext) external {
        _requireRunOwner(jobId);
        _jobs.deliverInput(jobId, claimant, ciphertext);
    }

    /// @inheritdoc IInferenceSubscriptions
    function designateRunClaimant(uint256 jobId, address claimant) external {
        _requireRunOwner(jobId);
        _jobs.designateClaimant(jobId, claimant);
    }

    /// @inheritdoc IInferenceSubscriptions
    function withdraw() external locked returns (uint256 amount) {
        amount = _credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender);
    }

    /// @inheritdoc IInferenceSubscriptions
    function withdrawToken(address token) external locked returns (uint256 amount) {
        amount = _tokenCredits[token][msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _tokenCredits[token][msg.sender] = 0;
        emit TokenWithdrawn(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IInferenceSubscriptions
    function getSubscription(uint256 subscriptionId) external view returns (Subscription memory subscription) {
        subscription = _subs[subscriptionId];
        if (subscription.owner == address(0)) revert UnknownSubscription(subscriptionId);
    }

    /// @inheritdoc IInferenceSubscriptions
    function runOf(uint256 jobId) external view returns (uint256 subscriptionId, uint256 run) {
        AwaitedRun memory r = _findRun(jobId);
        return (r.subscriptionId, r.run);
    }

    /// @inheritdoc IInferenceSubscriptions
    function currentRun(uint256 subscriptionId) external view returns (uint256 run, bool due, uint256 opensAt) {
        Subscription storage s = _subs[subscriptionId];
        if (s.owner == address(0)) revert UnknownSubscription(subscriptionId);
        uint256 next = s.nextRun;
        if (block.timestamp >= s.start) {
            run = (block.timestamp - s.start) / s.interval;
            due = !s.cancelled && run >= next && run < s.runs;
            // the current run if it is due; else the next interval's (this one's run is used) or the first unused one
            if (run >= next) next = due ? run : run + 1;
        }
        opensAt = s.cancelled || next >= s.runs ? 0 : uint256(s.start) + next * s.interval;
    }

    /// @inheritdoc IInferenceSubscriptions
    function creditOf(address account) external view returns (uint256 amount) {
        return _credits[account];
    }

    /// @inheritdoc IInferenceSubscriptions
    function tokenCreditOf(address account, address token) external view returns (uint256 amount) {
        return _tokenCredits[token][account];
    }

    /// @inheritdoc IInferenceSubscriptions
    function escrowOf(uint256 subscriptionId) external view returns (uint256 amount) {
        Subscription storage s = _subs[subscriptionId];
        return uint256(s.runs - s.nextRun) * (uint256(s.feePerRun) + s.tipPerRun);
    }

    /// @inheritdoc IInferenceSubscriptions
    function inferenceJobs() external view returns (IInferenceJobs jobs) {
        return _jobs;
    }

    /// @inheritdoc IInferenceSubscriptions
    function inputViewGas() external pure returns (uint256 gas) {
        return INPUT_VIEW_GAS;
    }

    /// @inheritdoc IInferenceSubscriptions
    function setRunsOptimistic(uint256 subscriptionId, bool optimistic) external {
        Subscription storage s = _live(subscriptionId);
        if (msg.sender != s.owner) revert NotSubscriptionOwner(subscriptionId, msg.sender);
        s.optimistic = optimistic;
        emit RunsOptimisticSet(subscriptionId, optimistic);
    }

    /// @dev A public-input run: the owner's values, copied from the view's answer straight after the head of the
    /// market's public-input open (ETH or token) without decoding them, then that open.
    function _openPublicRun(
        Subscription memory s,
        uint256 subscriptionId,
        uint256 run
    ) private returns (uint256 jobId, uint8 reason) {
        address token = s.feeToken;
        uint256 fee = s.feePerRun;
        uint256 deadline = block.timestamp + s.runDeadline;
        // every argument but the values, with the values' offset: openJobWithInputs(modelId, modelVersion, inputs,
        // deadline, callback) or openTokenJobWithInputs(token, fee, modelId, modelVersion, inputs, deadline, callback)
        bytes memory head =
            token == address(0)
                ? abi.encodeWithSelector(
                    IInferenceJobs.openJobWithInputs.selector,
                    s.modelId,
                    s.modelVersion,
                    uint256(0xa0),
                    deadline,
                    true
                )
                : abi.encodeWithSelector(
                    IInferenceJobs.openTokenJobWithInputs.selector,
                    token,
                    fee,
                    s.modelId,
                    s.modelVersion,
                    uint256(0xe0),
                    deadline,
                    true
                );
        bytes memory data;
        (reason, data) = _readInputs(s.owner, subscriptionId, run, head);
        if (reason != 0) return (0, reason);
        return _callMarket(token == address(0) ? fee : 0, data);
    }

    /// @dev A committed run: the owner's commitment and URI, then the market's committed job on it: a public-opening
    /// job with the URI, or a private-delivery job when the URI is empty (ETH or token).
    function _openCommittedRun(
        Subscription memory s,
        uint256 subscriptionId,
        uint256 run
    ) private returns (uint256 jobId, uint8 reason) {
        uint256 commitment;
        string memory uri;
        (reason, commitment, uri) = _readCommitment(s.owner, subscriptionId, run);
        if (reason != 0) return (0, reason);
        uint64 deadline = uint64(block.timestamp + s.runDeadline);
        address token = s.feeToken;
        uint256 fee = s.feePerRun;
        (uint32 modelId, uint16 version) = (s.modelId, s.modelVersion);
        bytes memory data;
        if (bytes(uri).length != 0) {
            data =
                token == address(0)
                    ? abi.encodeCall(IInferenceJobs.openJob, (modelId, version, commitment, uri, deadline, true))
                    : abi.encodeCall(
                        IInferenceJobs.openTokenJob,
                        (token, fee, modelId, version, commitment, uri, deadline, true)
                    );
        } else {
            data =
                token == address(0)
                    ? abi.encodeCall(IInferenceJobs.openPrivateJob, (modelId, version, commitment, deadline, true))
                    : abi.encodeCall(
                        IInferenceJobs.openPrivateTokenJob,
                        (token, fee, modelId, version, commitment, deadline, true)
                    );
        }
        return _callMarket(token == address(0) ? fee : 0, data);
    }

    /// @dev Opens a run's market job with `data` (one of the market's opens, fee `value` in wei or pulled from this
    /// contract's token balance, callback here). A refusal by the market is a skip, unless the caller starved the call
    /// of gas (then the whole opening reverts). The market is trusted: its one-word answer is the job id.
    function _callMarket(uint256 value, bytes memory data) private returns (uint256 jobId, uint8 reason) {
        uint256 before = gasleft();
        address market = address(_jobs);
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), market, value, add(data, 0x20), mload(data), 0, 0x20)
            jobId := mload(0)
        }
        if (!ok) {
            // a call starved of gas by its caller is not the subscription's fault: revert the whole opening
            if (gasleft() < SKIP_GAS || gasleft() <= before / 64) revert InsufficientGas(before, gasleft());
            return (0, SKIP_MARKET_REFUSED);
        }
    }

    /// @dev The input mode of a version the registry has (1 public, 0 committed); `InvalidSubscriptionParameter` for
    /// version 0, above 16 bits or unknown to the registry.
    function _inputModeOf(uint256 modelId, uint256 version) private view returns (uint8) {
        if (version == 0 || version > type(uint16).max) revert InvalidSubscriptionParameter("modelVersion", version);
        try _registry.layoutOf(modelId, version) returns (IModelRegistry.Layout memory layout) {
            return layout.inputMode;
        } catch {
            revert InvalidSubscriptionParameter("modelVersion", version);
        }
    }

    /// @dev Reverts unless `jobId` is an awaited run whose subscription's owner is the caller.
    function _requireRunOwner(uint256 jobId) private view {
        AwaitedRun memory r = _findRun(jobId);
        if (r.subscriptionId == 0) revert UnknownRun(jobId);
        if (msg.sender != r.owner) revert NotSubscriptionOwner(r.subscriptionId, msg.sender);
    }

    /// @dev Records the awaited run of `jobId`: in its run-table entry if that holds no awaited run and the ids fit,
    /// else beside the table.
    function _recordRun(uint256 jobId, uint256 subscriptionId, uint256 run, address owner) private {
        uint256 slot = jobId % RUN_SLOTS;
        if (
            _runTable[slot] >> ENTRY_JOB_SHIFT == 0 &&
            jobId >> (256 - ENTRY_JOB_SHIFT) == 0 &&
            subscriptionId <= ENTRY_SUB_MASK
        )
            _runTable[slot] =
                (jobId << ENTRY_JOB_SHIFT) |
                (subscriptionId << ENTRY_SUB_SHIFT) |
                (run << ENTRY_RUN_SHIFT) |
                uint160(owner);
        else _runs[jobId] = (subscriptionId << 32) | run;
    }

    /// @dev The awaited run of `jobId` (subscription 0: none).
    function _findRun(uint256 jobId) private view returns (AwaitedRun memory r) {
        uint256 entry = _runTable[jobId % RUN_SLOTS];
        if (entry >> ENTRY_JOB_SHIFT == jobId)
            return
                AwaitedRun({
                    subscriptionId: (entry >> ENTRY_SUB_SHIFT) & ENTRY_SUB_MASK,
                    run: (entry >> ENTRY_RUN_SHIFT) & ENTRY_RUN_MASK,
                    owner: address(uint160(entry)),
                    inTable: true
                });
        uint256 packed = _runs[jobId];
        r.subscriptionId = packed >> 32;
        r.run = packed & type(uint32).max;
        if (r.subscriptionId != 0) r.owner = _subs[r.subscriptionId].owner;
    }

    /// @dev Forgets the awaited run of `jobId` (delivered or reclaimed) and returns it; `UnknownRun` if there is none.
    function _takeRun(uint256 jobId) private returns (AwaitedRun memory r) {
        r = _findRun(jobId);
        if (r.subscriptionId == 0) revert UnknownRun(jobId);
        if (r.inTable) _runTable[jobId % RUN_SLOTS] = EMPTY_RUN;
        else delete _runs[jobId];
    }

    /// @dev Checks and records a new subscription (ETH or `token`); returns it and the escrow it needs.
    // solhint-disable-next-line function-max-lines
    function _create(
        address token,
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 start,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) private returns (uint256 subscriptionId, uint256 due) {
        if (modelId == 0 || modelId > type(uint32).max) revert InvalidSubscriptionParameter("modelId", modelId);
        uint8 inputMode = _inputModeOf(modelId, modelVersion);
        if (interval < MIN_INTERVAL) revert InvalidSubscriptionParameter("interval", interval);
        if (runs == 0 || runs > MAX_RUNS) revert InvalidSubscriptionParameter("runs", runs);
        if (feePerRun == 0) revert InvalidSubscriptionParameter("feePerRun", feePerRun);
        if (runDeadline == 0) revert InvalidSubscriptionParameter("runDeadline", runDeadline);
        uint256 first = start == 0 ? block.timestamp : start;
        if (first < block.timestamp || first > block.timestamp + MAX_START_AHEAD)
            revert InvalidSubscriptionParameter("start", start);
        // the last run's job must be able to end before the market's uint32 deadlines run out
        if (first + uint256(interval) * runs + runDeadline > type(uint32).max)
            revert InvalidSubscriptionParameter("runs", runs);
        (due, subscriptionId) = (uint256(runs) * (uint256(feePerRun) + tipPerRun), _nextId++);
        _subs[subscriptionId] = Subscription({
            owner: msg.sender,
            modelId: uint32(modelId),
            modelVersion: uint16(modelVersion),
            interval: interval,
            start: uint32(first),
            runs: runs,
            nextRun: 0,
            runDeadline: runDeadline,
            cancelled: false,
            inputMode: inputMode,
            optimistic: false,
            feePerRun: feePerRun,
            tipPerRun: tipPerRun,
            feeToken: token
        });
        emit SubscriptionCreated(
            subscriptionId,
            msg.sender,
            modelId,
            uint16(modelVersion),
            interval,
            uint32(first),
            runs,
            feePerRun,
            tipPerRun,
            runDeadline
        );
    }

    /// @dev Pulls `amount` of `token` from the caller and reverts unless this contract's balance grew by exactly that
    /// (a fee-on-transfer token would leave the escrow short of what runs and refunds pay out). Under the lock.
    function _pull(address token, uint256 amount) private {
        uint256 received = TokenPull.pull(token, msg.sender, amount);
        if (received != amount) revert TokenAmountNotReceived(token, amount, received);
    }

    /// @dev Credits `amount` to `account` in ETH (`token` zero) or in `token`.
    function _credit(address token, address account, uint256 amount) private {
        if (token == address(0)) _credits[account] += amount;
        else _tokenCredits[token][account] += amount;
    }

    /// @dev A subscription that exists and is not cancelled.
    function _live(uint256 subscriptionId) private view returns (Subscription storage s) {
        s = _subs[subscriptionId];
        if (s.owner == address(0)) revert UnknownSubscription(subscriptionId);
        if (s.cancelled) revert SubscriptionIsCancelled(subscriptionId);
    }

    /// @dev The owner's inputs for a run: a STATICCALL with exactly INPUT_VIEW_GAS (the caller must leave enough for
    /// it to get all of it) and the ABI shape of one `int256[]` checked word by word on the return data (a malformed
    /// answer skips the run instead of reverting here); then at most 32 + 32 * MAX_INPUTS bytes of it, the array's
    /// length and values, are copied after `head`: the calldata of the market's open, whose last argument they are.
    /// @return reason 0, or why the run is skipped. @return data `head` then the values' ABI encoding (reason 0).
    function _readInputs(
        address owner,
        uint256 subscriptionId,
        uint256 run,
        bytes memory head
    ) private view returns (uint8 reason, bytes memory data) {
        // EIP-150: a call gets at most 63/64 of what is left; make sure that is the whole allowance
        uint256 needed = (INPUT_VIEW_GAS * 64) / 63 + SKIP_GAS;
        if (gasleft() < needed) revert InsufficientGas(needed, gasleft());
        bytes memory call_ = abi.encodeCall(ISubscriptionConsumer.subscriptionInputs, (subscriptionId, run));
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            ok := staticcall(INPUT_VIEW_GAS, owner, add(call_, 0x20), mload(call_), 0, 0)
            size := returndatasize()
        }
        if (!ok) return (SKIP_VIEW_FAILED, data);
        if (size < 64 || size > 64 + 32 * MAX_INPUTS || size % 32 != 0) return (SKIP_VIEW_MALFORMED, data);
        uint256 offset;
        uint256 count;
        assembly ("memory-safe") {
            returndatacopy(0, 0, 0x40)
            offset := mload(0)
            count := mload(0x20)
        }
        if (offset != 32 || size != 64 + 32 * count) return (SKIP_VIEW_MALFORMED, data);
        uint256 headLength = head.length;
        data = new bytes(headLength + size - 32);
        assembly ("memory-safe") {
            mcopy(add(data, 0x20), add(head, 0x20), headLength)
            returndatacopy(add(add(data, 0x20), headLength), 0x20, sub(size, 0x20))
        }
    }

    /// @dev The owner's input commitment and opening URI for a committed run: the same STATICCALL as `_readInputs`
    /// (exactly INPUT_VIEW_GAS, all of it available), at most 96 + MAX_URI_BYTES bytes of return data copied, and the
    /// ABI shape of one `(uint256, string)` checked word by word (a malformed answer skips the run).
    /// @return reason 0, or why the run is skipped. @return commitment The commitment. @return uri The URI (may be
    /// empty).
    function _readCommitment(
        address owner,
        uint256 subscriptionId,
        uint256 run
    ) private view returns (uint8 reason, uint256 commitment, string memory uri) {
        uint256 needed = (INPUT_VIEW_GAS * 64) / 63 + SKIP_GAS;
        if (gasleft() < needed) revert InsufficientGas(needed, gasleft());
        bytes memory data = abi.encodeCall(ISubscriptionConsumer.subscriptionCommitment, (subscriptionId, run));
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            ok := staticcall(INPUT_VIEW_GAS, owner, add(data, 0x20), mload(data), 0, 0)
            size := returndatasize()
        }
        if (!ok) return (SKIP_VIEW_FAILED, 0, uri);
        if (size < 96 || size > 96 + MAX_URI_BYTES || size % 32 != 0) return (SKIP_VIEW_MALFORMED, 0, uri);
        uint256 offset;
        uint256 length;
        assembly ("memory-safe") {
            returndatacopy(0, 0, 0x40)
            commitment := mload(0)
            offset := mload(0x20)
            returndatacopy(0, 0x40, 0x20)
            length := mload(0)
        }
        if (offset != 0x40 || size != 96 + 32 * ((length + 31) / 32)) return (SKIP_VIEW_MALFORMED, 0, uri);
        uri = new string(length);
        assembly ("memory-safe") {
            returndatacopy(add(uri, 0x20), 0x60, length)
        }
    }
}
