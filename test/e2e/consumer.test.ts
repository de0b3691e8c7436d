import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { layoutOf } from "../../scripts/formats/model-layout";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { proveInference } from "../../scripts/engine/prove/inference";
import { loadIris, loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { bindingFor, deployGroth16Verifier, deploySystem, registerModel } from "../../scripts/chain/system";
import { ClassifierGate__factory, SeriesForecaster__factory } from "../../typechain-types";

/**
 * Example consumers (contracts/examples/, docs/consumers.md) against the real bundled models and real Groth16 proofs:
 * the verified result reaches the consumer's callback, which acts on it.
 */
describe("e2e: contracts that consume inference", function () {
  describe("ClassifierGate (iris classifier, committed input)", function () {
    let iris: BuiltModel;
    before(async function () {
      iris = await buildModel("iris-mlp", { quantize: false });
    });

    async function gate() {
      const [deployer, owner, user, prover, other] = await hre.ethers.getSigners();
      const sys = await deploySystem(deployer);
      const v = await deployGroth16Verifier(deployer, await hre.artifacts.readArtifact(iris.paths.verifierContract), sys.factory);
      const reg = { modelCommitment: iris.modelCommitment, circuitHash: iris.circuit.r1csHash, vkHash: iris.keys.vkHash, uri: "test" };
      const { modelId } = await registerModel(sys.registry, owner, reg, await v.adapter.getAddress(), layoutOf(iris.model));
      const gateContract = await new ClassifierGate__factory(deployer).deploy(await sys.jobs.getAddress(), modelId, 1n, 0n); // setosa, version 1 (registered above)
      return { sys, modelId, gate: gateContract, user, prover, other };
    }

    /** Opens an access request for held-out flower `sample` and proves it; returns the job and its proof. */
    async function request(g: Awaited<ReturnType<typeof gate>>, sample: number, who = g.user) {
      const data = loadIris();
      const x = quantizeInput(iris.model, loadFloatModel("iris-mlp"), data.test.x[sample]);
      const salt = 424242n + BigInt(sample);
      const c = await inputCommitment(iris.model, x, salt);
      const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
      const jobId = await g.gate.connect(who).requestAccess.staticCall(c, "data:opening-off-chain", deadline, { value: 10n ** 15n });
      await (await g.gate.connect(who).requestAccess(c, "data:opening-off-chain", deadline, { value: 10n ** 15n })).wait();
      const binding = await bindingFor(g.sys.jobs, g.prover, jobId, g.prover.address);
      const proof = await proveInference(iris.model, { wasm: iris.circuit.wasm, zkey: iris.keys.zkey }, x, salt, binding);
      return { jobId, proof, expected: (await inferQuantized(iris.model, x)).output };
    }

    it("grants access when the verified class is the required one, and denies it otherwise", async function () {
      const g = await loadFixture(gate);
      const data = loadIris();
      const setosa = data.test.y.findIndex((y) => y === 0);
      const notSetosa = data.test.y.findIndex((y) => y !== 0);
      const ok = await request(g, setosa);
      expect(ok.expected).to.equal(0n);
      await expect(g.sys.jobs.connect(g.prover).submitResult(ok.jobId, ok.proof.output, ok.proof.packed.bytes))
        .to.emit(g.gate, "AccessGranted")
        .withArgs(g.user.address, ok.jobId)
        .and.not.to.emit(g.sys.jobs, "CallbackFailed");
      expect(await g.gate.granted(g.user.address)).to.equal(true);

      const no = await request(g, notSetosa, g.other);
      expect(no.expected).to.not.equal(0n);
      await expect(g.sys.jobs.connect(g.prover).submitResult(no.jobId, no.proof.output, no.proof.packed.bytes))
        .to.emit(g.gate, "AccessDenied")
        .withArgs(g.other.address, no.jobId, no.expected);
      expect(await g.gate.granted(g.other.address)).to.equal(false);
    });

    it("a proof of another class for the same job is refused on chain, so the gate never sees it", async function () {
      const g = await loadFixture(gate);
      const data = loadIris();
      const notSetosa = data.test.y.findIndex((y) => y !== 0);
      const r = await request(g, notSetosa);
      await expect(g.sys.jobs.connect(g.prover).submitResult(r.jobId, 0n, r.proof.packed.bytes))
        .to.be.revertedWithCustomError(g.sys.jobs, "InvalidProof")
        .withArgs(r.jobId);
      expect(await g.gate.granted(g.user.address)).to.equal(false);
    });
  });

  describe("SeriesForecaster (temp-forecast regression model, public input, values head)", function () {
    let tf: BuiltModel;
    before(async function () {
      tf = await buildModel("temp-forecast", { quantize: false });
    });

    async function forecaster() {
      const [deployer, owner, reporter, prover] = await hre.ethers.getSigners();
      const sys = await deploySystem(deployer);
      const v = await deployGroth16Verifier(deployer, await hre.artifacts.readArtifact(tf.paths.verifierContract), sys.factory);
      const reg = { modelCommitment: tf.modelCommitment, circuitHash: tf.circuit.r1csHash, vkHash: tf.keys.vkHash, uri: "test" };
      const layout = layoutOf(tf.model);
      const { modelId } = await registerModel(sys.registry, owner, reg, await v.adapter.getAddress(), layout);
      // alert when the forecast reaches 25 degrees C (the output has outputFrac fractional bits)
      const alertAt = 25n << BigInt(layout.outputFrac);
      const f = await new SeriesForecaster__factory(deployer).deploy(await sys.jobs.getAddress(), modelId, 1n, reporter.address, alertAt);
      return { sys, modelId, f, reporter, prover, layout, alertAt };
    }

    it("opens a job on its own recorded series and its callback receives the value the TS reference computes", async function () {
      const s = await loadFixture(forecaster);
      const data = loadSeattleTempMax();
      const fm = loadFloatModel("temp-forecast");
      const window = data.test.x[100];
      const x = quantizeInput(tf.model, fm, window);
      // the reporter records the week, one reading a day (quantized degrees C); one extra reading before shows the
      // contract keeps only the last window
      await (await s.f.connect(s.reporter).record(0n)).wait();
      for (const q of x) await (await s.f.connect(s.reporter).record(q)).wait();
      expect(await s.f.series()).to.deep.equal(x);
      const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
      const jobId = await s.f.connect(s.reporter).requestForecast.staticCall(deadline, { value: 10n ** 15n });
      await expect(s.f.connect(s.reporter).requestForecast(deadline, { value: 10n ** 15n }))
        .to.emit(s.sys.jobs, "JobInputs")
        .withArgs(jobId, x);
      const ref = await inferQuantized(tf.model, x);
      const binding = await bindingFor(s.sys.jobs, s.prover, jobId, s.prover.address);
      const proof = await proveInference(tf.model, { wasm: tf.circuit.wasm, zkey: tf.keys.zkey }, x, undefined, binding);
      expect(proof.output).to.equal(ref.output);
      // a staked claimant submits, as the prover node does
      await (await s.sys.jobs.connect(s.prover).deposit({ value: await s.sys.jobs.claimBond() })).wait();
      await (await s.sys.jobs.connect(s.prover).claim(jobId)).wait();
      const tx = await s.sys.jobs.connect(s.prover).submitResult(jobId, proof.output, proof.packed.bytes);
      const value = ref.values![0];
      await expect(tx)
        .to.emit(s.f, "Forecast")
        .withArgs(jobId, value, s.layout.outputFrac, value >= s.alertAt)
        .and.not.to.emit(s.sys.jobs, "CallbackFailed");
      console.log(
        `      forecast ${Number(value) / 2 ** s.layout.outputFrac} C (truth ${data.test.y[100]} C); claimant submitResult ${(await tx.wait())!.gasUsed} gas`,
      );
      expect(await s.f.lastForecast()).to.equal(value);
      const [fulfilled, values, frac] = await s.sys.jobs.valuesOf(jobId);
      expect([fulfilled, values, frac]).to.deep.equal([true, [value], BigInt(s.layout.outputFrac)]);
    });

    it("refuses a proof made on another series: the market packed exactly the contract's values", async function () {
      const s = await loadFixture(forecaster);
      const x = quantizeInput(tf.model, loadFloatModel("temp-forecast"), loadSeattleTempMax().test.x[5]);
      for (const q of x) await (await s.f.connect(s.reporter).record(q)).wait();
      const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
      const jobId = await s.f.connect(s.reporter).requestForecast.staticCall(deadline, { value: 10n ** 15n });
      await (await s.f.connect(s.reporter).requestForecast(deadline, { value: 10n ** 15n })).wait();
      const other = [...x];
      other[6] += 1n; // one reading off by 1/32 degree
      const binding = await bindingFor(s.sys.jobs, s.prover, jobId, s.prover.address);
      const p = await proveInference(tf.model, { wasm: tf.circuit.wasm, zkey: tf.keys.zkey }, other, undefined, binding);
      await expect(s.sys.jobs.connect(s.prover).submitResult(jobId, p.output, p.packed.bytes))
        .to.be.revertedWithCustomError(s.sys.jobs, "InvalidProof")
        .withArgs(jobId);
    });
  });
});
