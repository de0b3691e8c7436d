/**
 * Reading `ipfs://` bundles file by file with an IPFS node of one's own (scripts/engine/ipfs.ts: Helia, blocks from
 * peers over libp2p and/or trustless gateways, every block checked against its CID before it is used), as the SDK's
 * `BundleAccess.readIpfs` (scripts/chain/client.ts). A prover fetches whole bundles with the same node
 * (scripts/apps/prover/bundle-cache.ts); a reader of cards, such as the explorer's indexer, needs a few files of each.
 * One node per reader, started at the first read (fetch only: it listens on nothing) and stopped by `stop()`.
 *
 *   const ipfs = new IpfsBundleReader({ peers: ["/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo..."], dir });
 *   const manifest = await readVersionManifest(version, { readIpfs: ipfs.read });
 *   await ipfs.stop();
 */
import { type IpfsNode, type PeerStatus, IpfsError, startIpfsNode } from "../engine/ipfs";

export { IpfsError, type PeerStatus };

export interface IpfsReaderOptions {
  /** Peers holding the bundles (multiaddrs with `/p2p/<peer id>`), kept connected while the node runs. */
  peers?: readonly string[];
  /** Trustless gateways (`https://host`) to fetch blocks from, verified by CID like bitswap blocks. */
  gateways?: readonly string[];
  /** Folder of the node's blockstore; what was read once is read from there after a restart. */
  dir: string;
  /** A read is given up when nothing arrives for this long (default 30,000 ms). */
  idleMs?: number;
  /** The largest file read (default 512 MiB), refused from its size before its blocks are asked for. */
  maxBytes?: number;
}

export class IpfsBundleReader {
  private node?: Promise<IpfsNode>;
  private running?: IpfsNode;
  private stopped = false;

  constructor(private readonly o: IpfsReaderOptions) {}

  /** With neither peers nor gateways the node reads only the blocks already in its blockstore, failing at once. */
  get offline(): boolean {
    return !this.o.peers?.length && !this.o.gateways?.length;
  }

  private start(): Promise<IpfsNode> {
    if (this.stopped) return Promise.reject(new IpfsError("the IPFS reader was stopped", "unavailable"));
    if (!this.node) {
      const starting = startIpfsNode({
        dir: this.o.dir,
        listen: [],
        peers: [...(this.o.peers ?? [])],
        gateways: [...(this.o.gateways ?? [])],
      });
      this.node = starting;
      starting.then(
        (n) => (this.running = n),
        () => (this.node = undefined), // a node that could not start is tried again at the next read
      );
    }
    return this.node;
  }

  /**
   * Reads file `name` of the bundle `ipfs://<cid>` (starting the node at the first read): `BundleAccess.readIpfs`.
   * @throws IpfsError when it is not retrievable in time (`unavailable`), too large, or not a file of that directory;
   * Error when the node could not start.
   */
  readonly read = async (cid: string, name: string): Promise<Uint8Array> => {
    const node = await this.start();
    return node.getFile(cid, name, { maxBytes: this.o.maxBytes, timeoutMs: this.o.idleMs ?? 30_000, offline: this.offline });
  };

  /** The configured peers and whether each is connected now (empty before the first read). */
  peerStatus(): PeerStatus[] {
    return this.running?.peerStatus() ?? [];
  }

  /** Stops the node (waiting for one still starting); later reads fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    const n = await this.node?.catch(() => undefined);
    this.node = undefined;
    this.running = undefined;
    await n?.stop();
  }
}
