// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVerifierAdapterFactory} from "./interfaces/IVerifierAdapterFactory.sol";
import {Groth16VerifierAdapter} from "./Groth16VerifierAdapter.sol";
import {PlonkVerifierAdapter} from "./PlonkVerifierAdapter.sol";
import {FflonkVerifierAdapter} from "./FflonkVerifierAdapter.sol";

/// @title VerifierAdapterFactory
/// @notice Creates the immutable adapters the registry accepts (see `IVerifierAdapterFactory`). No owner, no state
/// but the set of adapters it created.
contract VerifierAdapterFactory is IVerifierAdapterFactory {
    bytes4 private constant GROTH16 = bytes4(keccak256("groth16-bn254-v1"));
    bytes4 private constant PLONK = bytes4(keccak256("plonk-bn254-v1"));
    bytes4 private constant FFLONK = bytes4(keccak256("fflonk-bn254-v1"));

    mapping(address adapter => bool created) private _created;

    /// @inheritdoc IVerifierAdapterFactory
    function createAdapter(
        bytes4 proofSystemId,
        address verifier,
        uint256 numPublicSignals
    ) external returns (address adapter) {
        adapter = _predict(proofSystemId, verifier, numPublicSignals);
        if (_created[adapter]) return adapter;
        bytes32 salt = _salt(verifier, numPublicSignals);
        if (proofSystemId == GROTH16) {
            adapter = address(new Groth16VerifierAdapter{salt: salt}(verifier, numPublicSignals));
        } else if (proofSystemId == PLONK) {
            adapter = address(new PlonkVerifierAdapter{salt: salt}(verifier, numPublicSignals));
        } else {
            // _predict reverted above for any other id
            adapter = address(new FflonkVerifierAdapter{salt: salt}(verifier, numPublicSignals));
        }
        _created[adapter] = true;
        emit AdapterCreated(adapter, verifier, proofSystemId, numPublicSignals);
    }

    /// @inheritdoc IVerifierAdapterFactory
    function adapterAddress(
        bytes4 proofSystemId,
        address verifier,
        uint256 numPublicSignals
    ) external view returns (address adapter) {
        return _predict(proofSystemId, verifier, numPublicSignals);
    }

    /// @inheritdoc IVerifierAdapterFactory
    function isAdapter(address adapter) external view returns (bool created) {
        return _created[adapter];
    }

    function _salt(address verifier, uint256 numPublicSignals) private pure returns (bytes32) {
        return keccak256(abi.encode(verifier, numPublicSignals));
    }

    /// @dev The CREATE2 address of the adapter; reverts with `UnknownProofSystem` for an unsupported id.
    function _predict(bytes4 proofSystemId, address verifier, uint256 numPublicSignals) private view returns (address) {
        bytes memory code;
        if (proofSystemId == GROTH16) code = type(Groth16VerifierAdapter).creationCode;
        else if (proofSystemId == PLONK) code = type(PlonkVerifierAdapter).creationCode;
        else if (proofSystemId == FFLONK) code = type(FflonkVerifierAdapter).creationCode;
        else revert UnknownProofSystem(proofSystemId);
        bytes32 initCodeHash = keccak256(abi.encodePacked(code, abi.encode(verifier, numPublicSignals)));
        bytes32 h = keccak256(
            abi.encodePacked(bytes1(0xff), address(this), _salt(verifier, numPublicSignals), initCodeHash)
        );
        return address(uint160(uint256(h)));
    }
}
