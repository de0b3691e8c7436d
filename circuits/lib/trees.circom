pragma circom 2.1.9;

/// @title LessEqConst
/// @notice out = [in <= T] for a signed in and a constant T with |T - in| < 2^D (a tree ensemble's split;
///         docs/circuits.md, "Tree ensembles").
/// @param D  the caller guarantees |T - in| < 2^D (in range-checked to b bits, T clamped to [lo - 1, hi]: D = b + 1)
/// @param T  the threshold (an integer at in's scale)
/// Soundness: d = T - in + 2^D is in (0, 2^(D+1)) << p and is decomposed into D + 1 bits: bit[0 .. D-1] are hinted
/// signals (each `<--` pinned by bit[i]*(bit[i]-1) = 0), bit D is the linear rest (d - sum)/2^D, pinned boolean by
/// one constraint; the decomposition is unique and bit D = [T - in >= 0] = [in <= T]. No other witness choice.
/// Constraints: D + 1.
template LessEqConst(D, T) {
    signal input in;
    signal output out;
    var d = T - in + (1 << D);
    signal bit[D];
    var low = 0;
    for (var i = 0; i < D; i++) {
        bit[i] <-- (d >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        low += bit[i] * (1 << i);
    }
    out <== (d - low) / (1 << D);
    out * (out - 1) === 0;
}

/// @title LessEqSignal
/// @notice out = [in <= t] for signed in and t with |t - in| < 2^D: a split of a committed (private) tree ensemble,
///         whose threshold t is a witness bound by the model commitment (docs/circuits.md, "Tree ensembles").
/// @param D  the caller guarantees |t - in| < 2^D (in range-checked to b bits, t to b + 1 bits by the commitment's
///           packing)
/// Soundness: as LessEqConst with the constant T replaced by the signal t: d = t - in + 2^D is in [0, 2^(D+1)) << p
/// and decomposed into D + 1 bits (bit[0 .. D-1] hinted and pinned boolean, bit D the linear rest pinned boolean);
/// the decomposition is unique and bit D = [t - in >= 0] = [in <= t]. A pair outside the bound has no witness.
/// Constraints: D + 1.
template LessEqSignal(D) {
    signal input in;
    signal input t;
    signal output out;
    var d = t - in + (1 << D);
    signal bit[D];
    var low = 0;
    for (var i = 0; i < D; i++) {
        bit[i] <-- (d >> i) & 1;
        bit[i] * (bit[i] - 1) === 0;
        low += bit[i] * (1 << i);
    }
    out <== (d - low) / (1 << D);
    out * (out - 1) === 0;
}
