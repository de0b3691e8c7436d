// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "../interfaces/IProofVerifier.sol";

/// @title MockProofVerifier (test-only)
/// @notice Accepts exactly the "proof" `abi.encode(keccak256(abi.encode(publicSignals)))`, so tests can make a proof
/// that is bound to every signal, like a real one. `setAlwaysFalse` makes it reject everything.
contract MockProofVerifier is IProofVerifier {
    bytes4 private immutable _proofSystemId;
    uint256 private immutable _numPublicSignals;
    bool public alwaysFalse;

    constructor(bytes4 proofSystemId_, uint256 numPublicSignals_) {
        _proofSystemId = proofSystemId_;
        _numPublicSignals = numPublicSignals_;
    }

    function setAlwaysFalse(bool v) external {
        alwaysFalse = v;
    }

    /// @inheritdoc IProofVerifier
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool) {
        if (publicSignals.length != _numPublicSignals) {
            revert InvalidSignalCount(_numPublicSignals, publicSignals.length);
        }
        if (alwaysFalse) return false;
        return keccak256(proof) == keccak256(abi.encode(keccak256(abi.encode(publicSignals))));
    }

    /// @inheritdoc IProofVerifier
    function proofSystemId() external view returns (bytes4) {
        return _proofSystemId;
    }

    /// @inheritdoc IProofVerifier
    function numPublicSignals() external view returns (uint256) {
        return _numPublicSignals;
    }
}
