/**
 * How the API reaches the bundles of registry versions (./cards.ts, ./audit.ts): `file://` folders from the disk,
 * `http(s)://` bases as they are, and `ipfs://<cid>` bundles
 *   - with the indexer's own IPFS node when EXPLORER_IPFS_PEERS, EXPLORER_IPFS_GATEWAYS or EXPLORER_IPFS_DIR is set
 *     (scripts/chain/ipfs-reader.ts: one Helia node in the API process, started at the first read and stopped on
 *     shutdown; blocks from the publisher's node over libp2p or from trustless gateways, each checked against its CID,
 *     as a prover reads bundles);
 *   - else through a path-style gateway (EXPLORER_IPFS_GATEWAY, `<gateway>/ipfs/<cid>/<file>`, e.g. a public one's).
 * Whichever way, the SDK checks every file against bundle.json and bundle.json against the registry. A failure to read
 * an `ipfs://` bundle names the setting to fix.
 */
import { type BundleAccess, readBundleFile } from "../../../scripts/chain/client";
import { IpfsBundleReader, IpfsError } from "../../../scripts/chain/ipfs-reader";
import { readLocalFile } from "../../../scripts/chain/node";
import type { ExplorerEnv } from "./env";

const SET_PEERS = "set EXPLORER_IPFS_PEERS to the publisher's node, e.g. the multiaddr `npm run ipfs:serve` prints";

export interface ExplorerBundles {
  access: BundleAccess;
  /** Stops the IPFS node, if one was started. */
  stop(): Promise<void>;
}

/** The bundle access of the API, from its settings (./env.ts). */
export function explorerBundleAccess(env: Pick<ExplorerEnv, "ipfs" | "ipfsGateway">): ExplorerBundles {
  const base: BundleAccess = { readFile: readLocalFile };
  if (env.ipfs) {
    const cfg = env.ipfs;
    const reader = new IpfsBundleReader({ peers: cfg.peers, gateways: cfg.gateways, dir: cfg.dir });
    const readIpfs = async (cid: string, name: string): Promise<Uint8Array> => {
      try {
        return await reader.read(cid, name);
      } catch (e) {
        const what = `ipfs://${cid}/${name}`;
        if (!(e instanceof IpfsError))
          throw new Error(
            `${what}: the indexer's IPFS node could not start (${(e as Error).message}); check EXPLORER_IPFS_DIR (${cfg.dir}) is a writable folder and EXPLORER_IPFS_PEERS / EXPLORER_IPFS_GATEWAYS are right`,
          );
        if (e.kind !== "unavailable") throw new Error(`${what}: ${e.message}`);
        throw new Error(`${e.message}; ${unavailableHint(cfg, reader)}`);
      }
    };
    return { access: { ...base, readIpfs }, stop: () => reader.stop() };
  }
  const gateway = env.ipfsGateway;
  if (gateway) {
    const readIpfs = async (cid: string, name: string): Promise<Uint8Array> => {
      try {
        // the SDK's own path-style read (readIpfs left out, so it goes through the gateway)
        return await readBundleFile(`ipfs://${cid}`, name, { ipfsGateway: gateway });
      } catch (e) {
        throw new Error(
          `${(e as Error).message}; EXPLORER_IPFS_GATEWAY ${gateway} must answer /ipfs/<cid>/<file> (a path-style gateway): for a trustless one, such as \`npm run ipfs:serve\`'s, set EXPLORER_IPFS_GATEWAYS instead, or ${SET_PEERS}`,
        );
      }
    };
    return { access: { ...base, readIpfs }, stop: async () => undefined };
  }
  const readIpfs = (cid: string): Promise<Uint8Array> =>
    Promise.reject(
      new Error(
        `bundle ipfs://${cid} is on IPFS and this indexer has no way to read it: ${SET_PEERS} (or EXPLORER_IPFS_GATEWAYS to trustless gateways, EXPLORER_IPFS_GATEWAY to a path-style one)`,
      ),
    );
  return { access: { ...base, readIpfs }, stop: async () => undefined };
}

/** Why a bundle could not be fetched in time, from the node's settings and peers: what to set or check. */
function unavailableHint(cfg: NonNullable<ExplorerEnv["ipfs"]>, reader: IpfsBundleReader): string {
  if (reader.offline)
    return `EXPLORER_IPFS_DIR (${cfg.dir}) does not hold it and neither EXPLORER_IPFS_PEERS nor EXPLORER_IPFS_GATEWAYS is set: ${SET_PEERS}`;
  const peers = reader.peerStatus();
  const down = peers.filter((p) => !p.connected);
  const parts: string[] = [];
  if (peers.length && down.length === peers.length)
    parts.push(
      `no peer of EXPLORER_IPFS_PEERS is connected (${down.map((p) => `${p.addr}: ${p.lastError ?? "not connected"}`).join("; ")}): check the publisher's node is online (\`npm run ipfs:serve\`) and EXPLORER_IPFS_PEERS names it`,
    );
  else if (peers.length) parts.push(`the peers of EXPLORER_IPFS_PEERS connected do not have it: ${SET_PEERS}`);
  else parts.push(`no EXPLORER_IPFS_PEERS is set: ${SET_PEERS}`);
  if (cfg.gateways.length) parts.push(`nor did EXPLORER_IPFS_GATEWAYS (${cfg.gateways.join(", ")}) serve its blocks`);
  return parts.join("; ");
}
