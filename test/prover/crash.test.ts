import { type ChildProcess, spawn } from "child_process";
import * as path from "path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { ROOT } from "../../scripts/util/paths";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, devKey, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

interface Child {
  proc: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
}

/** Starts `scripts/apps/prover/main.ts` as a separate process (so it can be SIGKILLed), collecting its JSON log lines. */
function spawnNode(m: Market, account: number, name: string): Child {
  const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "apps", "prover", "main.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      ZKML_QUIET: "1",
      PROVER_RPC_URL: m.chain.url,
      PROVER_PRIVATE_KEY: devKey(account),
      PROVER_JOBS_ADDRESS: m.jobsAddress,
      PROVER_STATE_DIR: m.stateDir(name),
      PROVER_NAME: name,
      PROVER_SERVE: "all",
      PROVER_POLL_MS: "200",
      PROVER_CLAIM_JITTER_MS: "0",
      PROVER_METRICS_MS: "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Array<Record<string, unknown>> = [];
  let buf = "";
  proc.stdout?.on("data", (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  void exited.then((code) => {
    if (code) process.stderr.write(`prover ${name} exited ${code}: ${err.slice(-2000)}\n`);
  });
  return { proc, lines, exited };
}

async function killWhenProving(c: Child): Promise<string> {
  await until(
    async () => c.lines.some((l) => l.event === "proof_started") || c.proc.exitCode !== null,
    90_000,
    "a proof to start in the child node",
    20,
  );
  const started = c.lines.find((l) => l.event === "proof_started");
  c.proc.kill("SIGKILL");
  await c.exited;
  expect(started, "the child started a proof before it was killed").to.not.equal(undefined);
  expect(
    c.lines.some((l) => l.event === "proof_done" && l.jobId === started?.jobId),
    "killed before its proof finished",
  ).to.equal(false);
  return started?.jobId as string;
}

async function stopChild(c: Child): Promise<void> {
  if (c.proc.exitCode !== null) return;
  c.proc.kill("SIGTERM");
  const t = setTimeout(() => c.proc.kill("SIGKILL"), 30_000);
  await c.exited;
  clearTimeout(t);
}

/** A node SIGKILLed mid-proof: its jobs are completed exactly once, by itself after a restart or by another node. */
describe("prover nodes: crash and restart", function () {
  let m: Market;
  const children: Child[] = [];
  let other: ProverNode | undefined;

  before(async function () {
    m = await startMarket({ leaseDuration: 60 });
  });

  after(async function () {
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    await other?.stop().catch(() => undefined);
    await m?.stop();
  });

  async function fulfilmentsOf(jobId: string): Promise<Array<{ prover: string }>> {
    return (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(jobId))).map((e) => ({ prover: e.args.prover }));
  }

  it("restarted, the node finishes the job it was proving (its claim is still live), once", async function () {
    const jobs = [await m.open(), await m.open()];
    const a = spawnNode(m, 7, "a");
    children.push(a);
    const killed = await killWhenProving(a);
    const a2 = spawnNode(m, 7, "a");
    children.push(a2);
    await until(
      async () => (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]),
      90_000,
      "both jobs after the restart",
    );
    const started = a2.lines.find((l) => l.event === "node_started");
    expect(started?.unfinishedJobs as string[]).to.include(`${killed}:claimed`);
    const again = a2.lines.find((l) => l.event === "proof_started" && l.jobId === killed);
    expect(again?.attempt, "the interrupted proof was redone once, after the restart").to.equal(2);
    for (const j of jobs) {
      const f = await fulfilmentsOf(j.jobId.toString());
      expect(f).to.have.length(1);
      expect(f[0].prover).to.equal(new Wallet(devKey(7)).address);
      expect(await m.sys.jobs.resultOf(j.jobId)).to.deep.equal([true, j.expected]);
    }
    await stopChild(a2);
    expect(a2.lines.filter((l) => l.event === "tx_sent" && String(l.key).startsWith("submit:")).length).to.equal(
      2 - a.lines.filter((l) => l.event === "tx_sent" && String(l.key).startsWith("submit:")).length,
    );
  });

  it("killed, its claimed job is taken over by another node after the lease; restarted, it does not submit it again", async function () {
    const jobs = [await m.open(), await m.open(), await m.open()];
    const a = spawnNode(m, 7, "a");
    children.push(a);
    const killed = await killWhenProving(a);
    const claim = await m.sys.jobs.claimOf(killed);
    expect(claim.claimant).to.equal(new Wallet(devKey(7)).address);

    other = inProcessNode(m, 8, "b");
    await other.start();
    // b serves the unclaimed jobs; the killed node's job waits for its lease to end.
    await until(
      async () => other!.jobRecords().some((r) => r.jobId === killed && r.state === "waiting"),
      60_000,
      "b to see the live claim",
    );
    await m.rpc("evm_increaseTime", [61]);
    await m.rpc("evm_mine");
    await until(
      async () => (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]),
      90_000,
      "all jobs after the takeover",
    );
    const expired = await m.sys.jobs.queryFilter(m.sys.jobs.filters.ClaimExpired(killed));
    expect(expired, "the dead claim was settled (slashed) by the takeover").to.have.length(1);
    expect((await fulfilmentsOf(killed))[0].prover).to.equal(other.address);

    const a2 = spawnNode(m, 7, "a");
    children.push(a2);
    await until(
      async () => a2.lines.some((l) => (l.event === "job_lost" || l.event === "job_done") && l.jobId === killed),
      60_000,
      "the restarted node to settle the job",
    );
    await stopChild(a2);
    expect(
      a2.lines.some((l) => l.event === "tx_sent" && l.key === `submit:${killed}`),
      "no submission for a job someone else delivered",
    ).to.equal(false);
    for (const j of jobs) {
      expect(await fulfilmentsOf(j.jobId.toString())).to.have.length(1);
      expect(await m.sys.jobs.resultOf(j.jobId)).to.deep.equal([true, j.expected]);
    }
  });
});
