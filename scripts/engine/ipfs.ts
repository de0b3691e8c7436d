/**
 * A local IPFS node (Helia over libp2p TCP, bitswap; optionally trustless HTTP gateways) whose blockstore persists in
 * a folder, and the two operations the project needs on it: add a directory (UnixFS, CIDv1, raw leaves: the CID is
 * computed by the standard importer, offline) and fetch one to disk. Every block a node receives is checked against
 * its CID by Helia before it is stored or read, so a fetched directory is exactly the one its CID names.
 * docs/model-format.md ("Bundle") and docs/prover.md ("Open network") say how bundles use it.
 */
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import type { Helia } from "@helia/utils";
import type { UnixFS } from "@helia/unixfs";
import type { Libp2p, PrivateKey } from "@libp2p/interface";
import { ensureDir, userCacheDir, writeFileAtomic } from "../util/paths";
import { importEsm } from "../util/esm";
import { StalledError, whileReceiving } from "../util/idle";

export interface IpfsNodeOptions {
  /** Folder of the blockstore and datastore (default `~/.cache/zkml-evm/ipfs`). */
  dir?: string;
  /** libp2p listen addresses (default `/ip4/127.0.0.1/tcp/0`; `[]`: no listening, fetch only). */
  listen?: string[];
  /**
   * Peers to keep connected (multiaddrs with `/p2p/<peer id>`): dialled at start, and redialled with backoff whenever
   * the connection drops, for as long as the node runs (issue 28 point 1).
   */
  peers?: string[];
  /** Backoff of the redials: the first delay (ms, default 1,000), doubled per failure up to `maxMs` (default 60,000). */
  redial?: { firstMs?: number; maxMs?: number };
  /** Trustless gateways (`https://host`) to fetch blocks from, verified by CID like bitswap blocks. */
  gateways?: string[];
}

/**
 * A fetch failure or a directory that is not what was asked; the message says which, the kind how lasting it is:
 * `unavailable` (not retrievable in time: try later), `too-large` (over the caller's limit), `not-a-bundle` (the CID
 * names something else than a flat directory of plain file names).
 */
export class IpfsError extends Error {
  constructor(
    message: string,
    readonly kind: "unavailable" | "too-large" | "not-a-bundle" = "not-a-bundle",
  ) {
    super(message);
  }
}

/** A configured peer as the node keeps it. */
export interface PeerStatus {
  addr: string;
  connected: boolean;
  /** Redials that failed since the last connection. */
  failures: number;
  /** Times the connection was seen dropped. */
  drops: number;
  lastError?: string;
}

export interface IpfsNode {
  helia: Helia<Libp2p>;
  /** The configured peers (`peers`) and whether each is connected now. */
  peerStatus(): PeerStatus[];
  /** The addresses peers can dial (with `/p2p/<id>`). */
  multiaddrs(): string[];
  /** Adds `files` (name -> bytes) as one UnixFS directory; returns its CID (CIDv1, base32). */
  addDirectory(files: ReadonlyMap<string, Uint8Array>): Promise<string>;
  /**
   * Fetches the UnixFS directory `cid` (flat: files only) into `dest`, at most `maxBytes` in all, writing each file
   * atomically. A fetch runs as long as blocks keep arriving and is given up when none arrives for `timeoutMs`
   * (default 60,000); the blocks received are kept in the blockstore, so a later try asks only for the rest.
   * @returns name -> size of the files written.
   * @throws IpfsError when it is not a flat directory, too large, or not retrievable in time.
   */
  getDirectory(
    cid: string,
    dest: string,
    opts?: {
      maxBytes?: number;
      timeoutMs?: number;
      /** Looks at each listed file's size before anything is fetched; a message refuses the directory ("too-large"). */
      refuse?: (name: string, bytes: number) => string | undefined;
    },
  ): Promise<Map<string, number>>;
  /**
   * Reads file `name` of the UnixFS directory `cid` into memory: its size is looked up first (a file over `maxBytes`,
   * default 512 MiB, is refused before its blocks are asked for), then its blocks are fetched, the whole given up when
   * nothing arrives for `timeoutMs` (default 60,000). Every block is checked against its CID, as for getDirectory.
   * @throws IpfsError when it is not a file of that directory, too large, or not retrievable in time.
   */
  getFile(
    cid: string,
    name: string,
    opts?: {
      maxBytes?: number;
      timeoutMs?: number;
      /** Only from the blocks already in the blockstore: a missing block fails at once instead of being asked for. */
      offline?: boolean;
    },
  ): Promise<Uint8Array>;
  dial(multiaddr: string): Promise<void>;
  /**
   * Serves this node's blocks over HTTP as a trustless gateway (the raw-block part of the IPFS Trustless Gateway
   * specification: `GET /ipfs/<cid>?format=raw` or `Accept: application/vnd.ipld.raw`), for provers that fetch
   * through PROVER_IPFS_GATEWAYS instead of libp2p. Only blocks already in the blockstore are served; the client
   * checks each one against its CID, so the gateway is not trusted.
   */
  serveGateway(opts?: { host?: string; port?: number }): Promise<{ url: string; close(): Promise<void> }>;
  stop(): Promise<void>;
}

export function defaultIpfsDir(): string {
  return path.join(userCacheDir(), "ipfs");
}

/**
 * The node's libp2p identity, kept in `<dir>/peer-key` (protobuf-encoded Ed25519, mode 0600) so that its peer id, and
 * with it the `/p2p/<id>` address provers are given, survives a restart.
 */
async function nodeKey(dir: string): Promise<PrivateKey> {
  const keys = await importEsm<typeof import("@libp2p/crypto/keys")>("@libp2p/crypto/keys");
  const file = path.join(dir, "peer-key");
  let key;
  if (fs.existsSync(file)) key = keys.privateKeyFromProtobuf(fs.readFileSync(file));
  else {
    key = await keys.generateKeyPair("Ed25519");
    writeFileAtomic(file, Buffer.from(keys.privateKeyToProtobuf(key)), 0o600);
  }
  // @libp2p/crypto types its keys with a newer @libp2p/interface than libp2p 2's; the object is the one libp2p itself
  // creates with this same @libp2p/crypto when it is given no key
  return key as unknown as PrivateKey;
}

/** Starts a Helia node on a persistent blockstore. */
export async function startIpfsNode(opts: IpfsNodeOptions = {}): Promise<IpfsNode> {
  const dir = ensureDir(opts.dir ?? defaultIpfsDir());
  const [
    { Helia: HeliaClass },
    { unixfs },
    { FsBlockstore },
    { FsDatastore },
    brokers,
    { createLibp2p },
    { tcp },
    { noise },
    { yamux },
    { identify },
    { multiaddr },
    { CID },
  ] = await Promise.all([
    importEsm<typeof import("@helia/utils")>("@helia/utils"),
    importEsm<typeof import("@helia/unixfs")>("@helia/unixfs"),
    importEsm<typeof import("blockstore-fs")>("blockstore-fs"),
    importEsm<typeof import("datastore-fs")>("datastore-fs"),
    importEsm<typeof import("@helia/block-brokers")>("@helia/block-brokers"),
    importEsm<typeof import("libp2p")>("libp2p"),
    importEsm<typeof import("@libp2p/tcp")>("@libp2p/tcp"),
    importEsm<typeof import("@chainsafe/libp2p-noise")>("@chainsafe/libp2p-noise"),
    importEsm<typeof import("@chainsafe/libp2p-yamux")>("@chainsafe/libp2p-yamux"),
    importEsm<typeof import("@libp2p/identify")>("@libp2p/identify"),
    importEsm<typeof import("@multiformats/multiaddr")>("@multiformats/multiaddr"),
    importEsm<typeof import("multiformats/cid")>("multiformats/cid"),
  ]);
  const datastore = new FsDatastore(path.join(dir, "data"));
  const blockstore = new FsBlockstore(path.join(dir, "blocks"));
  const libp2p = await createLibp2p({
    // the same identity on every start: a publisher restarted keeps the address its provers were given
    privateKey: await nodeKey(dir),
    datastore,
    addresses: { listen: opts.listen ?? ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    // libp2p's reconnect queue redials a KEEP_ALIVE-tagged peer as soon as it disconnects; the keeper below takes
    // over (for as long as the node runs) when the queue gives up
    connectionManager: { reconnectRetries: 5, reconnectRetryInterval: 500, reconnectBackoffFactor: 2 },
  });
  const blockBrokers = [brokers.bitswap()];
  const routers = [];
  if (opts.gateways?.length) {
    const { httpGatewayRouting } = await importEsm<typeof import("@helia/routers")>("@helia/routers");
    blockBrokers.push(brokers.trustlessGateway({ allowLocal: true, allowInsecure: true }));
    routers.push(httpGatewayRouting({ gateways: opts.gateways }));
  }
  const helia = new HeliaClass({ libp2p, blockstore, datastore, blockBrokers, routers });
  await helia.start();
  const fsx: UnixFS = unixfs(helia);
  const parseCid = (cidText: string) => {
    try {
      return CID.parse(cidText);
    } catch (e) {
      throw new IpfsError(`"${cidText.slice(0, 80)}" is not a CID (${(e as Error).message})`);
    }
  };
  const keeper = await keepPeers(helia.libp2p, opts.peers ?? [], opts.redial ?? {});
  const node: IpfsNode = {
    helia,
    peerStatus: () => keeper.status(),
    multiaddrs: () => helia.libp2p.getMultiaddrs().map((m) => m.toString()),
    async addDirectory(files) {
      let root = await fsx.addDirectory();
      for (const name of [...files.keys()].sort()) {
        if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new IpfsError(`file name "${name}" is not a plain file name`);
        const f = await fsx.addBytes(files.get(name)!, { rawLeaves: true, cidVersion: 1 });
        root = await fsx.cp(f, root, name);
      }
      return root.toString();
    },
    async getDirectory(cidText, dest, o = {}) {
      const maxBytes = o.maxBytes ?? 2 ** 31;
      const timeoutMs = o.timeoutMs ?? 60_000;
      const cid = parseCid(cidText);
      const entries: { name: string; cid: typeof cid; size: bigint }[] = [];
      try {
        await whileReceiving(timeoutMs, async (signal, received) => {
          for await (const e of fsx.ls(cid, { signal })) {
            received();
            if (e.type !== "file" && e.type !== "raw")
              throw new IpfsError(`${cidText}: entry "${e.name}" is a ${e.type}, a bundle holds files only`);
            entries.push({ name: e.name, cid: e.cid, size: e.size });
          }
        });
      } catch (e) {
        if (e instanceof IpfsError) throw e;
        throw new IpfsError(`${cidText} could not be listed as a directory: ${(e as Error).message}`, "unavailable");
      }
      const total = entries.reduce((s, e) => s + e.size, 0n);
      for (const e of entries) {
        const why = o.refuse?.(e.name, Number(e.size));
        if (why) throw new IpfsError(why, "too-large");
      }
      if (total > BigInt(maxBytes)) throw new IpfsError(`${cidText} holds ${total} bytes, more than the limit of ${maxBytes}`, "too-large");
      ensureDir(dest);
      const sizes = new Map<string, number>();
      for (const e of entries) {
        if (!/^[A-Za-z0-9._-]+$/.test(e.name)) throw new IpfsError(`${cidText}: file name "${e.name}" is not a plain file name`);
        // written block by block (a proving key of hundreds of MB is never held whole), renamed when complete
        const file = path.join(dest, e.name);
        const part = `${file}.part`;
        const fd = fs.openSync(part, "w");
        let n = 0;
        try {
          await whileReceiving(timeoutMs, async (signal, received) => {
            for await (const chunk of fsx.cat(e.cid, { signal })) {
              received();
              n += chunk.length;
              if (n > maxBytes) throw new IpfsError(`${cidText}/${e.name} is larger than the limit of ${maxBytes} bytes`, "too-large");
              fs.writeSync(fd, chunk);
            }
          });
        } catch (err) {
          fs.closeSync(fd);
          fs.rmSync(part, { force: true });
          if (err instanceof IpfsError) throw err;
          const why = err instanceof StalledError ? `${err.message} (${n} bytes of ${e.size} received)` : (err as Error).message;
          throw new IpfsError(`${cidText}/${e.name} could not be fetched: ${why}`, "unavailable");
        }
        fs.closeSync(fd);
        fs.renameSync(part, file);
        sizes.set(e.name, n);
      }
      return sizes;
    },
    async getFile(cidText, name, o = {}) {
      const maxBytes = o.maxBytes ?? 512 * 2 ** 20;
      const timeoutMs = o.timeoutMs ?? 60_000;
      const cid = parseCid(cidText);
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new IpfsError(`"${name}" is not a plain file name`);
      const chunks: Uint8Array[] = [];
      let n = 0;
      try {
        await whileReceiving(timeoutMs, async (signal, received) => {
          const st = await fsx.stat(cid, { path: name, signal, offline: o.offline });
          received();
          if (st.type === "directory") throw new IpfsError(`${cidText}/${name} is a directory, not a file`);
          if (st.size > BigInt(maxBytes))
            throw new IpfsError(`${cidText}/${name} is ${st.size} bytes, more than the limit of ${maxBytes}`, "too-large");
          for await (const chunk of fsx.cat(cid, { path: name, signal, offline: o.offline })) {
            received();
            n += chunk.length;
            if (n > maxBytes) throw new IpfsError(`${cidText}/${name} is larger than the limit of ${maxBytes} bytes`, "too-large");
            chunks.push(chunk);
          }
        });
      } catch (e) {
        if (e instanceof IpfsError) throw e;
        if ((e as Error).name === "DoesNotExistError") throw new IpfsError(`${cidText} holds no file "${name}"`);
        const why = e instanceof StalledError ? `${e.message} (${n} bytes received)` : (e as Error).message;
        throw new IpfsError(`${cidText}/${name} could not be fetched: ${why}`, "unavailable");
      }
      return Buffer.concat(chunks);
    },
    async dial(addr) {
      await helia.libp2p.dial(multiaddr(addr));
    },
    async serveGateway(o = {}) {
      const server = http.createServer((req, res) => {
        void (async () => {
          const url = new URL(req.url ?? "/", "http://gateway");
          const m = /^\/ipfs\/([A-Za-z0-9]+)\/?$/.exec(url.pathname);
          if ((req.method !== "GET" && req.method !== "HEAD") || !m) {
            res.writeHead(400, { "content-type": "text/plain" }).end("GET /ipfs/<cid>?format=raw\n");
            return;
          }
          const raw = url.searchParams.get("format") === "raw" || (req.headers.accept ?? "").includes("application/vnd.ipld.raw");
          if (!raw) {
            res.writeHead(406, { "content-type": "text/plain" }).end("this trustless gateway serves raw blocks only (?format=raw)\n");
            return;
          }
          let cid;
          try {
            cid = CID.parse(m[1]);
          } catch {
            res.writeHead(400, { "content-type": "text/plain" }).end("not a CID\n");
            return;
          }
          if (!(await helia.blockstore.has(cid))) {
            res.writeHead(404, { "content-type": "text/plain" }).end("block not held here\n");
            return;
          }
          const bytes = await helia.blockstore.get(cid);
          res.writeHead(200, {
            "content-type": "application/vnd.ipld.raw",
            "content-length": String(bytes.length),
            "cache-control": "public, max-age=29030400, immutable",
          });
          res.end(req.method === "HEAD" ? undefined : Buffer.from(bytes));
        })().catch((e: Error) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
          res.end(`${e.message}\n`);
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(o.port ?? 0, o.host ?? "127.0.0.1", resolve);
      });
      const a = server.address() as AddressInfo;
      return {
        url: `http://${a.address.includes(":") ? `[${a.address}]` : a.address}:${a.port}`,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
    async stop() {
      keeper.stop();
      await helia.stop();
    },
  };
  await keeper.first;
  return node;
}

/**
 * Keeps `peers` connected: each is tagged KEEP_ALIVE (libp2p's reconnect queue redials it at once when it drops) and
 * a keeper checks every second that each one has a connection, redialling one that has none with exponential backoff
 * (libp2p's queue gives up after a few tries; a publisher may be down for minutes). Bitswap asks connected peers only,
 * so a node that lost its peers could fetch nothing new until restarted (issue 28 point 1).
 */
async function keepPeers(
  libp2p: Libp2p,
  peers: readonly string[],
  redial: { firstMs?: number; maxMs?: number },
): Promise<{ first: Promise<void>; status(): PeerStatus[]; stop(): void }> {
  const [{ multiaddr }, { KEEP_ALIVE }] = await Promise.all([
    importEsm<typeof import("@multiformats/multiaddr")>("@multiformats/multiaddr"),
    importEsm<typeof import("@libp2p/interface")>("@libp2p/interface"),
  ]);
  const firstMs = redial.firstMs ?? 1_000;
  const maxMs = redial.maxMs ?? 60_000;
  const kept = peers.map((addr) => {
    const ma = multiaddr(addr);
    return {
      addr,
      ma,
      peer: ma.getPeerId(),
      failures: 0,
      drops: 0,
      up: false,
      nextAt: 0,
      dialing: false,
      lastError: undefined as string | undefined,
    };
  });
  const connected = (k: (typeof kept)[number]): boolean =>
    k.peer !== null && libp2p.getConnections().some((c) => c.remotePeer.toString() === k.peer && c.status === "open");
  const dial = async (k: (typeof kept)[number]): Promise<void> => {
    k.dialing = true;
    try {
      const conn = await libp2p.dial(k.ma);
      // tag it (again: the reconnect queue drops the tag when it gives up) so libp2p redials it when it drops
      await libp2p.peerStore.merge(conn.remotePeer, { tags: { [KEEP_ALIVE]: { value: 100 } } });
      k.failures = 0;
      k.lastError = undefined;
      k.up = true; // a drop is counted when a later tick finds it gone, however soon that is
    } catch (e) {
      k.failures++;
      k.lastError = (e as Error).message.slice(0, 200);
      k.nextAt = Date.now() + Math.min(maxMs, firstMs * 2 ** (k.failures - 1));
      // a peer that is down now may be back later; bitswap asks whoever is connected
      if (k.failures === 1) fs.writeSync(2, `ipfs: could not dial ${k.addr}: ${k.lastError} (retrying with backoff)\n`);
    } finally {
      k.dialing = false;
    }
  };
  const first = Promise.all(kept.map(dial)).then(() => undefined);
  const timer = setInterval(
    () => {
      for (const k of kept) {
        const up = connected(k);
        if (k.up && !up) k.drops++;
        k.up = up;
        if (up) {
          // connected again, by this keeper or by libp2p's reconnect queue: the failed redials are over
          k.failures = 0;
          k.lastError = undefined;
          k.nextAt = 0;
        } else if (!k.dialing && Date.now() >= k.nextAt) void dial(k);
      }
    },
    Math.min(1_000, firstMs),
  );
  timer.unref();
  return {
    first,
    status: () =>
      kept.map((k) => {
        const up = connected(k);
        // failures and the last error are those since the last connection
        return {
          addr: k.addr,
          connected: up,
          failures: up ? 0 : k.failures,
          drops: k.drops,
          ...(!up && k.lastError ? { lastError: k.lastError } : {}),
        };
      }),
    stop: () => clearInterval(timer),
  };
}

/**
 * Adds a directory of files to the local IPFS blockstore (`dir`, default {@link defaultIpfsDir}) with a node that
 * listens on nothing, then stops it: the CID is computed offline by the UnixFS importer; serve the blocks with
 * `npm run ipfs:serve` (or any node on the same blockstore) for provers to fetch.
 * @returns The directory's CID.
 */
export async function addToLocalIpfs(files: ReadonlyMap<string, Uint8Array>, dir = defaultIpfsDir()): Promise<string> {
  const node = await startIpfsNode({ dir, listen: [] });
  try {
    return await node.addDirectory(files);
  } finally {
    await node.stop();
  }
}
