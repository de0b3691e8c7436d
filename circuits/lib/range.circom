pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";

/// @title SignedRangeBits
/// @notice Constrains `in` to the signed range [-2^(bits-1), 2^(bits-1)) and outputs the bits of the offset value
///         in + 2^(bits-1) (little-endian), so callers can pack it.
/// @param bits   width, 1 <= bits <= 250
/// @input  in    a signed value (negative values are p - |v|)
/// @output out   bits of in + 2^(bits-1)
/// Constraints: bits + 1 (Num2Bits; the sum is linear and is folded by --O2).
template SignedRangeBits(bits) {
    signal input in;
    signal output out[bits];
    component n2b = Num2Bits(bits);
    n2b.in <== in + (1 << (bits - 1));
    out <== n2b.out;
}
