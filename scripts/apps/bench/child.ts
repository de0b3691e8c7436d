/**
 * Child processes of the benchmarks: each measured step runs alone in a child, so its peak resident size is its
 * own (GNU time %M for the child's tree when /usr/bin/time exists, and the step's own process.resourceUsage()).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";
import type { StepMeasure } from "./report";
import type { StepArgs } from "./step";

export const TIME_BIN = "/usr/bin/time";

export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Peak resident size (KiB) of the largest process of the child's tree, from GNU time, when available. */
  treeMaxRSSKiB?: number;
  seconds: number;
  /** Set when the child was killed for running past `timeoutSeconds`. */
  timedOut?: boolean;
}

/**
 * Runs a command (under GNU time when available), appending its output to `logFile`. With `timeoutSeconds`, the
 * child runs in a process group of its own, which is killed (SIGKILL) when the time is up (`timedOut` set).
 */
export function runChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  logFile?: string,
  timeoutSeconds?: number,
): Promise<ChildResult> {
  const useTime = fs.existsSync(TIME_BIN);
  const [c, a] = useTime ? [TIME_BIN, ["-f", "BENCH_TIME_MAXRSS %M", cmd, ...args]] : [cmd, args];
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(c, a, { cwd: ROOT, env: { ...process.env, ...env }, detached: timeoutSeconds !== undefined });
    let timedOut = false;
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            // The child's own process group (detached above): the step and the workers it started, nothing else.
            if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
          }, timeoutSeconds * 1000);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (logFile) fs.appendFileSync(logFile, `$ ${cmd} ${args.join(" ")}\n${stdout}${stderr}\n`);
      const m = /BENCH_TIME_MAXRSS (\d+)/.exec(stderr);
      resolve({ code: code ?? 1, stdout, stderr, treeMaxRSSKiB: m ? Number(m[1]) : undefined, seconds: (Date.now() - t0) / 1000, timedOut });
    });
  });
}

/**
 * Runs one step in a child process; returns its JSON result with the peak memory of the child (and its tree). With
 * `timeoutSeconds` a step still running then is killed: `{ ok: false, timedOut: true }`.
 */
export async function runStep(
  args: StepArgs,
  logFile: string,
  timeoutSeconds?: number,
): Promise<Record<string, unknown> & { ok: boolean; error?: string; timedOut?: boolean; mem: StepMeasure["mem"] }> {
  const r = await runChild(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "apps", "bench", "step.ts"), JSON.stringify(args)],
    { ZKML_QUIET: "1" },
    logFile,
    timeoutSeconds,
  );
  if (r.timedOut) return { ok: false, timedOut: true, error: `stopped after ${timeoutSeconds} s`, mem: {} };
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_STEP "));
  if (!line) return { ok: false, error: `step ${args.op} printed no result (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`, mem: {} };
  const j = JSON.parse(line.slice("BENCH_STEP ".length)) as Record<string, unknown> & { ok: boolean; error?: string; maxRSSKiB: number };
  return { ...j, mem: { processMaxRSSKiB: j.maxRSSKiB, treeMaxRSSKiB: r.treeMaxRSSKiB } };
}

