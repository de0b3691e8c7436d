pragma circom 2.1.9;

include "requantize.circom";

/// @title AddRescaled
/// @notice Residual sum of two tensors at a common scale, requantized: out[i] = Requantize(a[i] * 2^sa + b[i] * 2^sb,
///         k, outBits, relu). sa and sb left-shift the operands to one fractional scale (one of them is 0 when the
///         quantizer aligns the coarser operand to the finer one).
/// @param n          number of elements (both operands have the same layout)
/// @param sa, sb     left shifts of a and b, >= 0
/// @param A          accumulator width: every a[i] * 2^sa + b[i] * 2^sb is in [-2^(A-1), 2^(A-1)) (scripts/engine/circuit,
///                   from the operands' ranges)
/// @param k, outBits, relu  as in Requantize
/// @input  a, b      n values each, in the ranges A was computed for
/// @output out       n values
/// Soundness: the sum is a linear combination of a and b with constant coefficients (no witness choice); see
///            Requantize.
/// Constraints: n * Requantize(A, k, outBits, relu).
template AddRescaled(n, sa, sb, A, k, outBits, relu) {
    signal input a[n];
    signal input b[n];
    signal output out[n];
    component rq[n];
    for (var i = 0; i < n; i++) {
        rq[i] = Requantize(A, k, outBits, relu);
        rq[i].in <== a[i] * (1 << sa) + b[i] * (1 << sb);
        out[i] <== rq[i].out;
    }
}
