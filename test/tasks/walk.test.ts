/**
 * The operator guide, walked as a new user would (issue 14): a `hardhat node` on a free loopback port, and every
 * command of docs/operators.md, "Local chain", run as its own process, as written (the port comes from
 * ZKML_LOCALHOST_PORT, so `--network localhost` is used unchanged). Then every row of "Mistakes, and what they
 * print": one line on stderr starting with the documented text, exit code 1, no stack trace, and no transaction
 * (the node's block number and the accounts' nonces do not move). Then the whole sequence again: nothing changes but
 * a second job, and job:status shows one model, one deployment and a correct record.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { JsonRpcProvider } from "ethers";
import { ROOT } from "../../scripts/util/paths";
import type { DeploymentRecord } from "../../scripts/apps/tasks/records";
import { type CliRun, errorLines, hardhatCli } from "../helpers/cli";
import { type LocalNode, startHardhatNode } from "../helpers/node";
import { startRpcProxy } from "../../scripts/chain/fault-proxy";

const GUIDE = path.join(ROOT, "docs", "operators.md");

/** The `npx hardhat ...` commands of the guide's "Local chain" block (the node itself excluded: the test starts it). */
function documentedSequence(): string[][] {
  const text = fs.readFileSync(GUIDE, "utf8");
  const section = text.slice(text.indexOf("## Local chain"));
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l.startsWith("npx hardhat ") && !/^npx hardhat node\b/.test(l))
    .map((l) => l.split(/\s+/).slice(2));
}

/** The guide's table of mistakes: [command args, the start of the one line it prints]. */
function documentedMistakes(): { args: string[]; prints: string }[] {
  const text = fs.readFileSync(GUIDE, "utf8");
  const section = text.slice(text.indexOf("## Mistakes, and what they print"));
  const rows: { args: string[]; prints: string }[] = [];
  for (const m of section.matchAll(/^\| `npx hardhat ([^`]+)` \| `([^`]+)` \|$/gm)) rows.push({ args: m[1].split(/\s+/), prints: m[2] });
  return rows;
}

describe("docs/operators.md, walked command by command on a local `hardhat node` (issue 14)", function () {
  let node: LocalNode;
  let provider: JsonRpcProvider;
  let dir: string;
  let env: Record<string, string | undefined>;
  let accounts: string[];
  const ok = (r: CliRun, what: string): void => {
    expect(r.code, `${what}\n${r.stderr}${r.stdout}`).to.equal(0);
    expect(errorLines(r), what).to.deep.equal([]);
  };
  const chainState = async (): Promise<string> =>
    JSON.stringify([await provider.getBlockNumber(), ...(await Promise.all(accounts.map((a) => provider.getTransactionCount(a))))]);
  const record = (): DeploymentRecord => JSON.parse(fs.readFileSync(path.join(dir, "localhost.json"), "utf8")) as DeploymentRecord;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-walk-"));
    node = await startHardhatNode();
    provider = new JsonRpcProvider(node.url);
    accounts = ((await provider.send("eth_accounts", [])) as string[]).slice(0, 6);
    env = { ZKML_LOCALHOST_PORT: String(node.port), ZKML_DEPLOYMENTS_DIR: dir, ZKML_RPC_URL: undefined, ZKML_PRIVATE_KEYS: undefined };
  });
  after(async function () {
    provider?.destroy();
    await node?.stop();
    try {
      const id = record().ignitionDeploymentId;
      if (id) fs.rmSync(path.join(ROOT, "ignition", "deployments", id), { recursive: true, force: true });
    } catch {
      // no record: nothing deployed
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the guide's sequence, each command a process: deployed, registered, opened from raw input, proved, verified, paid", async function () {
    const seq = documentedSequence();
    expect(seq.map((a) => a[0])).to.deep.equal([
      "deploy",
      "model:register",
      "job:open",
      "job:prove",
      "job:submit",
      "job:status",
      "market:withdraw",
    ]);
    const out: Record<string, string> = {};
    for (const args of seq) {
      const r = await hardhatCli(args, env);
      ok(r, args.join(" "));
      out[args[0]] = r.stdout;
    }
    expect(out["model:register"]).to.match(/model id\s+1\n/);
    expect(out["job:open"])
      .to.match(/job id\s+1\n/)
      .and.match(/input\s+-462,404,-653,-681 \(quantized from raw 5\.1,3\.4,1\.5,0\.2, scale 2\^9\)/)
      // a fast deploy mines blocks faster than one a second, so the chain's clock may run ahead of this machine's
      .and.match(
        /deadline\s+\S+ \(3600 s from (this machine's clock|the chain's latest block time \(\d+ s ahead of this machine's clock\))\)/,
      );
    expect(out["job:prove"]).to.match(/output\s+0 \(setosa\)/);
    expect(out["job:submit"])
      .to.match(/fulfilled\s+true\n/)
      .and.not.match(/callback/);
    expect(out["job:status"])
      .to.match(/status\s+Fulfilled/)
      .and.match(/model\s+iris-mlp \(id 1, version 1\)/)
      .and.match(/output\s+0 \(setosa\)/);
    expect(out["market:withdraw"]).to.match(/withdrawn\s+0\.05 ETH/);
    expect(fs.statSync(path.join(dir, "jobs", "localhost", "job-1.input.json")).mode & 0o777).to.equal(0o600);
  });

  it("every documented mistake: one line with the fix, exit code 1, no stack trace, no transaction", async function () {
    const rows = documentedMistakes();
    expect(rows.length).to.be.at.least(20);
    // Three at a time (none may send anything, so they cannot interfere); the chain is compared around each batch.
    for (let i = 0; i < rows.length; i += 3) {
      const batch = rows.slice(i, i + 3);
      const before = await chainState();
      const runs = await Promise.all(batch.map((row) => hardhatCli(row.args, env)));
      const after = await chainState();
      batch.forEach(({ args, prints }, k) => {
        const r = runs[k];
        const what = `npx hardhat ${args.join(" ")}`;
        expect(r.code, `${what}\n${r.stderr}${r.stdout}`).to.equal(1);
        const lines = errorLines(r);
        expect(lines, `${what}: stderr is one line`).to.have.length(1);
        expect(lines[0].startsWith(prints), `${what}\n  printed: ${lines[0]}\n  guide:   ${prints}`).to.equal(true);
        expect(r.stdout, what).to.not.match(/\n\s+at /);
      });
      expect(after, `one of ${batch.map((b) => b.args[0]).join(", ")} sent a transaction`).to.equal(before);
    }
  });

  it("job:open on a chain idle for longer than --deadline-in (no block since the mistakes) counts from the wall clock; a prover node's input file ({x, salt}) proves it", async function () {
    // No block was mined during the mistakes above (a minute or more): counting from the last block, as job:open
    // used to, gives a deadline in the past and the market refuses it.
    // --deadline-in shorter than the idle time: the mistakes take 10-30 s; the chain is left idle 15 s at least
    const idleNow = async (): Promise<number> => Math.floor(Date.now() / 1000) - (await provider.getBlock("latest"))!.timestamp;
    const short = 15 - (await idleNow());
    if (short > 0) await new Promise((r) => setTimeout(r, short * 1000));
    const idle = await idleNow();
    const deadlineIn = Math.min(30, idle - 8);
    expect(deadlineIn, `the chain has been idle (${idle} s)`).to.be.at.least(5);
    const salt = "123456789";
    const o = await hardhatCli(
      [
        "job:open",
        "--input",
        "-462,404,-653,-681",
        "--salt",
        salt,
        "--deadline-in",
        String(deadlineIn),
        "--account",
        "1",
        "--network",
        "localhost",
      ],
      env,
    );
    ok(o, `job:open --deadline-in ${deadlineIn}`);
    expect(o.stdout)
      .to.match(/job id\s+2\n/)
      .and.match(/input\s+-462,404,-653,-681 \(quantized\)/)
      .and.match(new RegExp(`deadline\\s+\\S+ \\(${deadlineIn} s from this machine's clock\\)`));
    const file = path.join(dir, "node-format.json");
    fs.writeFileSync(file, JSON.stringify({ x: ["-462", "404", "-653", "-681"], salt }));
    const p = await hardhatCli(["job:prove", "--job", "2", "--input-file", file, "--account", "2", "--network", "localhost"], env);
    ok(p, "job:prove --input-file (node format)");
    expect(p.stdout).to.match(/output\s+0 \(setosa\)/);
  });

  it("the whole sequence again: only a new job; one model, one deployment, the record unchanged", async function () {
    const rec1 = record();
    for (const args of documentedSequence()) {
      const r = await hardhatCli(args, env);
      ok(r, `again: ${args.join(" ")}`);
      if (args[0] === "deploy") expect(r.stdout).to.match(/gas\s+0 \(no transaction\)/);
      if (args[0] === "model:register")
        expect(r.stdout).to.match(/model id\s+1 \(already registered with this commitment, version 1: nothing sent\)/);
      if (args[0] === "job:open") expect(r.stdout).to.match(/job id\s+3\n/);
      if (args[0] === "job:prove") expect(r.stdout).to.match(/Fulfilled already: nothing to prove/);
      if (args[0] === "job:submit") expect(r.stdout).to.match(/already: nothing sent/);
      if (args[0] === "market:withdraw") expect(r.stdout).to.match(/nothing sent/);
    }
    const st = await hardhatCli(["job:status", "--job", "1", "--network", "localhost"], env);
    ok(st, "job:status");
    expect(st.stdout).to.match(/model\s+iris-mlp \(id 1, version 1\)/);
    const rec2 = record();
    expect(Object.keys(rec2.models)).to.deep.equal(["iris-mlp"]);
    expect(rec2.models["iris-mlp"].modelId).to.equal("1");
    expect(rec2.models["iris-mlp"].history).to.equal(undefined);
    expect(rec2.history).to.equal(undefined);
    expect(rec2.contracts).to.deep.equal(rec1.contracts);
    expect({ ...rec2, updatedAt: "" }).to.deep.equal({ ...rec1, updatedAt: "" });
    const { ModelRegistry__factory } = await import("../../typechain-types");
    expect(await ModelRegistry__factory.connect(rec2.contracts.ModelRegistry.address, provider).modelCount()).to.equal(1n);
  });

  it("the connection to the node drops in the middle of job:open and job:prove (issue 28 point 4): both complete, one job, nothing sent twice", async function () {
    const proxy = await startRpcProxy(node.url);
    const penv = { ...env, ZKML_LOCALHOST_PORT: new URL(proxy.url).port };
    try {
      const nonce = await provider.getTransactionCount(accounts[1]);
      // the node takes job:open's transaction, and the answer is lost on the way back
      proxy.set("lose", 1, "eth_sendTransaction");
      const o = await hardhatCli(["job:open", "--input", "-462,404,-653,-681", "--account", "1", "--network", "localhost"], penv);
      ok(o, "job:open with its transaction's answer lost");
      expect(proxy.seen.lose).to.equal(1);
      expect(o.stderr).to.match(/^\[rpc\] eth_sendTransaction: .*; retrying in \d+ ms/m);
      expect(await provider.getTransactionCount(accounts[1]), "job:open sent its transaction once").to.equal(nonce + 1);
      const id = /job id\s+(\d+)\n/.exec(o.stdout)?.[1];
      expect(id, o.stdout).to.not.equal(undefined);
      expect(fs.existsSync(path.join(dir, "jobs", "localhost", `job-${id}.input.json`))).to.equal(true);
      // job:prove's first requests are reset: it retries and proves
      proxy.set("reset", 3);
      const p = await hardhatCli(["job:prove", "--job", id!, "--account", "2", "--network", "localhost"], penv);
      ok(p, "job:prove with its first requests reset");
      expect(proxy.seen.reset).to.equal(3);
      expect(p.stdout).to.match(/output\s+0 \(setosa\)/);
    } finally {
      await proxy.close();
    }
  });
});
