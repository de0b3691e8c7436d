// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";

/// @title ReentrantWithdrawer (TEST ONLY)
/// @notice An account whose `receive()` calls `withdraw()` again, to show that a withdrawal cannot be re-entered
/// for a second payout.
contract ReentrantWithdrawer {
    IInferenceJobs public immutable jobs;
    /// @notice How many times `receive()` ran.
    uint256 public received;
    /// @notice Whether the re-entrant `withdraw()` reverted.
    bool public reentryReverted;

    constructor(IInferenceJobs jobs_) {
        jobs = jobs_;
    }

    /// @notice Deposits `msg.value` as stake for this contract.
    function deposit() external payable {
        jobs.deposit{value: msg.value}();
    }

    /// @notice Withdraws this contract's balance (its `receive()` then tries again).
    function withdraw() external returns (uint256) {
        return jobs.withdraw();
    }

    // The re-entry IS this mock's purpose, so its receive() cannot be simple.
    // solhint-disable-next-line no-complex-fallback
    receive() external payable {
        received += 1;
        try jobs.withdraw() returns (uint256) {
            reentryReverted = false;
        } catch {
            reentryReverted = true;
        }
    }
}
