// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SnarkjsVerifierAdapter} from "./SnarkjsVerifierAdapter.sol";

/// @title FflonkVerifierAdapter: adapter for snarkjs-generated FFLONK (BN254, KZG) verifiers
/// @notice Proof bytes are `abi.encode(bytes32[24] proof)` (768 bytes): the 24 words snarkjs'
/// `fflonk.exportSolidityCallData` prints first (C1, C2, W1, W2 as x,y pairs, then the evaluations ql, qr, qm, qo, qc,
/// s1, s2, s3, a, b, c, z, zw, t1w, t2w and the batched inverse). The adapter calls
/// `verifyProof(bytes32[24],uint256[N])` on the wrapped verifier. Proof system id:
/// `bytes4(keccak256("fflonk-bn254-v1"))`.
/// @dev snarkjs sizes the FFLONK verifier's signal array `max(nPublic, 1)`; the adapter requires N >= 1, so N is the
/// circuit's number of public signals.
contract FflonkVerifierAdapter is SnarkjsVerifierAdapter {
    /// @param verifier_ The snarkjs FFLONK verifier contract.
    /// @param numPublicSignals_ Its number of public signals N.
    constructor(
        address verifier_,
        uint256 numPublicSignals_
    ) SnarkjsVerifierAdapter(verifier_, numPublicSignals_, 768, "bytes32[24]", bytes4(keccak256("fflonk-bn254-v1"))) {}
}
