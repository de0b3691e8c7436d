/**
 * Command-line guard, called at the end of hardhat.config.ts. Hardhat reports a wrong `--network` (HH100), an
 * unknown task or parameter (HH303, HH305), a missing value (HH306) or a mistyped one (HH301) with a stack trace on
 * any Linux machine without a display. This runs Hardhat's own argument parser on the command line once the tasks are
 * defined, and turns its error into one line with the fix (errors.hardhatErrorMessage) and exit code 1.
 * In-process use (tests, scripts, `hardhat run`) is untouched: it only acts when the process is the Hardhat CLI.
 */
import { hardhatErrorMessage } from "../../chain/errors";

interface ParsedHardhatArgs {
  network?: string;
  help: boolean;
  version: boolean;
  showStackTraces: boolean;
}

/** The task named on the command line (a cheap scan, before the tasks are defined), or undefined. */
export function cliTaskName(argv: readonly string[] = process.argv): string | undefined {
  if (!isHardhatCli(argv)) return undefined;
  const args = argv.slice(2);
  const withValue = new Set(["--network", "--config", "--tsconfig", "--max-memory"]);
  for (let i = 0; i < args.length; i++) {
    if (withValue.has(args[i])) i++;
    else if (!args[i].startsWith("-")) return args[i];
  }
  return undefined;
}

function isHardhatCli(argv: readonly string[]): boolean {
  return /hardhat[\\/]internal[\\/]cli[\\/](cli|bootstrap)\.js$|[\\/]\.bin[\\/]hardhat$/.test(argv[1] ?? "");
}

/**
 * Parses the command line as Hardhat will; on a Hardhat error prints one line and exits 1.
 * @param networks The configured network names ("hardhat" included).
 */
export function guardCommandLine(networks: string[], defaultNetwork = "hardhat"): void {
  if (!isHardhatCli(process.argv) || process.argv.includes("--show-stack-traces")) return;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { HardhatContext } = require("hardhat/internal/context") as typeof import("hardhat/internal/context");
  const { ArgumentsParser } = require("hardhat/internal/cli/ArgumentsParser") as typeof import("hardhat/internal/cli/ArgumentsParser");
  const { HARDHAT_PARAM_DEFINITIONS } =
    require("hardhat/internal/core/params/hardhat-params") as typeof import("hardhat/internal/core/params/hardhat-params");
  const { getEnvHardhatArguments } =
    require("hardhat/internal/core/params/env-variables") as typeof import("hardhat/internal/core/params/env-variables");
  const { HardhatError } = require("hardhat/internal/core/errors") as typeof import("hardhat/internal/core/errors");
  /* eslint-enable @typescript-eslint/no-require-imports */
  let task: string | undefined;
  const fail = (message: string): never => {
    console.error(`error: ${message}`);
    process.exit(1);
  };
  try {
    const parser = new ArgumentsParser();
    const env = getEnvHardhatArguments(HARDHAT_PARAM_DEFINITIONS, process.env);
    const parsed = parser.parseHardhatArguments(HARDHAT_PARAM_DEFINITIONS, env, process.argv.slice(2));
    const h = parsed.hardhatArguments as unknown as ParsedHardhatArgs;
    const network = h.network ?? defaultNetwork;
    if (!networks.includes(network))
      fail(hardhatErrorMessage({ number: 100, messageArguments: { network }, message: "" }, undefined, networks));
    if (h.help || h.version || parsed.scopeOrTaskName === undefined) return;
    const ctx = HardhatContext.getHardhatContext();
    const defs = ctx.tasksDSL.getTaskDefinitions();
    const { scopeName, taskName, unparsedCLAs } = parser.parseScopeAndTaskNames(
      parsed.allUnparsedCLAs,
      defs,
      ctx.tasksDSL.getScopesDefinitions(),
    );
    task = taskName;
    const def = ctx.tasksDSL.getTaskDefinition(scopeName, taskName);
    if (!def) fail(hardhatErrorMessage({ number: 303, messageArguments: { task: taskName }, message: "" }, undefined, networks));
    else parser.parseTaskArguments(def, unparsedCLAs);
  } catch (e) {
    if (!HardhatError.isHardhatError(e)) return; // not ours to report: Hardhat will
    const he = e as unknown as { number: number; messageArguments: Record<string, unknown>; message: string };
    fail(hardhatErrorMessage(he, task, networks));
  }
}
