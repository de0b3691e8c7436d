/**
 * A model owner's own data: raw (unpreprocessed) inputs for calibration, from a `.npy`, `.json` or `.csv` file, and
 * the reference file `npm run evaluate` reads, `{"inputs": [[...], ...], "outputs": [[...], ...]}` (what the owner's
 * framework outputs for those inputs). See docs/bring-your-own-model.md.
 *
 * A model built with `--calibration <file>` keeps its calibration set in `models/<name>/calibration.json`
 * ({@link StoredCalibration}), so that a rebuild quantizes the same way without the original file.
 */
import * as fs from "fs";
import * as path from "path";
import { sha256 } from "../util/hash";
import { rel, writeFileAtomic } from "../util/paths";

/** Raw inputs, one flattened row per sample. */
export type Rows = number[][];

/** `models/<name>/calibration.json`: the calibration set a model was built with, and where it came from. */
export interface StoredCalibration {
  format: "zkml-calibration-v1";
  /** Base name of the file the set was read from. */
  source: string;
  /** sha256 of that file's bytes. */
  sha256: string;
  inputs: Rows;
}

/** Reference inputs and outputs from the owner's framework (raw inputs, float outputs). */
export interface Reference {
  inputs: Rows;
  outputs: Rows;
}

function flattenRow(v: unknown, where: string): number[] {
  const out: number[] = [];
  const walk = (x: unknown, at: string) => {
    if (Array.isArray(x)) x.forEach((y, i) => walk(y, `${at}[${i}]`));
    else if (typeof x === "number" && Number.isFinite(x)) out.push(x);
    else throw new Error(`${where}${at} is ${JSON.stringify(x)}; every value must be a finite number`);
  };
  if (!Array.isArray(v)) throw new Error(`${where} is ${JSON.stringify(v)}; expected an array of numbers`);
  walk(v, "");
  return out;
}

function checkRows(rows: Rows, label: string, width?: number): Rows {
  if (rows.length === 0) throw new Error(`${label} has no rows; give at least one input`);
  const n = width ?? rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== n)
      throw new Error(`${label}: row ${i} has ${r.length} values, ${width !== undefined ? `the model takes ${width}` : `row 0 has ${n}`}`);
  });
  return rows;
}

/** Parses a NumPy `.npy` file (format 1.0-3.0, C order, bool / int / uint / float of any width) into rows. */
export function parseNpy(bytes: Uint8Array, label: string): Rows {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.subarray(1, 6).toString("latin1") !== "NUMPY")
    throw new Error(`${label} is not a .npy file (no \\x93NUMPY magic); save it with numpy.save`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = buf.subarray(major === 1 ? 10 : 12, start).toString("latin1");
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${label}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (fortran === "True") throw new Error(`${label}: Fortran-order arrays are not supported; save numpy.ascontiguousarray(x)`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(Number);
  const m = /^([<>|=])([biuf])(\d+)$/.exec(descr);
  if (!m) throw new Error(`${label}: dtype ${descr} is not supported; supported: bool, int, uint and float arrays`);
  const little = m[1] !== ">";
  const kind = m[2];
  const width = Number(m[3]);
  const readers: Record<string, ((o: number) => number) | undefined> = {
    b1: (o) => buf[o],
    i1: (o) => buf.readInt8(o),
    u1: (o) => buf[o],
    i2: (o) => (little ? buf.readInt16LE(o) : buf.readInt16BE(o)),
    u2: (o) => (little ? buf.readUInt16LE(o) : buf.readUInt16BE(o)),
    i4: (o) => (little ? buf.readInt32LE(o) : buf.readInt32BE(o)),
    u4: (o) => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o)),
    i8: (o) => Number(little ? buf.readBigInt64LE(o) : buf.readBigInt64BE(o)),
    u8: (o) => Number(little ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o)),
    f4: (o) => (little ? buf.readFloatLE(o) : buf.readFloatBE(o)),
    f8: (o) => (little ? buf.readDoubleLE(o) : buf.readDoubleBE(o)),
  };
  const read = readers[`${kind}${width}`];
  if (!read) throw new Error(`${label}: dtype ${descr} is not supported; supported: bool, int, uint and float arrays`);
  const total = shape.reduce((a, b) => a * b, 1);
  if (buf.length - start < total * width)
    throw new Error(`${label}: holds ${buf.length - start} data bytes, shape (${shape}) of ${descr} needs ${total * width}`);
  const n = shape.length <= 1 ? 1 : shape[0];
  const per = shape.length <= 1 ? total : total / n;
  return Array.from({ length: n }, (_, i) => Array.from({ length: per }, (_, j) => read(start + (i * per + j) * width)));
}

/** Parses CSV text: one sample per line, comma-separated numbers; a first line that is not all numbers is a header. */
export function parseCsv(text: string, label: string): Rows {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const cells = lines.map((l) => l.split(",").map((c) => c.trim()));
  const numeric = (c: string) => c !== "" && Number.isFinite(Number(c));
  const first = cells.length > 0 && !cells[0].every(numeric) ? 1 : 0;
  return cells.slice(first).map((row, i) =>
    row.map((c, j) => {
      if (!numeric(c))
        throw new Error(`${label}: line ${i + first + 1}, column ${j + 1} is ${JSON.stringify(c)}; every value must be a number`);
      return Number(c);
    }),
  );
}

/**
 * Reads raw inputs from a `.npy` (first axis = samples, the rest flattened row-major), `.json` (an array of rows, each
 * row a number array, nested arrays flattened; or an object with `inputs`) or `.csv` file (one row per line, optional
 * header line).
 * @param width the model's input size: every row must have this many values
 * @throws Error naming the file (and the row, line or field) when it cannot be read as rows of `width` numbers
 */
export function readInputs(file: string, width?: number): Rows {
  const label = rel(file);
  if (!fs.existsSync(file)) throw new Error(`${label} not found`);
  const ext = path.extname(file).toLowerCase();
  let rows: Rows;
  if (ext === ".npy") rows = parseNpy(fs.readFileSync(file), label);
  else if (ext === ".csv") rows = parseCsv(fs.readFileSync(file, "utf8"), label);
  else if (ext === ".json") {
    let v: unknown;
    try {
      v = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`${label} is not valid JSON: ${(e as Error).message}`);
    }
    const arr = Array.isArray(v) ? v : (v as { inputs?: unknown } | null)?.inputs;
    if (!Array.isArray(arr)) throw new Error(`${label}: expected an array of input rows, or an object with "inputs"`);
    rows = arr.map((r, i) => flattenRow(r, `${label}: row ${i}`));
  } else throw new Error(`${label}: unknown extension "${ext}"; supported: .npy, .json, .csv`);
  return checkRows(rows, label, width);
}

/**
 * Reads a reference file `{"inputs": [[...], ...], "outputs": [[...], ...]}` (rows may be nested arrays).
 * @param width the model's input size
 * @param outputs the model's number of outputs
 * @throws Error naming the file and the field when it does not have that shape
 */
export function readReference(file: string, width?: number, outputs?: number): Reference {
  const label = rel(file);
  if (!fs.existsSync(file)) throw new Error(`${label} not found`);
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${label} is not valid JSON: ${(e as Error).message}`);
  }
  const o = v as { inputs?: unknown; outputs?: unknown } | null;
  if (!o || !Array.isArray(o.inputs) || !Array.isArray(o.outputs))
    throw new Error(`${label}: expected {"inputs": [[...], ...], "outputs": [[...], ...]}`);
  const inputs = checkRows(
    o.inputs.map((r, i) => flattenRow(r, `${label}: inputs[${i}]`)),
    `${label}: inputs`,
    width,
  );
  const outs = checkRows(
    o.outputs.map((r, i) => flattenRow(typeof r === "number" ? [r] : r, `${label}: outputs[${i}]`)),
    `${label}: outputs`,
    outputs,
  );
  if (outs.length !== inputs.length)
    throw new Error(`${label}: has ${inputs.length} inputs but ${outs.length} outputs; give one output row per input`);
  return { inputs, outputs: outs };
}

/** `models/<name>/calibration.json` under `modelDir`. */
export function storedCalibrationFile(modelDir: string): string {
  return path.join(modelDir, "calibration.json");
}

/**
 * Copies a calibration file into the model folder (as {@link StoredCalibration}, written atomically) so that rebuilds
 * are reproducible. Returns the stored set.
 * @throws Error when the file cannot be read as rows of `width` numbers (nothing is written then)
 */
export function storeCalibration(file: string, modelDir: string, width: number): StoredCalibration {
  const inputs = readInputs(file, width);
  const stored: StoredCalibration = {
    format: "zkml-calibration-v1",
    source: path.basename(file),
    sha256: sha256(fs.readFileSync(file)),
    inputs,
  };
  writeFileAtomic(storedCalibrationFile(modelDir), JSON.stringify(stored) + "\n");
  return stored;
}

/**
 * The calibration set stored in a model folder, or undefined when there is none.
 * @throws Error naming the file when it is malformed or its rows do not have `width` values
 */
export function loadStoredCalibration(modelDir: string, width: number): StoredCalibration | undefined {
  const file = storedCalibrationFile(modelDir);
  if (!fs.existsSync(file)) return undefined;
  const s = JSON.parse(fs.readFileSync(file, "utf8")) as StoredCalibration;
  if (s.format !== "zkml-calibration-v1") throw new Error(`${rel(file)}: format must be "zkml-calibration-v1"`);
  readInputsFromRows(s.inputs, rel(file), width);
  return s;
}

function readInputsFromRows(rows: unknown, label: string, width: number): Rows {
  if (!Array.isArray(rows)) throw new Error(`${label}: inputs must be an array of rows`);
  return checkRows(
    rows.map((r, i) => flattenRow(r, `${label}: inputs[${i}]`)),
    label,
    width,
  );
}
