/**
 * Issue 28 point 1: an IPFS node keeps its configured peers. A prover's node that loses its connection to the
 * publisher's node (the publisher hangs up, or stops and comes back on the same address) reconnects by itself with
 * backoff, and fetches what the publisher added since, without a restart. The publisher keeps its identity (its
 * `/p2p/<id>` address) across restarts. Real Helia nodes on loopback.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { until } from "../helpers/wait";
import { type IpfsNode, startIpfsNode } from "../../scripts/ipfs/node";

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
});
