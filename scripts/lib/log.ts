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
