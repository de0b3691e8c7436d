/**
 * Structured logs for prover nodes: one JSON object per line, `{ ts, node, event, ...fields }`. bigints are written as
 * decimal strings. Events are past-tense facts (`job_claimed`, `proof_done`, `tx_replaced`) or `*_skipped` /
 * `*_failed` with a `reason`.
 */
export interface LogRecord {
  ts: string;
  node: string;
  event: string;
  [field: string]: unknown;
}

export type LogSink = (line: string, rec: LogRecord) => void;

export interface JsonLog {
  (event: string, fields?: Record<string, unknown>): void;
  /** Every record written so far by this logger (bounded: the last `keep`). */
  records: LogRecord[];
}

function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

/** A sink writing each line to stdout. */
export const stdoutSink: LogSink = (line) => process.stdout.write(line + "\n");

/**
 * Creates a JSON-lines logger for node `node`.
 * @param sink Where lines go (stdout by default; tests pass a collector or `() => undefined`).
 * @param keep How many records to keep in memory for `records`.
 */
export function createJsonLog(node: string, sink: LogSink = stdoutSink, keep = 10_000): JsonLog {
  const records: LogRecord[] = [];
  const log = ((event: string, fields: Record<string, unknown> = {}) => {
    const rec: LogRecord = { ts: new Date().toISOString(), node, event, ...fields };
    records.push(rec);
    if (records.length > keep) records.shift();
    sink(JSON.stringify(rec, jsonSafe), rec);
  }) as JsonLog;
  log.records = records;
  return log;
}
