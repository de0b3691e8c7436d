pragma circom 2.1.9;

include "requantize.circom";

/// @title PiecewisePoly
/// @notice An elementwise activation (sigmoid, tanh, GELU, SiLU, ...) as a piecewise polynomial on segments of the
///         input's bit decomposition (docs/circuits.md, "Activations"; twin: piecewiseEval in
///         scripts/formats/activations.ts):
///         u = in + 2^(b-1) = s * 2^l + t  (l = b - h, s < 2^h the segment, t < 2^l the offset in it)
///         acc = C[s][0] + (C[s][1] + C[s][2] * t) * t     (Horner, degree d <= 2)
///         out = Requantize(acc, A, K, outBits, 0)         (round half up by 2^-K, signed clamp)
///         A degree-0 table with K = 0 (h = b: one value per input) is its own output (no Requantize).
/// @param b       input width: the caller's `in` must be in [-2^(b-1), 2^(b-1)) (the previous layer's clamp); this
///                template range-checks it again, so a value outside has no witness
/// @param h       segment bits, 0 <= h <= b (h = 0: one polynomial; h = b: a table)
/// @param d       polynomial degree, 0..2 (d > 0 needs h < b)
/// @param A       accumulator width: every acc over the 2^b inputs is in [-2^(A-1), 2^(A-1)) (the generator
///                computes it from C)
/// @param K       rounding shift of the accumulator
/// @param outBits output width (signed)
/// @param C       [2^h][d + 1] integer coefficients, constant first
/// Soundness: u is decomposed into b bits: bits[0 .. b-2] are hinted signals (each `<--` pinned by
/// bits[i]*(bits[i]-1) = 0), the top bit is the linear rest (u - sum)/2^(b-1), pinned boolean by one constraint.
/// u < 2^b << p, so the bits, hence s and t, are unique. The segment's coefficients are the multilinear interpolation
/// of C over the h segment bits: c_j = sum_S M_j[S] * prod_{i in S} s_i with M_j the Moebius transform of C[.][j]
/// (for boolean s this is exactly C[s][j]); every product of two or more segment bits is one constraint (built from
/// the product with one bit fewer), so no hint is involved. The Horner products are constraints. Requantize is
/// sound for A (see requantize.circom). So out is a function of in: no prover choice.
/// Constraints: b + (2^h - h - 1) + (d == 0 ? 0 : h == 0 ? d - 1 : d) + (rounds ? Requantize(A, K, outBits, 0) : 0).
template PiecewisePoly(b, h, d, A, K, outBits, C) {
    signal input in;
    signal output out;

    var l = b - h;
    var nSeg = 1 << h;

    // u = in + 2^(b-1) in [0, 2^b): bits 0 .. b-2 are signals, the top bit is the linear rest
    var u = in + (1 << (b - 1));
    signal bits[b - 1];
    var bit[b];
    var low = 0;
    for (var i = 0; i < b - 1; i++) {
        bits[i] <-- (u >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        bit[i] = bits[i];
        low += bits[i] * (1 << i);
    }
    bit[b - 1] = (u - low) / (1 << (b - 1));
    bit[b - 1] * (bit[b - 1] - 1) === 0;

    // t: the offset in the segment (bits 0 .. l-1)
    var t = 0;
    for (var i = 0; i < l; i++) {
        t += bit[i] * (1 << i);
    }

    // monomials of the segment bits s_j = bit[l + j]: mono[S] = prod_{j in S} s_j
    var nProd = nSeg - h - 1;
    signal prod[nProd > 0 ? nProd : 1];
    if (nProd == 0) {
        prod[0] <== 0;
    }
    var mono[nSeg];
    mono[0] = 1;
    var k = 0;
    for (var S = 1; S < nSeg; S++) {
        var hb = 0;
        while ((2 << hb) <= S) {
            hb++;
        }
        if (S == (1 << hb)) {
            mono[S] = bit[l + hb];
        } else {
            prod[k] <== mono[S - (1 << hb)] * bit[l + hb];
            mono[S] = prod[k];
            k++;
        }
    }

    // c_j = sum_S M_j[S] mono[S], M_j[S] = sum_{T subset of S} (-1)^|S \ T| C[T][j]
    var c[3];
    for (var j = 0; j <= d; j++) {
        c[j] = 0;
        for (var S = 0; S < nSeg; S++) {
            var m = 0;
            for (var T = 0; T <= S; T++) {
                if ((T & S) == T) {
                    var parity = 0;
                    var rest = S - T;
                    while (rest > 0) {
                        parity += rest & 1;
                        rest = rest \ 2;
                    }
                    m += (parity % 2 == 0 ? 1 : -1) * C[T][j];
                }
            }
            c[j] += m * mono[S];
        }
    }

    // acc = c0 + (c1 + c2 * t) * t; with one segment (h = 0) the coefficients are constants
    var acc = c[0];
    if (d == 1) {
        if (h == 0) {
            acc = c[0] + c[1] * t;
        } else {
            signal p1 <== c[1] * t;
            acc = c[0] + p1;
        }
    }
    if (d == 2) {
        var q;
        if (h == 0) {
            q = c[2] * t;
        } else {
            signal q2 <== c[2] * t;
            q = q2;
        }
        signal p2 <== (c[1] + q) * t;
        acc = c[0] + p2;
    }

    if (d == 0 && K == 0) {
        out <== acc;
    } else {
        component rq = Requantize(A, K, outBits, 0);
        rq.in <== acc;
        out <== rq.out;
    }
}

/// @title PiecewisePolyEach
/// @notice out[i] = PiecewisePoly(b, h, d, A, K, outBits, C)(in[i]) for n values (one activation layer).
/// Constraints: n * PiecewisePoly.
template PiecewisePolyEach(n, b, h, d, A, K, outBits, C) {
    signal input in[n];
    signal output out[n];
    component act[n];
    for (var i = 0; i < n; i++) {
        act[i] = PiecewisePoly(b, h, d, A, K, outBits, C);
        act[i].in <== in[i];
        out[i] <== act[i].out;
    }
}
