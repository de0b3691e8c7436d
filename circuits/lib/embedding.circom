pragma circom 2.1.9;

include "trees.circom";

/// @title EmbeddingLookup
/// @notice One token's embedding row: out[j] = E[id][j] for an integer id with 0 <= id < V (PyTorch's nn.Embedding,
///         ONNX Gather on the table). The table is constant (open weights).
/// @param n   id bits: V <= 2^n
/// @param V   vocabulary size
/// @param d   embedding width
/// @param E   [V][d] integer table
/// @input  in   the token id (the model input, range-checked by the input commitment or packing)
/// @output out  d values
/// Soundness: `in` is decomposed into n bits: bits[0 .. n-2] hinted (each `<--` pinned by b*(b-1) = 0), the top
/// bit the linear rest (in - sum)/2^(n-1), pinned boolean; so in = sum bits*2^i is in [0, 2^n) (a negative id, p - |v|,
/// has no decomposition). When V < 2^n, LessEqConst(n + 1, V - 1) must output 1: in <= V - 1. The row is the
/// multilinear interpolation of the table over the id's bits: out[j] = sum_S M_j[S] prod_{i in S} bit_i with M_j the
/// Moebius transform of E[.][j] (rows past V are 0), which for boolean bits is E[id][j]; every product of two or more
/// bits is one constraint, shared by the d outputs. No other witness choice.
/// Constraints: n + (2^n - n - 1) + (V < 2^n ? n + 1 : 0) (the comparison's output is pinned to 1, so its boolean
/// constraint folds away).
template EmbeddingLookup(n, V, d, E) {
    signal input in;
    signal output out[d];

    signal bits[n - 1 > 0 ? n - 1 : 1];
    var bit[n];
    var low = 0;
    for (var i = 0; i < n - 1; i++) {
        bits[i] <-- (in >> i) & 1;
        bits[i] * (bits[i] - 1) === 0;
        bit[i] = bits[i];
        low += bits[i] * (1 << i);
    }
    if (n == 1) {
        bits[0] <== 0;
    }
    bit[n - 1] = (in - low) / (1 << (n - 1));
    bit[n - 1] * (bit[n - 1] - 1) === 0;

    if (V < (1 << n)) {
        component inVocab = LessEqConst(n + 1, V - 1);
        inVocab.in <== in;
        inVocab.out === 1;
    }

    var nRows = 1 << n;
    var nProd = nRows - n - 1;
    signal prod[nProd > 0 ? nProd : 1];
    if (nProd == 0) {
        prod[0] <== 0;
    }
    var mono[nRows];
    mono[0] = 1;
    var k = 0;
    for (var S = 1; S < nRows; S++) {
        var hb = 0;
        while ((2 << hb) <= S) {
            hb++;
        }
        if (S == (1 << hb)) {
            mono[S] = bit[hb];
        } else {
            prod[k] <== mono[S - (1 << hb)] * bit[hb];
            mono[S] = prod[k];
            k++;
        }
    }

    for (var j = 0; j < d; j++) {
        var acc = 0;
        for (var S = 0; S < nRows; S++) {
            var m = 0;
            for (var T = 0; T <= S; T++) {
                if ((T & S) == T && T < V) {
                    var parity = 0;
                    var rest = S - T;
                    while (rest > 0) {
                        parity += rest & 1;
                        rest = rest \ 2;
                    }
                    m += (parity % 2 == 0 ? 1 : -1) * E[T][j];
                }
            }
            acc += m * mono[S];
        }
        out[j] <== acc;
    }
}

/// @title Embedding
/// @notice A sequence of `seq` token ids to its embeddings, laid out [d, seq] (index j * seq + t): the channels of a
///         Conv1d over the sequence, or a mean over it (AvgPool1d).
/// Constraints: seq * EmbeddingLookup(n, V, d, E).
template Embedding(seq, n, V, d, E) {
    signal input in[seq];
    signal output out[d * seq];
    component look[seq];
    for (var t = 0; t < seq; t++) {
        look[t] = EmbeddingLookup(n, V, d, E);
        look[t].in <== in[t];
        for (var j = 0; j < d; j++) {
            out[j * seq + t] <== look[t].out[j];
        }
    }
}
