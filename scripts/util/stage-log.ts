/** Progress output: one plain line per event, with elapsed times, to stderr so stdout stays machine-readable. */
export interface StageLog {
  /** Runs `fn` as a named stage, printing its start, its duration and an optional summary of its result. */
  stage<T>(name: string, fn: () => Promise<T>, summary?: (r: T) => string): Promise<T>;
  info(msg: string): void;
}

/** Stage output is silenced by ZKML_QUIET=1 (the test runner sets it unless told otherwise). */
function isQuiet(): boolean {
  return process.env.ZKML_QUIET === "1";
}

/** Seconds since `t0` (ms), one decimal. */
export function secondsSince(t0: number): string {
  return ((Date.now() - t0) / 1000).toFixed(1);
}

export function createLog(prefix = ""): StageLog {
  const p = prefix ? `[${prefix}] ` : "";
  return {
    async stage(name, fn, summary) {
      const t0 = Date.now();
      if (!isQuiet()) process.stderr.write(`${p}${name} ...\n`);
      const r = await fn();
      if (!isQuiet()) process.stderr.write(`${p}${name}: done in ${secondsSince(t0)} s${summary ? ` (${summary(r)})` : ""}\n`);
      return r;
    },
    info(msg) {
      if (!isQuiet()) process.stderr.write(`${p}${msg}\n`);
    },
  };
}

/**
 * A progress callback for a long step (`done` of `total` units) that prints `label: N% (elapsed s)` to stderr: on a
 * TTY one line rewritten in place (at most 5 times a second), otherwise a plain line at most every 10 s; always a
 * final line at 100%. Silent under ZKML_QUIET=1.
 */
export function progressReporter(
  label: string,
  opts: { tty?: boolean; write?: (s: string) => void; now?: () => number } = {},
): (done: number, total: number) => void {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const now = opts.now ?? Date.now;
  const t0 = now();
  const every = tty ? 200 : 10_000;
  let last = t0;
  let finished = false;
  return (done, total) => {
    if (isQuiet() || finished) return;
    const t = now();
    const complete = total > 0 && done >= total;
    if (!complete && t - last < every) return;
    last = t;
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    const line = `${label}: ${pct}% (${((t - t0) / 1000).toFixed(1)} s)`;
    if (complete) finished = true;
    if (tty) write(`\r${line}\x1b[K${complete ? "\n" : ""}`);
    else write(`${line}\n`);
  };
}

/**
 * A callback for the phases of a long step (e.g. a proof: "witness", "FFTs", ...) that prints `label: phase (elapsed
 * s)` to stderr once the step has run for `after` ms (default 2 s; quick steps print nothing): on a TTY one line
 * rewritten in place, otherwise one plain line per phase. Call `done()` at the end (a TTY line is then finished).
 * Silent under ZKML_QUIET=1.
 */
export function phaseReporter(
  label: string,
  opts: { tty?: boolean; write?: (s: string) => void; now?: () => number; after?: number } = {},
): { phase(name: string): void; done(): void } {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const now = opts.now ?? Date.now;
  const after = opts.after ?? 2000;
  const t0 = now();
  let current = "";
  let printed = false;
  const show = (name: string, final: boolean): void => {
    const line = `${label}: ${name} (${((now() - t0) / 1000).toFixed(1)} s)`;
    printed = true;
    if (tty) write(`\r${line}\x1b[K${final ? "\n" : ""}`);
    else write(`${line}\n`);
  };
  return {
    phase(name) {
      current = name;
      if (!isQuiet() && now() - t0 >= after) show(name, false);
    },
    done() {
      if (!isQuiet() && printed) show(`done after ${current}`, true);
    },
  };
}
