pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "requantize.circom";

/// Integer square root (witness computation only): the largest r with r * r <= n.
function isqrt(n) {
    if (n < 2) {
        return n;
    }
    var x = n;
    var y = (x + 1) \ 2;
    while (y < x) {
        x = y;
        y = (x + n \ x) \ 2;
    }
    return x;
}

/// @title LayerNorm
/// @notice LayerNorm over the C channels of each of L positions of a [C, L] tensor (index c * L + p; twin:
///         layerNormEval in scripts/formats/transformer.ts; docs/circuits.md, "Layer normalization"):
///         s = sum_c in[c], d_c = C * in[c] - s (center = 1) or in[c] (center = 0), W = sum_c d_c^2 + eps,
///         r = the largest integer with r^2 * W <= 2^(2R)          (r = floor(2^R / sqrt(W)))
///         out[c] = Requantize(g[c] * d_c * r + B[c], A, k, outBits, 0)
/// @param C, L      channels (normalized over) and positions
/// @param center    1: d_c = C * in[c] - s (LayerNorm); 0: d_c = in[c] (no mean: RMSNorm, the L2 Normalizer)
/// @param dShift    d is scaled by 2^dShift (so that a small eps keeps its weight in W)
/// @param eps       >= 1, so W > 0
/// @param R         the scale's precision: r = floor(2^R / sqrt(W))
/// @param rBits     r < 2^rBits (the caller's bound: r <= floor(2^R / sqrt(eps)))
/// @param tBits     both slacks below are < 2^tBits (the caller's bound: max(2^(2R), (2 r + 1) W))
/// @param A, k, outBits  the requantization; |g[c] * d_c * r + B[c]| < 2^(A-1) because |d_c * r| <= 2^R
/// @param g, B      per-channel integer scale and offset (constants)
/// Soundness: r is the only hint (`<--`). It is range-checked to rBits bits, and the two slacks
/// 2^(2R) - r^2 W >= 0 and (r + 1)^2 W - 2^(2R) - 1 >= 0 are range-checked to tBits bits. The caller keeps
/// 2 rBits + bits(W) + 2 and tBits below the field's 253 bits (the generator checks it), so these hold over the
/// integers: r^2 W <= 2^(2R) < (r + 1)^2 W, which has exactly one solution r >= 0. Everything else is computed with
/// `<==`, so the outputs are unique given the inputs.
/// Constraints: L * (C + rBits + 3 + 2 * tBits + C + C * Requantize(A, k, outBits, 0)).
template LayerNorm(C, L, center, dShift, eps, R, rBits, tBits, A, k, outBits, g, B) {
    signal input in[C * L];
    signal output out[C * L];
    signal sq[L][C];
    signal r[L];
    signal r2[L];
    signal r2w[L];
    signal rw[L];
    signal dr[L][C];
    component rRange[L];
    component below[L];
    component above[L];
    component rq[L][C];
    var four = 1 << (2 * R);
    // d_c = m * in[c] - z * s: (C, 1) * 2^dShift centers, (1, 0) * 2^dShift does not
    var m = (center == 1 ? C : 1) * (1 << dShift);
    var z = (center == 1 ? 1 : 0) * (1 << dShift);
    for (var p = 0; p < L; p++) {
        var s = 0;
        for (var c = 0; c < C; c++) {
            s += in[c * L + p];
        }
        var w = eps;
        for (var c = 0; c < C; c++) {
            sq[p][c] <== (m * in[c * L + p] - z * s) * (m * in[c * L + p] - z * s);
            w += sq[p][c];
        }
        r[p] <-- isqrt(four \ w);
        rRange[p] = Num2Bits(rBits);
        rRange[p].in <== r[p];
        r2[p] <== r[p] * r[p];
        r2w[p] <== r2[p] * w;
        rw[p] <== r[p] * w;
        below[p] = Num2Bits(tBits);
        below[p].in <== four - r2w[p];
        above[p] = Num2Bits(tBits);
        above[p].in <== r2w[p] + 2 * rw[p] + w - four - 1;
        for (var c = 0; c < C; c++) {
            dr[p][c] <== (m * in[c * L + p] - z * s) * r[p];
            rq[p][c] = Requantize(A, k, outBits, 0);
            rq[p][c].in <== g[c] * dr[p][c] + B[c];
            out[c * L + p] <== rq[p][c].out;
        }
    }
}

/// @title HeadScores
/// @notice The dot products of queries and keys per head: q and k are [H * hd, L] (index (h * hd + d) * L + i),
///         acc[(h * L + i) * L + j] = sum_d q[(h * hd + d) * L + i] * k[(h * hd + d) * L + j]
///         (twin: headScores in scripts/formats/transformer.ts).
/// Soundness: no hints; one product per term, the sums are linear.
/// Constraints: H * L * L * hd.
template HeadScores(H, L, hd) {
    signal input q[H * hd * L];
    signal input k[H * hd * L];
    signal output acc[H * L * L];
    signal prod[H][L][L][hd];
    for (var h = 0; h < H; h++) {
        for (var i = 0; i < L; i++) {
            for (var j = 0; j < L; j++) {
                var s = 0;
                for (var d = 0; d < hd; d++) {
                    prod[h][i][j][d] <== q[(h * hd + d) * L + i] * k[(h * hd + d) * L + j];
                    s += prod[h][i][j][d];
                }
                acc[(h * L + i) * L + j] <== s;
            }
        }
    }
}

/// @title HeadMix
/// @notice The attention-weighted values per head: p is [H, L, L] (row (h, i) holds query i's weights over the keys),
///         v is [H * hd, L]; acc[(h * hd + d) * L + i] = sum_j p[(h * L + i) * L + j] * v[(h * hd + d) * L + j]
///         (twin: headMix in scripts/formats/transformer.ts).
/// Soundness: no hints; one product per term, the sums are linear.
/// Constraints: H * hd * L * L.
template HeadMix(H, L, hd) {
    signal input p[H * L * L];
    signal input v[H * hd * L];
    signal output acc[H * hd * L];
    signal prod[H][hd][L][L];
    for (var h = 0; h < H; h++) {
        for (var d = 0; d < hd; d++) {
            for (var i = 0; i < L; i++) {
                var s = 0;
                for (var j = 0; j < L; j++) {
                    prod[h][d][i][j] <== p[(h * L + i) * L + j] * v[(h * hd + d) * L + j];
                    s += prod[h][d][i][j];
                }
                acc[(h * hd + d) * L + i] <== s;
            }
        }
    }
}
