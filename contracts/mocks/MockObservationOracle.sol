// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IObservationSource} from "../interfaces/IObservationSource.sol";

/// @title MockObservationOracle (tests, the subscription demo and its gas bench)
/// @notice A reporter appends observations; readers get the last `count`, oldest first. Stored the way an on-chain
/// oracle packs its history for cheap reads (Uniswap's observations, a TWAP's checkpoints): a ring of the last 64
/// observations, eight signed 32-bit values to a storage word, so a reader of the last 7 loads the count and one or two
/// words instead of one word per observation, and a report rewrites a word instead of creating one once the ring has
/// gone round.
contract MockObservationOracle is IObservationSource {
    /// @notice Thrown when fewer observations are held than asked for.
    /// @param have Held (recorded, at most the ring's 64).
    /// @param need Asked for.
    error NotEnoughObservations(uint256 have, uint256 need);
    /// @notice Thrown when the caller is not the reporter.
    /// @param caller The caller.
    error NotReporter(address caller);
    /// @notice Thrown when an observation does not fit the oracle's signed 32 bits.
    /// @param value The value.
    error ObservationOutOfRange(int256 value);

    /// @notice Emitted when an observation is recorded.
    /// @param index Its index.
    /// @param value The value.
    event Observed(uint256 indexed index, int256 value);

    /// @dev Observations per storage word (32 bits each) and words in the ring.
    uint256 private constant PER_WORD = 8;
    uint256 private constant WORDS = 8;
    uint256 private constant LANE_MASK = type(uint32).max;

    address public immutable reporter;
    /// @dev Observations recorded so far (observation `i` is lane `i % 8` of word `(i / 8) % 8`).
    uint256 private _count;
    uint256[WORDS] private _ring;

    constructor() {
        reporter = msg.sender;
    }

    /// @notice Appends observations (reporter only), each a signed 32-bit value.
    /// @param values The values, oldest first.
    function record(int256[] calldata values) external {
        if (msg.sender != reporter) revert NotReporter(msg.sender);
        uint256 n = _count;
        for (uint256 i = 0; i < values.length; ++i) {
            // bounded by the caller's own calldata
            int256 v = values[i];
            if (v < type(int32).min || v > type(int32).max) revert ObservationOutOfRange(v);
            uint256 w = (n / PER_WORD) % WORDS;
            uint256 shift = (n % PER_WORD) * 32;
            _ring[w] = (_ring[w] & ~(LANE_MASK << shift)) | (uint256(uint32(int32(v))) << shift);
            emit Observed(n, v);
            ++n;
        }
        _count = n;
    }

    /// @inheritdoc IObservationSource
    function observations(uint256 count) external view returns (int256[] memory values) {
        uint256 n = _count;
        uint256 held = n < PER_WORD * WORDS ? n : PER_WORD * WORDS;
        if (held < count) revert NotEnoughObservations(held, count);
        values = new int256[](count);
        uint256 loaded = type(uint256).max;
        uint256 word;
        unchecked {
            // count <= held <= n, and count <= 64
            for (uint256 i = 0; i < count; ++i) {
                uint256 k = n - count + i;
                uint256 w = (k / PER_WORD) % WORDS;
                if (w != loaded) (loaded, word) = (w, _ring[w]);
                values[i] = int32(uint32(word >> ((k % PER_WORD) * 32)));
            }
        }
    }
}
