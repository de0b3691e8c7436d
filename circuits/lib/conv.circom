pragma circom 2.1.9;

include "requantize.circom";

/// @title Conv2dAccOpen
/// @notice The accumulators of a (grouped) 2-D convolution with OPEN weights (constants), zero padding, on a CHW
///         tensor flattened row-major (index = (c * H + y) * Wd + x): acc[o][oy][ox] = B[o] + sum_{c < C/G, ky, kx}
///         Wt[o][c][ky][kx] * in[g*(C/G) + c][oy*S + ky - P][ox*S + kx - P], g = o \ (OC / G), out-of-range taps
///         reading 0. No rescaling: the Conv2d*Open templates requantize every accumulator, MaxPoolRequantize
///         (pool.circom) pools them first and requantizes only the pooled values.
/// @param C, H, Wd   input channels, height, width
/// @param OC, K      output channels, kernel size (square)
/// @param S, P       stride >= 1, padding 0 <= P < K
/// @param G          groups, G >= 1 dividing C and OC (G = C: depthwise; scripts/formats/quantized-model.ts validates it)
/// @param Wt, B      weights [OC][C/G][K][K] and biases [OC] (constants, biases at the accumulator scale)
/// @input  in        C*H*Wd values
/// @output acc       OC*OH*OW accumulators, OH = (H + 2P - K) \ S + 1, OW likewise, same CHW layout
/// Soundness: each accumulator is a linear combination of `in` (one linear constraint, no witness choice).
/// Constraints: OC * OH * OW linear ones (circom's --O2 substitutes them into the consumer's constraints).
template Conv2dAccOpen(C, H, Wd, OC, K, S, P, G, Wt, B) {
    var CG = C \ G;
    var OCG = OC \ G;
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output acc[OC * OH * OW];
    for (var o = 0; o < OC; o++) {
        var c0 = (o \ OCG) * CG;
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var sum = B[o];
                for (var c = 0; c < CG; c++) {
                    for (var ky = 0; ky < K; ky++) {
                        for (var kx = 0; kx < K; kx++) {
                            var y = oy * S + ky - P;
                            var x = ox * S + kx - P;
                            if (y >= 0 && y < H && x >= 0 && x < Wd) {
                                sum += Wt[o][c][ky][kx] * in[((c0 + c) * H + y) * Wd + x];
                            }
                        }
                    }
                }
                acc[(o * OH + oy) * OW + ox] <== sum;
            }
        }
    }
}

/// @title Conv2dAccPrivate
/// @notice The accumulators of a (grouped) 2-D convolution with PRIVATE weights (witness signals); same geometry,
///         layout and formula as Conv2dAccOpen.
/// @param C, H, Wd, OC, K, S, P, G  as in Conv2dAccOpen
/// @input  in        C*H*Wd values
/// @input  Wt        [OC][C/G][K][K] weights; the CALLER range-checks them (the model commitment's PackSigned does)
/// @input  B         [OC] biases; the caller range-checks them
/// @output acc       OC*OH*OW accumulators
/// Soundness: one constraint per in-range tap, prod = Wt * in (no hint); each accumulator is B + the sum of its
///            products (linear).
/// Constraints: (number of in-range taps) + OC * OH * OW linear ones; without padding the tap count is
///              OC * OH * OW * (C/G) * K * K.
template Conv2dAccPrivate(C, H, Wd, OC, K, S, P, G) {
    var CG = C \ G;
    var OCG = OC \ G;
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal input Wt[OC][CG][K][K];
    signal input B[OC];
    signal output acc[OC * OH * OW];
    signal prod[OC * OH * OW][CG][K][K];
    for (var o = 0; o < OC; o++) {
        var c0 = (o \ OCG) * CG;
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var idx = (o * OH + oy) * OW + ox;
                var sum = B[o];
                for (var c = 0; c < CG; c++) {
                    for (var ky = 0; ky < K; ky++) {
                        for (var kx = 0; kx < K; kx++) {
                            var y = oy * S + ky - P;
                            var x = ox * S + kx - P;
                            if (y >= 0 && y < H && x >= 0 && x < Wd) {
                                prod[idx][c][ky][kx] <== Wt[o][c][ky][kx] * in[((c0 + c) * H + y) * Wd + x];
                                sum += prod[idx][c][ky][kx];
                            } else {
                                prod[idx][c][ky][kx] <== 0;
                            }
                        }
                    }
                }
                acc[idx] <== sum;
            }
        }
    }
}

/// @title Conv2dOpen
/// @notice 2-D convolution with OPEN weights (constants), zero padding, on a CHW tensor flattened row-major
///         (index = (c * H + y) * Wd + x). out[o][oy][ox] = Requantize(B[o] + sum_{c,ky,kx} Wt[o][c][ky][kx] *
///         in[c][oy*S + ky - P][ox*S + kx - P]) with out-of-range taps reading 0.
/// @param C, H, Wd   input channels, height, width
/// @param OC, K      output channels, kernel size (square)
/// @param S, P       stride >= 1, padding 0 <= P < K
/// @param Wt, B      weights [OC][C][K][K] and biases [OC] (constants, biases at the accumulator scale)
/// @param A          accumulator width over every output position (scripts/engine/circuit, from weights and input range)
/// @param k, outBits, relu  as in Requantize
/// @input  in        C*H*Wd values in the range A was computed for
/// @output out       OC*OH*OW values, OH = (H + 2P - K) \ S + 1, OW likewise, same CHW layout
/// Soundness: Conv2dAccOpen's accumulators (linear in `in`, no witness choice), then Requantize each.
/// Constraints: OC * OH * OW * Requantize(A, k, outBits, relu), independent of C and K.
template Conv2dOpen(C, H, Wd, OC, K, S, P, Wt, B, A, k, outBits, relu) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output out[OC * OH * OW];
    component cv = Conv2dAccOpen(C, H, Wd, OC, K, S, P, 1, Wt, B);
    cv.in <== in;
    component rq = RequantizeEach(OC * OH * OW, A, k, outBits, relu);
    rq.in <== cv.acc;
    out <== rq.out;
}

/// @title Conv2dPrivate
/// @notice 2-D convolution with PRIVATE weights (witness signals); same geometry and layout as Conv2dOpen.
/// @param C, H, Wd, OC, K, S, P  as in Conv2dOpen
/// @param A          accumulator width from the WORST CASE over the wBits/bBits ranges (reveals nothing of the weights)
/// @param k, outBits, relu  as in Requantize
/// @input  in        C*H*Wd values
/// @input  Wt        [OC][C][K][K] weights; the CALLER range-checks them (the model commitment's PackSigned does)
/// @input  B         [OC] biases; the caller range-checks them
/// @output out       OC*OH*OW values
/// Soundness: Conv2dAccPrivate (one constraint per in-range tap, prod = Wt * in, no hint), then Requantize each.
/// Constraints: (number of in-range taps) + OC * OH * OW * Requantize(A, k, outBits, relu); without padding the
///              tap count is OC * OH * OW * C * K * K.
template Conv2dPrivate(C, H, Wd, OC, K, S, P, A, k, outBits, relu) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal input Wt[OC][C][K][K];
    signal input B[OC];
    signal output out[OC * OH * OW];
    component cv = Conv2dAccPrivate(C, H, Wd, OC, K, S, P, 1);
    cv.in <== in;
    cv.Wt <== Wt;
    cv.B <== B;
    component rq = RequantizeEach(OC * OH * OW, A, k, outBits, relu);
    rq.in <== cv.acc;
    out <== rq.out;
}

/// @title Conv2dGroupedOpen
/// @notice Grouped 2-D convolution with OPEN weights (G = C: depthwise). The C input and OC output channels split
///         into G groups; output channel o (group g = o \ (OC / G)) reads only input channels g*(C/G) .. g*(C/G) +
///         C/G - 1: out[o][oy][ox] = Requantize(B[o] + sum_{c < C/G, ky, kx} Wt[o][c][ky][kx] *
///         in[g*(C/G) + c][oy*S + ky - P][ox*S + kx - P]), out-of-range taps reading 0. G = 1 is Conv2dOpen (both
///         wrap Conv2dAccOpen; the generated mains keep the ungrouped name for G = 1).
/// @param C, H, Wd, OC, K, S, P  as in Conv2dOpen
/// @param G          groups, G >= 1 dividing C and OC (scripts/formats/quantized-model.ts validates it)
/// @param Wt, B      weights [OC][C/G][K][K] and biases [OC] (constants)
/// @param A, k, outBits, relu  as in Conv2dOpen
/// @input  in        C*H*Wd values in the range A was computed for
/// @output out       OC*OH*OW values, same CHW layout
/// Soundness: Conv2dAccOpen's accumulators (linear in `in`, no witness choice), then Requantize each.
/// Constraints: OC * OH * OW * Requantize(A, k, outBits, relu), independent of C, G and K.
template Conv2dGroupedOpen(C, H, Wd, OC, K, S, P, G, Wt, B, A, k, outBits, relu) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output out[OC * OH * OW];
    component cv = Conv2dAccOpen(C, H, Wd, OC, K, S, P, G, Wt, B);
    cv.in <== in;
    component rq = RequantizeEach(OC * OH * OW, A, k, outBits, relu);
    rq.in <== cv.acc;
    out <== rq.out;
}

/// @title Conv2dGroupedPrivate
/// @notice Grouped 2-D convolution with PRIVATE weights (witness signals); same geometry as Conv2dGroupedOpen.
/// @param C, H, Wd, OC, K, S, P, G  as in Conv2dGroupedOpen
/// @param A          accumulator width from the WORST CASE over the wBits/bBits ranges (reveals nothing of the weights)
/// @param k, outBits, relu  as in Requantize
/// @input  in        C*H*Wd values
/// @input  Wt        [OC][C/G][K][K] weights; the CALLER range-checks them (the model commitment's PackSigned does)
/// @input  B         [OC] biases; the caller range-checks them
/// @output out       OC*OH*OW values
/// Soundness: Conv2dAccPrivate (one constraint per in-range tap, prod = Wt * in, no hint), then Requantize each.
/// Constraints: (number of in-range taps) + OC * OH * OW * Requantize(A, k, outBits, relu); without padding the
///              tap count is OC * OH * OW * (C/G) * K * K.
template Conv2dGroupedPrivate(C, H, Wd, OC, K, S, P, G, A, k, outBits, relu) {
    var CG = C \ G;
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal input Wt[OC][CG][K][K];
    signal input B[OC];
    signal output out[OC * OH * OW];
    component cv = Conv2dAccPrivate(C, H, Wd, OC, K, S, P, G);
    cv.in <== in;
    cv.Wt <== Wt;
    cv.B <== B;
    component rq = RequantizeEach(OC * OH * OW, A, k, outBits, relu);
    rq.in <== cv.acc;
    out <== rq.out;
}
