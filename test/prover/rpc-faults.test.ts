import { expect } from "chai";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type RpcProxy, startRpcProxy } from "../../scripts/chain/fault-proxy";
import { Wallet, keccak256 } from "ethers";
import { RetryingEip1193 } from "../../scripts/chain/rpc";
import { type Market, devKey, escrowBooks, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/**
 * Issue 19, part 3: a node behind two RPC endpoints (loopback proxies in front of one `hardhat node`) that fail on
 * purpose: rate limits, connection resets, timeouts, HTTP 500, an endpoint that goes away and comes back, and answers
 * lost after the call took effect (a broadcast transaction whose reply never arrives). Every job is fulfilled exactly
 * once, every transaction of the node succeeds, none is sent twice, and the escrow books balance.
 */
describe("prover nodes: RPC faults", function () {
  let m: Market;
  let a: RpcProxy;
  let b: RpcProxy;
  let node: ProverNode | undefined;
  const retries: { url: string; error: string }[] = [];

  before(async function () {
    m = await startMarket();
    a = await startRpcProxy(m.chain.url);
    b = await startRpcProxy(m.chain.url);
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await a?.close();
    await b?.close();
    await m?.stop();
  });

  const fulfilled = async (jobs: { jobId: bigint }[], what: string): Promise<void> =>
    until(async () => (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]), 120_000, what);

  it("retries timeouts, resets, 429s, 500s and a restarting endpoint across two URLs; loses no job and sends no transaction twice", async function () {
    const jobs: { jobId: bigint; expected: bigint }[] = [];
    // 1. the first URL is down when the node starts (connection refused): it starts on the second
    await a.pause();
    jobs.push(await m.open(), await m.open());
    node = inProcessNode(m, 6, "faulty", {
      rpcUrl: `${a.url},${b.url}`,
      rpcRetry: { attempts: 10, baseDelayMs: 50, maxDelayMs: 500, timeoutMs: 1_000 },
      logSink: (line) => {
        const r = JSON.parse(line) as { event?: string; url?: string; error?: string };
        if (r.event === "rpc_retry") retries.push({ url: r.url!, error: r.error! });
        if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
      },
    });
    await node.start();
    await fulfilled(jobs, "jobs 1-2 (first URL down)");
    await a.resume();

    // 2. rate limits and resets on both endpoints
    a.set("429", 12);
    b.set("reset", 8);
    jobs.push(await m.open(), await m.open());
    await fulfilled(jobs, "jobs 3-4 (429 and resets)");

    // 3. timeouts and HTTP 500
    a.set("hang", 3);
    b.set("500", 6);
    jobs.push(await m.open(), await m.open());
    await fulfilled(jobs, "jobs 5-6 (timeouts and 500s)");

    // 4. the answers to broadcasts are lost after the transactions reached the chain (on both URLs)
    a.set("lose", 2, "eth_sendRawTransaction");
    b.set("lose", 2, "eth_sendRawTransaction");
    jobs.push(await m.open(), await m.open());
    await fulfilled(jobs, "jobs 7-8 (lost broadcast answers)");

    // every fault was met, and retried
    expect(a.seen["429"]).to.be.greaterThan(0);
    expect(b.seen.reset).to.be.greaterThan(0);
    expect(a.seen.hang + b.seen["500"]).to.be.greaterThan(0);
    expect(a.seen.lose + b.seen.lose).to.be.greaterThan(0);
    expect(retries.length).to.be.greaterThan(10);
    expect(new Set(retries.map((r) => r.url))).to.deep.equal(new Set([a.url, b.url]));
    expect(node.metrics.rpcRetries).to.equal(retries.length);

    // each job fulfilled once, by this node, with the model's output
    const addr = m.wallet(6).address;
    for (const j of jobs) {
      const evs = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(j.jobId));
      expect(evs.length, `job ${j.jobId} fulfilled once`).to.equal(1);
      expect(evs[0].args.prover).to.equal(addr);
      expect((await m.sys.jobs.resultOf(j.jobId))[1]).to.equal(j.expected);
    }
    // every transaction of the node on chain succeeded; one claim and one submission per job, no second attempt mined
    const head = await m.provider.getBlockNumber();
    const mine: { selector: string; status: number }[] = [];
    for (let n = 0; n <= head; n++) {
      const blk = await m.provider.getBlock(n, true);
      for (const tx of blk!.prefetchedTransactions)
        if (tx.from === addr)
          mine.push({ selector: tx.data.slice(0, 10), status: (await m.provider.getTransactionReceipt(tx.hash))!.status! });
    }
    expect(mine.filter((t) => t.status !== 1)).to.deep.equal([]);
    const iface = m.sys.jobs.interface;
    const count = (fn: "claim" | "submitResult" | "deposit"): number =>
      mine.filter((t) => t.selector === iface.getFunction(fn)!.selector).length;
    expect(count("claim")).to.equal(jobs.length);
    expect(count("submitResult")).to.equal(jobs.length);
    expect(mine.length).to.equal(count("claim") + count("submitResult") + count("deposit"));
    const books = await escrowBooks(m, [addr, m.requester.address]);
    expect(books.balance).to.equal(books.owed);
  });

  it("the operator tasks' provider (RetryingEip1193, issue 28 point 4): a send whose answer is lost is sent once and answered with its hash; reads retry; a node's error answer is not retried", async function () {
    const { HttpProvider } = await import("hardhat/internal/core/providers/http");
    const retried: string[] = [];
    const p = new RetryingEip1193(new HttpProvider(a.url, "localhost"), {
      attempts: 5,
      baseDelayMs: 20,
      maxDelayMs: 100,
      onRetry: (r) => retried.push(r.method),
    });
    const count = (who: string) => m.provider.getTransactionCount(who, "pending");
    const lost = a.seen.lose;
    // a transaction signed here (testnets): the same bytes again, found by hash
    const wallet = new Wallet(devKey(14), m.provider);
    const fee = await m.provider.getFeeData();
    const { chainId } = await m.provider.getNetwork();
    const nonce = await count(wallet.address);
    const raw = await wallet.signTransaction({
      to: wallet.address,
      value: 1n,
      nonce,
      gasLimit: 21_000n,
      maxFeePerGas: fee.maxFeePerGas!,
      maxPriorityFeePerGas: fee.maxPriorityFeePerGas!,
      chainId,
    });
    a.set("lose", 1, "eth_sendRawTransaction");
    expect(await p.request({ method: "eth_sendRawTransaction", params: [raw] })).to.equal(keccak256(raw));
    expect(a.seen.lose).to.equal(lost + 1);
    expect(await count(wallet.address)).to.equal(nonce + 1);
    // an account the node signs for (a local node): the nonce pinned, the arrived transaction found by sender and nonce
    const [acct] = (await m.provider.send("eth_accounts", [])) as string[];
    const n2 = await count(acct);
    a.set("lose", 1, "eth_sendTransaction");
    const h = (await p.request({ method: "eth_sendTransaction", params: [{ from: acct, to: acct, value: "0x1" }] })) as string;
    expect(a.seen.lose).to.equal(lost + 2);
    expect(await count(acct)).to.equal(n2 + 1);
    expect((await m.provider.getTransaction(h))?.nonce).to.equal(n2);
    // reads through resets
    a.set("reset", 3);
    expect(await p.request({ method: "eth_chainId" })).to.equal(`0x${chainId.toString(16)}`);
    // a JSON-RPC error is the node's answer: not retried, not hidden (the raw transaction again: nonce too low)
    // (counted by the provider's own retries: the proxy also counts other clients' requests passing meanwhile)
    const before = retried.length;
    await p.request({ method: "eth_sendRawTransaction", params: [raw] }).then(
      () => expect.fail("a replayed transaction was accepted"),
      (e: Error) => expect(e.message).to.match(/nonce|known/i),
    );
    expect(retried.slice(before)).to.deep.equal([]);
  });
});
