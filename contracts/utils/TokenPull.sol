// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title TokenPull
/// @notice The ERC-20 pull of the market and of the subscriptions contract: `transferFrom` through OpenZeppelin's
/// SafeERC20 (a token returning false is refused, one returning nothing is accepted if it does not revert) measured
/// by this contract's balance before and after, so a fee-on-transfer or rebasing token is seen (the caller refuses
/// it). Callers hold a reentrancy lock, so nothing else moves the balance inside `transferFrom`.
/// @dev Not part of the consumer sources (contracts/libraries): it depends on OpenZeppelin.
library TokenPull {
    using SafeERC20 for IERC20;

    /// @notice Pulls `amount` of `token` from `from` to this contract.
    /// @param token The token.
    /// @param from The payer (it approved this contract).
    /// @param amount The amount asked for.
    /// @return received What this contract's balance grew by (0 if it did not grow).
    function pull(address token, address from, uint256 amount) internal returns (uint256 received) {
        uint256 before = _balance(token);
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 balance = _balance(token);
        received = balance > before ? balance - before : 0;
    }

    /// @dev `token.balanceOf(address(this))` as a typed call would do it (reverts with the token's own data if it
    /// reverts, and if it answers less than a word), in scratch memory: no allocation, no ABI decoder.
    function _balance(address token) private view returns (uint256 amount) {
        bytes4 selector = IERC20.balanceOf.selector;
        assembly ("memory-safe") {
            mstore(0x00, selector)
            mstore(0x04, address())
            let ok := staticcall(gas(), token, 0x00, 0x24, 0x00, 0x20)
            if iszero(ok) {
                let p := mload(0x40)
                returndatacopy(p, 0, returndatasize())
                revert(p, returndatasize())
            }
            if lt(returndatasize(), 0x20) {
                revert(0, 0)
            }
            amount := mload(0x00)
        }
    }
}
