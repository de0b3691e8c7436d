import { spawn } from "child_process";
import * as path from "path";
import { ROOT } from "../../scripts/util/paths";

/** What one command printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npx hardhat <args>` as a user runs it: the Hardhat CLI entry point in its own process (without npx's start-up).
 * @param env Added to this process's environment; a value `undefined` removes the variable.
 */
export function hardhatCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const full: NodeJS.ProcessEnv = { ...process.env, ZKML_QUIET: "0" };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete full[k];
    else full[k] = v;
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js"), ...args], {
      cwd: ROOT,
      env: full,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lines of stderr that are not progress lines (`[stage] ...`). */
export function errorLines(r: CliRun): string[] {
  return r.stderr.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("["));
}
