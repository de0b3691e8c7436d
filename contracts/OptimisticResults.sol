// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "./interfaces/IInferenceJobs.sol";
import {InferenceJobs} from "./InferenceJobs.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title OptimisticResults
/// @notice The rules of the market's optimistic mode (docs/market-rules.md, "Optimistic results"): making a job
/// optimistic, posting a result without a proof, challenging it by bond, expiring an unanswered challenge, and
/// settling a proof against a posted result (finalising an unchallenged result stays in the market: it is the path
/// every unchallenged result takes, and a DELEGATECALL would cost it 3k gas). `InferenceJobs` is linked to this
/// library and runs it by DELEGATECALL on its own storage, passed as storage pointers, through one entry point
/// (`run`), so that the market's code stays under the EIP-170 size limit (docs/design-decisions.md, "Optimistic
/// results: a linked library"). The market keeps every payout (fee, bounty, the poster's released bond) and the
/// callback; this library only moves bonds between the market's accounts and returns the slash, which the market adds
/// to the job's bounty.
/// @dev `run` is `external`, so it is not inlined into the market, and reachable only through the market: Solidity
/// refuses a direct CALL to a state-changing library function. Checks come before effects; there is no external call.
/// Events and errors are the market's (`IInferenceJobs`), emitted from the market's address.
library OptimisticResults {
    /// @notice The job accepts posted results (`InferenceJobs.setOptimistic`); a `JobRecord.flags` bit.
    uint8 internal constant FLAG_OPTIMISTIC = 16;
    /// @notice The posted result is challenged by bond; a `JobRecord.flags` bit.
    uint8 internal constant FLAG_CHALLENGED = 32;

    /// @notice `run` operations.
    uint256 internal constant OP_SET = 0;
    uint256 internal constant OP_POST = 1;
    uint256 internal constant OP_CHALLENGE = 2;
    uint256 internal constant OP_EXPIRE = 3;
    uint256 internal constant OP_SETTLE = 4;

    uint256 private constant BPS = 10_000;
    uint256 private constant MASK_96 = (1 << 96) - 1;
    uint256 private constant MASK_32 = (1 << 32) - 1;

    /// @notice A bond challenge of a posted result (one slot).
    /// @param challenger Who locked the challenge bond.
    /// @param proofDeadline The poster's last second to prove.
    struct Challenge {
        address challenger;
        uint32 proofDeadline;
    }

    /// @notice The market's optimistic state (one state variable of `InferenceJobs`).
    /// @param postedOutputs A Posted job's output (its poster is the job's claimant, its window end the claim's
    /// `leaseEnd`).
    /// @param challenges A Posted job's bond challenge (while `FLAG_CHALLENGED` is set).
    struct Store {
        mapping(uint256 jobId => uint256 output) postedOutputs;
        mapping(uint256 jobId => Challenge) challenges;
    }

    /// @notice One operation and the market's parameters.
    /// @param op `OP_*`.
    /// @param jobId The job.
    /// @param output The output posted (OP_POST) or proven (OP_SETTLE).
    /// @param bonds `claimBond | challengeBond << 96 | slashBps << 192`.
    /// @param times `challengeWindow | proofWindow << 32 | openWindow << 64`.
    struct Call {
        uint256 op;
        uint256 jobId;
        uint256 output;
        uint256 bonds;
        uint256 times;
    }

    /// @notice Runs one optimistic operation on the market's storage (the market's caller is `msg.sender`).
    /// - OP_SET (`setOptimistic`): the requester makes its Open or Claimed job optimistic.
    /// - OP_POST (`postResult`): the live claimant of an optimistic job posts `output`; the job becomes Posted.
    /// - OP_CHALLENGE (`challengeResult`): locks the caller's challenge bond against a posted result, in its window,
    ///   once.
    /// - OP_EXPIRE (`expireChallenge`): after an unanswered challenge's proof window, the challenger's bond back, the
    ///   poster slashed (not if the pinned verifier's code changed: nobody could prove), the job Open and no longer
    ///   optimistic.
    /// - OP_SETTLE (a verified proof of `output` by the caller on a Posted job, from `submitResult(s)`): the posted
    ///   output answers any challenge (its bond to the poster; the poster is paid); another output disproves the post
    ///   (the poster's bond to the first challenger, less the slash; the caller is paid); after an unanswered
    ///   challenge's proof window the challenge expires first and the caller is paid as for any proof.
    /// @param jobs The market's jobs.
    /// @param claims The market's claims.
    /// @param accounts The market's accounts.
    /// @param targets The market's verification targets.
    /// @param store The market's optimistic state.
    /// @param c The operation and the parameters.
    /// @return payee Who the market pays the fee and bounty (OP_SETTLE).
    /// @return posterPaid Whether `payee` is the poster, whose claim bond the market then releases.
    /// @return slashed The part of a poster's lost bond the market adds to the job's bounty.
    function run(
        mapping(uint256 => InferenceJobs.JobRecord) storage jobs,
        mapping(uint256 => IInferenceJobs.Claim) storage claims,
        mapping(address => IInferenceJobs.Account) storage accounts,
        mapping(uint256 => mapping(uint256 => InferenceJobs.Target)) storage targets,
        Store storage store,
        Call memory c
    ) external returns (address payee, bool posterPaid, uint256 slashed) {
        InferenceJobs.JobRecord storage job = jobs[c.jobId];
        if (c.op == OP_SET) {
            _set(job, c.jobId);
        } else if (c.op == OP_POST) {
            _post(job, claims[c.jobId], store, c);
        } else {
            IInferenceJobs.JobStatus status = job.status;
            if (status != IInferenceJobs.JobStatus.Posted) revert IInferenceJobs.ResultNotPosted(c.jobId, status);
            if (c.op == OP_SETTLE) return _settle(job, claims, accounts, store, c);
            if (c.op == OP_EXPIRE) {
                bool provable = _provable(targets[job.modelId][job.modelVersion]);
                slashed = _expire(job, claims, accounts, store, c, provable, true);
            } else {
                _challenge(job, claims[c.jobId], accounts, store, c);
            }
        }
    }

    /// @dev OP_SET: the requester makes its Open or Claimed job optimistic.
    function _set(InferenceJobs.JobRecord storage job, uint256 jobId) private {
        _requireOpen(jobId, job.status);
        if (msg.sender != job.requester) revert IInferenceJobs.NotRequester(jobId, msg.sender);
        job.flags |= FLAG_OPTIMISTIC;
        emit IInferenceJobs.JobMadeOptimistic(jobId);
    }

    /// @dev Whether a version's verifier code is still the registered code; if not, nobody can prove a job on it, and
    /// an unanswered challenge slashes nobody.
    function _provable(InferenceJobs.Target storage t) private view returns (bool) {
        return t.verifier.codehash == t.verifierCodeHash;
    }

    /// @dev OP_CHALLENGE on a Posted job: unchallenged, in its window; locks the caller's challenge bond.
    function _challenge(
        InferenceJobs.JobRecord storage job,
        IInferenceJobs.Claim storage claim,
        mapping(address => IInferenceJobs.Account) storage accounts,
        Store storage store,
        Call memory c
    ) private {
        uint256 jobId = c.jobId;
        if (job.flags & FLAG_CHALLENGED != 0) {
            Challenge memory ch = store.challenges[jobId];
            revert IInferenceJobs.ResultUnderChallenge(jobId, ch.challenger, ch.proofDeadline);
        }
        uint256 windowEnd = claim.leaseEnd;
        if (block.timestamp > windowEnd) revert IInferenceJobs.ChallengeWindowClosed(jobId, windowEnd);
        uint256 bond = (c.bonds >> 96) & MASK_96;
        IInferenceJobs.Account storage account = accounts[msg.sender];
        if (account.available < bond) revert IInferenceJobs.InsufficientStake(msg.sender, account.available, bond);
        account.available -= uint128(bond); // checked above
        account.locked += uint128(bond); // bounded by the ETH the market holds
        uint256 proofDeadline = block.timestamp + ((c.times >> 32) & MASK_32);
        // < deadline: the post left challengeWindow + proofWindow + openWindow before it
        store.challenges[jobId] = Challenge({challenger: msg.sender, proofDeadline: uint32(proofDeadline)});
        job.flags |= FLAG_CHALLENGED;
        emit IInferenceJobs.ResultChallenged(jobId, msg.sender, proofDeadline, bond);
    }

    /// @dev OP_POST: the caller holds the live claim of an optimistic job; the dispute fits before the deadline.
    function _post(
        InferenceJobs.JobRecord storage job,
        IInferenceJobs.Claim storage claim,
        Store storage store,
        Call memory c
    ) private {
        uint256 jobId = c.jobId;
        IInferenceJobs.JobStatus status = job.status;
        _requireOpen(jobId, status);
        if (job.flags & FLAG_OPTIMISTIC == 0) revert IInferenceJobs.NotOptimistic(jobId);
        uint256 output = c.output;
        if (output >= PublicSignals.SNARK_SCALAR_FIELD) revert IInferenceJobs.OutputNotInField(output);
        if (status != IInferenceJobs.JobStatus.Claimed || block.timestamp > claim.leaseEnd) {
            revert IInferenceJobs.NoLiveClaim(jobId);
        }
        if (claim.claimant != msg.sender) revert IInferenceJobs.NotClaimant(jobId, msg.sender);
        uint256 times = c.times;
        uint256 challengeWindow = times & MASK_32;
        {
            // challengeWindow + proofWindow + openWindow
            uint256 span = challengeWindow + ((times >> 32) & MASK_32) + ((times >> 64) & MASK_32);
            uint256 deadline = job.deadline;
            if (block.timestamp + span > deadline) {
                revert IInferenceJobs.PostTooLate(jobId, deadline > span ? deadline - span : 0);
            }
        }
        uint256 windowEnd = block.timestamp + challengeWindow;
        // The claim record becomes the post's: its claimant the poster, its leaseEnd the window's end (< deadline).
        claim.leaseEnd = uint32(windowEnd);
        job.status = IInferenceJobs.JobStatus.Posted;
        store.postedOutputs[jobId] = output;
        emit IInferenceJobs.ResultPosted(jobId, msg.sender, output, windowEnd);
    }

    /// @dev OP_SETTLE (see `run`). The market checked the job is Posted and still disputable (in its window, or
    /// challenged) and verified the caller's proof of `c.output`.
    function _settle(
        InferenceJobs.JobRecord storage job,
        mapping(uint256 => IInferenceJobs.Claim) storage claims,
        mapping(address => IInferenceJobs.Account) storage accounts,
        Store storage store,
        Call memory c
    ) private returns (address payee, bool posterPaid, uint256 slashed) {
        address challenger;
        if (job.flags & FLAG_CHALLENGED != 0) {
            Challenge memory ch = store.challenges[c.jobId];
            if (block.timestamp > ch.proofDeadline) {
                // Unanswered: the challenge expires first (a proof just verified, so the verifier is intact).
                return (msg.sender, false, _expire(job, claims, accounts, store, c, true, false));
            }
            challenger = ch.challenger;
            delete store.challenges[c.jobId];
            accounts[challenger].locked -= uint128((c.bonds >> 96) & MASK_96); // locked by the challenge
        }
        (payee, posterPaid, slashed) = _judge(claims, accounts, store, c, challenger);
    }

    /// @dev Judges the posted output by the proven one (`challenger`'s bond already unlocked, if any): the same output
    /// pays the poster and gives it the challenge bond; another output slashes the poster for the first challenger
    /// (the bond challenger, whose bond comes back, or else the prover, `msg.sender`), and the prover is paid.
    function _judge(
        mapping(uint256 => IInferenceJobs.Claim) storage claims,
        mapping(address => IInferenceJobs.Account) storage accounts,
        Store storage store,
        Call memory c,
        address challenger
    ) private returns (address, bool, uint256) {
        uint256 jobId = c.jobId;
        bool right = c.output == store.postedOutputs[jobId];
        delete store.postedOutputs[jobId];
        uint128 challengeBond = uint128((c.bonds >> 96) & MASK_96);
        if (right) {
            // The poster was right: it is paid, and a challenger's bond is its too.
            address poster = claims[jobId].claimant;
            if (challenger != address(0)) {
                accounts[poster].available += challengeBond;
                emit IInferenceJobs.ChallengeAnswered(jobId, poster, challenger, challengeBond);
            }
            return (poster, true, 0);
        }
        // Uniqueness: a valid proof of another output shows the posted one is wrong.
        if (challenger == address(0)) challenger = msg.sender;
        else accounts[challenger].available += challengeBond;
        return (msg.sender, false, _slashPoster(claims, accounts, c, challenger, true, false));
    }

    /// @dev An expired challenge (checked here if `check`): the challenger's bond back, the poster slashed (returned
    /// whole if not `provable`), the posted result dropped, the job Open for proven submissions only.
    function _expire(
        InferenceJobs.JobRecord storage job,
        mapping(uint256 => IInferenceJobs.Claim) storage claims,
        mapping(address => IInferenceJobs.Account) storage accounts,
        Store storage store,
        Call memory c,
        bool provable,
        bool check
    ) private returns (uint256) {
        uint256 jobId = c.jobId;
        Challenge memory ch = store.challenges[jobId];
        if (check) {
            if (job.flags & FLAG_CHALLENGED == 0) revert IInferenceJobs.NotChallenged(jobId);
            if (block.timestamp <= ch.proofDeadline) revert IInferenceJobs.ProofWindowOpen(jobId, ch.proofDeadline);
        }
        delete store.challenges[jobId];
        delete store.postedOutputs[jobId];
        // The challenger's bond back.
        IInferenceJobs.Account storage account = accounts[ch.challenger];
        uint128 challengeBond = uint128((c.bonds >> 96) & MASK_96);
        account.locked -= challengeBond;
        account.available += challengeBond;
        job.status = IInferenceJobs.JobStatus.Open;
        job.flags &= ~(FLAG_OPTIMISTIC | FLAG_CHALLENGED);
        return _slashPoster(claims, accounts, c, ch.challenger, provable, true);
    }

    /// @dev Takes the poster's claim bond (returns it whole if not `slashable`): `claimBond - slashed` to `rewarded`,
    /// `slashed` returned for the bounty; ends the claim record.
    function _slashPoster(
        mapping(uint256 => IInferenceJobs.Claim) storage claims,
        mapping(address => IInferenceJobs.Account) storage accounts,
        Call memory c,
        address rewarded,
        bool slashable,
        bool reopened
    ) private returns (uint256 slashed) {
        uint256 jobId = c.jobId;
        address poster = claims[jobId].claimant;
        uint256 bond = c.bonds & MASK_96;
        uint256 lost = slashable ? bond : 0;
        slashed = (lost * (c.bonds >> 192)) / BPS; // <= lost since slashBps <= BPS
        IInferenceJobs.Account storage account = accounts[poster];
        account.locked -= uint128(bond); // locked by the claim
        account.available += uint128(bond - lost);
        accounts[rewarded].available += uint128(lost - slashed); // bounded by the ETH the market holds
        delete claims[jobId];
        emit IInferenceJobs.PosterSlashed(jobId, poster, rewarded, lost - slashed, slashed, reopened);
    }

    /// @dev Reverts unless the job exists and is Open or Claimed (as the market's `_requireOpen`).
    function _requireOpen(uint256 jobId, IInferenceJobs.JobStatus status) private pure {
        if (status == IInferenceJobs.JobStatus.None) revert IInferenceJobs.JobNotFound(jobId);
        if (status != IInferenceJobs.JobStatus.Open && status != IInferenceJobs.JobStatus.Claimed) {
            revert IInferenceJobs.JobNotOpen(jobId, status);
        }
    }
}
