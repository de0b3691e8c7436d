// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IObservationSource} from "../interfaces/IObservationSource.sol";

/// @title MockObservationOracle (tests and the subscription demo)
/// @notice A reporter appends observations; readers get the last `count`, oldest first.
contract MockObservationOracle is IObservationSource {
    /// @notice Thrown when fewer observations were recorded than asked for.
    /// @param have Recorded.
    /// @param need Asked for.
    error NotEnoughObservations(uint256 have, uint256 need);
    /// @notice Thrown when the caller is not the reporter.
    /// @param caller The caller.
    error NotReporter(address caller);

    /// @notice Emitted when an observation is recorded.
    /// @param index Its index.
    /// @param value The value.
    event Observed(uint256 indexed index, int256 value);

    address public immutable reporter;
    int256[] private _values;

    constructor() {
        reporter = msg.sender;
    }

    /// @notice Appends observations (reporter only).
    /// @param values The values, oldest first.
    function record(int256[] calldata values) external {
        if (msg.sender != reporter) revert NotReporter(msg.sender);
        for (uint256 i = 0; i < values.length; ++i) {
            emit Observed(_values.length, values[i]);
            _values.push(values[i]);
        }
    }

    /// @inheritdoc IObservationSource
    function observations(uint256 count) external view returns (int256[] memory values) {
        uint256 n = _values.length;
        if (n < count) revert NotEnoughObservations(n, count);
        values = new int256[](count);
        for (uint256 i = 0; i < count; ++i) values[i] = _values[n - count + i];
    }
}
