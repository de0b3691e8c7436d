/**
 * The explorer's indexer on Postgres (`DATABASE_URL`, docs/operators.md "Explorer"), the configuration for an operator
 * who outgrows the embedded database: a throwaway PostgreSQL cluster of this machine's server (Debian's postgresql;
 * installed by .ci/run; skipped outside CI where none is installed), a hardhat node with the iris model, a job proven with a real proof.
 * The indexer indexes it into Postgres, follows a new job live, and a restart on the same schema resumes without
 * duplicating anything.
 */
import { expect } from "chai";
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet } from "ethers";
import { type LocalNode, freePort, startHardhatNode } from "../../scripts/chain/local-node";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { type RunningIndexer, startIndexer } from "../../scripts/apps/explorer/indexer";
import { until } from "../../scripts/util/wait";

/** The newest PostgreSQL server binaries of this machine (Debian: /usr/lib/postgresql/<major>/bin). */
function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const majors = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length ? path.join(root, majors[0], "bin") : undefined;
}

describe("explorer indexer on Postgres (DATABASE_URL)", function () {
  this.timeout(300_000);
  const bin = postgresBin();
  let tmp: string;
  let pg: ChildProcess | undefined;
  let databaseUrl: string;
  let chain: LocalNode | undefined;
  let kit: InferenceKit;
  let indexer: RunningIndexer | undefined;

  // initdb and postgres refuse to run as root: as root, the cluster belongs to the postgres account
  const asOwner = (cmd: string, args: string[]): [string, string[]] =>
    process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];

  before(async function () {
    if (!bin) {
      if (process.env.CI) throw new Error("no PostgreSQL server: .ci/run installs Debian's postgresql with apt-get");
      console.log("    (skipped: no PostgreSQL server here; `apt-get install postgresql` to run it)");
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-pg-"));
    const data = path.join(tmp, "pgdata");
    fs.mkdirSync(data);
    if (process.getuid?.() === 0) execFileSync("chown", ["-R", "postgres", tmp]);
    execFileSync(...asOwner(path.join(bin!, "initdb"), ["-D", data, "-U", "explorer", "--auth=trust", "-E", "UTF8"]), { stdio: "pipe" });
    const port = await freePort();
    pg = spawn(...asOwner(path.join(bin!, "postgres"), ["-D", data, "-p", String(port), "-k", tmp, "-h", "127.0.0.1"]), {
      stdio: "ignore",
    });
    await until(
      () => {
        try {
          execFileSync(path.join(bin!, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], { stdio: "pipe" });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      "postgres accepting connections",
    );
    databaseUrl = `postgres://explorer@127.0.0.1:${port}/postgres`;

    await writeKitBundles(hre, path.join(tmp, "bundles"), ["iris-mlp"]);
    chain = await startHardhatNode();
    const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1 });
    kit = await deployInferenceKitWith(
      [0, 1, 18, 19].map((i) => new Wallet(devKey(i), provider)),
      { models: ["iris-mlp"], bundlesDir: path.join(tmp, "bundles") },
    );
  });

  after(async function () {
    await indexer?.stop();
    await chain?.stop();
    if (pg && pg.exitCode === null) {
      const exited = new Promise((r) => pg!.once("exit", r));
      // pg_ctl, not a signal to runuser (which does not pass it on): postgres' fast shutdown
      execFileSync(...asOwner(path.join(bin!, "pg_ctl"), ["-D", path.join(tmp, "pgdata"), "-m", "fast", "-w", "stop"]), { stdio: "pipe" });
      await exited;
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const get = async (p: string) => (await (await fetch(`${indexer!.url}${p}`)).json()) as Record<string, unknown>;
  const start = async () =>
    startIndexer({
      rpcUrl: chain!.url,
      chainId: 31337,
      jobs: await kit.jobs.getAddress(),
      dbDir: path.join(tmp, "unused-pglite"),
      databaseUrl,
      schema: "zkml_test",
      pollMs: 200,
      readyTimeoutMs: 120_000,
    });

  it("indexes a proven job into Postgres, follows a new one live, and resumes after a restart without duplicates", async function () {
    const modelId = kit.modelId("iris-mlp");
    const first = (await kit.client.openJob({ modelId, input: { raw: [5.1, 3.5, 1.4, 0.2] }, fee: 10n ** 16n })).jobId;
    await kit.fulfilJobs();
    indexer = await start();
    await indexer.waitForBlock(await kit.jobs.runner!.provider!.getBlockNumber());
    expect(((await get(`/api/jobs/${first}`)).job as { status: string }).status).to.equal("fulfilled");
    // the tables are in Postgres, in the schema asked for, not in the embedded database
    expect(fs.existsSync(path.join(tmp, "unused-pglite"))).to.equal(true);
    expect(fs.readdirSync(path.join(tmp, "unused-pglite"))).to.deep.equal([]);

    // a job opened while it runs
    const second = (await kit.client.openJob({ modelId, input: { raw: [6.7, 3.0, 5.2, 2.3] }, fee: 10n ** 16n })).jobId;
    await until(async () => (await fetch(`${indexer!.url}/api/jobs/${second}`)).status === 200, 10_000, "the live job indexed");

    // restarted on the same schema: it resumes, nothing twice
    await indexer.stop();
    await kit.fulfilJobs();
    indexer = await start();
    await indexer.waitForBlock(await kit.jobs.runner!.provider!.getBlockNumber());
    const list = (await get("/api/jobs?limit=50")) as { items: { jobId: string; status: string }[]; total: number };
    expect(list.total).to.equal(2);
    expect(list.items.map((j) => [j.jobId, j.status]).sort()).to.deep.equal([
      [first.toString(), "fulfilled"],
      [second.toString(), "fulfilled"],
    ]);
  });
});
