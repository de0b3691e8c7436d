/** BN254 scalar field modulus: every public signal and circuit value lives below it. */
export const SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Signed integer -> field element (a negative v becomes r - |v|). */
export function toField(v: bigint): bigint {
  const m = v % SNARK_FIELD;
  return m < 0n ? m + SNARK_FIELD : m;
}

/** Field element -> signed integer, reading values above r/2 as negative. */
export function fromField(x: bigint): bigint {
  return x > SNARK_FIELD / 2n ? x - SNARK_FIELD : x;
}
