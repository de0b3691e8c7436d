import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The folder of the nearest package.json named `name` above `start`. */
function packageRootAbove(start: string, name: string): string | undefined {
  for (let d = start; ; d = path.dirname(d)) {
    const f = path.join(d, "package.json");
    if (fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, "utf8")) as { name?: string }).name === name) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/**
 * Root of this package: the repository in a checkout (scripts/util/ is two levels down), the installed package
 * (`node_modules/zkml-evm`, whose code is in dist/) when a project uses it.
 */
export const ROOT = packageRootAbove(__dirname, "zkml-evm") ?? path.resolve(__dirname, "..", "..");

/** Whether this code runs from an installed copy of the package (under node_modules), not from a checkout. */
export const INSTALLED = ROOT.split(path.sep).includes("node_modules");

/**
 * Folder for build products (circuits, zkeys), keyed by content hash: `build/` of a checkout (git-ignored); for an
 * installed package, `build/` in the per-user cache (never inside node_modules). `ZKML_BUILD_DIR` overrides both.
 */
export const BUILD_DIR = process.env.ZKML_BUILD_DIR ?? (INSTALLED ? path.join(userCacheDir(), "build") : path.join(ROOT, "build"));

/**
 * The folder of an installed npm package (where its package.json is), found through Node's resolution from this
 * package, so a hoisted dependency is found too.
 * @throws Error naming the package when it is not installed.
 */
export function packageDir(name: string): string {
  let entry: string;
  try {
    entry = require.resolve(name, { paths: [ROOT] });
  } catch {
    throw new Error(`the npm package ${name} is not installed: npm install ${name}`);
  }
  const dir = packageRootAbove(path.dirname(entry), name);
  if (!dir) throw new Error(`no package.json of ${name} above ${entry}`);
  return dir;
}

/**
 * Per-user cache shared by every clone on this machine (powers of tau). `ZKML_CACHE_DIR` overrides it;
 * otherwise `$XDG_CACHE_HOME/zkml-evm` or `~/.cache/zkml-evm`.
 */
export function userCacheDir(): string {
  const base = process.env.ZKML_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "zkml-evm");
  fs.mkdirSync(base, { recursive: true });
  return base;
}

/** Folder of the circom library and of circomlib, for `-l` include paths. */
export const CIRCUITS_DIR = path.join(ROOT, "circuits");
export const CIRCUIT_LIB_DIR = path.join(CIRCUITS_DIR, "lib");

/** Creates `dir` (and parents) and returns it. */
export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Path relative to the repository root, for messages. */
export function rel(p: string): string {
  const r = path.relative(ROOT, p);
  return r.startsWith("..") ? p : r;
}

let atomicSeq = 0;

/**
 * The temporary file an atomic write of `file` goes to first (same folder, so the final rename is atomic; unique per
 * process and call). Creates the folder.
 */
export function atomicTempPath(file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++atomicSeq}.tmp`);
}
/**
 * Writes a file atomically: the content goes to a temporary file in the same folder, which is renamed over the
 * target only when fully written. A failure leaves no partial file behind.
 * @param mode File mode of the new file (e.g. 0o600 for private job inputs).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): void {
  const tmp = atomicTempPath(file);
  try {
    fs.writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Checks, before anything is sent, that `file` (relative to `base`) can be written: its folder exists or can be made,
 * is writable, and `file` is not a folder. Leaves nothing behind but the folder.
 * @returns The absolute path.
 * @throws Error `cannot write there (<reason>); give a path in a writable folder`.
 */
export function writablePath(file: string, base: string): string {
  const abs = path.resolve(base, file);
  const dir = path.dirname(abs);
  try {
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new Error("it is a folder");
    fs.mkdirSync(dir, { recursive: true });
    const probe = path.join(dir, `.${path.basename(abs)}.${process.pid}.probe`);
    fs.writeFileSync(probe, "");
    fs.rmSync(probe);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new Error(`cannot write there (${why}); give a path in a writable folder`);
  }
  return abs;
}
