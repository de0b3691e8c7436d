// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SnarkjsVerifierAdapter} from "./SnarkjsVerifierAdapter.sol";

/// @title PlonkVerifierAdapter: adapter for snarkjs-generated PLONK (BN254, KZG) verifiers
/// @notice Proof bytes are `abi.encode(uint256[24] proof)` (768 bytes): the 24 words snarkjs'
/// `plonk.exportSolidityCallData` prints first (A, B, C, Z, T1, T2, T3, Wxi, Wxiw as x,y pairs, then eval_a, eval_b,
/// eval_c, eval_s1, eval_s2, eval_zw). The adapter calls `verifyProof(uint256[24],uint256[N])` on the wrapped verifier.
/// Proof system id: `bytes4(keccak256("plonk-bn254-v1"))`.
contract PlonkVerifierAdapter is SnarkjsVerifierAdapter {
    /// @param verifier_ The snarkjs PLONK verifier contract.
    /// @param numPublicSignals_ Its number of public signals N.
    constructor(
        address verifier_,
        uint256 numPublicSignals_
    ) SnarkjsVerifierAdapter(verifier_, numPublicSignals_, 768, "uint256[24]", bytes4(keccak256("plonk-bn254-v1"))) {}
}
