/**
 * Command-line parsing for the project's own commands (`npm run build:model`, `evaluate`, `onnx`, `bench`,
 * `audit:verifier`): Node's `util.parseArgs` (strict: an unknown option, a missing value or a value that looks like
 * an option is an error), with its errors turned into one line that names the option and ends with the usage. The
 * Hardhat tasks parse with Hardhat (scripts/apps/tasks/cli.ts).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Thrown for a command line that does not parse; the message is one line ending with the usage. */
export class UsageError extends Error {}

/**
 * Parses `argv` (without node and the script) against `options`; positionals are allowed.
 * @throws UsageError `<what is wrong>; <usage>` for an unknown option, an option without its value, or a value where
 * none is taken.
 */
export function commandLine<const O extends Options>(argv: readonly string[], options: O, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (!err.code?.startsWith("ERR_PARSE_ARGS")) throw e;
    const unknown = /^Unknown option '([^']+)'/.exec(err.message ?? "");
    const what = unknown ? `unknown option ${unknown[1]}` : (err.message ?? "bad command line").split(". ")[0].replace(/\.$/, "");
    throw new UsageError(`${what}; ${usage}`);
  }
}

/**
 * A number option's value checked against a range.
 * @throws UsageError naming the option and the range.
 */
export function numberOption(
  name: string,
  v: string | undefined,
  lo: number,
  hi: number,
  usage: string,
  integer = false,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < lo || n > hi || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} needs ${integer ? "an integer" : "a number"} in ${lo}..${hi}, got "${v}"; ${usage}`);
  return n;
}
