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
///                (it is a linear combination of range-checked values; scripts/circuit computes A from the bounds)
/// @param k       shift (0 <= k); k = 0 means no rounding
/// @param outBits output width in bits (signed), 2 <= outBits
/// @param relu    1 to fuse ReLU, 0 for a signed clamp
/// @input  in     the accumulator (negative values are p - |v|)
/// @output out    the requantized value, in the range above
/// Soundness: one Num2Bits decomposes T = in + 2^(k-1) - lo*2^k + 2^(Z+k) into k + Z + 1 bits. Its low k bits are
/// the remainder r in [0, 2^k), its high Z + 1 bits are z + 2^Z where z = q - lo and q the rounded quotient. Because
/// T < 2^(k+Z+1) << p, the decomposition is unique, so q and r are pinned: no prover choice is left (the only `<--`
/// are Num2Bits' bit hints, each pinned by b*(b-1) = 0 and the weighted sum, and IsZero's inverse hint, pinned by
/// circomlib's in*out = 0). The top bit is [z >= 0]; bits k+m .. k+Z-1 are all zero iff z < 2^m. Both range checks
/// of DESIGN.md (remainder and quotient) are this one decomposition. A value of `in` outside [-2^(A-1), 2^(A-1))
/// has no witness (the caller's bound excludes it).
/// Constraints (measured, --O2): k + Z + 5 with Z = max(A - k, m) + 1; k + Z + 3 when Z = m + 1 (a single overflow
/// bit needs no IsZero).
template Requantize(A, k, outBits, relu) {
    signal input in;
    signal output out;

    var m = relu == 1 ? outBits - 1 : outBits;
    var lo = relu == 1 ? 0 : -(1 << (outBits - 1));
    var Z = (A - k > m ? A - k : m) + 1;
    var half = k > 0 ? 1 << (k - 1) : 0;

    component bits = Num2Bits(k + Z + 1);
    bits.in <== in + half - lo * (1 << k) + (1 << (Z + k));

    // z >= 0 ?
    signal pos <== bits.out[k + Z];
    // low m bits of z (valid when z >= 0)
    var zlow = 0;
    for (var i = 0; i < m; i++) {
        zlow += bits.out[k + i] * (1 << i);
    }
    // any of bits m .. Z-1 set => z >= 2^m (overflow above hi)
    signal high;
    if (Z - m == 1) {
        high <== bits.out[k + m];
    } else {
        var highSum = 0;
        for (var i = m; i < Z; i++) {
            highSum += bits.out[k + i];
        }
        component noHigh = IsZero();
        noHigh.in <== highSum;
        high <== 1 - noHigh.out;
    }

    // zc = z >= 2^m ? 2^m - 1 : zlow ;  out = lo + (z >= 0 ? zc : 0)
    signal zc <== zlow + high * ((1 << m) - 1 - zlow);
    signal zp <== pos * zc;
    out <== lo + zp;
}
