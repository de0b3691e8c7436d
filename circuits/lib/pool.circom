pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "requantize.circom";

/// @title Max2
/// @notice out = max(a, b) for signed a, b with |a - b| < 2^D.
/// @param D      difference width, 1 <= D <= 248: the caller guarantees |a - b| < 2^D (e.g. both in [lo, hi] with
///               hi - lo < 2^D)
/// @input  a, b  signed values (negative values are p - |v|)
/// @output out   max(a, b)
/// Soundness: d = a - b + 2^D is in (0, 2^(D+1)) << p and is decomposed into D + 1 bits: bit[0 .. D-1] are signals
///            (hints `<--` pinned by bit[i]*(bit[i]-1) = 0), bit D is the linear rest (d - sum bit[i]*2^i) / 2^D,
///            pinned boolean by one quadratic constraint; the decomposition is unique. Bit D is [a >= b];
///            out = b + [a >= b] * (a - b) is one constraint with no witness choice. No constraint is linear (see
///            Requantize: it keeps circom's --O2 fast).
/// Constraints: D + 2.
template Max2(D) {
    signal input a;
    signal input b;
    signal output out;
    // d = a - b + 2^D in (0, 2^(D+1)): bits 0 .. D-1 are signals, bit D = [a >= b] is d's rest
    var d = a - b + (1 << D);
    signal bit[D];
    var low = 0;
    for (var i = 0; i < D; i++) {
        bit[i] <-- (d >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        low += bit[i] * (1 << i);
    }
    var ge = (d - low) / (1 << D);
    ge * (ge - 1) === 0;
    out <== b + ge * (a - b);
}

/// @title MaxPool2d
/// @notice Max pooling (no padding) on a CHW tensor flattened row-major: out[c][oy][ox] = max over the K x K window
///         at (oy*S, ox*S). Values keep their range and scale.
/// @param C, H, Wd  input shape
/// @param K, S      window and stride (2 <= K <= min(H, Wd), S >= 1)
/// @param D         the caller guarantees every input is in some [lo, hi] with hi - lo < 2^D
/// @input  in       C*H*Wd values
/// @output out      C*OH*OW values, OH = (H - K) \ S + 1, OW likewise
/// Soundness: a chain of Max2 (pairwise max with a range-checked difference); no other witness choice.
/// Constraints: C * OH * OW * (K*K - 1) * (D + 2).
template MaxPool2d(C, H, Wd, K, S, D) {
    var OH = (H - K) \ S + 1;
    var OW = (Wd - K) \ S + 1;
    var n = K * K;
    signal input in[C * H * Wd];
    signal output out[C * OH * OW];
    component mx[C * OH * OW][n - 1];
    for (var c = 0; c < C; c++) {
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var idx = (c * OH + oy) * OW + ox;
                var first = (c * H + oy * S) * Wd + ox * S;
                for (var t = 1; t < n; t++) {
                    var ky = t \ K;
                    var kx = t % K;
                    mx[idx][t - 1] = Max2(D);
                    if (t == 1) {
                        mx[idx][t - 1].a <== in[first];
                    } else {
                        mx[idx][t - 1].a <== mx[idx][t - 2].out;
                    }
                    mx[idx][t - 1].b <== in[(c * H + oy * S + ky) * Wd + ox * S + kx];
                }
                out[idx] <== mx[idx][n - 2].out;
            }
        }
    }
}

/// Number of in-range taps of the K x K window at (oy*S - P, ox*S - P) of an H x Wd image.
function PoolWindowTaps(H, Wd, K, S, P, oy, ox) {
    var n = 0;
    for (var ky = 0; ky < K; ky++) {
        for (var kx = 0; kx < K; kx++) {
            var y = oy * S + ky - P;
            var x = ox * S + kx - P;
            if (y >= 0 && y < H && x >= 0 && x < Wd) {
                n++;
            }
        }
    }
    return n;
}

/// Number of Max2 components MaxPool2dPadded uses: per output, (in-range taps of its window) - 1.
function MaxPoolPaddedCount(C, H, Wd, K, S, P) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    var n = 0;
    for (var oy = 0; oy < OH; oy++) {
        for (var ox = 0; ox < OW; ox++) {
            n += PoolWindowTaps(H, Wd, K, S, P, oy, ox) - 1;
        }
    }
    return C * n;
}

/// @title MaxPool2dPadded
/// @notice Max pooling with padding P on every side (PyTorch's MaxPool2d(padding=P), ONNX MaxPool pads): out[c][oy][ox]
///         = max over the IN-RANGE taps of the K x K window at (oy*S - P, ox*S - P). Padded taps are not read at all,
///         i.e. they are -infinity and never win: sound for any sign of the inputs (no ">= 0" premise, unlike
///         padding with zeros). With P < K every window holds at least one in-range tap. P = 0 is MaxPool2d (same
///         constraints, same chain order).
/// @param C, H, Wd  input shape
/// @param K, S      window and stride (2 <= K <= min(H, Wd) + 2P, S >= 1)
/// @param P         padding, 0 <= P < K
/// @param D         the caller guarantees every input is in some [lo, hi] with hi - lo < 2^D
/// @input  in       C*H*Wd values
/// @output out      C*OH*OW values, OH = (H + 2P - K) \ S + 1, OW likewise
/// Soundness: a chain of Max2 over the window's in-range taps; the running maximum stays in [lo, hi], so every
///            Max2's difference is < 2^D. A window with one in-range tap outputs it (a copy, no choice).
/// Constraints: (sum over outputs of (in-range taps - 1)) * (D + 2) = MaxPoolPaddedCount(...) * (D + 2).
template MaxPool2dPadded(C, H, Wd, K, S, P, D) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    var nMax = MaxPoolPaddedCount(C, H, Wd, K, S, P);
    signal input in[C * H * Wd];
    signal output out[C * OH * OW];
    component mx[nMax > 0 ? nMax : 1];
    var j = 0;
    for (var c = 0; c < C; c++) {
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var idx = (c * OH + oy) * OW + ox;
                var started = 0;
                var acc = 0;
                for (var ky = 0; ky < K; ky++) {
                    for (var kx = 0; kx < K; kx++) {
                        var y = oy * S + ky - P;
                        var x = ox * S + kx - P;
                        if (y >= 0 && y < H && x >= 0 && x < Wd) {
                            if (started == 0) {
                                acc = in[(c * H + y) * Wd + x];
                                started = 1;
                            } else {
                                mx[j] = Max2(D);
                                mx[j].a <== acc;
                                mx[j].b <== in[(c * H + y) * Wd + x];
                                acc = mx[j].out;
                                j++;
                            }
                        }
                    }
                }
                out[idx] <== acc;
            }
        }
    }
}

/// @title MaxPoolRequantize
/// @notice Max pooling of raw accumulators, then Requantize of each pooled value: out[c][oy][ox] =
///         Requantize(max over the in-range taps of the K x K window at (oy*S - P, ox*S - P), A, k, outBits, relu).
///         Equal to requantizing every accumulator and max-pooling the results (MaxPool2dPadded after
///         Conv2d*Open) because Requantize is non-decreasing: floor((x + 2^(k-1)) / 2^k) and the clamp (with or
///         without ReLU) never reverse an order, so max_i f(a_i) = f(max_i a_i). It is cheaper when the windows do
///         not overlap much: one Requantize per POOLED value instead of one per accumulator, at the price of wider
///         Max2 comparisons (scripts/engine/circuit/generate.ts compares both costs and takes the cheaper).
/// @param C, H, Wd, K, S, P  as in MaxPool2dPadded (the accumulator tensor's shape, window, stride, padding)
/// @param D          the caller guarantees every accumulator is in some [lo, hi] with hi - lo < 2^D
/// @param A, k, outBits, relu  as in Requantize: every accumulator is in [-2^(A-1), 2^(A-1)), hence so is their max
/// @input  in        C*H*Wd accumulators (e.g. Conv2dAccOpen.acc)
/// @output out       C*OH*OW requantized values, OH = (H + 2P - K) \ S + 1, OW likewise
/// Soundness: MaxPool2dPadded (a chain of range-checked Max2, no other choice), then Requantize (unique).
/// Constraints: MaxPoolPaddedCount(C, H, Wd, K, S, P) * (D + 2) + C * OH * OW * Requantize(A, k, outBits, relu).
template MaxPoolRequantize(C, H, Wd, K, S, P, D, A, k, outBits, relu) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output out[C * OH * OW];
    component mp = MaxPool2dPadded(C, H, Wd, K, S, P, D);
    mp.in <== in;
    component rq = RequantizeEach(C * OH * OW, A, k, outBits, relu);
    rq.in <== mp.out;
    out <== rq.out;
}

/// @title AvgPool2d
/// @notice Average pooling (no padding) as a window SUM followed by Requantize(shift) with a signed clamp:
///         out[c][oy][ox] = Requantize(sum of the K x K window, shift, outBits, relu = 0). An exact average when
///         K*K = 2^shift; otherwise the scale change is recorded in the model (outFrac).
/// @param C, H, Wd, K, S  as in MaxPool2d
/// @param A         accumulator width: every window sum is in [-2^(A-1), 2^(A-1)) (scripts/engine/circuit)
/// @param k, outBits      shift and output width of the requantization
/// @input  in       C*H*Wd values
/// @output out      C*OH*OW values in [-2^(outBits-1), 2^(outBits-1))
/// Soundness: the sum is linear (no witness choice); see Requantize.
/// Constraints: C * OH * OW * Requantize(A, k, outBits, 0).
template AvgPool2d(C, H, Wd, K, S, A, k, outBits) {
    var OH = (H - K) \ S + 1;
    var OW = (Wd - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output out[C * OH * OW];
    component rq[C * OH * OW];
    for (var c = 0; c < C; c++) {
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var idx = (c * OH + oy) * OW + ox;
                var acc = 0;
                for (var ky = 0; ky < K; ky++) {
                    for (var kx = 0; kx < K; kx++) {
                        acc += in[(c * H + oy * S + ky) * Wd + ox * S + kx];
                    }
                }
                rq[idx] = Requantize(A, k, outBits, 0);
                rq[idx].in <== acc;
                out[idx] <== rq[idx].out;
            }
        }
    }
}

/// @title AvgPool2dPadded
/// @notice Average pooling with zero padding P on every side, the zeros counted (PyTorch's AvgPool2d(padding=P),
///         count_include_pad=True): out[c][oy][ox] = Requantize(sum of the in-range taps of the K x K window at
///         (oy*S - P, ox*S - P), shift, outBits, relu = 0). Padded taps read 0, so they add nothing to the sum and
///         the divisor stays K*K (an exact average when K*K = 2^shift).
/// @param C, H, Wd  input shape
/// @param K, S      window and stride (K <= min(H, Wd) + 2P, S >= 1)
/// @param P         padding, 0 <= P < K (P = 0 is AvgPool2d)
/// @param A         accumulator width: every window sum is in [-2^(A-1), 2^(A-1)) (scripts/engine/circuit)
/// @param k, outBits      shift and output width of the requantization
/// @input  in       C*H*Wd values
/// @output out      C*OH*OW values, OH = (H + 2P - K) \ S + 1, OW likewise
/// Soundness: the sum is linear in `in` (no witness choice); see Requantize.
/// Constraints: C * OH * OW * Requantize(A, k, outBits, 0).
template AvgPool2dPadded(C, H, Wd, K, S, P, A, k, outBits) {
    var OH = (H + 2 * P - K) \ S + 1;
    var OW = (Wd + 2 * P - K) \ S + 1;
    signal input in[C * H * Wd];
    signal output out[C * OH * OW];
    component rq[C * OH * OW];
    for (var c = 0; c < C; c++) {
        for (var oy = 0; oy < OH; oy++) {
            for (var ox = 0; ox < OW; ox++) {
                var idx = (c * OH + oy) * OW + ox;
                var acc = 0;
                for (var ky = 0; ky < K; ky++) {
                    for (var kx = 0; kx < K; kx++) {
                        var y = oy * S + ky - P;
                        var x = ox * S + kx - P;
                        if (y >= 0 && y < H && x >= 0 && x < Wd) {
                            acc += in[(c * H + y) * Wd + x];
                        }
                    }
                }
                rq[idx] = Requantize(A, k, outBits, 0);
                rq[idx].in <== acc;
                out[idx] <== rq[idx].out;
            }
        }
    }
}
