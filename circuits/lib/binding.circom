pragma circom 2.1.9;

/// @title JobBinding
/// @notice Keeps a public input that no other constraint uses bound to the proof: squares it, so the optimizer
///         cannot drop it and a proof for one binding value does not verify with another.
/// @input in   the job binding (see docs/public-signals.md)
/// Constraints: 1.
template JobBinding() {
    signal input in;
    signal sq <== in * in;
}
