// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The project's public-signal layout (docs/public-signals.md)
/// @notice `[output, modelCommitment, inputCommitment, jobBinding]`, every value below the BN254 scalar field r.
library PublicSignals {
    /// @dev BN254 scalar field modulus r.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Number of public signals of every model circuit.
    uint8 internal constant COUNT = 4;

    /// @dev `uint256(keccak256(abi.encode(block.chainid, context, jobId, prover))) % r`: ties a proof to one chain,
    /// one jobs contract, one job and one prover.
    function binding(address context, uint256 jobId, address prover) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, context, jobId, prover))) % SNARK_SCALAR_FIELD;
    }

    /// @dev `uint256(keccak256(abi.encode(block.chainid, verifier, caller, beneficiary, nonce))) % r`: ties a
    /// standalone proof to one chain, one verifier contract, one caller, one beneficiary and one nonce (five words, so
    /// never equal to a job binding's four-word preimage).
    function standaloneBinding(
        address verifier,
        address caller,
        address beneficiary,
        uint256 nonce
    ) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, verifier, caller, beneficiary, nonce))) % SNARK_SCALAR_FIELD;
    }
}
