/**
 * The example consumers (contracts/examples/) on the mock market: every branch. The real-proof end-to-end runs are in
 * test/e2e/consumer.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { impersonateAccount, loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import {
  commitment,
  createAdapter,
  jobBinding,
  mockMarketFixture,
  mockProof,
  modelSignal,
  registerMockWithLayout,
  asMarket,
  depositStake,
} from "./fixtures";
import type { MockCaller } from "../../typechain-types";

const LAYOUT = { inputMode: 1, outputHead: 1, inputCount: 7, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 6 };
const FEE = ethers.parseEther("0.01");
const MODEL_HASH = 4242n;

async function forecasterFixture() {
  const m = await mockMarketFixture();
  const id = await registerMockWithLayout(m, MODEL_HASH, LAYOUT);
  const reporter: MockCaller = await (await ethers.getContractFactory("MockCaller")).deploy();
  const f = await (
    await ethers.getContractFactory("SeriesForecaster")
  ).deploy(await m.jobs.getAddress(), id, 1n, await reporter.getAddress(), 25n * 64n);
  const as = (data: string, value = 0n) => reporter.forward(f.target as string, data, { value });
  const record = (v: bigint) => as(f.interface.encodeFunctionData("record", [v]));
  const deadline = async () => BigInt((await time.latest()) + 3600);
  const request = async () => {
    const d = await deadline();
    const data = f.interface.encodeFunctionData("requestForecast", [d]);
    const ret = await reporter.forward.staticCall(f.target as string, data, { value: FEE });
    await as(data, FEE);
    return BigInt(ret);
  };
  /** Proves (mock) forecast `value` for `jobId` over the forecaster's current series. */
  const submit = async (jobId: bigint, value: bigint) => {
    const words = await m.jobs.inputSignalsOf(jobId);
    const out = packSigned([value], LAYOUT.outputBits)[0];
    const proof = mockProof([
      out,
      await modelSignal(MODEL_HASH, LAYOUT as ModelLayout),
      words[0],
      jobBinding(m.chainId, await m.jobs.getAddress(), jobId, m.prover.address),
    ]);
    return m.jobs.connect(m.prover).submitResult(jobId, out, proof);
  };
  return { ...m, id, forecaster: f, reporter, record, request, submit, deadline };
}

describe("examples", function () {
  describe("SeriesForecaster", function () {
    it("refuses a model that is not a public-input, one-value regression model", async function () {
      const m = await loadFixture(mockMarketFixture);
      const f = await ethers.getContractFactory("SeriesForecaster");
      await expect(f.deploy(await m.jobs.getAddress(), m.modelId, 1n, m.stranger.address, 0n))
        .to.be.revertedWithCustomError(f, "UnsuitableModel")
        .withArgs(m.modelId);
    });

    it("refuses a public-input classifier and a values model with two outputs", async function () {
      const m = await loadFixture(mockMarketFixture);
      const f = await ethers.getContractFactory("SeriesForecaster");
      const adapter = await createAdapter(m.factory, await m.mock.getAddress(), 4);
      const layouts = [
        { ...LAYOUT, outputHead: 0, outputCount: 3, outputBits: 0, outputFrac: 0 },
        { ...LAYOUT, outputCount: 2 },
      ];
      for (const l of layouts) {
        const id = await m.registry.connect(m.modelOwner).registerModelWithLayout.staticCall(commitment({ modelHash: 7n }), adapter, l);
        await m.registry.connect(m.modelOwner).registerModelWithLayout(commitment({ modelHash: 7n }), adapter, l);
        await expect(f.deploy(await m.jobs.getAddress(), id, 1n, m.stranger.address, 0n))
          .to.be.revertedWithCustomError(f, "UnsuitableModel")
          .withArgs(id);
      }
    });

    it("records as the reporter only, in the model's input range, keeping the last window values oldest first", async function () {
      const s = await loadFixture(forecasterFixture);
      await expect(s.forecaster.record(1n)).to.be.revertedWithCustomError(s.forecaster, "NotReporter").withArgs(s.deployer.address);
      await expect(s.record(2048n)).to.be.revertedWithCustomError(s.forecaster, "ValueOutOfRange").withArgs(2048n, 12n);
      await expect(s.record(-2049n)).to.be.revertedWithCustomError(s.forecaster, "ValueOutOfRange").withArgs(-2049n, 12n);
      await expect(s.forecaster.series()).to.be.revertedWithCustomError(s.forecaster, "SeriesTooShort").withArgs(0n, 7n);
      for (const v of [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, -2048n]) await expect(s.record(v)).to.emit(s.forecaster, "Recorded").withArgs(v);
      expect(await s.forecaster.window()).to.equal(7n);
      expect(await s.forecaster.series()).to.deep.equal([3n, 4n, 5n, 6n, 7n, 8n, -2048n]);
    });

    it("opens a job on exactly its series and acts on the verified forecast in its callback", async function () {
      const s = await loadFixture(forecasterFixture);
      for (let v = 10n; v < 17n; v++) await s.record(v * 16n);
      const jobId = await s.request();
      expect(await s.jobs.inputSignalsOf(jobId)).to.deep.equal(packSigned([160n, 176n, 192n, 208n, 224n, 240n, 256n], 12));
      await expect(s.submit(jobId, 26n * 64n))
        .to.emit(s.forecaster, "Forecast")
        .withArgs(jobId, 26n * 64n, 6n, true)
        .and.not.to.emit(s.jobs, "CallbackFailed");
      expect([await s.forecaster.lastForecast(), await s.forecaster.lastForecastJob(), await s.forecaster.alert()]).to.deep.equal([
        26n * 64n,
        jobId,
        true,
      ]);
      const second = await s.request();
      await expect(s.submit(second, -3n)).to.emit(s.forecaster, "Forecast").withArgs(second, -3n, 6n, false);
      expect(await s.forecaster.alert()).to.equal(false);
    });

    it("issue 27 finding 8: keeps the forecast of the latest request; an older forecast that arrives late does not clear the alert", async function () {
      const s = await loadFixture(forecasterFixture);
      for (let v = 0n; v < 7n; v++) await s.record(v);
      const older = await s.request();
      await s.record(100n);
      const newer = await s.request();
      // the newer request is served first and raises the alert
      await expect(s.submit(newer, 30n * 64n))
        .to.emit(s.forecaster, "Forecast")
        .withArgs(newer, 30n * 64n, 6n, true);
      // the older one arrives late with a low forecast: recorded as stale, the alert stays
      await expect(s.submit(older, -5n))
        .to.emit(s.forecaster, "StaleForecast")
        .withArgs(older, -5n, newer)
        .and.not.to.emit(s.forecaster, "Forecast");
      expect([await s.forecaster.lastForecast(), await s.forecaster.lastForecastJob(), await s.forecaster.alert()]).to.deep.equal([
        30n * 64n,
        newer,
        true,
      ]);
    });

    it("issue 27 finding 1: pins the version it was deployed for; a new version of the model takes no request until a forecaster is deployed for it", async function () {
      const s = await loadFixture(forecasterFixture);
      for (let v = 0n; v < 7n; v++) await s.record(v);
      expect(await s.forecaster.modelVersion()).to.equal(1n);
      const adapter = (await s.registry.verificationTarget(s.id, 1n)).adapter;
      await s.registry.connect(s.modelOwner).updateModelWithLayout(s.id, commitment({ modelHash: 4321n }), adapter, LAYOUT);
      const data = s.forecaster.interface.encodeFunctionData("requestForecast", [await s.deadline()]);
      await expect(s.reporter.forward(s.forecaster.target as string, data, { value: FEE }))
        .to.be.revertedWithCustomError(s.jobs, "ModelVersionMismatch")
        .withArgs(s.id, 1n, 2n);
    });

    it("takes callbacks only from the market and only for its own pending jobs", async function () {
      const s = await loadFixture(forecasterFixture);
      await expect(s.forecaster.onInferenceResult(1n, 0n))
        .to.be.revertedWithCustomError(s.forecaster, "NotJobs")
        .withArgs(s.deployer.address);
      const asJobs = await asMarket(s.jobs);
      await expect(s.forecaster.connect(asJobs).onInferenceResult(99n, 0n))
        .to.be.revertedWithCustomError(s.forecaster, "UnknownJob")
        .withArgs(99n);
      await expect(s.deployer.sendTransaction({ to: s.forecaster.target, value: 1n }))
        .to.be.revertedWithCustomError(s.forecaster, "NotJobs")
        .withArgs(s.deployer.address);
    });

    it("reclaims an unfulfilled job's fee for the reporter after the deadline, and reverts if the reporter refuses it", async function () {
      const s = await loadFixture(forecasterFixture);
      for (let v = 0n; v < 7n; v++) await s.record(v);
      const jobId = await s.request();
      await time.increase(3601);
      await s.reporter.setRefuseEth(true);
      await expect(s.forecaster.reclaim(jobId)).to.be.revertedWithCustomError(s.forecaster, "NotReporter").withArgs(s.reporter.target);
      await s.reporter.setRefuseEth(false);
      await expect(s.forecaster.reclaim(jobId)).to.changeEtherBalance(s.reporter, FEE);
    });
  });

  describe("ClassifierGate", function () {
    async function gateFixture() {
      const m = await mockMarketFixture();
      const gate = await (await ethers.getContractFactory("ClassifierGate")).deploy(await m.jobs.getAddress(), m.modelId, 1n, 2n);
      const user: MockCaller = await (await ethers.getContractFactory("MockCaller")).deploy();
      const ask = async (who: MockCaller, c: bigint) => {
        const data = gate.interface.encodeFunctionData("requestAccess", [c, "data:x", BigInt((await time.latest()) + 3600)]);
        const id = BigInt(await who.forward.staticCall(gate.target as string, data, { value: FEE }));
        await who.forward(gate.target as string, data, { value: FEE });
        return id;
      };
      const submit = async (jobId: bigint, c: bigint, cls: bigint) =>
        m.jobs
          .connect(m.prover)
          .submitResult(
            jobId,
            cls,
            mockProof([cls, m.modelCommitment, c, jobBinding(m.chainId, await m.jobs.getAddress(), jobId, m.prover.address)]),
          );
      return { ...m, gate, user, ask, submit };
    }

    it("grants access on the required class and denies it on another", async function () {
      const g = await loadFixture(gateFixture);
      const j1 = await g.ask(g.user, 11n);
      await expect(g.submit(j1, 11n, 2n))
        .to.emit(g.gate, "AccessGranted")
        .withArgs(g.user.target, j1);
      expect(await g.gate.granted(g.user.target)).to.equal(true);
      const other: MockCaller = await (await ethers.getContractFactory("MockCaller")).deploy();
      const j2 = await g.ask(other, 12n);
      expect(await g.gate.userOf(j2)).to.equal(other.target);
      await expect(g.submit(j2, 12n, 1n))
        .to.emit(g.gate, "AccessDenied")
        .withArgs(other.target, j2, 1n);
      expect(await g.gate.granted(other.target)).to.equal(false);
    });

    it("insists on proven results: its jobs are never optimistic, so a claimant cannot post a class without a proof and access waits for a proof", async function () {
      const g = await loadFixture(gateFixture);
      const j = await g.ask(g.user, 11n);
      expect((await g.jobs.optimisticStateOf(j)).optimistic).to.equal(false);
      await depositStake(g.jobs, [g.prover]);
      await g.jobs.connect(g.prover).claim(j);
      await expect(g.jobs.connect(g.prover).postResult(j, 2n)).to.be.revertedWithCustomError(g.jobs, "NotOptimistic").withArgs(j);
      // only the requester (the gate) could make the job optimistic, not even the gate's owner, and the gate has no
      // function that does
      await expect(g.jobs.connect(g.deployer).setOptimistic(j))
        .to.be.revertedWithCustomError(g.jobs, "NotRequester")
        .withArgs(j, g.deployer.address);
      const functions: string[] = [];
      g.gate.interface.forEachFunction((f) => functions.push(f.name));
      expect(functions.filter((name) => /optimistic/i.test(name))).to.deep.equal([]);
      expect(await g.gate.granted(g.user.target)).to.equal(false);
      await expect(g.submit(j, 11n, 2n))
        .to.emit(g.gate, "AccessGranted")
        .withArgs(g.user.target, j);
    });

    it("issue 27 finding 1: a model owner's update in front of a request cannot make the gate trust an unaudited version; only the gate's owner accepts a new one", async function () {
      const g = await loadFixture(gateFixture);
      expect([await g.gate.modelVersion(), await g.gate.owner()]).to.deep.equal([1n, g.deployer.address]);
      // the model owner moves the model to an accept-all verifier (still a factory adapter)
      const acceptAll = await (await ethers.getContractFactory("AcceptAllVerifier")).deploy();
      const evil = await createAdapter(g.factory, await acceptAll.getAddress(), 4);
      await g.registry.connect(g.modelOwner).updateModelWithVerifier(g.modelId, commitment({ modelHash: 666n }), evil, 4);
      const data = g.gate.interface.encodeFunctionData("requestAccess", [11n, "data:x", BigInt((await time.latest()) + 3600)]);
      await expect(g.user.forward(g.gate.target as string, data, { value: FEE }))
        .to.be.revertedWithCustomError(g.jobs, "ModelVersionMismatch")
        .withArgs(g.modelId, 1n, 2n);
      // only the gate's owner moves the gate, after auditing the new version
      await expect(g.gate.connect(g.stranger).acceptVersion(2n))
        .to.be.revertedWithCustomError(g.gate, "NotOwner")
        .withArgs(g.stranger.address);
      await expect(g.gate.acceptVersion(2n)).to.emit(g.gate, "VersionAccepted").withArgs(1n, 2n);
      expect(await g.gate.modelVersion()).to.equal(2n);
      const j = await g.ask(g.user, 11n);
      expect((await g.jobs.getJob(j)).modelVersion).to.equal(2n);
    });

    it("takes callbacks only from the market, for its own jobs; refunds the user after the deadline", async function () {
      const g = await loadFixture(gateFixture);
      await expect(g.gate.onInferenceResult(1n, 2n)).to.be.revertedWithCustomError(g.gate, "NotJobs").withArgs(g.deployer.address);
      const jobsAddr = await g.jobs.getAddress();
      await impersonateAccount(jobsAddr);
      await setBalance(jobsAddr, ethers.parseEther("1"));
      await expect(g.gate.connect(await ethers.getSigner(jobsAddr)).onInferenceResult(77n, 2n))
        .to.be.revertedWithCustomError(g.gate, "UnknownJob")
        .withArgs(77n);
      await expect(g.deployer.sendTransaction({ to: g.gate.target, value: 1n })).to.be.revertedWithCustomError(g.gate, "NotJobs");
      const j = await g.ask(g.user, 13n);
      await expect(g.gate.refund(j)).to.be.revertedWithCustomError(g.jobs, "DeadlineNotPassed");
      await time.increase(3601);
      await expect(g.gate.refund(999n)).to.be.revertedWithCustomError(g.gate, "UnknownJob").withArgs(999n);
      await g.user.setRefuseEth(true);
      await expect(g.gate.refund(j)).to.be.revertedWithCustomError(g.gate, "RefundFailed").withArgs(g.user.target, FEE);
      await g.user.setRefuseEth(false);
      await expect(g.gate.refund(j)).to.changeEtherBalance(g.user, FEE);
    });
  });
});
