/**
 * Issue 28 point 1: an IPFS node keeps its configured peers. A prover's node that loses its connection to the
 * publisher's node (the publisher hangs up, or stops and comes back on the same address) reconnects by itself with
 * backoff, and fetches what the publisher added since, without a restart. The publisher keeps its identity (its
 * `/p2p/<id>` address) across restarts. Real Helia nodes on loopback.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { until } from "../../scripts/util/wait";
import { IpfsError, type IpfsNode, startIpfsNode } from "../../scripts/engine/ipfs";

describe("IPFS nodes keep their peers (issue 28 point 1)", function () {
  this.timeout(120_000);
  let tmp: string;
  const nodes: IpfsNode[] = [];
  const file = (text: string) => new Map([["a.txt", Buffer.from(text)]]);

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-ipfs-peers-"));
  });
  after(async () => {
    for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("reconnects after the publisher hangs up and after it restarts on the same address, and fetches what was added meanwhile", async function () {
    let publisher = await startIpfsNode({ dir: path.join(tmp, "pub"), listen: ["/ip4/127.0.0.1/tcp/0"] });
    nodes.push(publisher);
    const addr = publisher.multiaddrs()[0];
    const prover = await startIpfsNode({
      dir: path.join(tmp, "prover"),
      listen: [],
      peers: [addr],
      redial: { firstMs: 200, maxMs: 1_000 },
    });
    nodes.push(prover);
    expect(prover.peerStatus()).to.deep.equal([{ addr, connected: true, failures: 0, drops: 0 }]);

    // 1. the publisher drops the connection (what a large transfer's end looked like in the field)
    await publisher.helia.libp2p.hangUp(prover.helia.libp2p.peerId);
    const cid1 = await publisher.addDirectory(file("added after the hang-up"));
    await until(() => prover.peerStatus()[0].connected, 20_000, "the prover to reconnect");
    const got1 = await prover.getDirectory(cid1, path.join(tmp, "got1"), { timeoutMs: 10_000 });
    expect(got1.get("a.txt")).to.equal("added after the hang-up".length);

    // 2. the publisher stops (its node restarts): the prover redials with backoff until it is back, with the same id
    await publisher.stop();
    nodes.splice(nodes.indexOf(publisher), 1);
    await until(() => !prover.peerStatus()[0].connected, 10_000, "the prover to see the publisher gone");
    await new Promise((r) => setTimeout(r, 3_000)); // several failed redials, past libp2p's own reconnect queue
    expect(prover.peerStatus()[0].failures).to.be.greaterThan(0);
    expect(prover.peerStatus()[0].lastError).to.be.a("string");
    const port = /\/tcp\/(\d+)\//.exec(addr)![1];
    publisher = await startIpfsNode({ dir: path.join(tmp, "pub"), listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    nodes.push(publisher);
    expect(publisher.multiaddrs()[0], "the same /p2p/<id> address after a restart").to.equal(addr);
    const cid2 = await publisher.addDirectory(file("added after the restart"));
    await until(() => prover.peerStatus()[0].connected, 30_000, "the prover to reconnect to the restarted publisher");
    const status = prover.peerStatus()[0];
    expect([status.connected, status.failures, status.drops >= 1]).to.deep.equal([true, 0, true]);
    const got2 = await prover.getDirectory(cid2, path.join(tmp, "got2"), { timeoutMs: 10_000 });
    expect(got2.get("a.txt")).to.equal("added after the restart".length);
  });

  /**
   * A trustless gateway in front of `upstream` that answers one block request at a time, `delayMs` after the last, and
   * in "stall" mode leaves every request after the first `stallAfter` unanswered (they hang).
   */
  async function slowGateway(upstream: string, delayMs: number) {
    const g = { mode: "trickle" as "trickle" | "stall", stallAfter: 0, accepted: 0, served: 0, requests: 0 };
    let chain = Promise.resolve();
    const server = http.createServer((req, res) => {
      g.requests++;
      if (g.mode === "stall" && g.accepted >= g.stallAfter) return; // never answered
      g.accepted++;
      chain = chain.then(async () => {
        await new Promise((r) => setTimeout(r, delayMs));
        const up = await fetch(`${upstream}${req.url}`, { headers: { accept: "application/vnd.ipld.raw" } });
        const body = Buffer.from(await up.arrayBuffer());
        if (up.ok) g.served++;
        res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/octet-stream" }).end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      g,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it("lets a fetch that keeps receiving blocks run past its timeout, gives up on a stall, and a retry fetches only the blocks it lacks", async function () {
    const publisher = await startIpfsNode({ dir: path.join(tmp, "pub-slow"), listen: [] });
    nodes.push(publisher);
    const data = randomBytes(12 * 2 ** 20); // 12 blocks of 1 MiB, the file's root and the directory's
    const cid = await publisher.addDirectory(new Map([["big.bin", data]]));
    const gw = await publisher.serveGateway();
    const slow = await slowGateway(gw.url, 150);
    try {
      // 1. a block every 150 ms, 14 blocks in about 2 s: past the 1 s timeout, but never 1 s without a block
      const a = await startIpfsNode({ dir: path.join(tmp, "slow-a"), listen: [], gateways: [slow.url] });
      nodes.push(a);
      const t0 = Date.now();
      const got = await a.getDirectory(cid, path.join(tmp, "got-slow"), { timeoutMs: 1_000 });
      expect(got.get("big.bin")).to.equal(data.length);
      expect(Date.now() - t0).to.be.greaterThan(1_500);

      // 2. the gateway stops answering after 5 blocks: the fetch gives up 1 s after the last block
      slow.g.mode = "stall";
      slow.g.stallAfter = 5;
      slow.g.accepted = 0;
      const b = await startIpfsNode({ dir: path.join(tmp, "slow-b"), listen: [], gateways: [slow.url] });
      nodes.push(b);
      let err: unknown;
      try {
        await b.getDirectory(cid, path.join(tmp, "got-stalled"), { timeoutMs: 1_000 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(IpfsError);
      expect((err as IpfsError).kind).to.equal("unavailable");
      expect((err as IpfsError).message).to.match(/big\.bin .*received nothing for 1000 ms/);
      expect(fs.existsSync(path.join(tmp, "got-stalled", "big.bin")), "no partial file under the final name").to.equal(false);

      // 3. the gateway is back: the retry asks only for the blocks the first try did not receive
      slow.g.mode = "trickle";
      const before = slow.g.served;
      const again = await b.getDirectory(cid, path.join(tmp, "got-stalled"), { timeoutMs: 1_000 });
      expect(again.get("big.bin")).to.equal(data.length);
      expect(fs.readFileSync(path.join(tmp, "got-stalled", "big.bin")).equals(data)).to.equal(true);
      const retried = slow.g.served - before;
      expect(retried, "blocks served to the retry")
        .to.be.greaterThan(0)
        .and.at.most(14 - 5);
    } finally {
      await slow.close();
      await gw.close();
    }
  });

  it("fetches from another configured peer that holds the blocks when the first one is gone", async function () {
    const files = new Map([["m.bin", randomBytes(2 ** 20)]]);
    const p1 = await startIpfsNode({ dir: path.join(tmp, "p1"), listen: ["/ip4/127.0.0.1/tcp/0"] });
    const p2 = await startIpfsNode({ dir: path.join(tmp, "p2"), listen: ["/ip4/127.0.0.1/tcp/0"] });
    nodes.push(p1, p2);
    const cid = await p1.addDirectory(files);
    expect(await p2.addDirectory(files), "the same files give the same CID on any node").to.equal(cid);
    const prover = await startIpfsNode({
      dir: path.join(tmp, "two-peers"),
      listen: [],
      peers: [p1.multiaddrs()[0], p2.multiaddrs()[0]],
      redial: { firstMs: 200, maxMs: 1_000 },
    });
    nodes.push(prover);
    await p1.stop();
    nodes.splice(nodes.indexOf(p1), 1);
    await until(() => !prover.peerStatus()[0].connected, 10_000, "the prover to see the first peer gone");
    const got = await prover.getDirectory(cid, path.join(tmp, "got-two"), { timeoutMs: 10_000 });
    expect(got.get("m.bin")).to.equal(2 ** 20);
    expect(prover.peerStatus().map((s) => s.connected)).to.deep.equal([false, true]);
  });
});
