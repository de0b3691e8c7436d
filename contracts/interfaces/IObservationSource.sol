// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Observation source
/// @notice A series of on-chain observations (prices, rates, readings), such as an oracle's rounds or a TWAP's
/// checkpoints, read by `ScheduledForecaster` at each run.
interface IObservationSource {
    /// @notice The last `count` observations, oldest first, each `value * 2^frac` for the reader's fixed point.
    /// @param count How many (reverts when fewer were recorded).
    /// @return values The observations.
    function observations(uint256 count) external view returns (int256[] memory values);
}
