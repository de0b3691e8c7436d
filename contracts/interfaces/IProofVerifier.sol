// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title One interface in front of every proof system's verifier
/// @notice An adapter wraps one generated verifier (one verifying key) and checks a proof against public signals.
interface IProofVerifier {
    /// @notice Thrown when the proof has the wrong encoded length.
    /// @param expected The length this proof system's encoding has.
    /// @param actual The length given.
    error InvalidProofLength(uint256 expected, uint256 actual);

    /// @notice Thrown when the number of public signals differs from the circuit's.
    /// @param expected The circuit's number of public signals.
    /// @param actual The number given.
    error InvalidSignalCount(uint256 expected, uint256 actual);

    /// @notice Thrown when a public signal is not below the BN254 scalar field.
    /// @param index The signal's index.
    /// @param value The signal.
    error SignalNotInField(uint256 index, uint256 value);

    /// @notice Checks `proof` against `publicSignals`.
    /// @dev Reverts on malformed input (length, count, a signal >= r); returns false for a proof that is well-formed
    /// but does not verify.
    /// @param proof The encoded proof (format defined by the adapter).
    /// @param publicSignals The public signals in circuit order.
    /// @return valid Whether the proof verifies.
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool valid);

    /// @notice The ERC-7992 proof system id, e.g. `bytes4(keccak256("groth16-bn254-v1"))`.
    /// @return The id.
    function proofSystemId() external view returns (bytes4);

    /// @notice The number of public signals the wrapped circuit exposes.
    /// @return The count.
    function numPublicSignals() external view returns (uint256);
}
