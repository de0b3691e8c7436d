// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "./IProofVerifier.sol";

/// @title Adapter for snarkjs-generated FFLONK (BN254, KZG) verifiers
/// @notice Proof bytes are `abi.encode(bytes32[24] proof)` (768 bytes): the 24 words snarkjs'
/// `fflonk.exportSolidityCallData` prints first (C1, C2, W1, W2 as x,y pairs, then the evaluations ql, qr, qm, qo, qc,
/// s1, s2, s3, a, b, c, z, zw, t1w, t2w and the batched inverse). The adapter calls
/// `verifyProof(bytes32[24],uint256[N])` on the wrapped verifier. Proof system id:
/// `bytes4(keccak256("fflonk-bn254-v1"))`.
/// @dev snarkjs sizes the FFLONK verifier's signal array `max(nPublic, 1)`; the adapter requires N >= 1, so N is the
/// circuit's number of public signals.
interface IFflonkVerifierAdapter is IProofVerifier {
    /// @notice Thrown at deployment when the wrapped verifier has no code.
    /// @param verifier The address given.
    error VerifierHasNoCode(address verifier);

    /// @notice Thrown at deployment when the signal count is zero.
    /// @param numPublicSignals The count given.
    error UnsupportedSignalCount(uint256 numPublicSignals);

    /// @notice The wrapped snarkjs verifier.
    /// @return The verifier's address.
    function verifier() external view returns (address);

    /// @notice The selector of `verifyProof(bytes32[24],uint256[N])` for this adapter's signal count N.
    /// @return The selector.
    function verifyProofSelector() external view returns (bytes4);
}
