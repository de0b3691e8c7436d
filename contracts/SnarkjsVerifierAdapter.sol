// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IProofVerifier} from "./interfaces/IProofVerifier.sol";
import {ISnarkjsVerifierAdapter} from "./interfaces/ISnarkjsVerifierAdapter.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";

/// @title SnarkjsVerifierAdapter
/// @notice Puts any snarkjs-generated verifier with N public signals behind `IProofVerifier`. The concrete adapters
/// (`Groth16VerifierAdapter`, `PlonkVerifierAdapter`, `FflonkVerifierAdapter`) only fix the proof length, the proof
/// arrays of `verifyProof` and the proof-system id.
/// @dev snarkjs' `verifyProof(<proof arrays>, uint256[N])` takes only static arrays, which the ABI encodes inline (and
/// the verifier reads them at fixed calldata offsets), so its calldata is exactly `selector ++ proof ++ signals`.
abstract contract SnarkjsVerifierAdapter is ISnarkjsVerifierAdapter {
    address private immutable _verifier;
    uint256 private immutable _numPublicSignals;
    uint256 private immutable _proofLength;
    bytes4 private immutable _selector;
    bytes4 private immutable _proofSystemId;

    /// @param verifier_ The snarkjs verifier contract.
    /// @param numPublicSignals_ Its number of public signals N (the length of `_pubSignals`).
    /// @param proofLength_ Bytes of the ABI-encoded proof arrays.
    /// @param proofArgs_ The proof arrays' types in `verifyProof`'s signature, e.g. "uint256[24]".
    /// @param proofSystemId_ `bytes4(keccak256(<proof system name>))`.
    constructor(
        address verifier_,
        uint256 numPublicSignals_,
        uint256 proofLength_,
        string memory proofArgs_,
        bytes4 proofSystemId_
    ) {
        if (verifier_.code.length == 0) revert VerifierHasNoCode(verifier_);
        if (numPublicSignals_ == 0) revert UnsupportedSignalCount(numPublicSignals_);
        _verifier = verifier_;
        _numPublicSignals = numPublicSignals_;
        _proofLength = proofLength_;
        _proofSystemId = proofSystemId_;
        _selector = bytes4(
            keccak256(abi.encodePacked("verifyProof(", proofArgs_, ",uint256[", _decimal(numPublicSignals_), "])"))
        );
    }

    /// @inheritdoc IProofVerifier
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool valid) {
        uint256 len = _proofLength;
        if (proof.length != len) revert InvalidProofLength(len, proof.length);
        uint256 n = _numPublicSignals;
        if (publicSignals.length != n) revert InvalidSignalCount(n, publicSignals.length);
        for (uint256 i; i < n; ++i) {
            // Bounded by the immutable N, not by user data (the length was checked above).
            if (publicSignals[i] >= PublicSignals.SNARK_SCALAR_FIELD) revert SignalNotInField(i, publicSignals[i]);
        }
        bytes4 selector = _selector;
        address target = _verifier;
        // Builds `selector ++ proof ++ N signals` past the free memory pointer and calls the verifier; assembly
        // avoids re-encoding the proof arrays.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            calldatacopy(add(ptr, 4), proof.offset, len)
            let signalBytes := mul(n, 32)
            calldatacopy(add(ptr, add(4, len)), publicSignals.offset, signalBytes)
            let ok := staticcall(gas(), target, ptr, add(add(4, len), signalBytes), 0, 0x20)
            // Valid only if the call succeeded and returned exactly the word `true`: a verifier without code
            // "succeeds" with no return data, and snarkjs' PLONK verifier reverts on some malformed proofs.
            valid := and(and(ok, eq(returndatasize(), 0x20)), eq(mload(0), 1))
        }
    }

    /// @inheritdoc IProofVerifier
    function proofSystemId() external view returns (bytes4) {
        return _proofSystemId;
    }

    /// @inheritdoc IProofVerifier
    function numPublicSignals() external view returns (uint256) {
        return _numPublicSignals;
    }

    /// @inheritdoc ISnarkjsVerifierAdapter
    function verifier() external view returns (address) {
        return _verifier;
    }

    /// @inheritdoc ISnarkjsVerifierAdapter
    function verifyProofSelector() external view returns (bytes4) {
        return _selector;
    }

    /// @inheritdoc ISnarkjsVerifierAdapter
    function proofLength() external view returns (uint256) {
        return _proofLength;
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
