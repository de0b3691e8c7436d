// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The deployer a `MetamorphicTrampoline` asks for the code to copy (test-only)
interface IMetamorphicSource {
    /// @notice The contract whose code the next trampoline copies.
    /// @return The implementation.
    function implementation() external view returns (address);
}

/// @title MetamorphicTrampoline (test-only)
/// @notice Its constructor returns the code of the deployer's `implementation` as its own runtime code.
contract MetamorphicTrampoline {
    constructor() {
        address impl = IMetamorphicSource(msg.sender).implementation();
        assembly {
            let size := extcodesize(impl)
            extcodecopy(impl, 0, 0, size)
            return(0, size)
        }
    }
}
