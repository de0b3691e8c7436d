import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Root of this repository (the folder holding package.json). */
export const ROOT = path.resolve(__dirname, "..", "..");

/** Git-ignored folder for per-clone build products (circuits, zkeys), keyed by content hash. */
export const BUILD_DIR = process.env.ZKML_BUILD_DIR ?? path.join(ROOT, "build");

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
export const NODE_MODULES = path.join(ROOT, "node_modules");

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
