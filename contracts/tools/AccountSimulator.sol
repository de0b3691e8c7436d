// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title AccountSimulator (never deployed)
/// @notice Runtime code that the operator tasks place at the sending account's own address in an `eth_call` state
/// override (scripts/apps/tasks/common.ts, `simulateAs`), so that calls the account would send one after the other
/// (an ERC-20 approval, then the open that pulls the tokens) run in one simulation with that account as `msg.sender`,
/// before anything is signed: a refusal that only shows after an approval (a fee-on-transfer token that the market
/// refuses) is found while nothing has been sent.
contract AccountSimulator {
    /// @notice Thrown when one of the calls reverts.
    /// @param index The call (0 for the first).
    /// @param reason Its revert data.
    error SimulatedCallFailed(uint256 index, bytes reason);

    /// @notice Makes the calls in order, each with no value, and returns what each returned.
    /// @param targets The contracts called.
    /// @param data The calldata of each.
    /// @return results The return data of each call.
    function run(address[] calldata targets, bytes[] calldata data) external returns (bytes[] memory results) {
        results = new bytes[](targets.length);
        for (uint256 i = 0; i < targets.length; ++i) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory ret) = targets[i].call(data[i]);
            if (!ok) revert SimulatedCallFailed(i, ret);
            results[i] = ret;
        }
    }
}
