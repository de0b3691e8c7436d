/**
 * DEV ONLY, NOT FOR PRODUCTION: the secrets of the dev trusted setup, and how snarkjs derives them.
 *
 * The dev recipe (docs/trusted-setup.md) is `snarkjs powersoftau new` + a beacon with the public hash
 * `DEV_PTAU_BEACON.hash`, `prepare phase2`, then per circuit `zkey new` + a beacon with the public hash
 * `DEV_ZKEY_BEACON.hash`. A snarkjs beacon draws its secret from ChaCha20 seeded by sha256 iterated 2^10 times over
 * the beacon hash, so the "toxic waste" is public: tau, alpha and beta are the first three field elements drawn from
 * the ptau beacon's generator, delta the first one drawn from the zkey beacon's, and gamma is 1 (snarkjs never
 * changes it). The direct setup (direct-ptau.ts, direct-zkey.ts) computes the same files from these values.
 */
import { createHash } from "crypto";
import { blake2b } from "@noble/hashes/blake2b";
import { ChaCha, type Curve, type Elem } from "ffjavascript";

export interface Beacon {
  /** Contribution name recorded in the file. */
  name: string;
  /** Hex of the public beacon value. */
  hash: string;
  /** log2 of the sha256 iterations (snarkjs accepts 10..63). */
  iterationsExp: number;
}

/** The dev powers-of-tau beacon: hex of "zkml-evm dev only - not for prod". */
export const DEV_PTAU_BEACON: Beacon = {
  name: "zkml-evm dev beacon (INSECURE)",
  hash: "7a6b6d6c2d65766d20646576206f6e6c79202d206e6f7420666f722070726f64",
  iterationsExp: 10,
};

/** The dev phase-2 (zkey) beacon: hex of "zkml-evm dev zkey - not for prod". */
export const DEV_ZKEY_BEACON: Beacon = {
  name: "zkml-evm dev beacon (INSECURE)",
  hash: "7a6b6d6c2d65766d20646576207a6b6579202d206e6f7420666f722070726f64",
  iterationsExp: 10,
};

/** snarkjs' `rngFromBeaconParams`: ChaCha20 seeded with sha256^(2^iterationsExp)(beacon), read as 8 big-endian words. */
export function beaconRng(b: Beacon): ChaCha {
  if (b.iterationsExp < 10 || b.iterationsExp > 30) throw new Error(`beacon iterationsExp must be in 10..30, got ${b.iterationsExp}`);
  let h: Buffer = Buffer.from(b.hash, "hex");
  if (h.length === 0 || h.length * 2 !== b.hash.length) throw new Error(`beacon hash ${b.hash} is not hex`);
  for (let i = 0; i < 2 ** b.iterationsExp; i++) h = createHash("sha256").update(h).digest();
  return new ChaCha(Array.from({ length: 8 }, (_, i) => h.readUInt32BE(i * 4)));
}

/** The dev secrets as integers mod r (gamma is 1). */
export interface DevSecrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
  delta: bigint;
}

/** The secrets of the dev recipe: what `snarkjs powersoftau beacon` and `snarkjs zkey beacon` draw from the beacons. */
export function devSecrets(curve: Curve): DevSecrets {
  const p = beaconRng(DEV_PTAU_BEACON);
  const tau = curve.Fr.toObject(curve.Fr.fromRng(p));
  const alpha = curve.Fr.toObject(curve.Fr.fromRng(p));
  const beta = curve.Fr.toObject(curve.Fr.fromRng(p));
  const delta = curve.Fr.toObject(curve.Fr.fromRng(beaconRng(DEV_ZKEY_BEACON)));
  return { tau, alpha, beta, delta };
}

/** Uncompressed encoding of a point (what snarkjs hashes). */
export function uncompressed(curve: Curve, group: "G1" | "G2", p: Elem): Uint8Array {
  const b = new Uint8Array(group === "G1" ? 64 : 128);
  curve[group].toRprUncompressed(b, 0, p);
  return b;
}

/** Affine Montgomery little-endian encoding of a point (what snarkjs writes in zkey and ptau sections). */
export function lem(curve: Curve, group: "G1" | "G2", p: Elem): Uint8Array {
  const b = new Uint8Array(group === "G1" ? 64 : 128);
  curve[group].toRprLEM(b, 0, p);
  return b;
}

/** snarkjs' `hashToG2`: a G2 point drawn from ChaCha20 seeded with the first 8 big-endian words of `hash`. */
function hashToG2(curve: Curve, hash: Uint8Array): Elem {
  const v = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength);
  return curve.G2.fromRng(new ChaCha(Array.from({ length: 8 }, (_, i) => v.readUInt32BE(i * 4))));
}

/** One secret's proof of knowledge in a ptau contribution (snarkjs keypair.js). */
export interface PtauKeyPart {
  prvKey: Elem;
  g1_s: Elem;
  g1_sx: Elem;
  g2_spx: Elem;
}

/**
 * The key `snarkjs powersoftau beacon` derives from a beacon for a file whose last challenge hash is `challenge`
 * (keypair.js createPTauKey): the three secrets first, then per secret a random G1 point, its multiple, and the G2
 * point hashed from the challenge and both G1 points, times the secret.
 */
export function ptauBeaconKey(curve: Curve, challenge: Uint8Array, b: Beacon): { tau: PtauKeyPart; alpha: PtauKeyPart; beta: PtauKeyPart } {
  const rng = beaconRng(b);
  const prv = [curve.Fr.fromRng(rng), curve.Fr.fromRng(rng), curve.Fr.fromRng(rng)];
  const parts = prv.map((prvKey, personalization) => {
    const g1_s = curve.G1.toAffine(curve.G1.fromRng(rng));
    const g1_sx = curve.G1.toAffine(curve.G1.timesFr(g1_s, prvKey));
    const h = blake2b.create({ dkLen: 64 });
    h.update(new Uint8Array([personalization]));
    h.update(challenge);
    h.update(uncompressed(curve, "G1", g1_s));
    h.update(uncompressed(curve, "G1", g1_sx));
    const g2_sp = curve.G2.toAffine(hashToG2(curve, h.digest()));
    return { prvKey, g1_s, g1_sx, g2_spx: curve.G2.toAffine(curve.G2.timesFr(g2_sp, prvKey)) };
  });
  return { tau: parts[0], alpha: parts[1], beta: parts[2] };
}

/** A zkey beacon contribution, as `snarkjs zkey beacon` records it (zkey_beacon.js). */
export interface ZkeyBeaconContribution {
  delta: Elem;
  /** delta * G1 and delta * G2: the new vk_delta_1 / vk_delta_2 (the previous ones are the generators). */
  delta1: Elem;
  delta2: Elem;
  g1_s: Elem;
  g1_sx: Elem;
  g2_spx: Elem;
  transcript: Uint8Array;
}

/** The first beacon contribution of a new zkey whose circuit hash is `csHash`. */
export function zkeyBeaconContribution(curve: Curve, csHash: Uint8Array, b: Beacon): ZkeyBeaconContribution {
  const rng = beaconRng(b);
  const delta = curve.Fr.fromRng(rng);
  const g1_s = curve.G1.toAffine(curve.G1.fromRng(rng));
  const g1_sx = curve.G1.toAffine(curve.G1.timesFr(g1_s, delta));
  const h = blake2b.create({ dkLen: 64 });
  h.update(csHash);
  h.update(uncompressed(curve, "G1", g1_s));
  h.update(uncompressed(curve, "G1", g1_sx));
  const transcript = h.digest();
  const g2_sp = hashToG2(curve, transcript);
  return {
    delta,
    delta1: curve.G1.toAffine(curve.G1.timesFr(curve.G1.g, delta)),
    delta2: curve.G2.toAffine(curve.G2.timesFr(curve.G2.g, delta)),
    g1_s,
    g1_sx,
    g2_spx: curve.G2.toAffine(curve.G2.timesFr(g2_sp, delta)),
    transcript,
  };
}

/** A contribution's parameter block (snarkjs writeContribution): name, and for a beacon its iterations and hash. */
export function beaconParams(b: Beacon): Buffer {
  const name = Buffer.from(b.name.substring(0, 64), "utf8");
  const hash = Buffer.from(b.hash, "hex");
  const params = Buffer.concat([Buffer.from([1, name.length]), name, Buffer.from([2, b.iterationsExp, 3, hash.length]), hash]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(params.length);
  return Buffer.concat([len, params]);
}
