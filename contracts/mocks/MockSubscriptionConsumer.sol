// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceSubscriptions} from "../interfaces/IInferenceSubscriptions.sol";
import {SubscriptionConsumer} from "../consumer/SubscriptionConsumer.sol";

/// @title MockSubscriptionConsumer (tests)
/// @notice A subscription owner whose input views and result callback misbehave on request: `mode` 0 answers
/// `inputs` (or `commitment` and `uri`), 1 reverts, 2 returns bytes that are not an `int256[]` (nor a
/// `(uint256, string)`), 3 returns a huge answer, 4 burns all its gas, 5 answers but reverts in the result callback,
/// 6 answers but burns all gas in the callback, 7 returns 65 bytes (not whole words), 8 returns one word of values
/// under a count of 5, 9 answers a commitment with a URI of 8,193 bytes, 10 answers a commitment whose URI length
/// says more bytes than follow, 11 falls through to the base's default views (which revert), 12 returns nothing,
/// 13 returns 97 bytes (three words and one more byte). Its delivery and
/// designation functions are open to anyone: they stand for the owner's operator.
contract MockSubscriptionConsumer is SubscriptionConsumer {
    /// @notice Thrown by the input view in mode 1 and the callback in mode 5.
    error Broken();

    /// @notice Emitted for every result received.
    /// @param subscriptionId The subscription.
    /// @param run The run.
    /// @param jobId Its job.
    /// @param output The output.
    event Received(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output);

    uint8 public mode;
    int256[] public inputs;
    uint256 public commitment;
    string public uri;

    constructor(IInferenceSubscriptions subscriptions_) SubscriptionConsumer(subscriptions_) {}

    function setMode(uint8 m) external {
        mode = m;
    }

    function setInputs(int256[] calldata values) external {
        inputs = values;
    }

    function setCommitment(uint256 value, string calldata inputURI) external {
        commitment = value;
        uri = inputURI;
    }

    function deliverRunInput(uint256 jobId, address claimant, bytes calldata ciphertext) external {
        _deliverRunInput(jobId, claimant, ciphertext);
    }

    function designateRunClaimant(uint256 jobId, address claimant) external {
        _designateRunClaimant(jobId, claimant);
    }

    function setRunsOptimistic(uint256 subscriptionId, bool optimistic) external {
        subscriptions.setRunsOptimistic(subscriptionId, optimistic);
    }

    function subscribe(
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external payable returns (uint256) {
        return _subscribe(modelId, modelVersion, interval, runs, feePerRun, tipPerRun, runDeadline);
    }

    function subscribeWithToken(
        address token,
        uint256 modelId,
        uint256 modelVersion,
        uint32 interval,
        uint32 runs,
        uint96 feePerRun,
        uint96 tipPerRun,
        uint32 runDeadline
    ) external returns (uint256) {
        return _subscribeWithToken(token, modelId, modelVersion, interval, runs, feePerRun, tipPerRun, runDeadline);
    }

    function withdrawTokenRefunds(address token) external returns (uint256) {
        return _withdrawTokenRefunds(token);
    }

    function cancel(uint256 subscriptionId) external {
        _cancelSubscription(subscriptionId);
    }

    function withdrawRefunds() external returns (uint256) {
        return _withdrawRefunds();
    }

    function _runInputs(uint256 subscriptionId, uint256 run) internal view override returns (int256[] memory) {
        if (mode == 11) return super._runInputs(subscriptionId, run);
        _misbehave();
        return inputs;
    }

    function _runCommitment(
        uint256 subscriptionId,
        uint256 run
    ) internal view override returns (uint256, string memory) {
        uint8 m = mode;
        if (m == 11) return super._runCommitment(subscriptionId, run);
        if (m == 9) return (commitment, string(new bytes(8193)));
        if (m == 10) {
            assembly {
                mstore(0, 7)
                mstore(0x20, 0x40)
                mstore(0x40, 33)
                mstore(0x60, 0)
                return(0, 0x80)
            }
        }
        _misbehave();
        return (commitment, uri);
    }

    /// @dev Modes 1-4, 7 and 8 of both views: revert, or return from here with a malformed answer.
    function _misbehave() private view {
        uint8 m = mode;
        if (m == 1) revert Broken();
        if (m == 2) {
            assembly {
                mstore(0, 0x40)
                mstore(0x20, 5)
                return(0, 0x40)
            }
        }
        if (m == 3) {
            assembly {
                return(0, 100000)
            }
        }
        if (m == 4) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        if (m == 7) {
            assembly {
                mstore(0, 0x20)
                mstore(0x20, 1)
                mstore(0x40, 5)
                return(0, 0x41)
            }
        }
        if (m == 8) {
            assembly {
                mstore(0, 0x20)
                mstore(0x20, 5)
                mstore(0x40, 1)
                return(0, 0x60)
            }
        }
        if (m == 12) {
            assembly {
                return(0, 0)
            }
        }
        if (m == 13) {
            assembly {
                mstore(0, 7)
                mstore(0x20, 0x40)
                mstore(0x40, 0)
                return(0, 0x61)
            }
        }
    }

    function _onRunResult(uint256 subscriptionId, uint256 run, uint256 jobId, uint256 output) internal override {
        if (mode == 5) revert Broken();
        if (mode == 6) {
            uint256 x;
            while (true) x = uint256(keccak256(abi.encode(x)));
        }
        emit Received(subscriptionId, run, jobId, output);
    }
}
