import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import hre from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  MockERC20__factory,
  MockFeeOnTransferToken__factory,
  MockObservationOracle__factory,
  MockRequester__factory,
  MockSubscriptionConsumer__factory,
  ScheduledForecaster__factory,
} from "../../typechain-types";
import { describeError } from "../../scripts/chain/errors";
import { contractInterfaces } from "../../scripts/apps/tasks/common";
import type { DeploymentRecord } from "../../scripts/apps/tasks/records";
import type { JobInputFile } from "../../scripts/formats/job-input";
import { loadQuantizedModel, modelPaths } from "../../scripts/pipelines/build";
import { ROOT } from "../../scripts/util/paths";
import { inputCommitment } from "../../scripts/formats/quantized-model";
import { freePort } from "../helpers/node";
import { rejectionMessage } from "../helpers/errors";
import { errorLines, hardhatCli } from "../helpers/cli";

const MODEL = "iris-mlp";
const INPUT = "-462,404,-653,-681"; // iris held-out sample 7 (setosa), quantized at 12 bits (models/iris-mlp/quantize.json)
const TEMPS = "18.3,19.4,15.6,11.1,12.2,16.7,17.8"; // a week of daily highs (degrees C), temp-forecast's raw input

/**
 * Operator tasks in-process (hre.run on the Hardhat network): the error paths and re-runs that need a state the
 * walk of docs/operators.md (test/tasks/walk.test.ts) does not reach. Every failing task must leave the chain as it
 * was: the block number is compared before and after.
 */
describe("operator tasks (issues 6, 14)", function () {
  let deployDir: string;
  let savedDir: string | undefined;
  const block = (): Promise<number> => hre.ethers.provider.getBlockNumber();
  /** The task's rejection message, asserting that no block was mined (nothing sent). */
  async function refused(task: () => Promise<unknown>): Promise<string> {
    const before = await block();
    const msg = await rejectionMessage(task());
    expect(await block(), `a transaction was sent before: ${msg}`).to.equal(before);
    return msg;
  }

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

  describe("as separate processes", function () {
    it('--help shows real defaults, never (default: "")', async function () {
      const h = await hardhatCli(["help", "job:open"], {});
      expect(h.stdout)
        .to.match(/Opens an inference job/)
        .and.match(/--input\s+Required\. The input/)
        .and.match(/--fee\s+Fee in ETH.*\(default: "0\.01"\)/)
        .and.match(/--deadline-in\s+.*\(default: 3600\)/);
      expect(h.stdout).to.not.match(/default: ""/);
      for (const t of ["deploy", "setup:contribute"]) {
        const r = await hardhatCli(["help", t], {});
        expect(r.stdout, t).to.not.match(/default: ""/);
      }
    });

    it('model:build lists what it left unchanged (no "wrote" for those) and takes --ptau like npm run build:model', async function () {
      const b = await hardhatCli(["model:build", "--model", MODEL, "--no-quantize"], {});
      expect(b.code, b.stderr).to.equal(0);
      expect(b.stdout)
        .to.match(/unchanged\s+contracts\/verifiers\/IrisMlpGroth16Verifier\.sol/)
        .and.not.match(/wrote\s+contracts/);
      const p = await hardhatCli(["model:build", "--ptau", "/nonexistent/ceremony.ptau"], {});
      expect(p.code).to.equal(1);
      expect(errorLines(p)).to.deep.equal([
        "error: --ptau /nonexistent/ceremony.ptau: file not found; give a downloaded ceremony .ptau file (docs/trusted-setup.md)",
      ]);
    });

    it("RPC down: one line naming the problem and the fix, non-zero exit", async function () {
      const port = await freePort();
      const r = await hardhatCli(["job:status", "--job", "1", "--network", "custom"], { ZKML_RPC_URL: `http://127.0.0.1:${port}` });
      expect(r.code).to.equal(1);
      expect(errorLines(r)).to.have.length(1);
      expect(r.stderr).to.match(/RPC down: cannot reach network "custom" \(http:\/\/127\.0\.0\.1:\d+\); start the node/);
      expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
    });
  });

  describe("in-process (hre.run on the Hardhat network)", function () {
    it("no deployment for this network", async function () {
      expect(await rejectionMessage(hre.run("job:status", { job: "1" }))).to.match(
        /no deployment for network "hardhat" .*run `npx hardhat deploy --models iris-mlp --network hardhat`/,
      );
    });

    describe("after deploy + register", function () {
      before(async function () {
        await hre.run("deploy", { models: MODEL });
        await hre.run("model:register", { model: MODEL });
      });
      const rec = (): DeploymentRecord => JSON.parse(fs.readFileSync(path.join(deployDir, "hardhat.json"), "utf8")) as DeploymentRecord;

      it("model:register again: the same commitment is recognised, nothing sent; --new keeps the first id in the history", async function () {
        const before = await block();
        const again = (await hre.run("model:register", { model: MODEL })) as { data: { modelId: bigint; alreadyRegistered?: boolean } };
        expect(again.data).to.deep.include({ modelId: 1n, alreadyRegistered: true });
        expect(await block()).to.equal(before);
        expect(rec().models[MODEL].modelId).to.equal("1");

        const fresh = (await hre.run("model:register", { model: MODEL, new: true })) as { data: { modelId: bigint } };
        expect(fresh.data.modelId).to.equal(2n);
        const r = rec();
        expect(r.models[MODEL].modelId).to.equal("2");
        expect(r.models[MODEL].history?.map((h) => h.modelId)).to.deep.equal(["1"]);
        // A job on the first id still resolves to the model's name.
        const file = path.join(deployDir, "hardhat.json");
        const saved = fs.readFileSync(file, "utf8");
        const old = JSON.parse(saved) as DeploymentRecord;
        old.models[MODEL].modelId = "1";
        fs.writeFileSync(file, JSON.stringify(old));
        const o = (await hre.run("job:open", { model: MODEL, input: INPUT })) as { data: { jobId: bigint } };
        fs.writeFileSync(file, saved);
        const st = (await hre.run("job:status", { job: o.data.jobId.toString() })) as { data: { model: string } };
        expect(st.data.model).to.equal(MODEL);
        // Another commitment recorded for the model (as after a redeploy with other keys): --update or --new required.
        // (On id 1, which nothing below uses: the record is restored to id 2 afterwards.)
        const changed = JSON.parse(saved) as DeploymentRecord;
        changed.models[MODEL].modelId = "1";
        changed.models[MODEL].manifest.modelCommitment = "12345";
        fs.writeFileSync(file, JSON.stringify(changed));
        try {
          expect(await refused(() => hre.run("model:register", { model: MODEL }))).to.match(
            /^iris-mlp is registered as model id 1 \(version 1\) with another commitment .*pass --update to add it as version 2 of id 1, or --new/,
          );
          const u = (await hre.run("model:register", { model: MODEL, update: true })) as { lines: [string, string][] };
          expect(u.lines[0][1]).to.equal("1 (version 2)");
        } finally {
          fs.writeFileSync(file, saved);
        }
      });

      it("wrong proof system: decoded from the preflight static call, nothing sent", async function () {
        expect(await refused(() => hre.run("model:register", { model: MODEL, proofSystem: "plonk-bn254-v1" }))).to.match(
          /^wrong proof system: the verifier adapter 0x[0-9a-fA-F]{40} is 0x[0-9a-f]{8} with 4 public signals.*--proof-system groth16-bn254-v1/,
        );
      });

      it("unknown model (name not deployed here; id not in the registry)", async function () {
        expect(await refused(() => hre.run("job:open", { model: "mnist-mlp", input: INPUT }))).to.match(/--model mnist-mlp: not built yet/);
        const file = path.join(deployDir, "hardhat.json");
        const saved = fs.readFileSync(file, "utf8");
        const r = JSON.parse(saved) as DeploymentRecord;
        r.models[MODEL].modelId = "99";
        fs.writeFileSync(file, JSON.stringify(r));
        try {
          expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT }))).to.match(
            /^unknown model id 99: no such model in the registry/,
          );
        } finally {
          fs.writeFileSync(file, saved);
        }
      });

      it("the model version a job pins is checked before anything is sent (issue 27 finding 1)", async function () {
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, modelVersion: "0" }))).to.match(
          /^--model-version 0: give a version number/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, modelVersion: "2" }))).to.match(
          /^--model-version 2: model iris-mlp \(id \d+\) is at version 1 on chain, and the market pins only the current version/,
        );
        // a deployment record whose adapter is not the one registered: the requester's local model is not the chain's
        const file = path.join(deployDir, "hardhat.json");
        const saved = fs.readFileSync(file, "utf8");
        const r = JSON.parse(saved) as DeploymentRecord;
        r.models[MODEL].manifest.vkHash = "0x" + "11".repeat(32);
        fs.writeFileSync(file, JSON.stringify(r));
        try {
          expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT }))).to.match(
            /^model iris-mlp \(id \d+\) is at version 1 on chain, whose adapter 0x[0-9a-fA-F]{40} \/ vk 0x[0-9a-f]{64} is not the one this deployment record registered/,
          );
        } finally {
          fs.writeFileSync(file, saved);
        }
      });

      it("fee, deadline, input and output path are checked before anything is sent", async function () {
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, fee: "0" }))).to.match(/^--fee 0: must be above zero/);
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, fee: "-1" }))).to.match(
          /^--fee -1: must be above zero/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, fee: "100000" }))).to.match(
          /^--fee 100000: account 0x[0-9a-fA-F]{40} has [\d.]+ ETH, not enough/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, deadlineIn: -5 }))).to.match(
          /^--deadline-in -5: give a positive/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: "1,2,3000,4" }))).to.match(
          /^--input value 2 \(3000\) is outside the model.s 12-bit input range \[-2048, 2047\]/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL }))).to.match(/^--input is required/);
        const notDir = path.join(deployDir, "a-file");
        fs.writeFileSync(notDir, "");
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, out: path.join(notDir, "job.json") }))).to.match(
          /^--out .*: cannot write there \((ENOTDIR|EEXIST)\)/,
        );
        expect(await refused(() => hre.run("job:deliver", { job: 1, designate: "nope" }))).to.match(
          /^--designate nope: give the prover's address \(0x \+ 40 hex digits\), or "any"/,
        );
        expect(await refused(() => hre.run("job:status", { job: "abc" }))).to.match(/^--job abc: a job id is a positive integer/);
        expect(await refused(() => hre.run("job:status", { job: -1 }))).to.match(/^--job -1: a job id is a positive integer/);
      });

      it("raw input: quantized with the model's preprocessing, the same commitment as the quantized values", async function () {
        const a = (await hre.run("job:open", { model: MODEL, input: "5.1,3.4,1.5,0.2", salt: "7" })) as {
          data: { x: bigint[]; file: string };
        };
        expect(a.data.x.map(String).join(",")).to.equal(INPUT);
        const f = JSON.parse(fs.readFileSync(a.data.file, "utf8")) as JobInputFile;
        expect(f).to.deep.include({ format: "zkml-job-input-v1", x: INPUT.split(","), salt: "7", raw: [5.1, 3.4, 1.5, 0.2] });
        const m = loadQuantizedModel(MODEL);
        expect(f.inputCommitment).to.equal((await inputCommitment(m, INPUT.split(",").map(BigInt), 7n)).toString());
        const q = (await hre.run("job:open", { model: MODEL, input: a.data.file })) as { data: { inputCommitment: bigint } };
        expect(q.data.inputCommitment.toString()).to.equal(f.inputCommitment); // the file's salt is reused
      });

      it("expired job: submit and reclaim are preflighted; prove refuses up front; reclaim + withdraw refund", async function () {
        const signers = await hre.ethers.getSigners();
        const o = (await hre.run("job:open", { model: MODEL, input: INPUT, deadlineIn: 100, account: "1" })) as { data: { jobId: bigint } };
        const job = o.data.jobId.toString();
        expect(await refused(() => hre.run("job:reclaim", { job, account: "1" }))).to.match(
          new RegExp(`^job ${job} is still open until .*reclaim only after`),
        );
        await hre.run("job:prove", { job, account: "2" });
        await time.increase(200);
        expect(await refused(() => hre.run("job:submit", { job }))).to.match(new RegExp(`^job ${job} expired at .*job:reclaim`));
        expect(await refused(() => hre.run("job:prove", { job, account: "2" }))).to.match(new RegExp(`^job ${job} expired at`));
        expect(await refused(() => hre.run("job:reclaim", { job, account: "2" }))).to.equal(
          `job ${job} was opened by ${signers[1].address}, not ${signers[2].address}: reclaim with --account ${signers[1].address}`,
        );
        await hre.run("job:reclaim", { job, account: "1" });
        expect(await refused(() => hre.run("job:reclaim", { job, account: "1" }))).to.match(
          new RegExp(`^job ${job} is Reclaimed, not open`),
        );
        const w = (await hre.run("market:withdraw", { account: "1" })) as { data: { amount: bigint } };
        expect(w.data.amount).to.equal(hre.ethers.parseEther("0.01"));
        const before = await block();
        const again = (await hre.run("market:withdraw", { account: "1" })) as { data: { amount: bigint } };
        expect(again.data.amount).to.equal(0n);
        expect(await block()).to.equal(before);
        // The chain is now ahead of this machine's clock: the deadline counts from the chain, and says so.
        const later = (await hre.run("job:open", { model: MODEL, input: INPUT })) as { lines: [string, string][] };
        expect(later.lines.find(([k]) => k === "deadline")?.[1]).to.match(/3600 s from the chain's latest block time \(\d+ s ahead/);
      });

      it("a failed requester callback is reported by job:submit (CallbackFailed)", async function () {
        const [deployer] = await hre.ethers.getSigners();
        const r = rec();
        const requester = await new MockRequester__factory(deployer).deploy(r.contracts.InferenceJobs.address);
        await (await requester.setBehaviour(1)).wait(); // revert in onInferenceResult
        const m = loadQuantizedModel(MODEL);
        const x = INPUT.split(",").map(BigInt);
        const c = await inputCommitment(m, x, 99n);
        const now = (await hre.ethers.provider.getBlock("latest"))!.timestamp;
        await (
          await requester.open(BigInt(r.models[MODEL].modelId!), c, now + 3600, true, { value: hre.ethers.parseEther("0.01") })
        ).wait();
        const jobs = await hre.ethers.getContractAt("InferenceJobs", r.contracts.InferenceJobs.address);
        const job = ((await jobs.nextJobId()) - 1n).toString();
        const file = path.join(deployDir, "callback-job.json");
        fs.writeFileSync(file, JSON.stringify({ x: x.map(String), salt: "99", model: MODEL }));
        await hre.run("job:prove", { job, account: "2", inputFile: file });
        const s = (await hre.run("job:submit", { job })) as {
          lines: [string, string][];
          data: { fulfilled: boolean; callbackFailed: boolean };
        };
        expect(s.data).to.deep.include({ fulfilled: true, callbackFailed: true });
        expect(s.lines.find(([k]) => k === "callback")?.[1]).to.match(/^FAILED: the requester contract 0x[0-9a-fA-F]{40} reverted/);
        const again = (await hre.run("job:submit", { job })) as { data: { alreadyFulfilled?: boolean } };
        expect(again.data.alreadyFulfilled).to.equal(true);
        // a job opened by a contract: no --account can reclaim it, and the error says so
        expect(await refused(() => hre.run("job:reclaim", { job, account: "1" }))).to.match(
          new RegExp(`^job ${job} was opened by the contract ${await requester.getAddress()}: only that contract can reclaim it`),
        );
      });

      it("unknown job id", async function () {
        expect(await refused(() => hre.run("job:status", { job: "999" }))).to.match(/^--job 999: no such job/);
        expect(await refused(() => hre.run("job:prove", { job: "999" }))).to.match(/^--job 999: no such job/);
      });

      it("nonce too low (a real node error, through the same translator)", async function () {
        const [a] = await hre.ethers.getSigners();
        let err: unknown;
        try {
          await a.sendTransaction({ to: a.address, value: 1n, nonce: 0 });
        } catch (e) {
          err = e;
        }
        expect(describeError(err, { network: "hardhat", interfaces: await contractInterfaces() })).to.match(
          /^nonce too low on network "hardhat": .*wait for it to be mined/,
        );
      });

      it("a custom error no message knows is still decoded from the ABI (by name, with its arguments)", async function () {
        const iface = (await contractInterfaces()).find((i) => i.getError("CallbackRefused"));
        const data = iface!.encodeErrorResult("CallbackRefused", [7n]);
        expect(describeError({ data }, { network: "hardhat", interfaces: await contractInterfaces() })).to.equal(
          "the contract reverted with CallbackRefused(uint256) (7)",
        );
      });

      it("job:open delivers committed inputs privately by default (job:deliver encrypts to the claimant), or as a data: URI; bad combinations are refused", async function () {
        const jobs = await hre.ethers.getContractAt("InferenceJobs", rec().contracts.InferenceJobs.address);
        const o = (await hre.run("job:open", { model: MODEL, input: INPUT, salt: "99" })) as {
          lines: [string, string][];
          data: { jobId: bigint; file: string };
        };
        expect((await jobs.getJob(o.data.jobId)).privateInput).to.equal(true);
        expect(o.lines.find(([k]) => k === "delivery")?.[1]).to.match(/^private: .*job:deliver --job \d+ --network hardhat/);
        const job = o.data.jobId.toString();
        // nothing to deliver yet: --timeout ends the agent; --designate first names the only prover that may claim
        const [, , , prover, other] = await hre.ethers.getSigners();
        const idle = (await hre.run("job:deliver", { job, timeout: "1", designate: prover.address })) as {
          data: { deliveries: unknown[]; end: string };
        };
        expect(idle.data).to.deep.equal({ deliveries: [], end: "--timeout 1 s reached" });
        expect(await jobs.designatedClaimant(o.data.jobId)).to.equal(prover.address);
        await (await jobs.connect(other).deposit({ value: await jobs.claimBond() })).wait();
        await expect(jobs.connect(other).claim(o.data.jobId)).to.be.revertedWithCustomError(jobs, "NotDesignatedClaimant");
        await (await jobs.connect(prover).deposit({ value: await jobs.claimBond() })).wait();
        await (await jobs.connect(prover).claim(o.data.jobId)).wait();
        const d = (await hre.run("job:deliver", { job, once: true })) as { data: { deliveries: { claimant: string }[]; end: string } };
        expect(d.data.deliveries.map((x) => x.claimant)).to.deep.equal([prover.address]);
        const ev = (await jobs.queryFilter(jobs.filters.InputDelivered(o.data.jobId)))[0];
        const key = hre.ethers.HDNodeWallet.fromPhrase(
          "test test test test test test test test test test test junk",
          undefined,
          "m/44'/60'/0'/0/3",
        );
        const { chainId } = await hre.ethers.provider.getNetwork();
        const { decryptDelivery } = await import("../../scripts/chain/private-input");
        const plain = decryptDelivery(ev.args.ciphertext, key.signingKey, {
          chainId,
          jobs: await jobs.getAddress(),
          jobId: o.data.jobId,
          claimant: prover.address,
        });
        expect(JSON.parse(plain)).to.deep.equal({ x: INPUT.split(","), salt: "99" });
        // the claimant proves it with the delivered opening
        const opened = path.join(deployDir, "opened.json");
        fs.writeFileSync(opened, plain);
        await hre.run("job:prove", { job, account: "3", inputFile: opened });
        expect(((await hre.run("job:submit", { job, account: "3" })) as { data: { fulfilled: boolean } }).data.fulfilled).to.equal(true);
        expect(((await hre.run("job:deliver", { job })) as { data: { end: string } }).data.end).to.equal("fulfilled");

        // data: the opening in the event, read by any prover
        const pub = (await hre.run("job:open", { model: MODEL, input: INPUT, delivery: "data" })) as { data: { jobId: bigint } };
        const opened2 = (await jobs.queryFilter(jobs.filters.JobOpened(pub.data.jobId)))[0];
        expect(opened2.args.inputURI).to.match(/^data:application\/json,/);
        expect((await jobs.getJob(pub.data.jobId)).privateInput).to.equal(false);
        expect(await refused(() => hre.run("job:deliver", { job: pub.data.jobId.toString() }))).to.match(
          /was opened with a public delivery .*nothing to deliver/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, delivery: "mail" }))).to.match(
          /^--delivery mail: must be one of private, data, uri, none/,
        );
        expect(await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, delivery: "uri" }))).to.match(
          /^--delivery uri needs --input-uri/,
        );
        expect(
          await refused(() => hre.run("job:open", { model: MODEL, input: INPUT, delivery: "private", inputUri: "https://x" })),
        ).to.match(/^--input-uri with --delivery private/);
        expect(await refused(() => hre.run("job:deliver", { job, account: "1" }))).to.match(/--account: job \d+ was opened by 0x/);
      });

      it("a public-input model (temp-forecast): register records its layout, job:open sends the values, prove and submit verify them", async function () {
        await hre.run("deploy", { models: "temp-forecast" });
        const reg = (await hre.run("model:register", { model: "temp-forecast" })) as { data: { modelId: bigint } };
        const registry = await hre.ethers.getContractAt(
          "ModelRegistry",
          await (await hre.ethers.getContractAt("InferenceJobs", rec().contracts.InferenceJobs.address)).registry(),
        );
        const layout = await registry.layoutOf(reg.data.modelId, 1n);
        expect([layout.inputMode, layout.outputHead, layout.inputCount, layout.inputBits]).to.deep.equal([1n, 1n, 7n, 12n]);
        // raw degrees C, quantized with the model's scale (2^5)
        const o = (await hre.run("job:open", { model: "temp-forecast", input: "18.3,19.4,15.6,11.1,12.2,16.7,17.8" })) as {
          lines: [string, string][];
          data: { jobId: bigint; x: bigint[] };
        };
        expect(o.data.x).to.deep.equal([586n, 621n, 499n, 355n, 390n, 534n, 570n]);
        expect(o.lines.find(([k]) => k === "note")?.[1]).to.match(/the input is public/);
        expect(
          await refused(() =>
            hre.run("job:open", { model: "temp-forecast", input: "18.3,19.4,15.6,11.1,12.2,16.7,17.8", inputUri: "data:x" }),
          ),
        ).to.match(/^--input-uri: temp-forecast takes public inputs/);
        const job = o.data.jobId.toString();
        await hre.run("job:prove", { job, account: "2" });
        const s = (await hre.run("job:submit", { job })) as { data: { fulfilled: boolean } };
        expect(s.data.fulfilled).to.equal(true);
        const jobs = await hre.ethers.getContractAt("InferenceJobs", rec().contracts.InferenceJobs.address);
        const [fulfilled, values, frac] = await jobs.valuesOf(o.data.jobId);
        expect([fulfilled, frac]).to.deep.equal([true, 9n]);
        expect(Number(values[0]) / 512).to.be.closeTo(17.55, 0.01);
        // job:status decodes a values head the way valuesOf does (issue 28 point 5), not the packed word
        const st = (await hre.run("job:status", { job })) as { lines: [string, string][] };
        expect(st.lines.find(([k]) => k === "output")?.[1]).to.match(
          new RegExp(`^(\\S+ )?${Number(values[0]) / 512} \\(${values[0]} / 2\\^9\\)$`),
        );
      });

      it("job:open --fee-token: the token, balance, allowance and a fee-on-transfer token refused before anything is sent; approved, opened, refunded; market:withdraw --token", async function () {
        const [deployer, requester] = await hre.ethers.getSigners();
        const market = rec().contracts.InferenceJobs.address;
        const usd = await new MockERC20__factory(deployer).deploy("Soak USD", "sUSD");
        const fot = await new MockFeeOnTransferToken__factory(deployer).deploy(100); // 1% burned on every transfer
        const [t, f] = [await usd.getAddress(), await fot.getAddress()];
        await (await usd.mint(requester.address, hre.ethers.parseEther("10"))).wait();
        await (await fot.mint(requester.address, hre.ethers.parseEther("10"))).wait();
        // temp-forecast (public inputs, deployed and registered by the test above): openTokenJobWithInputs
        const open = (o: Record<string, unknown>) => hre.run("job:open", { model: "temp-forecast", input: TEMPS, account: "1", ...o });
        const units = (v: string) => `${v} sUSD (${hre.ethers.parseEther(v)} units)`;
        expect(await refused(() => open({ feeToken: "0x12" }))).to.equal(
          "--fee-token 0x12: not an address; give the ERC-20 token's 0x address",
        );
        expect(await refused(() => open({ feeToken: requester.address }))).to.equal(
          `--fee-token ${requester.address}: no contract at this address on network "hardhat"; give the ERC-20 token's address`,
        );
        expect(await refused(() => open({ feeToken: rec().contracts.ModelRegistry.address }))).to.match(
          /^--fee-token 0x[0-9a-fA-F]{40}: the contract there does not answer balanceOf \(not an ERC-20 token\)/,
        );
        expect(await refused(() => open({ feeToken: t, fee: "abc" }))).to.equal(
          "--fee abc: give an amount of sUSD (at most 18 decimals), e.g. --fee 5",
        );
        expect(await refused(() => open({ feeToken: t, fee: "100" }))).to.equal(
          `--fee-token ${t}: balance of ${requester.address} is ${units("10.0")}, below the fee ${units("100.0")}; fund the account or lower --fee`,
        );
        expect(await refused(() => open({ feeToken: t, fee: "2.5", noApprove: true }))).to.equal(
          `--fee-token ${t}: allowance of market ${market} is ${units("0.0")}, below the fee ${units("2.5")}; approve the market for the fee or drop --no-approve`,
        );
        expect(await refused(() => open({ noApprove: true }))).to.equal(
          "--no-approve is for --fee-token: drop it (an ETH fee needs no approval)",
        );
        // the approval and the open simulated together: the market would receive 99% of the fee, and nothing is sent
        // (this token has no decimals(): --fee is in its smallest units)
        expect(await refused(() => open({ feeToken: f, fee: "1.5" }))).to.equal(
          `--fee 1.5: token ${f} has no decimals(), so --fee is in its smallest units: give a whole number`,
        );
        expect(await refused(() => open({ feeToken: f, fee: "1000000" }))).to.equal(
          `--fee-token ${f}: token ${f} delivered 990000 of the 1000000 units pulled: a fee-on-transfer or deflationary token, which the market refuses (docs/market-rules.md, "Payment tokens"); pay in another token or in ETH (drop --fee-token)`,
        );
        expect(await fot.allowance(requester.address, market)).to.equal(0n);

        const o = (await open({ feeToken: t, fee: "2.5", deadlineIn: 100 })) as {
          lines: [string, string][];
          data: { jobId: bigint; feeToken: string };
        };
        const jobs = await hre.ethers.getContractAt("InferenceJobs", market);
        expect(await jobs.feeTokenOf(o.data.jobId)).to.equal(t);
        expect((await jobs.getJob(o.data.jobId)).escrow).to.equal(hre.ethers.parseEther("2.5"));
        expect(o.lines.find(([k]) => k === "fee")?.[1]).to.equal(`${units("2.5")} of token ${t}`);
        expect(o.lines.find(([k]) => k === "approval")?.[1]).to.match(/^the market approved for the fee \(0x[0-9a-f]{64}\)$/);
        // unserved past its deadline: reclaimed, the fee back in the requester's token balance (a prover's fee lands the same way)
        await time.increase(200);
        await hre.run("job:reclaim", { job: o.data.jobId.toString(), account: "1" });
        expect(await refused(() => hre.run("market:withdraw", { account: "1", token: "0x12" }))).to.match(/^--token 0x12: not an address/);
        const w = (await hre.run("market:withdraw", { account: "1", token: t })) as { lines: [string, string][]; data: { amount: bigint } };
        expect(w.data.amount).to.equal(hre.ethers.parseEther("2.5"));
        expect(w.lines.find(([k]) => k === "withdrawn")?.[1]).to.equal(`${units("2.5")} of token ${t}`);
        expect(await usd.balanceOf(requester.address)).to.equal(hre.ethers.parseEther("10"));
        const before = await block();
        expect(((await hre.run("market:withdraw", { account: "1", token: t })) as { data: { amount: bigint } }).data.amount).to.equal(0n);
        expect(await block()).to.equal(before);
      });

      it("subscription tasks: create through the consumer (never from an account), status, open a run, withdraw the tip, top up in ETH and in a token, cancel through the consumer's owner, reclaim an expired run; refusals before anything is sent", async function () {
        const signers = await hre.ethers.getSigners();
        const [owner, , , opener, funder] = signers;
        const r = rec();
        const subsAddress = r.contracts.InferenceSubscriptions!.address;
        const tf = BigInt(r.models["temp-forecast"].modelId!);
        const registry = await hre.ethers.getContractAt("ModelRegistry", r.contracts.ModelRegistry.address);
        const [version] = await registry.currentVersion(tf);
        const oracle = await new MockObservationOracle__factory(owner).deploy();
        await (await oracle.record([586n, 621n, 499n, 355n, 390n, 534n, 570n])).wait();
        const f = await new ScheduledForecaster__factory(owner).deploy(
          subsAddress,
          await oracle.getAddress(),
          tf,
          version,
          0n,
          1n << 20n,
          0n,
        );
        const consumer = await f.getAddress();
        const create = (o: Record<string, unknown>) =>
          hre.run("subscription:create", { consumer, interval: "3600", runs: "2", fee: "0.01", tip: "0.001", ...o });
        expect(await refused(() => create({ consumer: undefined }))).to.match(
          /^--consumer is required: a subscription belongs to the contract whose subscriptionInputs view gives each run's inputs/,
        );
        expect(await refused(() => create({ consumer: opener.address }))).to.match(
          new RegExp(`^--consumer ${opener.address}: no contract there, and a subscription's owner must be the contract`),
        );
        expect(await refused(() => create({ consumer: r.contracts.InferenceJobs.address }))).to.match(
          /: the contract there is not a SubscriptionConsumer \(no subscriptions\(\)\)/,
        );
        expect(await refused(() => create({ interval: "30" }))).to.equal(
          "--interval 30: the subscriptions contract takes intervals of at least 60 s",
        );
        expect(await refused(() => create({ runs: "0" }))).to.equal("--runs 0: give a positive whole number, e.g. --runs 3");
        expect(await refused(() => create({ account: "3" }))).to.equal(
          `--consumer ${consumer}: only its owner ${owner.address} may call its start, not ${opener.address}: pass --account ${owner.address}`,
        );
        const c = (await create({})) as { data: { subscriptionId: bigint } };
        const id = c.data.subscriptionId.toString();
        expect(await refused(() => create({}))).to.match(
          new RegExp(`^--consumer ${consumer} runs subscription ${id} already \\(2 runs left\\)`),
        );

        const st = (await hre.run("subscription:status", { subscription: id })) as { lines: [string, string][] };
        const line = (res: { lines: [string, string][] }, k: string) => res.lines.find(([key]) => key === k)?.[1];
        expect(line(st, "state")).to.match(/^run 0 due now/);
        expect(line(st, "owner")).to.equal(`${consumer} (consumer contract)`);
        expect(line(st, "escrow left")).to.equal("0.022 ETH");
        const list = (await hre.run("subscription:status", { owner: consumer })) as { data: { ids: bigint[] } };
        expect(list.data.ids).to.deep.equal([BigInt(id)]);
        expect(await refused(() => hre.run("subscription:status", { subscription: "999" }))).to.match(
          /^subscriptionId 999: no such subscription/,
        );

        const o = (await hre.run("subscription:open-run", { subscription: id, account: "3" })) as { data: { jobId: bigint } };
        expect(await refused(() => hre.run("subscription:open-run", { subscription: id, account: "3" }))).to.match(
          new RegExp(`^subscriptionId ${id}: run 0 is not due; the next run opens at \\d+`),
        );
        const tip = (await hre.run("subscription:withdraw", { account: "3" })) as { data: { amount: bigint } };
        expect(tip.data.amount).to.equal(hre.ethers.parseEther("0.001"));
        const before = await block();
        expect(((await hre.run("subscription:withdraw", { account: "3" })) as { data: { amount: bigint } }).data.amount).to.equal(0n);
        expect(await block()).to.equal(before);
        expect(
          ((await hre.run("subscription:top-up", { subscription: id, runs: "1", account: "4" })) as { data: { runs: bigint } }).data.runs,
        ).to.equal(3n);

        // cancel: only through the consumer's owner; two runs not opened refunded (stop() sends them on to the owner)
        expect(await refused(() => hre.run("subscription:cancel", { subscription: id, account: "3" }))).to.equal(
          `subscription ${id}'s consumer ${consumer}: only its owner ${owner.address} may call its stop, not ${opener.address}: pass --account ${owner.address}`,
        );
        const x = (await hre.run("subscription:cancel", { subscription: id })) as { data: { refunded: bigint } };
        expect(x.data.refunded).to.equal(2n * hre.ethers.parseEther("0.011"));
        expect(line((await hre.run("subscription:status", { subscription: id })) as { lines: [string, string][] }, "state")).to.equal(
          "cancelled",
        );
        // the opened run's job expires unserved: anyone reclaims it, through the subscriptions contract, for the owner
        const subs = await hre.ethers.getContractAt("InferenceSubscriptions", subsAddress);
        expect(await refused(() => hre.run("job:reclaim", { job: o.data.jobId.toString(), account: "4" }))).to.match(
          new RegExp(`^job ${o.data.jobId} is still open until .*: reclaim only after its deadline`),
        );
        await time.increase(3601);
        const rc = (await hre.run("job:reclaim", { job: o.data.jobId.toString(), account: "4" })) as { lines: [string, string][] };
        expect(line(rc, "run")).to.equal(`run 0 of subscription ${id}`);
        expect(await subs.creditOf(consumer)).to.equal(hre.ethers.parseEther("0.01"));

        // a token subscription (created by a consumer's own function): topped up, its run opened, the tip withdrawn in the token
        const usd = await new MockERC20__factory(owner).deploy("Soak USD", "sUSD");
        const t = await usd.getAddress();
        const mock = await new MockSubscriptionConsumer__factory(owner).deploy(subsAddress);
        await (await mock.setInputs([586n, 621n, 499n, 355n, 390n, 534n, 570n])).wait();
        await (await usd.mint(await mock.getAddress(), 2n * 11n * 10n ** 17n)).wait();
        await (await mock.subscribeWithToken(t, tf, version, 3600, 2, 10n ** 18n, 10n ** 17n, 3600)).wait();
        const tid = (await subs.queryFilter(subs.filters.SubscriptionFeeToken(undefined, t)))[0].args.subscriptionId.toString();
        expect(await refused(() => hre.run("subscription:top-up", { subscription: tid, runs: "1", account: "4" }))).to.match(
          new RegExp(
            `^token ${t}: balance of ${funder.address} is 0\\.0 sUSD \\(0 units\\), below the escrow 1\\.1 sUSD .*; fund the account or lower --runs$`,
          ),
        );
        await (await usd.mint(funder.address, 11n * 10n ** 17n)).wait();
        const up = (await hre.run("subscription:top-up", { subscription: tid, runs: "1", account: "4" })) as { lines: [string, string][] };
        expect(line(up, "paid")).to.equal("1.1 sUSD (1100000000000000000 units)");
        await hre.run("subscription:open-run", { subscription: tid, account: "3" });
        const tw = (await hre.run("subscription:withdraw", { account: "3", token: t })) as { data: { amount: bigint } };
        expect(tw.data.amount).to.equal(10n ** 17n);
        expect(await usd.balanceOf(opener.address)).to.equal(10n ** 17n);
      });

      it("model:publish: bundle on the local IPFS node, registered as a new version with uri ipfs://<cid> that verifies against the chain; again: nothing sent", async function () {
        const ipfsDir = path.join(deployDir, "ipfs");
        const p = (await hre.run("model:publish", { model: "temp-forecast", ipfsDir, license: "MIT", noCompile: true })) as {
          lines: [string, string][];
          data: { modelId: bigint; cid: string; uri: string; bundleDir: string };
        };
        expect(p.data.uri).to.equal(`ipfs://${p.data.cid}`);
        expect(p.lines.find(([k]) => k === "keys")?.[1]).to.match(/DEV keys \(INSECURE/);
        // the card's evaluation is printed (issue 28 point 5)
        expect(p.lines.find(([k]) => k === "evaluation")?.[1]).to.match(
          /^mean absolute error \(output units\) on .* samples\): float [\d.]+, quantized [\d.]+$/,
        );
        const registry = await hre.ethers.getContractAt(
          "ModelRegistry",
          await (await hre.ethers.getContractAt("InferenceJobs", rec().contracts.InferenceJobs.address)).registry(),
        );
        const [version] = await registry.currentVersion(p.data.modelId);
        const [c] = await registry.getModelVersion(p.data.modelId, version);
        expect(c.uri).to.equal(p.data.uri);
        const { CircuitVerdicts, verifyBundle } = await import("../../scripts/apps/prover/bundle-check");
        const { DEFAULT_POLICY } = await import("../../scripts/apps/prover/bundles");
        // checked once, by phase; the second check (a restarted or second node on this machine) reuses the circuit
        // verdict, the chain-dependent phases run again (issue 28 point 3)
        const verdicts = new CircuitVerdicts(path.join(deployDir, "verdicts"));
        const check = async () => {
          const phases: string[] = [];
          const served = await verifyBundle(
            p.data.bundleDir,
            registry,
            hre.ethers.provider,
            p.data.modelId,
            Number(version),
            DEFAULT_POLICY,
            {
              verdicts,
              onPhase: (phase, _ms, detail) => phases.push(detail?.includes("cached") ? `${phase} (cached)` : phase),
            },
          );
          expect(served.model.name).to.equal("temp-forecast");
          return phases;
        };
        expect(await check()).to.deep.equal(["files", "registry", "weights", "keys", "circuit", "verifier"]);
        expect(await check()).to.deep.equal(["files", "registry", "weights", "circuit (cached)", "verifier"]);
        const card = JSON.parse(fs.readFileSync(path.join(p.data.bundleDir, "card.json"), "utf8")) as {
          accuracy?: { metric: string };
          license: string;
        };
        expect(card.license).to.equal("MIT");
        expect(card.accuracy?.metric).to.match(/mean absolute error/);
        const before = await block();
        const again = (await hre.run("model:publish", { model: "temp-forecast", ipfsDir, license: "MIT", noCompile: true })) as {
          data: { cid: string };
        };
        expect(again.data.cid).to.equal(p.data.cid);
        expect(await block()).to.equal(before);
        expect(await refused(() => hre.run("model:publish", { model: "temp-forecast", ipfs: "pinata" }))).to.match(
          /^--ipfs pinata: give local/,
        );
      });

      it("model:publish --onnx: a PyTorch export and its calibration inputs to a registered, servable version in one command, evaluated against the framework's outputs; refusals before anything is sent", async function () {
        const name = "onnx-published";
        const fixtures = path.join(ROOT, "test", "fixtures", "onnx");
        const onnx = path.join(fixtures, "norm-mlp.onnx");
        const calibration = path.join(fixtures, "norm-mlp.calib.npy");
        const reference = path.join(fixtures, "norm-mlp.json");
        const ipfsDir = path.join(deployDir, "ipfs");
        const paths = modelPaths(name);
        const written = [path.dirname(paths.floatFile), paths.circuitFile, paths.verifierFile, paths.batchVerifierFile];
        const clean = () => written.forEach((f) => fs.rmSync(f, { recursive: true, force: true }));
        clean();
        try {
          // refused before anything is written or sent
          const opts = { model: name, onnx, calibration, ipfsDir, noCompile: true };
          expect(await refused(() => hre.run("model:publish", { ...opts, onnx: "/nonexistent/model.onnx" }))).to.equal(
            "--onnx /nonexistent/model.onnx: no such file; give the .onnx file your framework exported",
          );
          expect(await refused(() => hre.run("model:publish", { ...opts, calibration: undefined }))).to.match(
            /^--onnx needs --calibration <inputs\.npy\|\.json\|\.csv>/,
          );
          expect(await refused(() => hre.run("model:publish", { model: MODEL, calibration }))).to.equal(
            "--calibration is for --onnx <file>: drop it, or give the ONNX file to import",
          );
          expect(await refused(() => hre.run("model:publish", { ...opts, task: "ranking" }))).to.equal(
            "--task must be classification or regression, got ranking",
          );
          expect(await refused(() => hre.run("model:publish", { ...opts, model: MODEL }))).to.match(
            /^--model iris-mlp: models\/iris-mlp\/ holds another model; give another --model name/,
          );
          expect(fs.existsSync(paths.floatFile)).to.equal(false);

          const p = (await hre.run("model:publish", { ...opts, reference, classes: "low,mid,high", license: "Apache-2.0" })) as {
            lines: [string, string][];
            written: string[];
            data: { modelId: bigint; cid: string; uri: string; bundleDir: string };
          };
          expect(p.data.uri).to.equal(`ipfs://${p.data.cid}`);
          // each file once (the deployment record was listed twice), and the owner's evaluation printed (issue 28 point 5)
          expect(new Set(p.written).size).to.equal(p.written.length);
          expect(p.lines.find(([k]) => k === "evaluation")?.[1]).to.match(
            /^top-1 agreement with the framework's outputs on .*: float [\d.]+, quantized [\d.]+$/,
          );
          const registry = await hre.ethers.getContractAt(
            "ModelRegistry",
            await (await hre.ethers.getContractAt("InferenceJobs", rec().contracts.InferenceJobs.address)).registry(),
          );
          const [version] = await registry.currentVersion(p.data.modelId);
          const { verifyBundle } = await import("../../scripts/apps/prover/bundle-check");
          const { DEFAULT_POLICY } = await import("../../scripts/apps/prover/bundles");
          const served = await verifyBundle(
            p.data.bundleDir,
            registry,
            hre.ethers.provider,
            p.data.modelId,
            Number(version),
            DEFAULT_POLICY,
          );
          expect(served.model.name).to.equal(name);
          const card = JSON.parse(fs.readFileSync(path.join(p.data.bundleDir, "card.json"), "utf8")) as {
            outputs: string[];
            license: string;
            accuracy: { dataset: string; samples: number; metric: string; float: number; quantized: number };
          };
          expect(card.outputs).to.deep.equal(["low", "mid", "high"]);
          expect(card.license).to.equal("Apache-2.0");
          expect(card.accuracy.metric).to.equal("top-1 agreement with the framework's outputs");
          expect(card.accuracy.dataset).to.equal("owner's reference norm-mlp.json");
          expect(card.accuracy.samples).to.equal((JSON.parse(fs.readFileSync(reference, "utf8")) as { inputs: unknown[] }).inputs.length);
          expect(card.accuracy.float).to.equal(1);
          expect(card.accuracy.quantized).to.be.at.least(0.99);

          // the same command again: the same CID, nothing sent
          const before = await block();
          const again = (await hre.run("model:publish", { ...opts, reference, classes: "low,mid,high", license: "Apache-2.0" })) as {
            data: { cid: string };
          };
          expect(again.data.cid).to.equal(p.data.cid);
          expect(await block()).to.equal(before);

          // framework outputs the model does not reproduce: refused after the build, before any transaction
          const ref = JSON.parse(fs.readFileSync(reference, "utf8")) as { inputs: number[][]; outputs: number[][] };
          const wrongRef = path.join(deployDir, "wrong-reference.json");
          fs.writeFileSync(wrongRef, JSON.stringify({ inputs: ref.inputs, outputs: ref.outputs.map((o) => [...o.slice(1), o[0]]) }));
          expect(await refused(() => hre.run("model:publish", { ...opts, reference: wrongRef, classes: "low,mid,high" }))).to.match(
            /^--reference .*wrong-reference\.json: the built model misses targets of npm run evaluate \(nothing sent\): float max \|difference\| .* > 0\.0001/,
          );
        } finally {
          clean();
        }
      });

      it("--verify on a local chain is refused before anything is sent", async function () {
        expect(await refused(() => hre.run("deploy", { verify: true }))).to.match(
          /--verify needs a public block explorer, and network "hardhat" is a local chain \(31337\)/,
        );
      });
    });
  });
});
