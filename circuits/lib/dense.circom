pragma circom 2.1.9;

include "requantize.circom";

/// @title DenseOpen
/// @notice Fully connected layer with OPEN weights (compile-time constants): out[j] = Requantize(sum_i W[j][i]*in[i] + B[j]).
///         The multiply-accumulate is a linear combination and costs no constraint; only requantization does.
/// @param nIn, nOut  shape
/// @param W          nOut x nIn signed integer weights (constants)
/// @param B          nOut signed integer biases, at the accumulator scale (constants)
/// @param A          accumulator width: |sum_i W[j][i]*in[i] + B[j]| < 2^(A-1) for every input in the caller's range
///                   (computed by scripts/engine/circuit from the weights and the input range)
/// @param k, outBits, relu  as in Requantize
/// @input  in        nIn values in the range the bound A was computed for
/// @output out       nOut requantized values
/// Soundness: the accumulator is a linear combination of `in` (no witness choice); see Requantize.
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

/// @title DensePrivate
/// @notice Fully connected layer with PRIVATE weights (witness signals): out[j] = Requantize(sum_i W[j][i]*in[i] + B[j]).
///         One constraint per multiply; the bias adds linearly.
/// @param nIn, nOut  shape
/// @param A          accumulator width, computed by scripts/engine/circuit from the WORST CASE over all weights in the
///                   wBits range and biases in the bBits range (so the circuit reveals nothing about the weights)
/// @param k, outBits, relu  as in Requantize
/// @input  in        nIn values in the range A was computed for
/// @input  W         nOut x nIn weights; the CALLER range-checks them to wBits (the model commitment's PackSigned does)
/// @input  B         nOut biases; the caller range-checks them to bBits (likewise)
/// @output out       nOut requantized values
/// Soundness: prod[j][i] = W[j][i] * in[i] is one R1CS constraint each (no hint); the accumulator is their sum plus
///            B[j], inside [-2^(A-1), 2^(A-1)) because every factor is range-checked; then Requantize.
/// Constraints: nIn * nOut + nOut * Requantize(A, k, outBits, relu).
template DensePrivate(nIn, nOut, A, k, outBits, relu) {
    signal input in[nIn];
    signal input W[nOut][nIn];
    signal input B[nOut];
    signal output out[nOut];
    signal prod[nOut][nIn];
    component rq[nOut];
    for (var j = 0; j < nOut; j++) {
        var acc = B[j];
        for (var i = 0; i < nIn; i++) {
            prod[j][i] <== W[j][i] * in[i];
            acc += prod[j][i];
        }
        rq[j] = Requantize(A, k, outBits, relu);
        rq[j].in <== acc;
        out[j] <== rq[j].out;
    }
}
