pragma circom 2.1.9;

include "circomlib/circuits/poseidon.circom";
include "range.circom";

/// @title PackSigned
/// @notice Range-checks n signed values to [-2^(bits-1), 2^(bits-1)) and packs them, offset by 2^(bits-1), into
///         ceil(n / per) field elements, per = floor(248 / bits) values each (little-endian within a chunk).
///         Packing is injective because every value is range-checked and a chunk holds at most 248 bits < 254.
/// @param n, bits  count and width (1 <= bits <= 248)
/// @input  in      the values
/// @output out     the packed chunks
/// Constraints: n * (bits + 1) before --O2 folds the linear sums; about n * bits after.
template PackSigned(n, bits) {
    var per = 248 \ bits;
    var nChunks = (n + per - 1) \ per;
    signal input in[n];
    signal output out[nChunks];
    component rb[n];
    var lc[nChunks];
    for (var c = 0; c < nChunks; c++) {
        lc[c] = 0;
    }
    for (var i = 0; i < n; i++) {
        rb[i] = SignedRangeBits(bits);
        rb[i].in <== in[i];
        var c = i \ per;
        var shift = (i % per) * bits;
        for (var b = 0; b < bits; b++) {
            lc[c] += rb[i].out[b] * (1 << (shift + b));
        }
    }
    for (var c = 0; c < nChunks; c++) {
        out[c] <== lc[c];
    }
}

/// @title PoseidonChain
/// @notice Sponge-like chain over n field elements with an initial value: h = init; for each group of up to 15
///         elements g: h = Poseidon([h] ++ g). Matches scripts/formats/commitments.ts (circomlibjs Poseidon).
/// @param n     number of elements, n >= 1
/// @input init  salt or domain tag
/// @input in    the elements
/// @output out  the final h
template PoseidonChain(n) {
    signal input init;
    signal input in[n];
    signal output out;
    var nSteps = (n + 14) \ 15;
    component h[nSteps];
    for (var s = 0; s < nSteps; s++) {
        var start = s * 15;
        var m = n - start < 15 ? n - start : 15;
        h[s] = Poseidon(m + 1);
        if (s == 0) {
            h[s].inputs[0] <== init;
        } else {
            h[s].inputs[0] <== h[s - 1].out;
        }
        for (var i = 0; i < m; i++) {
            h[s].inputs[i + 1] <== in[start + i];
        }
    }
    out <== h[nSteps - 1].out;
}

/// @title CommitSigned
/// @notice Salted commitment to n signed values of `bits` bits: PoseidonChain(salt, PackSigned(values)).
///         Also the range check of the values.
/// @input  in    the values, each in [-2^(bits-1), 2^(bits-1))
/// @input  salt  a field element (random for inputs, a fixed domain tag for weights)
/// @output out   the commitment
template CommitSigned(n, bits) {
    var per = 248 \ bits;
    var nChunks = (n + per - 1) \ per;
    signal input in[n];
    signal input salt;
    signal output out;
    component pack = PackSigned(n, bits);
    pack.in <== in;
    component chain = PoseidonChain(nChunks);
    chain.init <== salt;
    chain.in <== pack.out;
    out <== chain.out;
}
