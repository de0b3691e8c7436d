import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ROOT } from "../../scripts/lib/paths";
import { InferenceJobs__factory, ModelRegistry__factory } from "../../typechain-types";
import { describeError } from "../../scripts/tasks/errors";
import { contractInterfaces } from "../../scripts/tasks/lib";
import type { DeploymentRecord } from "../../scripts/tasks/records";
import { type LocalNode, freePort, startHardhatNode } from "../helpers/node";
import { rejectionMessage } from "../helpers/errors";

const MODEL = "iris-mlp";
const INPUT = "-462,404,-653,-681"; // iris held-out sample 7 (setosa), quantized at 12 bits (models/iris-mlp/quantize.json)

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx hardhat <args>` as a user runs it (the CLI entry point, without npx's own start-up). */
function hardhat(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, ZKML_QUIET: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The message a task action rejects with (in-process, through hre.run). */
describe("operator tasks (issue 6)", function () {
  let deployDir: string;
  let savedDir: string | undefined;
  before(function () {
    savedDir = process.env.ZKML_DEPLOYMENTS_DIR;
    deployDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-deployments-"));
    process.env.ZKML_DEPLOYMENTS_DIR = deployDir;
  });
  after(function () {
    if (savedDir === undefined) delete process.env.ZKML_DEPLOYMENTS_DIR;
    else process.env.ZKML_DEPLOYMENTS_DIR = savedDir;
    fs.rmSync(deployDir, { recursive: true, force: true });
  });

  describe("on a local `hardhat node`, as separate processes (network custom via ZKML_RPC_URL)", function () {
    let node: LocalNode;
    let env: Record<string, string>;
    let rec: DeploymentRecord;
    before(async function () {
      node = await startHardhatNode();
      env = { ZKML_RPC_URL: node.url, ZKML_DEPLOYMENTS_DIR: deployDir };
    });
    after(async function () {
      await node?.stop();
      if (rec?.ignitionDeploymentId)
        fs.rmSync(path.join(ROOT, "ignition", "deployments", rec.ignitionDeploymentId), { recursive: true, force: true });
    });

    it("deploy, register, open, prove, submit, status: the job is fulfilled on-chain and the record is complete", async function () {
      const net = ["--network", "custom"];
      // `hardhat test` compiled the contracts already: --no-compile saves a solc-js run.
      const d = await hardhat(["deploy", "--models", MODEL, "--no-compile", ...net], env);
      expect(d.code, d.stderr + d.stdout).to.equal(0);
      expect(d.stdout)
        .to.match(/wrote\s+.*custom\.json/)
        .and.match(/gas\s+\d+ \(/);
      rec = JSON.parse(fs.readFileSync(path.join(deployDir, "custom.json"), "utf8")) as DeploymentRecord;
      expect(rec.chainId).to.equal(31337);
      expect(rec.contracts.ModelRegistry.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(rec.contracts.InferenceJobs.block).to.be.a("number");
      expect(rec.compiler.version).to.equal(hre.config.solidity.compilers[0].version);
      const m = rec.models[MODEL];
      expect(m.manifest.r1csSha256).to.match(/^[0-9a-f]{64}$/);
      expect(m.manifest.vkHash).to.match(/^[0-9a-f]{64}$/);
      expect(m.adapter.txHash).to.match(/^0x/);

      const r = await hardhat(["model:register", "--model", MODEL, "--account", "0", ...net], env);
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      expect(r.stdout).to.match(/model id\s+1/);

      const o = await hardhat(["job:open", "--model", MODEL, "--input", INPUT, "--fee", "0.05", "--account", "1", ...net], env);
      expect(o.code, o.stderr + o.stdout).to.equal(0);
      expect(o.stdout)
        .to.match(/job id\s+1/)
        .and.match(/input commitment\s+\d+/)
        .and.match(/gas\s+\d+/);
      expect(fs.existsSync(path.join(deployDir, "jobs", "custom", "job-1.input.json"))).to.equal(true);

      const p = await hardhat(["job:prove", "--job", "1", "--account", "2", ...net], env);
      expect(p.code, p.stderr + p.stdout).to.equal(0);
      expect(p.stdout).to.match(/output\s+0 \(setosa\)/);
      expect(p.stderr).to.match(/prove \(witness \+ Groth16\): done/); // progress, plain lines

      const s = await hardhat(["job:submit", "--job", "1", ...net], env);
      expect(s.code, s.stderr + s.stdout).to.equal(0);
      expect(s.stdout).to.match(/fulfilled\s+true/);

      const st = await hardhat(["job:status", "--job", "1", ...net], env);
      expect(st.code, st.stderr + st.stdout).to.equal(0);
      expect(st.stdout)
        .to.match(/status\s+Fulfilled/)
        .and.match(/output\s+0 \(setosa\)/);

      // On-chain, independently of the tasks.
      const provider = new hre.ethers.JsonRpcProvider(node.url);
      const jobs = InferenceJobs__factory.connect(rec.contracts.InferenceJobs.address, provider);
      const [fulfilled, output] = await jobs.resultOf(1n);
      expect(fulfilled).to.equal(true);
      expect(output).to.equal(0n);
      const registry = ModelRegistry__factory.connect(rec.contracts.ModelRegistry.address, provider);
      const [commitment] = await registry.getModel(1n);
      expect(BigInt(commitment.vkHash)).to.equal(BigInt("0x" + m.manifest.vkHash));
      const after = JSON.parse(fs.readFileSync(path.join(deployDir, "custom.json"), "utf8")) as DeploymentRecord;
      expect(after.models[MODEL].modelId).to.equal("1");
      provider.destroy();
    });

    it("--help describes a task and its parameters", async function () {
      const h = await hardhat(["help", "job:open"], env);
      expect(h.stdout)
        .to.match(/Opens an inference job/)
        .and.match(/--input\s+Quantized input/)
        .and.match(/--salt/);
    });

    it("RPC down: one line naming the problem and the fix, non-zero exit", async function () {
      const port = await freePort();
      const r = await hardhat(["job:status", "--job", "1", "--network", "custom"], { ...env, ZKML_RPC_URL: `http://127.0.0.1:${port}` });
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.match(/RPC down: cannot reach network "custom" \(http:\/\/127\.0\.0\.1:\d+\); start the node/);
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
    });
  });

  describe("error paths, in-process (hre.run on the Hardhat network)", function () {
    it("no deployment for this network", async function () {
      expect(await rejectionMessage(hre.run("job:status", { job: "1" }))).to.match(
        /no deployment for network "hardhat" .*run `npx hardhat deploy --network hardhat`/,
      );
    });

    describe("after deploy + register", function () {
      before(async function () {
        await hre.run("deploy", { models: MODEL });
        await hre.run("model:register", { model: MODEL });
      });

      it("wrong proof system", async function () {
        expect(await rejectionMessage(hre.run("model:register", { model: MODEL, proofSystem: "plonk-bn254-v1" }))).to.match(
          /^wrong proof system: the verifier adapter 0x[0-9a-fA-F]{40} is 0x[0-9a-f]{8} with 4 public signals.*--proof-system groth16-bn254-v1/,
        );
      });

      it("unknown model (name not deployed here; id not in the registry)", async function () {
        expect(await rejectionMessage(hre.run("job:open", { model: "mnist-cnn", input: INPUT }))).to.match(
          /model "mnist-cnn" has no verifier on network "hardhat" .*deploy --models mnist-cnn/,
        );
        const file = path.join(deployDir, "hardhat.json");
        const saved = fs.readFileSync(file, "utf8");
        const rec = JSON.parse(saved) as DeploymentRecord;
        rec.models[MODEL].modelId = "99";
        fs.writeFileSync(file, JSON.stringify(rec));
        try {
          expect(await rejectionMessage(hre.run("job:open", { model: MODEL, input: INPUT }))).to.match(
            /^unknown model id 99: no such model in the registry/,
          );
        } finally {
          fs.writeFileSync(file, saved);
        }
      });

      it("insufficient fee", async function () {
        expect(await rejectionMessage(hre.run("job:open", { model: MODEL, input: INPUT, fee: "0" }))).to.match(
          /^insufficient fee: .*--fee/,
        );
      });

      it("bad input: names the index and the range", async function () {
        expect(await rejectionMessage(hre.run("job:open", { model: MODEL, input: "1,2,3000,4" }))).to.match(
          /--input value 2 \(3000\) is outside the model.s 12-bit input range \[-2048, 2047\]/,
        );
      });

      it("expired job: submit is refused with the reclaim hint; prove refuses up front; reclaim + withdraw refund", async function () {
        const signers = await hre.ethers.getSigners();
        const o = (await hre.run("job:open", { model: MODEL, input: INPUT, deadlineIn: 100, account: "1" })) as { data: { jobId: bigint } };
        const job = o.data.jobId.toString();
        await hre.run("job:prove", { job, account: "2" });
        await time.increase(200);
        expect(await rejectionMessage(hre.run("job:submit", { job }))).to.match(new RegExp(`^job ${job} expired at .*job:reclaim`));
        expect(await rejectionMessage(hre.run("job:prove", { job, account: "2" }))).to.match(new RegExp(`^job ${job} expired at`));
        expect(await rejectionMessage(hre.run("job:reclaim", { job, account: "2" }))).to.match(
          new RegExp(`^${signers[2].address} did not open job ${job}`),
        );
        await hre.run("job:reclaim", { job, account: "1" });
        const w = (await hre.run("prover:withdraw", { account: "1" })) as { data: { amount: bigint } };
        expect(w.data.amount).to.equal(hre.ethers.parseEther("0.01"));
        expect(await rejectionMessage(hre.run("prover:withdraw", { account: "1" }))).to.match(/has nothing to withdraw/);
      });

      it("unknown job id", async function () {
        expect(await rejectionMessage(hre.run("job:status", { job: "999" }))).to.match(/^unknown job id 999/);
      });

      it("nonce too low (a real node error, through the same translator)", async function () {
        const [a] = await hre.ethers.getSigners();
        let err: unknown;
        try {
          await a.sendTransaction({ to: a.address, value: 1n, nonce: 0 });
        } catch (e) {
          err = e;
        }
        expect(describeError(err, { network: "hardhat", interfaces: contractInterfaces() })).to.match(
          /^nonce too low on network "hardhat": .*wait for it to be mined/,
        );
      });

      it("--verify on a local chain is refused before anything is sent", async function () {
        expect(await rejectionMessage(hre.run("deploy", { verify: true }))).to.match(
          /--verify needs a public block explorer, and network "hardhat" is a local chain \(31337\)/,
        );
      });
    });
  });
});
