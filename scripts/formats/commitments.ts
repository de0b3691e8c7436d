/**
 * Commitments and packing, the TypeScript twins of the circuits' `PackSigned`, `PoseidonChain` and `CommitSigned`
 * (circuits/lib/commit.circom). Poseidon is poseidon-lite (circomlib's parameters, pure JavaScript, Node and browsers),
 * tested equal to circomlibjs' for every width the chain uses (test/formats/poseidon.test.ts).
 */
import * as poseidonLite from "poseidon-lite";
import { sha256, toUtf8Bytes } from "ethers";
import { SNARK_FIELD } from "../util/field";
import { signedRange } from "./fixed-point";

type PoseidonN = (inputs: bigint[]) => bigint;
const POSEIDON: (PoseidonN | undefined)[] = Array.from({ length: 17 }, (_, n) =>
  n === 0 ? undefined : ((poseidonLite as unknown as Record<string, PoseidonN>)[`poseidon${n}`] as PoseidonN),
);

/**
 * Poseidon of 1..16 field elements with circomlib's parameters: the circuits' `Poseidon(n)`.
 * @throws RangeError for another number of inputs or an input outside the field.
 */
export function poseidonHash(inputs: readonly bigint[]): bigint {
  const f = POSEIDON[inputs.length];
  if (!f) throw new RangeError(`poseidonHash takes 1..16 inputs, got ${inputs.length}`);
  inputs.forEach((v, i) => {
    if (v < 0n || v >= SNARK_FIELD) throw new RangeError(`poseidonHash input[${i}] = ${v} is not a field element`);
  });
  return f([...inputs]);
}

/** Values per field element when packing `bits`-bit values: floor(248 / bits). */
export function valuesPerChunk(bits: number): number {
  return Math.floor(248 / bits);
}

/**
 * Twin of `PackSigned(n, bits)`: offsets each value by 2^(bits-1) and packs floor(248/bits) of them per field element,
 * little-endian.
 * @throws RangeError naming the index when a value is outside [-2^(bits-1), 2^(bits-1)).
 */
export function packSigned(values: readonly bigint[], bits: number, what = "value"): bigint[] {
  const per = valuesPerChunk(bits);
  const { lo, hi } = signedRange(bits);
  const chunks: bigint[] = [];
  values.forEach((v, i) => {
    if (v < lo || v > hi) throw new RangeError(`${what}[${i}] = ${v} is outside the ${bits}-bit signed range [${lo}, ${hi}]`);
    const c = Math.floor(i / per);
    chunks[c] = (chunks[c] ?? 0n) + ((v - lo) << BigInt((i % per) * bits));
  });
  return chunks;
}

/**
 * Inverse of {@link packSigned} for one word (twin of `SignedPacking.unpack` in contracts/libraries): the first `count`
 * values of `bits` bits each, little-endian, each offset by 2^(bits-1).
 */
export function unpackSigned(word: bigint, count: number, bits: number): bigint[] {
  const mask = (1n << BigInt(bits)) - 1n;
  const half = 1n << BigInt(bits - 1);
  return Array.from({ length: count }, (_, i) => ((word >> BigInt(i * bits)) & mask) - half);
}

/** Twin of `PoseidonChain(n)`: h = init; for each group g of up to 15 elements, h = Poseidon([h, ...g]). */
export async function poseidonChain(init: bigint, elems: readonly bigint[]): Promise<bigint> {
  if (elems.length === 0) throw new Error("poseidonChain needs at least one element");
  let h = init;
  for (let s = 0; s < elems.length; s += 15) h = poseidonHash([h, ...elems.slice(s, s + 15)]);
  return h;
}

/** Twin of `CommitSigned(n, bits)`: salted commitment to signed values. */
export async function commitSigned(values: readonly bigint[], bits: number, salt: bigint, what = "value"): Promise<bigint> {
  if (salt < 0n || salt >= SNARK_FIELD) throw new RangeError(`salt must be a field element in [0, r), got ${salt}`);
  return poseidonChain(salt, packSigned(values, bits, what));
}

/** A domain tag: sha256(label) reduced into the field, used as the chain's initial value for non-salted commitments. */
export function domainTag(label: string): bigint {
  return BigInt(sha256(toUtf8Bytes(label))) % SNARK_FIELD;
}

/** Initial value of the model (weights) commitment chain. */
export const MODEL_DOMAIN = domainTag("zkml-evm/model-commitment/v1");
