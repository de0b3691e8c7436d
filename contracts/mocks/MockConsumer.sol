// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IZKMLVerifier} from "../interfaces/IZKMLVerifier.sol";

/// @title MockConsumer (test-only)
/// @notice A contract that accepts standalone-verified inferences from its users and credits the user. `naive`
/// uses the ERC entry point (so every proof is bound to this contract, not to the user); `bound` passes the user as
/// the beneficiary, as docs/market-rules.md tells consumers to.
contract MockConsumer {
    IZKMLVerifier public immutable verifier;
    mapping(address user => uint256) public credited;

    constructor(IZKMLVerifier verifier_) {
        verifier = verifier_;
    }

    /// @notice Verifies through the ERC entry point (binding: this contract) and credits the caller.
    function naive(uint256 modelId, bytes32 inputCommitment, bytes calldata output, bytes calldata proof) external {
        verifier.verifyInference(modelId, inputCommitment, output, proof);
        credited[msg.sender] += 1;
    }

    /// @notice Verifies with the caller as beneficiary and credits the caller.
    function bound(uint256 modelId, bytes32 inputCommitment, bytes calldata output, bytes calldata proof) external {
        verifier.verifyInferenceFor(modelId, inputCommitment, output, proof, msg.sender);
        credited[msg.sender] += 1;
    }
}
