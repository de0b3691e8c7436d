// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";

/// @title MockReenteringOpener (tests)
/// @notice Opens runs for their tips, then withdraws them with a `receive` that calls `withdraw` again: the lock
/// refuses the re-entry, so the ETH transfer fails and the withdrawal reverts, keeping the credit.
contract MockReenteringOpener {
    IInferenceSubscriptions private immutable _subs;

    constructor(IInferenceSubscriptions subs) {
        _subs = subs;
    }

    function open(uint256 subscriptionId) external returns (uint256) {
        return _subs.openRun(subscriptionId);
    }

    function take() external returns (uint256) {
        return _subs.withdraw();
    }

    receive() external payable {
        _subs.withdraw();
    }
}
