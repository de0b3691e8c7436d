/**
 * DEV ONLY: the dev powers of tau computed directly from its public secrets (dev-secrets.ts), byte for byte the
 * file `snarkjs powersoftau new` + `beacon` (DEV_PTAU_BEACON) + `prepare phase2` write, in seconds instead of
 * minutes to hours: every point is a batched fixed-base multiplication of the generator (fixed-base.ts), and the
 * Lagrange sections are the Lagrange basis evaluated at tau directly instead of group FFTs.
 *
 * Layout (snarkjs powersoftau_new.js / _beacon.js / _preparephase2.js): 1 header; 2 tau^i G1, i < 2^(p+1) - 1;
 * 3 tau^i G2, 4 alpha tau^i G1, 5 beta tau^i G1 (2^p each); 6 beta G2; 7 the beacon contribution; 12..15 the
 * Lagrange bases L_j^(m)(tau) of every domain m = 2^0 .. 2^p of sections 2..5 (section 12 also m = 2^(p+1), from the
 * 2^(p+1) - 1 powers with a zero appended, as snarkjs does).
 */
import { blake2b } from "@noble/hashes/blake2b";
import type { Curve } from "ffjavascript";
import * as snarkjs from "snarkjs";
import { SNARK_FIELD, batchInverse, modInv, modPow, writeU256LE } from "../../util/field";
import { BinFileWriter } from "./binfile";
import { DEV_PTAU_BEACON, beaconParams, devSecrets, lem, ptauBeaconKey, uncompressed } from "./dev-secrets";
import { FixedBasePool, type Group, POINT_BYTES } from "./fixed-base";

const R = SNARK_FIELD;

/** blake2b-512 as snarkjs uses it (noble). */
type Hasher = ReturnType<typeof blake2b.create>;

/**
 * snarkjs' `toPartialHash`: noble's blake2b state after the response points (216 bytes), which the contribution
 * record stores so a verifier can finish the response hash with the public key alone.
 */
function partialHash(h: Hasher): Uint8Array {
  const s = h as unknown as Record<string, number> & { buffer: Uint8Array; pos: number; length: number };
  const out = new Uint8Array(216);
  const words = new Uint32Array(out.buffer, 128, 20);
  out.set(s.buffer.subarray(0, 128));
  const names = ["v0l", "v0h", "v1l", "v1h", "v2l", "v2h", "v3l", "v3h", "v4l", "v4h", "v5l", "v5h", "v6l", "v6h", "v7l", "v7h"];
  names.forEach((n, i) => {
    if (typeof s[n] !== "number") throw new Error(`@noble/hashes blake2b has no state word ${n}: the partial-hash layout changed`);
    words[i] = s[n];
  });
  words[16] = s.length - s.pos;
  words[18] = s.pos;
  return out;
}

/**
 * Feeds a hasher in pieces of exactly `piece` bytes (the last one shorter), whatever sizes arrive: noble's blake2b
 * keeps stale bytes of earlier pieces in its block buffer, which the partial hash records, so matching snarkjs'
 * file byte for byte means hashing in snarkjs' own piece sizes.
 */
class PiecewiseHasher {
  private buf: Buffer;
  private used = 0;
  constructor(
    private readonly h: Hasher,
    private readonly piece: number,
  ) {
    this.buf = Buffer.alloc(piece);
  }
  update(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const take = Math.min(this.piece - this.used, data.length - off);
      this.buf.set(data.subarray(off, off + take), this.used);
      this.used += take;
      off += take;
      if (this.used === this.piece) this.flush();
    }
  }
  flush(): void {
    if (this.used > 0) this.h.update(this.buf.subarray(0, this.used));
    this.buf = Buffer.alloc(this.piece);
    this.used = 0;
  }
}

/** Feeds `n` copies of `unit` to the hasher, a megabyte at a time. */
function hashRepeated(h: Hasher, unit: Uint8Array, n: number): void {
  const per = Math.max(1, Math.floor((1 << 20) / unit.length));
  const block = new Uint8Array(per * unit.length);
  for (let i = 0; i < per; i++) block.set(unit, i * unit.length);
  let left = n;
  while (left >= per) {
    h.update(block);
    left -= per;
  }
  if (left > 0) h.update(block.subarray(0, left * unit.length));
}

/** snarkjs' `calculateFirstChallengeHash`: the hash of a fresh accumulator of power p (every point a generator). */
export function firstChallengeHash(curve: Curve, power: number): Uint8Array {
  const h = blake2b.create({ dkLen: 64 });
  h.update(blake2b.create({ dkLen: 64 }).digest());
  const g1 = uncompressed(curve, "G1", curve.G1.g);
  const g2 = uncompressed(curve, "G2", curve.G2.g);
  hashRepeated(h, g1, 2 ** (power + 1) - 1);
  hashRepeated(h, g2, 2 ** power);
  hashRepeated(h, g1, 2 ** power);
  hashRepeated(h, g1, 2 ** power);
  h.update(g2);
  return h.digest();
}

/** The primitive 2^k-th root of unity of snarkjs' FFTs. */
export function rootOfUnity(curve: Curve, k: number): bigint {
  if (k > curve.Fr.s) throw new Error(`no 2^${k}-th root of unity in the BN254 scalar field (2-adicity ${curve.Fr.s})`);
  return curve.Fr.toObject(curve.Fr.w[k]);
}

/** L_j(x) for j < m, the Lagrange basis of the m-th roots of unity: (x^m - 1) / m * w^j / (x - w^j). */
export function lagrangeBasis(x: bigint, m: number, w: bigint): bigint[] {
  const c = (((modPow(x, BigInt(m)) - 1n + R) % R) * modInv(BigInt(m))) % R;
  const wj: bigint[] = new Array<bigint>(m);
  const den: bigint[] = new Array<bigint>(m);
  let p = 1n;
  for (let j = 0; j < m; j++) {
    wj[j] = p;
    den[j] = (x - p + R) % R;
    p = (p * w) % R;
  }
  const inv = batchInverse(den);
  for (let j = 0; j < m; j++) den[j] = (((c * wj[j]) % R) * inv[j]) % R;
  return den;
}

/** Scalars start..start+n-1 of `values` as 32-byte little-endian integers. */
export function scalarBytes(values: ArrayLike<bigint>, start: number, n: number, scale = 1n): Buffer {
  const b = Buffer.alloc(n * 32);
  for (let i = 0; i < n; i++) writeU256LE(b, i * 32, scale === 1n ? values[start + i] : (values[start + i] * scale) % R);
  return b;
}

/** Geometric sequence first * ratio^i, i < n. */
function powers(first: bigint, ratio: bigint, n: number): bigint[] {
  const out: bigint[] = new Array<bigint>(n);
  let p = first;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    p = (p * ratio) % R;
  }
  return out;
}

export interface DirectPtauOptions {
  /** A running pool to reuse (its tables are rebuilt); by default one is started and closed. */
  pool?: FixedBasePool;
  log?: (msg: string) => void;
}

/**
 * Writes the dev powers of tau of `power` (prepared for phase 2) to `file`, atomically.
 * @throws if power is outside 1..27.
 */
export async function writeDevPtauDirect(power: number, file: string, opts: DirectPtauOptions = {}): Promise<void> {
  if (!Number.isInteger(power) || power < 1 || power > 27) throw new Error(`ptau power must be an integer in 1..27, got ${power}`);
  const log = opts.log ?? (() => {});
  const curve = await snarkjs.curves.getCurveFromName("bn128");
  const { tau, alpha, beta } = devSecrets(curve);
  const n = 2 ** power;
  const challenge = firstChallengeHash(curve, power);
  const key = ptauBeaconKey(curve, challenge, DEV_PTAU_BEACON);
  const pool = opts.pool ?? FixedBasePool.start();
  const out = new BinFileWriter(file, "ptau", 1, 11);
  try {
    await pool.prepare({ G1: 2 * n - 1 + 2 * n + (4 * n - 1) + 2 * (2 * n - 1), G2: n + 1 + (2 * n - 1) });
    // 1: header (n8, q, power, ceremony power)
    out.beginSection(1);
    out.writeU32(32);
    const q = Buffer.alloc(32);
    writeU256LE(q, 0, curve.q);
    out.write(q);
    out.writeU32(power);
    out.writeU32(power);
    out.endSection();
    // 2..6: the accumulator; the response hash covers its compressed points.
    const response = blake2b.create({ dkLen: 64 });
    response.update(challenge);
    const first: Record<number, Uint8Array[]> = {};
    const accumulator: Array<{ id: number; group: Group; values: bigint[] }> = [
      { id: 2, group: "G1", values: powers(1n, tau, 2 * n - 1) },
      { id: 3, group: "G2", values: powers(1n, tau, n) },
      { id: 4, group: "G1", values: powers(alpha, tau, n) },
      { id: 5, group: "G1", values: powers(beta, tau, n) },
      { id: 6, group: "G2", values: [beta] },
    ];
    for (const s of accumulator) {
      log(`  section ${s.id}: ${s.values.length} ${s.group} points`);
      out.beginSection(s.id);
      // snarkjs' beacon hashes each section in chunks of 2^20 / (point size) points.
      const hashed = new PiecewiseHasher(response, Math.floor((1 << 20) / POINT_BYTES[s.group]) * (POINT_BYTES[s.group] / 2));
      await pool.mul(
        s.group,
        s.values.length,
        (start, k) => scalarBytes(s.values, start, k),
        ["lem", "c"],
        (o, start) => {
          const pts = o.lem as Uint8Array;
          out.write(pts);
          hashed.update(o.c as Uint8Array);
          if (start === 0) {
            const sz = POINT_BYTES[s.group];
            first[s.id] = [pts.slice(0, sz), pts.slice(sz, 2 * sz)];
          }
        },
      );
      hashed.flush();
      out.endSection();
    }
    const partial = partialHash(response);
    const pubKey: Array<["G1" | "G2", Uint8Array]> = [
      ["G1", key.tau.g1_s],
      ["G1", key.tau.g1_sx],
      ["G1", key.alpha.g1_s],
      ["G1", key.alpha.g1_sx],
      ["G1", key.beta.g1_s],
      ["G1", key.beta.g1_sx],
      ["G2", key.tau.g2_spx],
      ["G2", key.alpha.g2_spx],
      ["G2", key.beta.g2_spx],
    ];
    for (const [g, p] of pubKey) response.update(uncompressed(curve, g, p));
    const responseHash = response.digest();
    // The next challenge: the response hash, then the accumulator's uncompressed points (read back).
    const next = blake2b.create({ dkLen: 64 });
    next.update(responseHash);
    for (const s of accumulator) {
      const sec = out.sections.get(s.id);
      if (!sec) throw new Error(`section ${s.id} was not written`);
      const sz = POINT_BYTES[s.group];
      await pool.convert(
        s.group,
        sec.size / sz,
        (start, k) => out.readBack(sec.offset + start * sz, k * sz),
        "u",
        (u) => void next.update(u),
      );
    }
    // 7: one contribution, the beacon.
    out.beginSection(7);
    out.writeU32(1);
    out.write(first[2][1]); // tau G1
    out.write(first[3][1]); // tau G2
    out.write(first[4][0]); // alpha G1
    out.write(first[5][0]); // beta G1
    out.write(first[6][0]); // beta G2
    for (const [g, p] of pubKey) out.write(lem(curve, g, p));
    out.write(partial);
    out.write(next.digest());
    out.writeU32(1); // type: beacon
    out.write(beaconParams(DEV_PTAU_BEACON));
    out.endSection();
    // 12..15: Lagrange bases of every domain size up to 2^p (and 2^(p+1) for tau G1).
    const bases: bigint[][] = [];
    for (let k = 0; k <= power; k++) bases.push(lagrangeBasis(tau, 2 ** k, rootOfUnity(curve, k)));
    const flat = bases.flat();
    const phase2: Array<{ id: number; group: Group; scale: bigint; extra: boolean }> = [
      { id: 12, group: "G1", scale: 1n, extra: true },
      { id: 13, group: "G2", scale: 1n, extra: false },
      { id: 14, group: "G1", scale: alpha, extra: false },
      { id: 15, group: "G1", scale: beta, extra: false },
    ];
    for (const s of phase2) {
      log(`  section ${s.id}: Lagrange bases 2^0..2^${s.extra ? power + 1 : power} in ${s.group}`);
      out.beginSection(s.id);
      await pool.mul(
        s.group,
        flat.length,
        (start, k) => scalarBytes(flat, start, k, s.scale),
        ["lem"],
        (o) => out.write(o.lem as Uint8Array),
      );
      if (s.extra) {
        // snarkjs' domain 2^(p+1): the inverse FFT of the 2^(p+1) - 1 powers and a zero, i.e. the Lagrange basis minus
        // the missing top power's share, L_j(tau) - tau^(m-1) w^j / m.
        const m = 2 * n;
        const w = rootOfUnity(curve, power + 1);
        const top = (modPow(tau, BigInt(m - 1)) * modInv(BigInt(m))) % R;
        const l = lagrangeBasis(tau, m, w);
        let wj = 1n;
        for (let j = 0; j < m; j++) {
          l[j] = (l[j] - ((top * wj) % R) + R) % R;
          wj = (wj * w) % R;
        }
        await pool.mul(
          "G1",
          m,
          (start, k) => scalarBytes(l, start, k),
          ["lem"],
          (o) => out.write(o.lem as Uint8Array),
        );
      }
      out.endSection();
    }
    out.close();
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    if (!opts.pool) await pool.close();
  }
}
