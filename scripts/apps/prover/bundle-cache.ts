/**
 * Fetching a bundle into the node's cache (docs/prover.md, "Open network"): `ipfs://<cid>` from the node's own IPFS
 * node, `https://<base>/` and `file://<dir>` by the files `bundle.json` lists; sizes checked before the large files
 * are asked for, transfers bounded by idleness, folders renamed into place when complete, the cache kept under its
 * size bound (least recently used evicted first). What is fetched is checked by bundle-check.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { StalledError, whileReceiving } from "../../util/idle";
import { ensureDir, writeFileAtomic } from "../../util/paths";
import { BUNDLE_FILES, BUNDLE_MANIFEST, BundleError, type BundleManifest, ipfsBundleCid, parseBundleManifest } from "../../formats/bundle";
import { type IpfsNode, IpfsError } from "../../engine/ipfs";
import { BundleRefused, readBundleJson } from "./bundles";

/** The innermost message of a fetch error (undici wraps "ECONNREFUSED" in "fetch failed"). */
function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/**
 * GET `url`, bounded in size and by idleness: the response must start within `idleMs`, and `body` (when given) is
 * called with the response and a `received()` to call per chunk, the transfer being given up when nothing arrives for
 * `idleMs` (a proving key of hundreds of MB may take minutes while it keeps coming). BundleRefused on any failure.
 */
async function httpFetch<T>(
  url: string,
  maxBytes: number,
  idleMs: number,
  body: (res: Response, received: () => void) => Promise<T>,
): Promise<T> {
  try {
    return await whileReceiving(idleMs, async (signal, received) => {
      let res: Response;
      try {
        res = await fetch(url, { signal });
      } catch (e) {
        throw new BundleRefused(`${url} could not be fetched: ${causeOf(e)}`, "unavailable");
      }
      received();
      if (!res.ok) throw new BundleRefused(`${url} answered HTTP ${res.status}`, "unavailable");
      const declared = Number(res.headers.get("content-length") ?? NaN);
      if (declared > maxBytes) throw new BundleRefused(`${url} is ${declared} bytes, more than the limit of ${maxBytes}`, "policy");
      try {
        return await body(res, received);
      } catch (e) {
        if (e instanceof BundleRefused) throw e;
        throw new BundleRefused(`${url} broke off: ${causeOf(e)}`, "unavailable");
      }
    });
  } catch (e) {
    if (e instanceof StalledError) throw new BundleRefused(`${url} could not be fetched: ${e.message}`, "unavailable");
    throw e;
  }
}

async function httpGet(url: string, maxBytes: number, idleMs: number): Promise<Buffer> {
  const body = await httpFetch(url, maxBytes, idleMs, async (res) => Buffer.from(await res.arrayBuffer()));
  if (body.length > maxBytes) throw new BundleRefused(`${url} is ${body.length} bytes, more than the limit of ${maxBytes}`, "policy");
  return body;
}

/**
 * Streams `url` into `file` (one chunk in memory at a time: a proving key of hundreds of MB is never held whole),
 * refusing a body longer than `maxBytes` as soon as it passes the limit.
 */
async function httpGetToFile(url: string, file: string, maxBytes: number, idleMs: number): Promise<void> {
  await httpFetch(url, maxBytes, idleMs, async (res, received) => {
    if (!res.body) throw new BundleRefused(`${url} answered without a body`, "unavailable");
    const fd = fs.openSync(file, "w");
    let n = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        received();
        n += chunk.length;
        if (n > maxBytes) throw new BundleRefused(`${url} is more than ${n - 1} bytes, more than the limit of ${maxBytes}`, "policy");
        fs.writeSync(fd, chunk);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** A bundle fetch under way, as `/health` shows it. */
export interface FetchProgress {
  modelId: string;
  version: number;
  uri: string;
  /** Bytes written so far (every file of the partial folder, the one being written included). */
  bytes: number;
  forMs: number;
}

export class BundleCache {
  /** Fetches under way, by cache folder. */
  private readonly active = new Map<string, { modelId: string; version: number; uri: string; tmp: string; since: number }>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly ipfs?: IpfsNode,
  ) {
    ensureDir(dir);
  }

  /** The fetches under way and how far each got (bytes on disk), for `/health` and the progress log. */
  fetching(): FetchProgress[] {
    return [...this.active.values()].map((a) => {
      let bytes = 0;
      try {
        for (const n of fs.readdirSync(a.tmp)) bytes += fs.statSync(path.join(a.tmp, n)).size;
      } catch {
        // the folder is being renamed into place or removed: nothing to add
      }
      return { modelId: a.modelId, version: a.version, uri: a.uri, bytes, forMs: Date.now() - a.since };
    });
  }

  /** The cache folder of a version. */
  private entry(modelId: bigint, version: number): string {
    return path.join(this.dir, `${modelId}-${version}`);
  }

  /**
   * Fetches the bundle at `uri` into the cache (or finds it there) and returns its folder.
   * Sizes are checked before the large files are asked for: the whole bundle against `limits.totalBytes` and the
   * proving key against `limits.zkeyBytes` (from bundle.json over HTTP or a folder, from the directory listing on IPFS).
   * A transfer runs as long as data keeps arriving and is given up ("unavailable") when nothing arrives for `idleMs`.
   * @throws BundleRefused on an unsupported URI, a transport failure or a size over a limit.
   */
  async fetch(
    uri: string,
    modelId: bigint,
    version: number,
    limits: { totalBytes: number; zkeyBytes: number },
    idleMs = 120_000,
  ): Promise<string> {
    const limit = limits.totalBytes;
    const zkeyTooLarge = (bytes: number): BundleRefused =>
      new BundleRefused(`proving key of ${bytes} bytes, more than PROVER_MAX_ZKEY_BYTES ${limits.zkeyBytes}`, "policy");
    const dest = this.entry(modelId, version);
    if (fs.existsSync(path.join(dest, ".complete"))) {
      fs.utimesSync(path.join(dest, ".complete"), new Date(), new Date()); // LRU: last use
      return dest;
    }
    const tmp = `${dest}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    ensureDir(tmp);
    this.active.set(dest, { modelId: modelId.toString(), version, uri, tmp, since: Date.now() });
    try {
      if (uri.startsWith("ipfs://")) {
        if (!this.ipfs)
          throw new BundleRefused(`${uri}: this node has no IPFS node (set PROVER_IPFS_PEERS or PROVER_IPFS_GATEWAYS)`, "policy");
        let cid: string;
        try {
          cid = ipfsBundleCid(uri);
        } catch (e) {
          throw new BundleRefused((e as Error).message);
        }
        try {
          await this.ipfs.getDirectory(cid, tmp, {
            maxBytes: limit,
            timeoutMs: idleMs,
            refuse: (name, bytes) => (name === BUNDLE_FILES.zkey && bytes > limits.zkeyBytes ? zkeyTooLarge(bytes).message : undefined),
          });
        } catch (e) {
          if (!(e instanceof IpfsError)) throw e;
          throw new BundleRefused(e.message, e.kind === "too-large" ? "policy" : e.kind === "unavailable" ? "unavailable" : "mismatch");
        }
      } else if (uri.startsWith("https://") || uri.startsWith("http://") || uri.startsWith("file:")) {
        // A directory: bundle.json first, then exactly the files it lists.
        const local = uri.startsWith("file:") ? (uri.startsWith("file://") ? fileURLToPath(uri) : uri.slice(5)) : undefined;
        const localFile = (name: string): string => {
          const p = path.join(local as string, name);
          if (!fs.existsSync(p)) throw new BundleRefused(`${p} not found`, "unavailable");
          if (fs.statSync(p).size > limit) throw new BundleRefused(`${p} is larger than the limit of ${limit} bytes`, "policy");
          return p;
        };
        const get = async (name: string): Promise<Buffer> =>
          local ? fs.readFileSync(localFile(name)) : httpGet(`${uri.replace(/\/+$/, "")}/${name}`, limit, idleMs);
        // the bundle's files are copied or streamed to the cache, never read whole (the folder is renamed when complete)
        const download = async (name: string): Promise<void> =>
          local
            ? fs.copyFileSync(localFile(name), path.join(tmp, name))
            : httpGetToFile(`${uri.replace(/\/+$/, "")}/${name}`, path.join(tmp, name), limit, idleMs);
        const manifestBytes = await get(BUNDLE_MANIFEST);
        writeFileAtomic(path.join(tmp, BUNDLE_MANIFEST), manifestBytes);
        let m: BundleManifest;
        try {
          m = parseBundleManifest(readBundleJson<unknown>(tmp, BUNDLE_MANIFEST));
        } catch (e) {
          throw e instanceof BundleError ? new BundleRefused(e.message) : e;
        }
        const roles = Object.keys(BUNDLE_FILES) as (keyof typeof BUNDLE_FILES)[];
        const total = roles.reduce((t, role) => t + m.files[role].bytes, 0);
        // the whole size is known before the first large file is asked for
        if (m.files.zkey.bytes > limits.zkeyBytes) throw zkeyTooLarge(m.files.zkey.bytes);
        if (total > limit) throw new BundleRefused(`the bundle is ${total} bytes, more than the limit of ${limit}`, "policy");
        for (const role of roles) await download(m.files[role].name);
      } else {
        throw new BundleRefused(
          `unsupported bundle URI "${uri.slice(0, 60)}" (use ipfs://<cid>, https://<base> or file://<dir>)`,
          "policy",
        );
      }
      fs.writeFileSync(path.join(tmp, ".complete"), "");
      fs.rmSync(dest, { recursive: true, force: true });
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      this.active.delete(dest);
    }
    this.evict(dest);
    return dest;
  }

  /** Removes the least recently used bundles until the cache fits its bound (never `keep`). */
  private evict(keep: string): void {
    const entries = fs
      .readdirSync(this.dir)
      .map((n) => path.join(this.dir, n))
      .filter((d) => fs.existsSync(path.join(d, ".complete")))
      .map((d) => ({
        d,
        used: fs.statSync(path.join(d, ".complete")).mtimeMs,
        bytes: fs.readdirSync(d).reduce((s, n) => s + fs.statSync(path.join(d, n)).size, 0),
      }))
      .sort((a, b) => a.used - b.used);
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.d === keep) continue;
      fs.rmSync(e.d, { recursive: true, force: true });
      total -= e.bytes;
    }
  }

  /** Forgets a cached bundle (after it was refused). */
  drop(modelId: bigint, version: number): void {
    fs.rmSync(this.entry(modelId, version), { recursive: true, force: true });
  }
}
