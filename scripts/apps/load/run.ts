/**
 * Load test of the prover network (not a unit test): starts a local `hardhat node`, deploys the market with the iris
 * model, starts LOAD_NODES (2..4) in-process prover nodes, opens LOAD_JOBS jobs (default 200) at once, and waits for
 * all of them. Prints throughput (jobs/minute), p50/p95 latency from open (receipt) to verified result (JobFulfilled
 * seen), and gas per job (open + claim + submit + lost claim races, averaged).
 *   LOAD_JOBS=200 LOAD_NODES=3 npx hardhat run scripts/apps/load/run.ts
 */
import { quantile } from "../prover/metrics";
import { type Market, inProcessNode, startMarket, until } from "./market";
import { runMain } from "../main";

async function main(): Promise<void> {
  const jobs = Number(process.env.LOAD_JOBS ?? 200);
  const nodesN = Number(process.env.LOAD_NODES ?? 3);
  if (!(nodesN >= 2 && nodesN <= 4)) throw new Error("LOAD_NODES must be 2..4");
  const m: Market = await startMarket({ leaseDuration: 600 });
  const nodes = Array.from({ length: nodesN }, (_, i) => inProcessNode(m, 3 + i, `n${i + 1}`, { pollMs: 300 }));
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const openedAt = new Map<string, number>();
    let openGas = 0n;
    const t0 = Date.now();
    for (let i = 0; i < jobs; i++) {
      const { jobId } = await m.open();
      openedAt.set(jobId.toString(), Date.now());
    }
    const openSeconds = (Date.now() - t0) / 1000;
    for (const e of await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobOpened())) {
      const r = await e.getTransactionReceipt();
      openGas += r.gasUsed;
    }
    const doneAt = new Map<string, number>();
    let from = 0;
    await until(
      async () => {
        const logs = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(), from);
        for (const l of logs) {
          from = Math.max(from, l.blockNumber + 1);
          if (!doneAt.has(l.args.jobId.toString())) doneAt.set(l.args.jobId.toString(), Date.now());
        }
        return doneAt.size >= jobs;
      },
      60 * 60_000,
      `${jobs} fulfilled jobs`,
      200,
    );
    const wall = (Date.now() - t0) / 1000;
    const lat = [...doneAt].map(([id, t]) => (t - (openedAt.get(id) ?? t)) / 1000);
    const metrics = await Promise.all(nodes.map((n) => n.stop()));
    const proverGas = metrics.reduce((a, x) => a + x.gasUsed, 0n);
    console.log(`load: ${jobs} jobs, ${nodesN} nodes (concurrency 1 each), iris-mlp, local hardhat node`);
    console.log(`  opening took ${openSeconds.toFixed(1)} s; all verified after ${wall.toFixed(1)} s`);
    console.log(`  throughput      ${((jobs / wall) * 60).toFixed(1)} jobs/minute`);
    console.log(
      `  latency         p50 ${quantile(lat, 0.5).toFixed(1)} s, p95 ${quantile(lat, 0.95).toFixed(1)} s (open receipt -> JobFulfilled seen)`,
    );
    console.log(
      `  gas per job     ${(Number(openGas + proverGas) / jobs).toFixed(0)} (open ${(Number(openGas) / jobs).toFixed(0)}, prover side ${(Number(proverGas) / jobs).toFixed(0)} incl. claims, lost races, deposits)`,
    );
    console.log(
      `  per node        fulfilled ${metrics.map((x) => x.fulfilled).join(" / ")}; proving mean ${metrics.map((x) => x.provingMeanSeconds).join(" / ")} s, p95 ${metrics.map((x) => x.provingP95Seconds).join(" / ")} s`,
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await m.stop();
  }
}

runMain(main);
