// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {SnarkjsVerifierAdapter} from "./SnarkjsVerifierAdapter.sol";

/// @title Groth16VerifierAdapter: adapter for snarkjs-generated Groth16 (BN254) verifiers
/// @notice Proof bytes are `abi.encode(uint256[2] a, uint256[2][2] b, uint256[2] c)` (256 bytes), `b` in the order
/// snarkjs' `exportSolidityCallData` prints. The adapter calls
/// `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[N])` on the wrapped verifier.
/// Proof system id: `bytes4(keccak256("groth16-bn254-v1"))`.
contract Groth16VerifierAdapter is SnarkjsVerifierAdapter {
    /// @param verifier_ The snarkjs Groth16 verifier contract.
    /// @param numPublicSignals_ Its number of public signals N.
    constructor(
        address verifier_,
        uint256 numPublicSignals_
    )
        SnarkjsVerifierAdapter(
            verifier_,
            numPublicSignals_,
            256,
            "uint256[2],uint256[2][2],uint256[2]",
            bytes4(keccak256("groth16-bn254-v1"))
        )
    {}
}
