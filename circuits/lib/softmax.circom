pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "requantize.circom";
include "pool.circom";
include "activation.circom";

/// @title DivRound
/// @notice q = round(num / den) = floor((2*num + den) / (2*den)), round half up, for 0 <= num and 0 < den.
/// @param Bq  q < 2^Bq (the caller's bound: num / den + 1/2 < 2^Bq)
/// @param Br  2*den <= 2^Br (the caller's bound on den)
/// Soundness: q and r are hints (`<--`), pinned by 2*num + den = 2*den*q + r (one product) with q range-checked to
/// Bq bits, r and 2*den - 1 - r range-checked to Br bits (so 0 <= r < 2*den). Every term is below
/// 2^(Bq + Br + 1) << p, so the equation holds over the integers and q, r are the quotient and remainder: unique.
/// A den of 0 has no witness (r < 0).
/// Constraints: 1 + Bq + 2 * Br.
template DivRound(Bq, Br) {
    signal input num;
    signal input den;
    signal output q;
    signal r;
    q <-- (2 * num + den) \ (2 * den);
    r <-- (2 * num + den) % (2 * den);
    signal dq <== den * q;
    2 * num + den === 2 * dq + r;
    component qBits = Num2Bits(Bq);
    qBits.in <== q;
    component rBits = Num2Bits(Br);
    rBits.in <== r;
    component restBits = Num2Bits(Br);
    restBits.in <== 2 * den - 1 - r;
}

/// @title SoftmaxValues
/// @notice Probabilities of n logits (docs/circuits.md, "Softmax"; twin: softmaxEval in scripts/formats/softmax.ts):
///         m = max_i in[i]                                     (a chain of Max2, logits differ by < 2^D)
///         d[i] = Requantize(in[i] - m, Ad, kd, bD, 0)          (<= 0; saturates at -2^(bD-1), where exp is 0)
///         e[i] = PiecewisePoly(bD, h, deg, Ae, K, eBits, C)(d[i])   (exp(d) at 2^-fe, fitted)
///         out[i] = round(e[i] * 2^fo / sum_j e[j])             (DivRound)
/// @param n          number of logits
/// @param D          the logits differ by < 2^D
/// @param Ad, kd, bD the difference's Requantize: |in - m| < 2^(Ad-1), shift kd, bD-bit output
/// @param h, deg, Ae, K, eBits, C   the exponential's PiecewisePoly
/// @param fo         fractional bits of the probabilities (out[i] in [0, 2^fo])
/// @param Bq, Br     DivRound's bounds: Bq = fo + 1; 2 * n * max(e) <= 2^Br
/// Soundness: every step is one of the templates above, each with its own argument; the maximum is pinned by Max2
/// (so exactly one d is 0 and the sum is at least exp's value at 0 > 0), and DivRound pins each quotient. No
/// prover choice is left.
/// Constraints: (n - 1) * (D + 2) + n * (Requantize(Ad, kd, bD, 0) + PiecewisePoly + DivRound(Bq, Br)).
template SoftmaxValues(n, D, Ad, kd, bD, h, deg, Ae, K, eBits, C, fo, Bq, Br) {
    signal input in[n];
    signal output out[n];

    component mx[n - 1];
    var m = in[0];
    for (var i = 1; i < n; i++) {
        mx[i - 1] = Max2(D);
        mx[i - 1].a <== m;
        mx[i - 1].b <== in[i];
        m = mx[i - 1].out;
    }

    component diff[n];
    component ex[n];
    var sum = 0;
    for (var i = 0; i < n; i++) {
        diff[i] = Requantize(Ad, kd, bD, 0);
        diff[i].in <== in[i] - m;
        ex[i] = PiecewisePoly(bD, h, deg, Ae, K, eBits, C);
        ex[i].in <== diff[i].out;
        sum += ex[i].out;
    }

    component div[n];
    for (var i = 0; i < n; i++) {
        div[i] = DivRound(Bq, Br);
        div[i].num <== ex[i].out * (1 << fo);
        div[i].den <== sum;
        out[i] <== div[i].q;
    }
}

/// @title LogSoftmaxValues
/// @notice Log-probabilities of n logits (docs/circuits.md, "Softmax"; twin: logSoftmaxEval in
///         scripts/formats/softmax.ts): m, d[i] and e[i] as in SoftmaxValues, then
///         s = Requantize(sum_i e[i], As, ks, lb, 0)               (the sum shifted to lb bits)
///         lse = PiecewisePoly(lb, lh, ldeg, lA, lK, lOut, LC)(s)  (log of the sum, at the scale of d)
///         out[i] = d[i] - lse
/// @param n, D, Ad, kd, bD, h, deg, Ae, K, eBits, C   as SoftmaxValues (the maximum, the difference, exp)
/// @param As, ks, lb   the sum's Requantize: 0 <= sum < 2^(As-1), shift ks, lb-bit output
/// @param lh, ldeg, lA, lK, lOut, LC   the log's PiecewisePoly on the lb-bit shifted sum
/// Soundness: every step is one of the templates above with its own argument (the maximum pinned by Max2, each
/// Requantize and PiecewisePoly unique given its input); the outputs are linear in pinned values. No prover choice is
/// left.
/// Constraints: (n - 1) * (D + 2) + n * (Requantize(Ad, kd, bD, 0) + PiecewisePoly) + Requantize(As, ks, lb, 0) +
/// PiecewisePoly(lb, ...).
template LogSoftmaxValues(n, D, Ad, kd, bD, h, deg, Ae, K, eBits, C, As, ks, lb, lh, ldeg, lA, lK, lOut, LC) {
    signal input in[n];
    signal output out[n];

    component mx[n - 1];
    var m = in[0];
    for (var i = 1; i < n; i++) {
        mx[i - 1] = Max2(D);
        mx[i - 1].a <== m;
        mx[i - 1].b <== in[i];
        m = mx[i - 1].out;
    }

    component diff[n];
    component ex[n];
    var sum = 0;
    for (var i = 0; i < n; i++) {
        diff[i] = Requantize(Ad, kd, bD, 0);
        diff[i].in <== in[i] - m;
        ex[i] = PiecewisePoly(bD, h, deg, Ae, K, eBits, C);
        ex[i].in <== diff[i].out;
        sum += ex[i].out;
    }

    component s = Requantize(As, ks, lb, 0);
    s.in <== sum;
    component lse = PiecewisePoly(lb, lh, ldeg, lA, lK, lOut, LC);
    lse.in <== s.out;
    for (var i = 0; i < n; i++) {
        out[i] <== diff[i].out - lse.out;
    }
}
