// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "../interfaces/IInferenceCallback.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title MockRequester (test-only)
/// @notice A requester contract: opens jobs, receives the result callback in one of several behaviours, and can
/// refuse ETH. Behaviours: 0 record, 1 revert, 2 burn all gas, 3 re-enter the jobs contract, 4 return-data bomb.
contract MockRequester is IInferenceCallback {
    /// @notice Thrown when the callback does not come from the jobs contract.
    error NotJobs(address caller);
    /// @notice Thrown when the mock is set to refuse the callback (behaviour 1).
    error CallbackRefused(uint256 jobId);
    /// @notice Thrown when the mock is set to refuse ETH.
    error EthRefused(uint256 amount);

    IInferenceJobs public immutable jobs;
    uint256 public behaviour;
    bool public refuseEth;
    uint256 public lastJobId;
    uint256 public lastOutput;
    uint256 public calls;
    bool public reentryReverted;

    constructor(IInferenceJobs jobs_) {
        jobs = jobs_;
    }

    function setBehaviour(uint256 b) external {
        behaviour = b;
    }

    function setRefuseEth(bool v) external {
        refuseEth = v;
    }

    function open(
        uint256 modelId,
        uint256 inputCommitment,
        uint64 deadline,
        bool callback
    ) external payable returns (uint256) {
        // A test requester trusts whatever version is current (a real consumer pins the one it audited).
        (uint16 version, , ) = IModelRegistry(jobs.registry()).currentVersion(modelId);
        return jobs.openJob{value: msg.value}(modelId, version, inputCommitment, "ipfs://mock", deadline, callback);
    }

    /// @notice Makes one of its jobs optimistic (docs/market-rules.md, "Optimistic results").
    function setOptimistic(uint256 jobId) external {
        jobs.setOptimistic(jobId);
    }

    function reclaim(uint256 jobId) external {
        jobs.reclaim(jobId);
    }

    function withdraw() external returns (uint256) {
        return jobs.withdraw();
    }

    /// @inheritdoc IInferenceCallback
    function onInferenceResult(uint256 jobId, uint256 output) external {
        if (msg.sender != address(jobs)) revert NotJobs(msg.sender);
        uint256 b = behaviour;
        if (b == 1) revert CallbackRefused(jobId);
        if (b == 2) {
            assembly {
                invalid() // consumes all the gas it was given
            }
        }
        if (b == 3) {
            // Try to take the fee back through the settled job: must fail, settlement already happened.
            try jobs.reclaim(jobId) {
                reentryReverted = false;
            } catch {
                reentryReverted = true;
            }
        }
        if (b == 4) {
            assembly {
                revert(0, 100000)
            }
        }
        lastJobId = jobId;
        lastOutput = output;
        calls += 1;
    }

    receive() external payable {
        if (refuseEth) revert EthRefused(msg.value);
    }
}
