// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "./IProofVerifier.sol";

/// @title Adapter for snarkjs-generated PLONK (BN254, KZG) verifiers
/// @notice Proof bytes are `abi.encode(uint256[24] proof)` (768 bytes): the 24 words snarkjs'
/// `plonk.exportSolidityCallData` prints first (A, B, C, Z, T1, T2, T3, Wxi, Wxiw as x,y pairs, then eval_a, eval_b,
/// eval_c, eval_s1, eval_s2, eval_zw). The adapter calls `verifyProof(uint256[24],uint256[N])` on the wrapped verifier.
/// Proof system id: `bytes4(keccak256("plonk-bn254-v1"))`.
interface IPlonkVerifierAdapter is IProofVerifier {
    /// @notice Thrown at deployment when the wrapped verifier has no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);

    /// @notice Thrown at deployment when the signal count is zero.
    /// @param numPublicSignals The count given.
    error UnsupportedSignalCount(uint256 numPublicSignals);

    /// @notice The wrapped snarkjs verifier.
    /// @return The verifier's address.
    function verifier() external view returns (address);

    /// @notice The selector of `verifyProof(uint256[24],uint256[N])` for this adapter's signal count N.
    /// @return The selector.
    function verifyProofSelector() external view returns (bytes4);
}
