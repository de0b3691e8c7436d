// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title MockTokenBase (test-only)
/// @notice Balances, allowances and minting for the misbehaving test tokens, which each declare their own `transfer`
/// and `transferFrom` (with or without a return value) on top of `_move` and `_spend`.
abstract contract MockTokenBase {
    /// @notice Thrown when a balance is too small.
    error BalanceTooLow(address account, uint256 balance, uint256 needed);
    /// @notice Thrown when an allowance is too small.
    error AllowanceTooLow(address owner, address spender, uint256 allowance, uint256 needed);

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    mapping(address account => uint256) public balanceOf;
    mapping(address owner => mapping(address spender => uint256)) public allowance;
    uint256 public totalSupply;

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
        totalSupply += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Sets `spender`'s allowance over the caller's tokens.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @dev Takes `amount` from `owner`'s allowance for the caller.
    function _spend(address owner, uint256 amount) internal {
        uint256 a = allowance[owner][msg.sender];
        if (a < amount) revert AllowanceTooLow(owner, msg.sender, a, amount);
        allowance[owner][msg.sender] = a - amount;
    }

    /// @dev Moves `amount` from `from` to `to` (overridden by the fee-on-transfer and blocklist tokens).
    function _move(address from, address to, uint256 amount) internal virtual {
        uint256 b = balanceOf[from];
        if (b < amount) revert BalanceTooLow(from, b, amount);
        balanceOf[from] = b - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
