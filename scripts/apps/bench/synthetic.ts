/**
 * A synthetic R1CS of an exact Groth16 domain size, and a witness for it, for the setup benchmark (`npm run bench -- --setup ...`, run.ts):
 * compiling a circom circuit of 2^18 constraints takes longer than the setup being measured.
 *
 * Wires: 0 = one, 1 = the output y, 2..4 = public inputs p1..p3, then private x_0 .. x_(m-1) (x_0 a private input).
 * Constraints (m of them; m = 2^k - 5 so the domain is exactly 2^k):
 *   (x_c + p_(c mod 3 + 1)) * (x_c + c + 1) = x_(c+1)   for c < m - 1
 *   x_(m-1) * p1 = y
 * Five terms per constraint, about one wire per constraint (circom model circuits have denser linear combinations:
 * more coefficients per constraint, the same number of points).
 */
import { SNARK_FIELD, writeU256LE } from "../../util/field";
import { BinFileWriter } from "../../engine/setup/binfile";

const R = SNARK_FIELD;
const N_PUBLIC = 4;

export interface SyntheticCircuit {
  r1cs: string;
  wtns: string;
  constraints: number;
  wires: number;
  /** The public signals of the witness: y, p1, p2, p3. */
  publicSignals: bigint[];
}

/** Constraint count that makes snarkjs' Groth16 domain exactly 2^power. */
export function syntheticConstraints(power: number): number {
  return 2 ** power - N_PUBLIC - 1;
}

function prime(): Buffer {
  const b = Buffer.alloc(32);
  writeU256LE(b, 0, R);
  return b;
}

function field(v: bigint): Buffer {
  const b = Buffer.alloc(32);
  writeU256LE(b, 0, ((v % R) + R) % R);
  return b;
}

/** Writes the R1CS and a satisfying witness (inputs p = 3, 5, 7 and x_0 = 11). */
export function writeSyntheticCircuit(power: number, r1csFile: string, wtnsFile: string): SyntheticCircuit {
  if (!Number.isInteger(power) || power < 4 || power > 26) throw new Error(`synthetic circuit power must be in 4..26, got ${power}`);
  const m = syntheticConstraints(power);
  const x0 = 5;
  const nVars = x0 + m;
  const one = field(1n);
  const r = new BinFileWriter(r1csFile, "r1cs", 1, 3);
  r.beginSection(1);
  r.writeU32(32);
  r.write(prime());
  for (const v of [nVars, 1, 3, 1]) r.writeU32(v); // wires, outputs, public inputs, private inputs
  const labels = Buffer.alloc(8);
  labels.writeBigUInt64LE(BigInt(nVars));
  r.write(labels);
  r.writeU32(m);
  r.endSection();
  r.beginSection(2);
  const term = (wire: number, coef: Buffer): void => {
    r.writeU32(wire);
    r.write(coef);
  };
  for (let c = 0; c < m; c++) {
    if (c < m - 1) {
      r.writeU32(2);
      term(x0 + c, one);
      term(2 + (c % 3), one);
      r.writeU32(2);
      term(0, field(BigInt(c + 1)));
      term(x0 + c, one);
      r.writeU32(1);
      term(x0 + c + 1, one);
    } else {
      r.writeU32(1);
      term(x0 + c, one);
      r.writeU32(1);
      term(2, one);
      r.writeU32(1);
      term(1, one);
    }
  }
  r.endSection();
  r.beginSection(3);
  const map = Buffer.alloc(8 * nVars);
  for (let i = 0; i < nVars; i++) map.writeBigUInt64LE(BigInt(i), i * 8);
  r.write(map);
  r.endSection();
  r.close();

  const p = [3n, 5n, 7n];
  const w: bigint[] = new Array<bigint>(nVars).fill(0n);
  w[0] = 1n;
  w[2] = p[0];
  w[3] = p[1];
  w[4] = p[2];
  w[x0] = 11n;
  for (let c = 0; c < m - 1; c++) w[x0 + c + 1] = ((w[x0 + c] + p[c % 3]) * (w[x0 + c] + BigInt(c + 1))) % R;
  w[1] = (w[x0 + m - 1] * p[0]) % R;
  const wt = new BinFileWriter(wtnsFile, "wtns", 2, 2);
  wt.beginSection(1);
  wt.writeU32(32);
  wt.write(prime());
  wt.writeU32(nVars);
  wt.endSection();
  wt.beginSection(2);
  const body = Buffer.alloc(32 * nVars);
  for (let i = 0; i < nVars; i++) writeU256LE(body, i * 32, w[i]);
  wt.write(body);
  wt.endSection();
  wt.close();
  return { r1cs: r1csFile, wtns: wtnsFile, constraints: m, wires: nVars, publicSignals: [w[1], ...p] };
}
