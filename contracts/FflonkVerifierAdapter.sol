// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {IFflonkVerifierAdapter} from "./interfaces/IFflonkVerifierAdapter.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title FflonkVerifierAdapter
/// @notice Wraps any snarkjs-generated FFLONK verifier with N public signals behind `IProofVerifier`.
/// @dev snarkjs' `verifyProof(bytes32[24],uint256[N])` takes only static arrays, which the ABI encodes inline (and the
/// verifier reads them at fixed calldata offsets); so its calldata is exactly `selector ++ proof ++ signals` when
/// `proof = abi.encode(bytes32[24])` (24 words).
contract FflonkVerifierAdapter is IFflonkVerifierAdapter {
    /// @dev `abi.encode(bytes32[24])` is 24 words.
    uint256 private constant PROOF_LENGTH = 768;

    address private immutable _verifier;
    uint256 private immutable _numPublicSignals;
    bytes4 private immutable _selector;

    /// @param verifier_ The snarkjs verifier contract.
    /// @param numPublicSignals_ Its number of public signals N (the length of `_pubSignals`).
    constructor(address verifier_, uint256 numPublicSignals_) {
        if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
        if (numPublicSignals_ == 0) revert UnsupportedSignalCount(numPublicSignals_);
        _verifier = verifier_;
        _numPublicSignals = numPublicSignals_;
        _selector = bytes4(
            keccak256(abi.encodePacked("verifyProof(bytes32[24],uint256[", _decimal(numPublicSignals_), "])"))
        );
    }

    /// @inheritdoc IProofVerifier
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool valid) {
        if (proof.length != PROOF_LENGTH) revert InvalidProofLength(PROOF_LENGTH, proof.length);
        uint256 n = _numPublicSignals;
        if (publicSignals.length != n) revert InvalidSignalCount(n, publicSignals.length);
        for (uint256 i; i < n; ++i) {
            // Bounded by the immutable N, not by user data (the length was checked above).
            if (publicSignals[i] >= PublicSignals.SNARK_SCALAR_FIELD) revert SignalNotInField(i, publicSignals[i]);
        }
        bytes4 selector = _selector;
        address target = _verifier;
        assembly ("memory-safe") {
            // calldata for verifyProof: selector ++ 24 proof words (= proof) ++ N signals; built past the free pointer.
            let ptr := mload(0x40)
            mstore(ptr, selector)
            calldatacopy(add(ptr, 4), proof.offset, PROOF_LENGTH)
            let signalBytes := mul(n, 32)
            calldatacopy(add(ptr, add(4, PROOF_LENGTH)), publicSignals.offset, signalBytes)
            let ok := staticcall(gas(), target, ptr, add(add(4, PROOF_LENGTH), signalBytes), 0, 0x20)
            // Valid only if the call succeeded and returned exactly the word `true` (a verifier without code
            // "succeeds" with no return data; snarkjs' FFLONK verifier returns false on malformed proofs).
            valid := and(and(ok, eq(returndatasize(), 0x20)), eq(mload(0), 1))
        }
    }

    /// @inheritdoc IProofVerifier
    function proofSystemId() external pure returns (bytes4) {
        return bytes4(keccak256("fflonk-bn254-v1"));
    }

    /// @inheritdoc IProofVerifier
    function numPublicSignals() external view returns (uint256) {
        return _numPublicSignals;
    }

    /// @inheritdoc IFflonkVerifierAdapter
    function verifier() external view returns (address) {
        return _verifier;
    }

    /// @inheritdoc IFflonkVerifierAdapter
    function verifyProofSelector() external view returns (bytes4) {
        return _selector;
    }

    /// @dev Decimal digits of `v` (constructor only).
    function _decimal(uint256 v) private pure returns (bytes memory out) {
        uint256 len = 1;
        for (uint256 t = v; t >= 10; t /= 10) ++len;
        out = new bytes(len);
        for (uint256 i = len; i > 0; --i) {
            out[i - 1] = bytes1(uint8(48 + (v % 10)));
            v /= 10;
        }
    }
}
