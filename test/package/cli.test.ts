/**
 * `zkml`, the package's operator command (scripts/apps/cli/zkml.ts), as a separate process against a `hardhat node`
 * with the test kit's market: list models, open a job from raw features, read its proven result, reclaim; every
 * mistake is one line naming the fix, before any transaction.
 */
import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet } from "ethers";
import { ROOT } from "../../scripts/util/paths";
import { type LocalNode, startHardhatNode } from "../../scripts/chain/local-node";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";

describe("zkml command line (package bin)", function () {
  this.timeout(300_000);
  let chain: LocalNode;
  let kit: InferenceKit;
  let cwd: string;
  let env: NodeJS.ProcessEnv;

  const zkml = (...args: string[]) => {
    const r = spawnSync(
      process.execPath,
      ["-r", require.resolve("ts-node/register/transpile-only"), path.join(ROOT, "scripts", "apps", "cli", "zkml.ts"), ...args],
      {
        cwd,
        env: { ...env, TS_NODE_FILES: "true", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
        encoding: "utf8",
        timeout: 300_000,
      },
    );
    if (r.error || r.signal)
      throw new Error(`zkml ${args.join(" ")}: ${r.error?.message ?? r.signal}\n${r.stdout}\n${r.stderr.slice(-3000)}`);
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  before(async function () {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-cli-"));
    await writeKitBundles(hre, path.join(cwd, "bundles"), ["iris-mlp"]);
    chain = await startHardhatNode();
    const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1 });
    kit = await deployInferenceKitWith(
      [0, 1, 18, 19].map((i) => new Wallet(devKey(i), provider)),
      { models: ["iris-mlp"], bundlesDir: path.join(cwd, "bundles") },
    );
    env = { ...process.env, ZKML_RPC_URL: chain.url, ZKML_JOBS_ADDRESS: await kit.jobs.getAddress(), ZKML_PRIVATE_KEY: devKey(6) };
  });
  after(async () => {
    await chain?.stop();
  });

  it("lists the models with their cards", function () {
    const r = zkml("models");
    expect(r.err).to.equal("");
    expect(r.out).to.match(
      /^model 1 v1, owner 0x[0-9a-fA-F]{40}: iris-mlp: classification, 4 inputs \(committed\), outputs setosa\/versicolor\/virginica, 656 constraints$/,
    );
  });

  it("opens a job from raw features, writes its job file, and reports the proven class", async function () {
    const r = zkml("job", "open", "--model", "1", "--raw", "5.1,3.5,1.4,0.2", "--fee", "0.01", "--out", "iris.job.json");
    expect(r.err).to.equal("");
    const jobId = /^job (\d+) opened on model 1 v1/.exec(r.out)?.[1];
    expect(jobId, r.out).to.not.equal(undefined);
    const file = JSON.parse(fs.readFileSync(path.join(cwd, "iris.job.json"), "utf8")) as { jobId: string; x: string[]; salt: string };
    expect(file.jobId).to.equal(jobId);
    expect((fs.statSync(path.join(cwd, "iris.job.json")).mode & 0o777).toString(8)).to.equal("600");
    expect(zkml("job", "status", "--job", jobId!).out).to.equal(`job ${jobId} open`);
    const [done] = await kit.fulfilJobs();
    expect(done.output).to.equal(0n);
    const s = zkml("job", "wait", "--job", jobId!, "--timeout", "30");
    expect(s.out).to.equal(`job ${jobId} fulfilled: class 0 (setosa), proven by ${await kit.prover.getAddress()}`);
  });

  it("says what is wrong in one line, before any transaction", async function () {
    const before = await kit.jobs.nextJobId();
    const cases: [string[], NodeJS.ProcessEnv, string | RegExp][] = [
      [
        ["job", "open", "--model", "1", "--raw", "5.1,x", "--fee", "0.01"],
        {},
        '--raw: value 1 ("x") is not a number; give comma-separated numbers, e.g. --raw 5.1,3.5,1.4,0.2',
      ],
      [["job", "open", "--model", "1", "--raw", "1,2,3", "--fee", "0.01"], {}, "input has 3 values; model iris-mlp takes 4"],
      [["job", "open", "--model", "1", "--raw", "1,2,3,4", "--fee", "lots"], {}, "--fee lots: give an amount of ETH, e.g. --fee 0.01"],
      [["job", "open", "--model", "1", "--raw", "1,2,3,4", "--fee", "0.01"], { ZKML_PRIVATE_KEY: "" }, /^ZKML_PRIVATE_KEY is not set/],
      [
        ["job", "open", "--model", "1", "--raw", "1,2,3,4", "--fee", "0.01", "--delivery", "carrier"],
        {},
        "--delivery carrier: one of data, uri, private",
      ],
      [["job", "status"], {}, "--job is missing: give --job <id>"],
      [["models"], { ZKML_RPC_URL: "" }, "--rpc is missing: give --rpc http://127.0.0.1:8545 or set ZKML_RPC_URL"],
      [["job", "fly"], {}, 'unknown command "job fly"; run zkml --help'],
      [["models", "--colour"], {}, /^unknown option --colour; usage: zkml <command>/],
      [["prover"], { PROVER_PRIVATE_KEY: "" }, /^PROVER_PRIVATE_KEY is not set: export PROVER_PRIVATE_KEY=/],
    ];
    for (const [args, extra, msg] of cases) {
      const saved = env;
      env = { ...env, ...extra };
      const r = zkml(...args);
      env = saved;
      expect(r.code, args.join(" ")).to.equal(1);
      const line = r.err.replace(/^error: /, "");
      expect(r.err.split("\n").length, r.err).to.equal(1);
      if (typeof msg === "string") expect(line).to.equal(msg);
      else expect(line).to.match(msg);
    }
    expect(await kit.jobs.nextJobId()).to.equal(before);
  });

  it("publishes an ONNX model: imported, quantized, compiled, bundled on IPFS, registered", async function () {
    const fx = (f: string) => path.join(ROOT, "test", "fixtures", "onnx", f);
    const r = zkml(
      "publish",
      "--onnx",
      fx("bn1d-mlp.onnx"),
      "--calibration",
      fx("bn1d-mlp.calib.npy"),
      "--reference",
      fx("bn1d-mlp.json"),
      "--name",
      "cli-mlp",
      "--license",
      "MIT",
      "--ipfs-dir",
      path.join(cwd, "ipfs"),
    );
    expect(r.code, r.err).to.equal(0);
    const m = /^model (\d+) v1 \(cli-mlp\) registered: uri (ipfs:\/\/\S+), verifier 0x[0-9a-fA-F]{40}, \d+ gas$/m.exec(r.out);
    expect(m, r.out).to.not.equal(null);
    const v = await kit.client.getVersion(BigInt(m![1]));
    expect([v.uri, v.layout.inputCount, v.layout.outputCount]).to.deep.equal([m![2], 5, 3]);
    expect(fs.existsSync(path.join(cwd, "zkml-models", "models", "cli-mlp", "cli-mlp.float.json"))).to.equal(true);
    const missing = zkml("publish", "--onnx", fx("bn1d-mlp.onnx"));
    expect(missing.err).to.equal("error: --calibration is missing: give --calibration <inputs.npy|.json|.csv>");
    const absent = zkml("publish", "--onnx", "nope.onnx", "--calibration", fx("bn1d-mlp.calib.npy"));
    expect(absent.err).to.equal("error: --onnx nope.onnx: no such file; give the .onnx file your framework exported");
  });

  it("decodes a market revert: reclaiming before the deadline", function () {
    const open = zkml("job", "open", "--model", "1", "--raw", "6.3,2.9,5.6,1.8", "--fee", "0.01");
    const jobId = /^job (\d+)/.exec(open.out)![1];
    const r = zkml("job", "reclaim", "--job", jobId);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(new RegExp(`^error: job ${jobId} is still open until .*: reclaim only after its deadline$`));
  });
});
