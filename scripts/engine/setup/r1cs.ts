/** Reader of circom's .r1cs files (iden3 binary container, sections 1 = header and 2 = constraints). */
import { SNARK_FIELD, readU256LE } from "../../util/field";
import { readSection, readSections } from "./binfile";

export interface R1cs {
  file: string;
  nVars: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  nConstraints: number;
  /** Public signals (outputs, then public inputs): wires 1..nPublic. */
  nPublic: number;
  /** Body of section 2: per constraint three linear combinations A, B, C, each u32 n then n x (u32 wire, 32-byte coefficient). */
  constraints: Buffer;
}

/**
 * Reads the header and the constraints of an R1CS file.
 * @throws if it is not a BN254 R1CS (field size or prime differ).
 */
export function readR1cs(file: string): R1cs {
  const sections = readSections(file, "r1cs");
  const h = readSection(file, sections, 1);
  const n8 = h.readUInt32LE(0);
  if (n8 !== 32 || readU256LE(h, 4) !== SNARK_FIELD)
    throw new Error(`${file}: not an R1CS over the BN254 scalar field (n8 ${n8}); compile for bn128`);
  const o = 4 + n8;
  const r: R1cs = {
    file,
    nVars: h.readUInt32LE(o),
    nOutputs: h.readUInt32LE(o + 4),
    nPubInputs: h.readUInt32LE(o + 8),
    nPrvInputs: h.readUInt32LE(o + 12),
    nConstraints: h.readUInt32LE(o + 24),
    nPublic: 0,
    constraints: readSection(file, sections, 2),
  };
  r.nPublic = r.nOutputs + r.nPubInputs;
  return r;
}

/** One term of a linear combination: `coefOffset` is the offset of its 32-byte coefficient in `R1cs.constraints`. */
export type TermVisitor = (constraint: number, matrix: 0 | 1 | 2, wire: number, coefOffset: number) => void;

/**
 * Calls `visit` for every term of every constraint, in file order (constraint by constraint, A then B then C).
 * @throws if the section ends early or has bytes left over.
 */
export function forEachTerm(r: R1cs, visit: TermVisitor): void {
  const b = r.constraints;
  let pos = 0;
  for (let c = 0; c < r.nConstraints; c++) {
    for (let m = 0; m < 3; m++) {
      if (pos + 4 > b.length) throw new Error(`${r.file}: constraints section ends inside constraint ${c}`);
      const n = b.readUInt32LE(pos);
      pos += 4;
      if (pos + n * 36 > b.length) throw new Error(`${r.file}: constraints section ends inside constraint ${c}`);
      for (let t = 0; t < n; t++) {
        visit(c, m as 0 | 1 | 2, b.readUInt32LE(pos), pos + 4);
        pos += 36;
      }
    }
  }
  if (pos !== b.length) throw new Error(`${r.file}: ${b.length - pos} bytes after the last constraint`);
}
