pragma circom 2.1.9;

include "requantize.circom";
include "pool.circom";

/// @title Conv1dAccOpen
/// @notice The accumulators of a (grouped) 1-D convolution with OPEN weights on a [C, L] tensor (index = c * L + x),
///         zero padding: acc[o][ox] = B[o] + sum_{c < C/G, k} Wt[o][c][k] * in[g*(C/G) + c][ox*S + k - P],
///         g = o \ (OC / G), out-of-range taps reading 0 (PyTorch's Conv1d). The generator requantizes them
///         (RequantizeEach).
/// @param C, L      input channels and length
/// @param OC, K     output channels, kernel size
/// @param S, P      stride >= 1, padding 0 <= P < K
/// @param G         groups dividing C and OC
/// @param Wt, B     weights [OC][C/G][K] and biases [OC] (constants; biases at the accumulator scale)
/// @input  in       C*L values
/// @output acc      OC*OL accumulators, OL = (L + 2P - K) \ S + 1
/// Soundness: each accumulator is a linear combination of `in` (no witness choice).
/// Constraints: OC * OL linear ones (substituted away by --O2).
template Conv1dAccOpen(C, L, OC, K, S, P, G, Wt, B) {
    var CG = C \ G;
    var OCG = OC \ G;
    var OL = (L + 2 * P - K) \ S + 1;
    signal input in[C * L];
    signal output acc[OC * OL];
    for (var o = 0; o < OC; o++) {
        var c0 = (o \ OCG) * CG;
        for (var ox = 0; ox < OL; ox++) {
            var sum = B[o];
            for (var c = 0; c < CG; c++) {
                for (var k = 0; k < K; k++) {
                    var x = ox * S + k - P;
                    if (x >= 0 && x < L) {
                        sum += Wt[o][c][k] * in[(c0 + c) * L + x];
                    }
                }
            }
            acc[o * OL + ox] <== sum;
        }
    }
}

/// @title Conv1dAccPrivate
/// @notice Conv1dAccOpen with PRIVATE weights (witness signals; the caller range-checks them through the model
///         commitment's PackSigned).
/// @input  Wt [OC][C/G][K], B [OC]
/// Soundness: one constraint per in-range tap, prod = Wt * in (no hint); the accumulators are linear in the products.
/// Constraints: (number of in-range taps) + OC * OL linear ones.
template Conv1dAccPrivate(C, L, OC, K, S, P, G) {
    var CG = C \ G;
    var OCG = OC \ G;
    var OL = (L + 2 * P - K) \ S + 1;
    signal input in[C * L];
    signal input Wt[OC][CG][K];
    signal input B[OC];
    signal output acc[OC * OL];
    signal prod[OC][OL][CG][K];
    for (var o = 0; o < OC; o++) {
        var c0 = (o \ OCG) * CG;
        for (var ox = 0; ox < OL; ox++) {
            var sum = B[o];
            for (var c = 0; c < CG; c++) {
                for (var k = 0; k < K; k++) {
                    var x = ox * S + k - P;
                    if (x >= 0 && x < L) {
                        prod[o][ox][c][k] <== Wt[o][c][k] * in[(c0 + c) * L + x];
                        sum += prod[o][ox][c][k];
                    } else {
                        prod[o][ox][c][k] <== 0;
                    }
                }
            }
            acc[o * OL + ox] <== sum;
        }
    }
}

/// @title MaxPool1d
/// @notice Max pooling on a [C, L] tensor: the maximum of the in-range taps of each window at ox*S - P (padded taps
///         never win, PyTorch's MaxPool1d(padding=P)); values keep their range and scale.
/// @param C, L, K, S, P  shape, window (2 <= K), stride, padding 0 <= P < K
/// @param D         the inputs lie in some [lo, hi] with hi - lo < 2^D
/// Soundness: a chain of Max2 over each window's in-range taps (see Max2); a one-tap window is a copy.
/// Constraints: (sum over outputs of (in-range taps - 1)) * (D + 2).
template MaxPool1d(C, L, K, S, P, D) {
    var OL = (L + 2 * P - K) \ S + 1;
    var nMax = MaxPool1dCount(C, L, K, S, P);
    signal input in[C * L];
    signal output out[C * OL];
    component mx[nMax > 0 ? nMax : 1];
    var j = 0;
    for (var c = 0; c < C; c++) {
        for (var ox = 0; ox < OL; ox++) {
            var m = 0;
            var n = 0;
            for (var k = 0; k < K; k++) {
                var x = ox * S + k - P;
                if (x >= 0 && x < L) {
                    if (n == 0) {
                        m = in[c * L + x];
                    } else {
                        mx[j] = Max2(D);
                        mx[j].a <== m;
                        mx[j].b <== in[c * L + x];
                        m = mx[j].out;
                        j++;
                    }
                    n++;
                }
            }
            out[c * OL + ox] <== m;
        }
    }
}

/// The number of Max2 a MaxPool1d uses: per output, its in-range taps minus one.
function MaxPool1dCount(C, L, K, S, P) {
    var OL = (L + 2 * P - K) \ S + 1;
    var n = 0;
    for (var ox = 0; ox < OL; ox++) {
        var t = 0;
        for (var k = 0; k < K; k++) {
            var x = ox * S + k - P;
            if (x >= 0 && x < L) {
                t++;
            }
        }
        n += t - 1;
    }
    return C * n;
}

/// @title AvgPool1d
/// @notice Average pooling on a [C, L] tensor as a window sum (padded taps read 0) then Requantize(shift), signed
///         clamp; an exact average when K = 2^shift.
/// @param A         every window sum is in [-2^(A-1), 2^(A-1))
/// Soundness: the sum is linear (no witness choice); see Requantize.
/// Constraints: C * OL * Requantize(A, k, outBits, 0).
template AvgPool1d(C, L, K, S, P, A, k, outBits) {
    var OL = (L + 2 * P - K) \ S + 1;
    signal input in[C * L];
    signal output out[C * OL];
    component rq[C * OL];
    for (var c = 0; c < C; c++) {
        for (var ox = 0; ox < OL; ox++) {
            var idx = c * OL + ox;
            var acc = 0;
            for (var kk = 0; kk < K; kk++) {
                var x = ox * S + kk - P;
                if (x >= 0 && x < L) {
                    acc += in[c * L + x];
                }
            }
            rq[idx] = Requantize(A, k, outBits, 0);
            rq[idx].in <== acc;
            out[idx] <== rq[idx].out;
        }
    }
}
