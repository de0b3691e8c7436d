/**
 * Job inputs: where a job's `inputURI` points, and the check that the input is the one the requester committed to.
 * Format (both schemes): the job input file of scripts/chain/job-input.ts, the one `job:open` writes:
 * `{ "x": ["-462", "404", ...], "salt": "123..." }` (quantized) or `{ "raw": [5.1, 3.4, ...], "salt": "..." }`.
 * - `file:<path>` (absolute, or relative to the node's working directory; `file:///abs` also accepted)
 * - `data:[application/json][;base64],<payload>` (URL-encoded JSON, or base64)
 */
import * as fs from "fs";
import { fileURLToPath } from "url";
import { JobInputError, readJobInput } from "../chain/job-input";
import { type QuantizedModel, inputCommitment } from "../model/quantized";

export interface JobInput {
  x: bigint[];
  salt: bigint;
}

/** A job input problem: the job is skipped with this reason. */
export class InputError extends Error {}

/** Encodes an input as a `data:` URI (what requesters in tests and the load script publish). */
export function dataUri(input: JobInput): string {
  return `data:application/json,${encodeURIComponent(JSON.stringify({ x: input.x.map(String), salt: input.salt.toString() }))}`;
}

/** Reads the text an input URI points to. @throws InputError on an unsupported scheme or unreadable target. */
export function readInputURI(uri: string, maxBytes = 1 << 20): string {
  if (uri.startsWith("data:")) {
    const comma = uri.indexOf(",");
    if (comma < 0) throw new InputError("data: URI without a comma");
    const meta = uri.slice(5, comma);
    const payload = uri.slice(comma + 1);
    const text = meta.split(";").includes("base64") ? Buffer.from(payload, "base64").toString("utf8") : decodeURIComponent(payload);
    if (text.length > maxBytes) throw new InputError(`data: input larger than ${maxBytes} bytes`);
    return text;
  }
  if (uri.startsWith("file:")) {
    const p = uri.startsWith("file://") ? fileURLToPath(uri) : uri.slice(5);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new InputError(`input file ${p} not found`);
    }
    if (!st.isFile() || st.size > maxBytes) throw new InputError(`input file ${p} is not a file of at most ${maxBytes} bytes`);
    return fs.readFileSync(p, "utf8");
  }
  throw new InputError(`unsupported input URI scheme in "${uri.slice(0, 32)}" (use file: or data:)`);
}

/** Parses and validates a job input (scripts/chain/job-input.ts: `x` or `raw`, and `salt`). @throws InputError naming the bad field. */
export function parseInput(text: string, model: QuantizedModel): JobInput {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new InputError(`input is not JSON: ${(e as Error).message}`);
  }
  try {
    const r = readJobInput(j, model);
    if (r.salt === undefined) throw new JobInputError('has no "salt"');
    return { x: r.x, salt: r.salt };
  } catch (e) {
    if (e instanceof JobInputError) throw new InputError(`input ${e.message}`);
    throw e;
  }
}

/**
 * Fetches a job's input and checks it against the job's commitment.
 * @throws InputError when it cannot be read, is malformed, or does not match `commitment`.
 */
export async function fetchCheckedInput(uri: string, model: QuantizedModel, commitment: bigint): Promise<JobInput> {
  const input = parseInput(readInputURI(uri), model);
  const c = await inputCommitment(model, input.x, input.salt);
  if (c !== commitment) throw new InputError(`input commitment mismatch: the input at the URI commits to ${c}, the job to ${commitment}`);
  return input;
}
