pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

/// @title Requantize
/// @notice Rescales a fixed-point accumulator by 2^-k with round-half-up, then clamps (saturates) it to
///         the output range, optionally fused with ReLU.
///         out = clamp(floor((in + 2^(k-1)) / 2^k), lo, lo + 2^m - 1)
///         relu = 1: lo = 0,               m = outBits - 1  (out in [0, 2^(outBits-1) - 1])
///         relu = 0: lo = -2^(outBits-1),  m = outBits      (out in [-2^(outBits-1), 2^(outBits-1) - 1])
/// @param A       accumulator width: the caller guarantees in is in [-2^(A-1), 2^(A-1)) as a signed integer
///                (it is a linear combination of range-checked values; scripts/engine/circuit computes A from the bounds)
/// @param k       shift (0 <= k); k = 0 means no rounding
/// @param outBits output width in bits (signed), 2 <= outBits
/// @param relu    1 to fuse ReLU, 0 for a signed clamp
/// @input  in     the accumulator (negative values are p - |v|)
/// @output out    the requantized value, in the range above
/// Soundness: T = in + 2^(k-1) - lo*2^k + 2^(Z+k) is decomposed into n = k + Z + 1 bits: bits[0 .. n-2] are
/// signals (each hint `<--` pinned by bits[i]*(bits[i]-1) = 0), the top bit is the linear rest
/// (T - sum bits[i]*2^i) / 2^(n-1), pinned boolean by one quadratic constraint, so T = sum + 2^(n-1)*top with every
/// bit boolean. Its low k bits are the remainder r in [0, 2^k), its high Z + 1 bits are z + 2^Z where z = q - lo and
/// q the rounded quotient. Because T < 2^n << p, the decomposition is unique, so q and r are pinned: no prover choice
/// is left (the other `<--` is the inverse hint of the inline IsZero: inv * highSum = 1 - noHigh and
/// highSum * noHigh = 0 pin noHigh = [highSum == 0], and inv whenever highSum != 0). The top bit is [z >= 0]; bits
/// k+m .. k+Z-1 are all zero iff z < 2^m. Both range checks of DESIGN.md (remainder and quotient) are this one
/// decomposition. A value of `in` outside [-2^(A-1), 2^(A-1)) has no witness (the caller's bound excludes it).
/// Constraints: k + Z + 5 with Z = max(A - k, m) + 1; k + Z + 3 when Z = m + 1 (a single overflow bit needs no
/// IsZero). Written so that no constraint inside is linear (the decomposition's weighted sum is folded into the top
/// bit's constraint, IsZero is inlined): circom's --O2 then has little to eliminate, which made the generated models
/// compile about 8x faster at the same constraint count (docs/circuits.md, "Compile time").
template Requantize(A, k, outBits, relu) {
    signal input in;
    signal output out;

    var m = relu == 1 ? outBits - 1 : outBits;
    var lo = relu == 1 ? 0 : -(1 << (outBits - 1));
    var Z = (A - k > m ? A - k : m) + 1;
    var half = k > 0 ? 1 << (k - 1) : 0;
    var n = k + Z + 1;

    // T = in + half - lo*2^k + 2^(Z+k) in [0, 2^n): bits 0 .. n-2 are signals, the top bit is T's rest
    var T = in + half - lo * (1 << k) + (1 << (Z + k));
    signal bits[n - 1];
    var low = 0;
    for (var i = 0; i < n - 1; i++) {
        bits[i] <-- (T >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        low += bits[i] * (1 << i);
    }
    var pos = (T - low) / (1 << (n - 1));
    pos * (pos - 1) === 0;

    var zlow = 0;
    for (var i = 0; i < m; i++) {
        zlow += bits[k + i] * (1 << i);
    }
    var high;
    if (Z - m == 1) {
        high = bits[k + m];
    } else {
        var highSum = 0;
        for (var i = m; i < Z; i++) {
            highSum += bits[k + i];
        }
        signal inv <-- highSum != 0 ? 1 / highSum : 0;
        signal noHigh <== 1 - highSum * inv;
        highSum * noHigh === 0;
        high = 1 - noHigh;
    }
    signal zc <== zlow + high * ((1 << m) - 1 - zlow);
    out <== lo + pos * zc;
}

/// @title RequantizeEach
/// @notice out[i] = Requantize(in[i], A, k, outBits, relu) for n values.
/// Constraints: n * Requantize(A, k, outBits, relu).
template RequantizeEach(n, A, k, outBits, relu) {
    signal input in[n];
    signal output out[n];
    component rq[n];
    for (var i = 0; i < n; i++) {
        rq[i] = Requantize(A, k, outBits, relu);
        rq[i].in <== in[i];
        out[i] <== rq[i].out;
    }
}
