pragma circom 2.1.9;

include "circomlib/circuits/bitify.circom";

/// @title Argmax
/// @notice Index of the largest of n signed values. Tie rule: the LOWEST index among equal maxima wins.
/// @param n      number of values, n >= 1
/// @param bits   difference width: the caller guarantees max_i in[i] - min_j in[j] < 2^bits (true for any values in
///               [-2^(bits-1), 2^(bits-1)); scripts/engine/circuit passes the width of the tight logit range), bits <= 248
/// @input  in    the values
/// @output out   the index t of the maximum
/// @output max   in[t]
/// Soundness: sel is a one-hot vector (`<--`, unique because it is pinned by sel*(sel-1) = 0 and sum = 1); t = sum i*sel[i],
/// max = sum sel[i]*in[i]. For every j, d_j = max - in[j] - [j < t] is range-checked into [0, 2^bits) by Num2Bits,
/// so max >= in[j] for all j and max > in[j] for j < t: t is the first index of the maximum, and nothing else
/// satisfies the constraints. ([j < t] = sum_{i > j} sel[i] is linear.)
/// Constraints (measured, --O2): n (booleans) + n (products) + n * bits (Num2Bits); the sum = 1 and the index are
/// linear and folded.
template Argmax(n, bits) {
    signal input in[n];
    signal output out;
    signal output max;

    // witness: first index of the maximum (circom compares field elements as signed values)
    var best = 0;
    for (var i = 1; i < n; i++) {
        if (in[i] > in[best]) {
            best = i;
        }
    }
    signal sel[n];
    for (var i = 0; i < n; i++) {
        sel[i] <-- i == best ? 1 : 0;
        sel[i] * (sel[i] - 1) === 0;
    }
    var total = 0;
    var index = 0;
    for (var i = 0; i < n; i++) {
        total += sel[i];
        index += i * sel[i];
    }
    total === 1;
    out <== index;

    signal prod[n];
    var mx = 0;
    for (var i = 0; i < n; i++) {
        prod[i] <== sel[i] * in[i];
        mx += prod[i];
    }
    max <== mx;

    component d[n];
    for (var j = 0; j < n; j++) {
        var before = 0; // [j < t]
        for (var i = j + 1; i < n; i++) {
            before += sel[i];
        }
        d[j] = Num2Bits(bits);
        d[j].in <== max - in[j] - before;
    }
}
