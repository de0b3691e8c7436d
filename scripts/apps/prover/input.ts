/**
 * Job inputs: where a job's `inputURI` points, and the check that the input is the one the requester committed to.
 * Format (both schemes): the job input file of scripts/formats/job-input.ts, the one `job:open` writes:
 * `{ "x": ["-462", "404", ...], "salt": "123..." }` (quantized) or `{ "raw": [5.1, 3.4, ...], "salt": "..." }`.
 * - `file:<path>` (absolute, or relative to the node's working directory; `file:///abs` also accepted)
 * - `data:[application/json][;base64],<payload>` (URL-encoded JSON, or base64)
 * - `https://...` (and `http://...`): fetched with a timeout and a size limit
 * - `ipfs://<cid>[/path]`: fetched from the node's configured gateway (`PROVER_IPFS_GATEWAY`, e.g.
 *   `http://127.0.0.1:8080`) as `<gateway>/ipfs/<cid>[/path]`
 * Whatever the scheme, the content is only trusted once it opens the job's input commitment (`fetchCheckedInput`), so a
 * lying server or gateway can make a job unprovable but never change what is proven.
 * Public-input jobs (docs/public-signals.md) need none of this: their values are in the `JobInputs` event.
 */
import * as fs from "fs";
import { fileURLToPath } from "url";
import { JobInputError, readJobInput } from "../../formats/job-input";
import { type QuantizedModel, inputCommitment } from "../../formats/quantized-model";
import { packSigned } from "../../formats/commitments";
import type { NodeContext } from "./context";
import type { JobRecord } from "./store";

export interface JobInput {
  x: bigint[];
  salt: bigint;
}

/** A job input problem: the job is skipped with this reason. */
export class InputError extends Error {}

/** Where and how a node fetches remote inputs. */
export interface FetchOptions {
  /** IPFS gateway base URL for `ipfs://` inputs (no trailing `/ipfs`). */
  ipfsGateway?: string;
  /** Largest input accepted, in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Per-request timeout (ms, default 10000). */
  timeoutMs?: number;
}

/** Fetches `url` (text), bounded in size and time. @throws InputError naming the URL on any failure. */
async function fetchText(url: string, maxBytes: number, timeoutMs: number): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "follow" });
  } catch (e) {
    throw new InputError(`input ${url} could not be fetched: ${(e as Error).message}`);
  }
  if (!res.ok) throw new InputError(`input ${url} answered HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new InputError(`input ${url} is ${declared} bytes, more than ${maxBytes}`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > maxBytes) throw new InputError(`input ${url} is ${body.length} bytes, more than ${maxBytes}`);
  return new TextDecoder().decode(body);
}

/** Reads the text an input URI points to. @throws InputError on an unsupported scheme or unreadable target. */
export async function readInputURI(uri: string, opts: FetchOptions = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? 1 << 20;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (uri.startsWith("https://") || uri.startsWith("http://")) return fetchText(uri, maxBytes, timeoutMs);
  if (uri.startsWith("ipfs://")) {
    if (!opts.ipfsGateway)
      throw new InputError(`input ${uri.slice(0, 60)} is on IPFS but this node has no gateway: set PROVER_IPFS_GATEWAY`);
    const rest = uri.slice("ipfs://".length);
    if (!/^[A-Za-z0-9]+(\/[^?#]*)?$/.test(rest)) throw new InputError(`input URI ${uri.slice(0, 60)} is not ipfs://<cid>[/path]`);
    return fetchText(`${opts.ipfsGateway.replace(/\/+$/, "")}/ipfs/${rest}`, maxBytes, timeoutMs);
  }
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
  throw new InputError(`unsupported input URI scheme in "${uri.slice(0, 32)}" (use data:, file:, https: or ipfs:)`);
}

/** Parses and validates a job input (scripts/formats/job-input.ts: `x` or `raw`, and `salt`). @throws InputError naming the bad field. */
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
export async function fetchCheckedInput(
  uri: string,
  model: QuantizedModel,
  commitment: bigint,
  opts: FetchOptions = {},
): Promise<JobInput> {
  const input = parseInput(await readInputURI(uri, opts), model);
  const c = await inputCommitment(model, input.x, input.salt);
  if (c !== commitment) throw new InputError(`input commitment mismatch: the input at the URI commits to ${c}, the job to ${commitment}`);
  return input;
}

/**
 * The values of a public-input job, from its `JobInputs` event, checked against the model's input range and the
 * words the market packed (`inputSignalsOf`).
 * @throws InputError when the event is missing or does not match.
 */
export function checkPublicInput(model: QuantizedModel, values: readonly bigint[], words: readonly bigint[]): { x: bigint[] } {
  if (values.length !== model.input.size)
    throw new InputError(`public input has ${values.length} values, the model takes ${model.input.size}`);
  let packed: bigint[];
  try {
    packed = packSigned(values, model.input.bits, "public input");
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (packed.length !== words.length || packed.some((w, i) => w !== words[i]))
    throw new InputError("public input values do not pack to the job's input signals");
  return { x: [...values] };
}

/**
 * The input of a job whose input is not delivered privately: a public-input job's values from its `JobInputs` event
 * (the market packed them itself), a committed job's opening read at its `inputURI` and checked against the
 * commitment.
 * @throws InputError when it cannot be had (the job is skipped, or a posted result left unchecked, with the reason).
 */
export async function openInput(ctx: NodeContext, j: JobRecord, model: QuantizedModel): Promise<{ x: bigint[]; salt?: bigint }> {
  const { jobs, cfg } = ctx;
  if (model.input.mode === "public") {
    const ev = await jobs.queryFilter(jobs.filters.JobInputs(j.jobId), j.blockNumber, j.blockNumber);
    if (ev.length !== 1) throw new InputError(`public-input job without its JobInputs event in block ${j.blockNumber}`);
    return checkPublicInput(model, ev[0].args.inputs, await jobs.inputSignalsOf(j.jobId));
  }
  return fetchCheckedInput(j.inputURI, model, BigInt(j.inputCommitment), { ipfsGateway: cfg.ipfsGateway });
}
