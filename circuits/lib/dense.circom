pragma circom 2.1.9;

include "requantize.circom";

/// @title DenseOpen
/// @notice Fully connected layer with OPEN weights (compile-time constants): out[j] = Requantize(sum_i W[j][i]*in[i] + B[j]).
///         The multiply-accumulate is a linear combination and costs no constraint; only requantization does.
/// @param nIn, nOut  shape
/// @param W          nOut x nIn signed integer weights (constants)
/// @param B          nOut signed integer biases, at the accumulator scale (constants)
/// @param A          accumulator width: |sum_i W[j][i]*in[i] + B[j]| < 2^(A-1) for every input in the caller's range
///                   (computed by scripts/circuit from the weights and the input range)
/// @param k, outBits, relu  as in Requantize
/// @input  in        nIn values in the range the bound A was computed for
/// @output out       nOut requantized values
/// Constraints: nOut * Requantize(A, k, outBits, relu), independent of nIn.
template DenseOpen(nIn, nOut, W, B, A, k, outBits, relu) {
    signal input in[nIn];
    signal output out[nOut];
    component rq[nOut];
    for (var j = 0; j < nOut; j++) {
        var acc = B[j];
        for (var i = 0; i < nIn; i++) {
            acc += W[j][i] * in[i];
        }
        rq[j] = Requantize(A, k, outBits, relu);
        rq[j].in <== acc;
        out[j] <== rq[j].out;
    }
}
