/**
 * DEV ONLY: the dev Groth16 proving key of a circuit computed directly from the public dev secrets
 * (dev-secrets.ts), byte for byte the file `snarkjs zkey new <r1cs> <dev ptau 2^P>` + `snarkjs zkey beacon`
 * (DEV_ZKEY_BEACON) writes, without a powers-of-tau file: each point is (polynomial evaluated at tau) * generator,
 * computed with batched fixed-base multiplications (fixed-base.ts).
 *
 * What snarkjs' zkey_new.js + zkey_beacon.js write, and how this file computes it (n = domain size, L_c the
 * Lagrange basis of the n-th roots of unity at tau, a/b/c_s(tau) = sum over constraints of the wire's coefficient
 * times L_c, plus L_(nConstraints+s) in a_s for each public signal s):
 *   1 protocol (Groth16); 2 header: q, r, nVars, nPublic, n, alpha G1, beta G1, beta G2, gamma G2 = G2, delta G1/G2;
 *   3 IC_s = (beta a_s + alpha b_s + c_s) G1 for s <= nPublic (gamma = 1);
 *   4 the A and B coefficients (constraint order, A terms then B terms, then one per public signal), times R^2;
 *   5 A_s = a_s G1; 6 B1_s = b_s G1; 7 B2_s = b_s G2;
 *   8 C_s = (beta a_s + alpha b_s + c_s) / delta G1 for private s;
 *   9 H_i = L'_(2i+1)(tau) / delta G1, i < n, L' the basis of the 2n-th roots (see `hPoints`);
 *  10 the circuit hash (blake2b of the pre-beacon points, as zkey new computes it) and the beacon contribution.
 */
import { blake2b } from "@noble/hashes/blake2b";
import * as snarkjs from "snarkjs";
import { SNARK_FIELD, batchInverse, modInv, modPow, readU256LE, writeU256LE } from "../../util/field";
import { BinFileWriter } from "./binfile";
import { DEV_ZKEY_BEACON, beaconParams, devSecrets, lem, uncompressed, zkeyBeaconContribution } from "./dev-secrets";
import { lagrangeBasis, rootOfUnity, scalarBytes } from "./direct-ptau";
import { FixedBasePool, type Group, type Outputs } from "./fixed-base";
import { forEachTerm, readR1cs } from "./r1cs";

const R = SNARK_FIELD;
/** Montgomery R^2 mod r for 32-byte limbs: snarkjs stores the section 4 coefficients times it. */
const R2 = (((1n << 256n) % R) * ((1n << 256n) % R)) % R;
/** zkey_new.js hashes the H points in chunks of 2^14, rounding the count up to whole chunks above 2^14 (see hashPoints). */
const H_HASH_CHUNK = 1 << 14;

/** snarkjs' circuit power: the domain 2^k holds the constraints plus one per public signal and the "one" wire. */
export function circuitPower(nConstraints: number, nPublic: number): number {
  const v = nConstraints + nPublic;
  return (v === 0 ? 0 : Math.floor(Math.log2(v))) + 1;
}

export interface DirectZkeyOptions {
  /**
   * Power of the dev ptau whose `zkey new` output to reproduce (default max(8, circuit power): the smallest dev ptau,
   * as the dev recipe uses). snarkjs' H section and circuit hash depend on whether the ptau is exactly the circuit's
   * power, so this is part of the recipe.
   */
  ptauPower?: number;
  /** A running pool to reuse; by default one is started and closed. */
  pool?: FixedBasePool;
  log?: (msg: string) => void;
  /** Called as the points are computed: `done` of `total` work units (a G1 point is 1, a G2 point 3). */
  progress?: (done: number, total: number) => void;
}

export interface DirectZkeyResult {
  domainSize: number;
  ptauPower: number;
  csHash: Uint8Array;
}

function u32be(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/**
 * Writes the dev Groth16 zkey of `r1csFile` to `zkeyFile` (atomically).
 * @throws if the R1CS is not over BN254, or its domain is too large for the field (2^27) or for `ptauPower`.
 */
export async function writeDevZkeyDirect(r1csFile: string, zkeyFile: string, opts: DirectZkeyOptions = {}): Promise<DirectZkeyResult> {
  const log = opts.log ?? (() => {});
  const r = readR1cs(r1csFile);
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  const { tau, alpha, beta, delta } = devSecrets(curve);
  const power = circuitPower(r.nConstraints, r.nPublic);
  if (power >= curve.Fr.s) throw new Error(`${r1csFile}: domain 2^${power} is too large for BN254 (at most 2^${curve.Fr.s - 1})`);
  const ptauPower = opts.ptauPower ?? Math.max(8, power);
  if (ptauPower < power) throw new Error(`ptauPower ${ptauPower} is below the circuit's power ${power}: use at least ${power}`);
  const n = 2 ** power;
  const { nVars, nPublic, nConstraints } = r;
  const nPrivate = nVars - nPublic - 1;

  // The QAP evaluations at tau, per wire.
  log(`  QAP at tau: ${nConstraints} constraints, ${nVars} wires, domain 2^${power}`);
  const L = lagrangeBasis(tau, n, rootOfUnity(curve, power));
  const a: bigint[] = new Array<bigint>(nVars).fill(0n);
  const b: bigint[] = new Array<bigint>(nVars).fill(0n);
  const c: bigint[] = new Array<bigint>(nVars).fill(0n);
  const coefPieces: Buffer[] = [];
  let piece = Buffer.alloc(44 * 16384);
  let pieceUsed = 0;
  let nCoefs = 0;
  const pushCoef = (matrix: number, constraint: number, wire: number, value: bigint): void => {
    if (pieceUsed === piece.length) {
      coefPieces.push(piece);
      piece = Buffer.alloc(piece.length);
      pieceUsed = 0;
    }
    piece.writeUInt32LE(matrix, pieceUsed);
    piece.writeUInt32LE(constraint, pieceUsed + 4);
    piece.writeUInt32LE(wire, pieceUsed + 8);
    writeU256LE(piece, pieceUsed + 12, (value * R2) % R);
    pieceUsed += 44;
    nCoefs++;
  };
  const cs = r.constraints;
  forEachTerm(r, (con, m, wire, off) => {
    if (wire >= nVars) throw new Error(`${r1csFile}: constraint ${con} uses wire ${wire} of ${nVars}`);
    const v = readU256LE(cs, off) % R;
    const t = v === 1n ? L[con] : (v * L[con]) % R;
    if (m === 0) {
      a[wire] += t;
      pushCoef(0, con, wire, v);
    } else if (m === 1) {
      b[wire] += t;
      pushCoef(1, con, wire, v);
    } else {
      c[wire] += t;
    }
  });
  for (let s = 0; s <= nPublic; s++) {
    a[s] += L[nConstraints + s];
    pushCoef(0, nConstraints + s, s, 1n);
  }
  coefPieces.push(piece.subarray(0, pieceUsed));
  for (let s = 0; s < nVars; s++) {
    a[s] %= R;
    b[s] %= R;
    c[s] %= R;
  }
  const lc = (s: number): bigint => (beta * a[s] + alpha * b[s] + c[s]) % R;
  const ic = Array.from({ length: nPublic + 1 }, (_, s) => lc(s));
  const cPre = Array.from({ length: nPrivate }, (_, i) => lc(nPublic + 1 + i));
  const invDelta = modInv(delta);
  const { h, hHash, hHashCount, quirk } = hPoints(tau, n, power, ptauPower, (k) => rootOfUnity(curve, k), lem(curve, "G2", curve.G2.g));

  const pool = opts.pool ?? FixedBasePool.start();
  const out = new BinFileWriter(zkeyFile, "zkey", 1, 10);
  const csHasher = blake2b.create({ dkLen: 64 });
  try {
    await pool.prepare({ G1: ic.length + hHashCount + 2 * nPrivate + 2 * nVars + n, G2: nVars });
    const point = (g: Group, x: bigint): Uint8Array => lem(curve, g, curve[g].timesFr(curve[g].g, curve.Fr.e(x)));
    const g1 = lem(curve, "G1", curve.G1.g);
    const g2 = lem(curve, "G2", curve.G2.g);
    const header = { alpha1: point("G1", alpha), beta1: point("G1", beta), beta2: point("G2", beta) };
    // 1, 2: protocol and header (delta after the beacon).
    out.beginSection(1);
    out.writeU32(1);
    out.endSection();
    out.beginSection(2);
    for (const [size, value] of [
      [32, curve.q],
      [32, curve.r],
    ] as const) {
      out.writeU32(size);
      const v = Buffer.alloc(32);
      writeU256LE(v, 0, value);
      out.write(v);
    }
    out.writeU32(nVars);
    out.writeU32(nPublic);
    out.writeU32(n);
    out.write(header.alpha1);
    out.write(header.beta1);
    out.write(header.beta2);
    out.write(g2); // gamma
    out.write(point("G1", delta));
    out.write(point("G2", delta));
    out.endSection();
    // The circuit hash starts with the pre-beacon header points (delta = the generators).
    csHasher.update(uncompressed(curve, "G1", header.alpha1));
    csHasher.update(uncompressed(curve, "G1", header.beta1));
    csHasher.update(uncompressed(curve, "G2", header.beta2));
    csHasher.update(uncompressed(curve, "G2", g2));
    csHasher.update(uncompressed(curve, "G1", g1));
    csHasher.update(uncompressed(curve, "G2", g2));

    /** Computes `values` * generator; writes the points to the open section and/or hashes them (with a u32 count first). */
    // Progress in work units: a G2 multiplication costs about three G1 ones.
    const total = ic.length + hHash.length + 2 * cPre.length + 2 * a.length + h.length + 3 * b.length;
    let done = 0;
    const progress = opts.progress ?? (() => {});
    progress(0, total);
    const points = async (g: Group, values: bigint[], what: { write: boolean; hash: boolean; count?: number }): Promise<void> => {
      if (what.hash) csHasher.update(u32be(what.count ?? values.length));
      const forms: Array<"lem" | "u"> = [];
      if (what.write) forms.push("lem");
      if (what.hash) forms.push("u");
      await pool.mul(
        g,
        values.length,
        (start, k) => scalarBytes(values, start, k),
        forms,
        (o: Outputs, _start: number, k: number) => {
          if (o.lem) out.write(o.lem);
          if (o.u) csHasher.update(o.u);
          done += g === "G2" ? 3 * k : k;
          progress(Math.min(done, total), total);
        },
      );
    };
    log(`  IC, coefficients (${nCoefs}), circuit hash of H and C`);
    out.beginSection(3);
    await points("G1", ic, { write: true, hash: true });
    out.endSection();
    out.beginSection(4);
    out.writeU32(nCoefs);
    for (const p of coefPieces) out.write(p);
    out.endSection();
    await points("G1", hHash, { write: false, hash: true, count: n - 1 });
    if (quirk) csHasher.update(await pool.subU("G1", quirk.a, await pointLem(pool, "G1", quirk.b)));
    await points("G1", cPre, { write: false, hash: true });
    log(`  A, B1 (${nVars} G1 each), B2 (${nVars} G2)`);
    out.beginSection(5);
    await points("G1", a, { write: true, hash: true });
    out.endSection();
    out.beginSection(6);
    await points("G1", b, { write: true, hash: true });
    out.endSection();
    out.beginSection(7);
    await points("G2", b, { write: true, hash: true });
    out.endSection();
    log(`  C (${nPrivate}), H (${n}) over delta`);
    out.beginSection(8);
    await points(
      "G1",
      cPre.map((x) => (x * invDelta) % R),
      { write: true, hash: false },
    );
    out.endSection();
    out.beginSection(9);
    await points(
      "G1",
      h.map((x) => (x * invDelta) % R),
      { write: true, hash: false },
    );
    out.endSection();
    // 10: circuit hash and the beacon contribution.
    const csHash = csHasher.digest();
    const k = zkeyBeaconContribution(curve, csHash, DEV_ZKEY_BEACON);
    out.beginSection(10);
    out.write(csHash);
    out.writeU32(1);
    out.write(lem(curve, "G1", k.delta1));
    out.write(lem(curve, "G1", k.g1_s));
    out.write(lem(curve, "G1", k.g1_sx));
    out.write(lem(curve, "G2", k.g2_spx));
    out.write(k.transcript);
    out.writeU32(1); // type: beacon
    out.write(beaconParams(DEV_ZKEY_BEACON));
    out.endSection();
    if (curve.Fr.toObject(k.delta) !== delta) throw new Error("internal: the zkey beacon's delta differs from devSecrets().delta");
    out.close();
    return { domainSize: n, ptauPower, csHash };
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    if (!opts.pool) await pool.close();
  }
}

/** One point value * G as affine LEM. */
async function pointLem(pool: FixedBasePool, g: Group, x: bigint): Promise<Uint8Array> {
  let res: Uint8Array | undefined;
  await pool.mul(
    g,
    1,
    () => scalarBytes([x], 0, 1),
    ["lem"],
    (o) => {
      res = o.lem;
    },
  );
  if (!res) throw new Error("internal: no point");
  return res;
}

/**
 * The H section and the H part of the circuit hash, as `zkey new` computes them from a dev ptau of power P:
 * - H_i is point 2i+1 of the ptau's Lagrange block of size 2n (section 12). That block is the true basis at tau
 *   when 2n <= 2^P; when 2n = 2^(P+1) it is snarkjs' inverse FFT of the 2^(P+1) - 1 powers of tau with a zero
 *   appended, i.e. L'_j = L_j(tau) - tau^(2n-1) w^j / 2n. (Both give the same proofs: the quotient is of degree
 *   below n, so the extra term sums to zero over the coset.)
 * - the hash covers (tau^(n+i) - tau^i) G1 for i < n - 1; for n >= 2^15 zkey_new.js rounds the count up to whole
 *   chunks of 2^14 and also hashes i = n - 1, whose tau^(2n-1) lies past the end of a ptau of power exactly P = log2 n:
 *   there it reads the next 64 bytes of the file (section 3's header and the start of its first point, the G2
 *   generator), which `quirk` reproduces.
 */
function hPoints(
  tau: bigint,
  n: number,
  power: number,
  ptauPower: number,
  root: (k: number) => bigint,
  g2GeneratorLem: Uint8Array,
): { h: bigint[]; hHash: bigint[]; hHashCount: number; quirk?: { a: Uint8Array; b: bigint } } {
  const m = 2 * n;
  const w = root(power + 1);
  const wn = root(power);
  const c2 = (((modPow(tau, BigInt(m)) - 1n + R) % R) * modInv(BigInt(m))) % R;
  const truncated = power === ptauPower;
  const top = truncated ? (modPow(tau, BigInt(m - 1)) * modInv(BigInt(m))) % R : 0n;
  const x: bigint[] = new Array<bigint>(n);
  const den: bigint[] = new Array<bigint>(n);
  let xi = w;
  for (let i = 0; i < n; i++) {
    x[i] = xi;
    den[i] = (tau - xi + R) % R;
    xi = (xi * wn) % R;
  }
  const inv = batchInverse(den);
  const h = x.map((xi2, i) => (((((c2 * xi2) % R) * inv[i]) % R) - ((top * xi2) % R) + R) % R);
  const hashCount = n - 1 > H_HASH_CHUNK ? Math.ceil((n - 1) / H_HASH_CHUNK) * H_HASH_CHUNK : n - 1;
  const zn = (modPow(tau, BigInt(n)) - 1n + R) % R;
  const regular = Math.min(hashCount, n - 1);
  const hHash: bigint[] = new Array<bigint>(regular);
  let t = 1n;
  for (let i = 0; i < regular; i++) {
    hHash[i] = (t * zn) % R;
    t = (t * tau) % R;
  }
  let quirk: { a: Uint8Array; b: bigint } | undefined;
  if (hashCount > n - 1) {
    // i = n - 1: P[2n-1] - P[n-1], P the powers section. tau^(n-1) is t now.
    if (power < ptauPower) {
      hHash.push((t * zn) % R);
    } else {
      const a = Buffer.alloc(64);
      a.writeUInt32LE(3, 0);
      a.writeBigUInt64LE(BigInt(2 ** ptauPower * 128), 4);
      a.set(g2GeneratorLem.subarray(0, 52), 12);
      quirk = { a, b: t };
    }
  }
  return { h, hHash, hHashCount: hashCount, quirk };
}
