// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The project's public-signal layout (docs/public-signals.md)
/// @notice `[output, modelCommitment, inputCommitment, jobBinding]`, every value below the BN254 scalar field r.
library PublicSignals {
    /// @dev BN254 scalar field modulus r.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Number of public signals of every model circuit.
    uint8 internal constant COUNT = 4;

    /// @dev `uint256(keccak256(abi.encode(block.chainid, context, jobId, prover))) % r`: ties a proof to one chain,
    /// one contract, one job (0 = standalone verification) and one prover.
    function binding(address context, uint256 jobId, address prover) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, context, jobId, prover))) % SNARK_SCALAR_FIELD;
    }

    /// @dev The four signals in circuit order. Callers check `output` and `inputCommitment` against r; the model
    /// commitment is checked at registration; the binding is reduced here.
    function build(
        uint256 output,
        uint256 modelCommitment,
        uint256 inputCommitment,
        uint256 jobBinding
    ) internal pure returns (uint256[] memory signals) {
        signals = new uint256[](COUNT);
        signals[0] = output;
        signals[1] = modelCommitment;
        signals[2] = inputCommitment;
        signals[3] = jobBinding;
    }
}
