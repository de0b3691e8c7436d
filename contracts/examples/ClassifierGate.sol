// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "../interfaces/IInferenceCallback.sol";

/// @title ClassifierGate (example consumer)
/// @notice Grants access to whoever's input a classifier puts in `requiredClass`. A user commits to its input
/// (committed input mode: the input stays off chain, the provers get the opening) and pays the fee; the verified class
/// arrives in the callback. The gate pins the model version its owner audited: every job names it, so a model owner
/// who updates the model (even in front of a request) cannot make the gate trust a version nobody checked; the gate's
/// owner moves to a new version explicitly with `acceptVersion`. Walkthrough: docs/consumers.md.
///
/// Proven results only: the gate never makes its jobs optimistic (only a job's requester can, `setOptimistic`, and
/// the gate has no function that calls it), so access is granted on a verified proof and nothing else. Optimistic
/// results are not enough here (docs/consumers.md, "When optimistic is enough and when it is not"): a grant is
/// permanent value handed out the moment the callback runs, with no later result to correct it; and the user chooses
/// the input and where its opening is served, so a user colluding with a poster could hand the opening to the poster
/// only, leave every watcher unable to re-run the job, and have a wrong class become final after the window. The
/// poster's bond bounds what that lie costs, not what the access it buys is worth.
contract ClassifierGate is IInferenceCallback {
    /// @notice Thrown when the callback does not come from the jobs contract.
    /// @param caller The caller.
    error NotJobs(address caller);
    /// @notice Thrown when the refund cannot be sent to the user.
    /// @param user The user.
    /// @param amount The refund.
    error RefundFailed(address user, uint256 amount);
    /// @notice Thrown when a result arrives for a job this gate did not open.
    /// @param jobId The job.
    error UnknownJob(uint256 jobId);
    /// @notice Thrown when someone other than the gate's owner changes the pinned version.
    /// @param caller The caller.
    error NotOwner(address caller);

    /// @notice Emitted when a user asks for access.
    /// @param user The user.
    /// @param jobId The job classifying its input.
    event AccessRequested(address indexed user, uint256 indexed jobId);
    /// @notice Emitted when the verified class is `requiredClass`.
    /// @param user The user.
    /// @param jobId The job.
    event AccessGranted(address indexed user, uint256 indexed jobId);
    /// @notice Emitted when the verified class is another one.
    /// @param user The user.
    /// @param jobId The job.
    /// @param verifiedClass The class the model gave.
    event AccessDenied(address indexed user, uint256 indexed jobId, uint256 verifiedClass);
    /// @notice Emitted when the owner moves the gate to another model version.
    /// @param previous The version pinned before.
    /// @param version The version pinned now.
    event VersionAccepted(uint256 previous, uint256 version);

    IInferenceJobs public immutable jobs;
    uint256 public immutable modelId;
    uint256 public immutable requiredClass;
    /// @notice Who audited the pinned version and may accept another one.
    address public immutable owner;
    /// @notice The model version every job of this gate names (the market refuses the job if the model's current
    /// version is another one).
    uint256 public modelVersion;

    mapping(uint256 jobId => address user) public userOf;
    mapping(address user => bool) public granted;

    /// @param jobs_ The market.
    /// @param modelId_ A classifier (argmax head, committed input mode).
    /// @param modelVersion_ The version the deployer audited (its verifier and layout; docs/consumers.md).
    /// @param requiredClass_ The class that grants access.
    constructor(IInferenceJobs jobs_, uint256 modelId_, uint256 modelVersion_, uint256 requiredClass_) {
        jobs = jobs_;
        modelId = modelId_;
        modelVersion = modelVersion_;
        requiredClass = requiredClass_;
        owner = msg.sender;
    }

    /// @notice Moves the gate to another version of the model, after the owner audited it. Jobs opened before keep
    /// the version they pinned.
    /// @param version The version to pin.
    function acceptVersion(uint256 version) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        emit VersionAccepted(modelVersion, version);
        modelVersion = version;
    }

    /// @notice Opens a classification job on the caller's committed input; `msg.value` is the fee.
    /// @param inputCommitment The salted commitment to the caller's quantized input.
    /// @param inputURI Where provers get the opening (docs/market-rules.md).
    /// @param deadline The job's deadline.
    /// @return jobId The job.
    function requestAccess(
        uint256 inputCommitment,
        string calldata inputURI,
        uint64 deadline
    ) external payable returns (uint256 jobId) {
        jobId = jobs.openJob{value: msg.value}(modelId, modelVersion, inputCommitment, inputURI, deadline, true);
        userOf[jobId] = msg.sender;
        emit AccessRequested(msg.sender, jobId);
    }

    /// @notice After the deadline of an unfulfilled job, takes its fee back from the market and sends it to the user
    /// who paid it.
    /// @param jobId The job.
    function refund(uint256 jobId) external {
        address user = userOf[jobId];
        if (user == address(0)) revert UnknownJob(jobId);
        delete userOf[jobId];
        jobs.reclaim(jobId);
        uint256 amount = jobs.withdraw();
        (bool ok, ) = user.call{value: amount}("");
        if (!ok) revert RefundFailed(user, amount);
    }

    /// @notice Receives the refund `refund` withdraws from the market.
    receive() external payable {
        if (msg.sender != address(jobs)) revert NotJobs(msg.sender);
    }

    /// @inheritdoc IInferenceCallback
    function onInferenceResult(uint256 jobId, uint256 output) external {
        if (msg.sender != address(jobs)) revert NotJobs(msg.sender);
        address user = userOf[jobId];
        if (user == address(0)) revert UnknownJob(jobId);
        delete userOf[jobId];
        if (output == requiredClass) {
            granted[user] = true;
            emit AccessGranted(user, jobId);
        } else {
            emit AccessDenied(user, jobId, output);
        }
    }
}
