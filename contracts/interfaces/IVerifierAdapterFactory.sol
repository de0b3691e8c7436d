// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Factory of immutable verifier adapters
/// @notice The only source of verifier adapters the `ModelRegistry` accepts. Every adapter it creates is a
/// `SnarkjsVerifierAdapter` (Groth16, PLONK or FFLONK): no storage, no owner, every parameter immutable, so an
/// adapter's answer for a given proof and signals can never change. Creation is permissionless and deterministic
/// (`CREATE2`, salt `keccak256(abi.encode(verifier, numPublicSignals))`), and creating an existing adapter again
/// returns it, so deploy scripts are safe to re-run.
interface IVerifierAdapterFactory {
    /// @notice Emitted when an adapter is created.
    /// @param adapter The new adapter.
    /// @param verifier The snarkjs verifier it wraps.
    /// @param proofSystemId The proof system, e.g. `bytes4(keccak256("groth16-bn254-v1"))`.
    /// @param numPublicSignals The verifier's number of public signals.
    event AdapterCreated(
        address indexed adapter,
        address indexed verifier,
        bytes4 indexed proofSystemId,
        uint256 numPublicSignals
    );

    /// @notice Thrown when the factory has no adapter for a proof system.
    /// @param proofSystemId The id given (supported: groth16-bn254-v1, plonk-bn254-v1, fflonk-bn254-v1).
    error UnknownProofSystem(bytes4 proofSystemId);

    /// @notice Creates (or returns the existing) adapter for `verifier`.
    /// @dev Reverts as the adapter's constructor does: `VerifierHasNoCode`, `UnsupportedSignalCount`.
    /// @param proofSystemId The verifier's proof system.
    /// @param verifier A snarkjs-generated verifier contract of that proof system.
    /// @param numPublicSignals Its number of public signals (the length of `verifyProof`'s last array).
    /// @return adapter The adapter's address.
    function createAdapter(
        bytes4 proofSystemId,
        address verifier,
        uint256 numPublicSignals
    ) external returns (address adapter);

    /// @notice The address `createAdapter` gives for these arguments (whether or not it exists yet).
    /// @param proofSystemId The proof system.
    /// @param verifier The snarkjs verifier.
    /// @param numPublicSignals Its number of public signals.
    /// @return adapter The adapter's (future) address.
    function adapterAddress(
        bytes4 proofSystemId,
        address verifier,
        uint256 numPublicSignals
    ) external view returns (address adapter);

    /// @notice Whether this factory created `adapter`.
    /// @param adapter Any address.
    /// @return created True iff `adapter` is one of this factory's adapters.
    function isAdapter(address adapter) external view returns (bool created);
}
