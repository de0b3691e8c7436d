import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { type ModelLayout, layoutOf, publicModelCommitment } from "../../scripts/formats/model-layout";
import { packSigned } from "../../scripts/formats/commitments";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { proveInference } from "../../scripts/engine/prove/inference";
import { auditVersion, expectedGroth16Runtime, layoutMismatch } from "../../scripts/chain/audit-verifier";
import { bindingFor, deployGroth16Verifier, deploySystem, openJobWithInputs, registerModel } from "../../scripts/chain/system";

/** The inverse of packSigned for one word: `count` signed values of `bits` bits. */
function unpackSigned(word: bigint, count: number, bits: number): bigint[] {
  const mask = (1n << BigInt(bits)) - 1n;
  const half = 1n << BigInt(bits - 1);
  return Array.from({ length: count }, (_, i) => ((word >> BigInt(i * bits)) & mask) - half);
}

/**
 * Issue 27, finding 2 (layout binding), on the real temp-forecast circuit and verifier: the registered layout was the
 * owner's word, nothing tied it to the circuit. Registered with inputBits = 11 (the circuit unpacks 12), the market
 * packed the requester's values at 11 bits, the circuit read the word as seven other in-range values, and a real
 * proof settled a forecast of about -27 C instead of about 14 C. Now the public model commitment (signal [1]) is
 * Poseidon(weights commitment, layoutWord(layout)), compiled into the circuit and recomputed by the registry from
 * the registered layout, so the same proof no longer verifies and the requester reclaims its fee.
 */
describe("e2e: layout binding (issue 27, finding 2) on the real temp-forecast circuit", function () {
  let tf: BuiltModel;
  let x: bigint[];

  before(async function () {
    tf = await buildModel("temp-forecast", { quantize: false });
    // a held-out week whose values fit 11 bits (|°C| < 32), so the market accepts them under the wrong layout
    const data = loadSeattleTempMax();
    const fm = loadFloatModel("temp-forecast");
    const i = data.test.x.findIndex((w) => quantizeInput(tf.model, fm, w).every((v) => v >= -1024n && v < 1024n));
    x = quantizeInput(tf.model, fm, data.test.x[i]);
  });

  async function system() {
    const [deployer, owner, requester, prover] = await hre.ethers.getSigners();
    const sys = await deploySystem(deployer);
    const v = await deployGroth16Verifier(deployer, await hre.artifacts.readArtifact(tf.paths.verifierContract), sys.factory);
    const reg = { modelCommitment: tf.modelCommitment, circuitHash: tf.circuit.r1csHash, vkHash: tf.keys.vkHash, uri: "test" };
    const adapter = await v.adapter.getAddress();
    const wrong: ModelLayout = { ...layoutOf(tf.model), inputBits: 11 };
    const { modelId: wrongId } = await registerModel(sys.registry, owner, reg, adapter, wrong);
    const { modelId: rightId } = await registerModel(sys.registry, owner, reg, adapter, layoutOf(tf.model));
    return { sys, owner, requester, prover, wrong, wrongId, rightId };
  }

  async function deadlineIn(seconds: number): Promise<bigint> {
    return BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + seconds);
  }

  it("registered with inputBits = 11: the circuit's real proof of what it reads no longer settles, and the requester reclaims", async function () {
    const s = await loadFixture(system);
    const fee = 10n ** 15n;
    const { jobId } = await openJobWithInputs(s.sys.jobs, s.requester, {
      modelId: s.wrongId,
      modelVersion: 1n, // the requester audited this version, layout included: only the proofs can tell
      inputs: x,
      fee,
      deadline: await deadlineIn(3600),
    });
    // the market packed the requester's values at the registered 11 bits
    const [word] = await s.sys.jobs.inputSignalsOf(jobId);
    expect(word).to.equal(packSigned(x, 11)[0]);
    // the circuit unpacks the same word at its own 12 bits: seven other, in-range values, and another forecast
    const misread = unpackSigned(word, x.length, 12);
    expect(packSigned(misread, 12)).to.deep.equal([word]);
    expect(misread).to.not.deep.equal(x);
    const frac = layoutOf(tf.model).outputFrac;
    const truth = Number(inferQuantized(tf.model, x).values![0]) / 2 ** frac;
    const forged = Number(inferQuantized(tf.model, misread).values![0]) / 2 ** frac;
    expect(Math.abs(forged - truth)).to.be.greaterThan(10);
    // a real proof of the circuit on the word the market rebuilds (valid for the verifying key)...
    const binding = await bindingFor(s.sys.jobs, s.prover, jobId, s.prover.address);
    const proof = await proveInference(tf.model, { wasm: tf.circuit.wasm, zkey: tf.keys.zkey }, misread, undefined, binding);
    expect(proof.publicSignals[2]).to.equal(word);
    // ...whose model signal is the circuit's Poseidon(weights, L(12 bits)), not the registry's Poseidon(weights, L(11))
    const target = await s.sys.jobs.verificationTargetOf(s.wrongId, 1);
    expect(target.modelCommitment).to.equal(await publicModelCommitment(tf.modelCommitment, s.wrong));
    expect(proof.publicSignals[1]).to.equal(await publicModelCommitment(tf.modelCommitment, layoutOf(tf.model)));
    expect(proof.publicSignals[1]).to.not.equal(target.modelCommitment);
    await expect(s.sys.jobs.connect(s.prover).submitResult(jobId, proof.output, proof.packed.bytes)).to.be.revertedWithCustomError(
      s.sys.jobs,
      "InvalidProof",
    );
    console.log(`      refused: a forecast of ${forged.toFixed(3)} C for a week whose forecast is ${truth.toFixed(3)} C`);
    // the escrow is safe: after the deadline the requester takes its fee back
    await time.increase(3601);
    await (await s.sys.jobs.connect(s.requester).reclaim(jobId)).wait();
    const [available] = await s.sys.jobs.accountOf(s.requester.address);
    expect(available).to.equal(fee);
  });

  it("the same circuit registered with its own layout settles the true forecast", async function () {
    const s = await loadFixture(system);
    const { jobId } = await openJobWithInputs(s.sys.jobs, s.requester, {
      modelId: s.rightId,
      modelVersion: 1n,
      inputs: x,
      fee: 10n ** 15n,
      deadline: await deadlineIn(3600),
    });
    const binding = await bindingFor(s.sys.jobs, s.prover, jobId, s.prover.address);
    const proof = await proveInference(tf.model, { wasm: tf.circuit.wasm, zkey: tf.keys.zkey }, x, undefined, binding);
    expect((await s.sys.jobs.verificationTargetOf(s.rightId, 1)).modelCommitment).to.equal(proof.publicSignals[1]);
    expect(proof.publicSignals[1]).to.equal(BigInt(tf.manifest.publicModelCommitment));
    await expect(s.sys.jobs.connect(s.prover).submitResult(jobId, proof.output, proof.packed.bytes)).to.emit(s.sys.jobs, "JobFulfilled");
    const [fulfilled, values] = await s.sys.jobs.valuesOf(jobId);
    expect(fulfilled).to.equal(true);
    expect(values).to.deep.equal(inferQuantized(tf.model, x).values);
  });

  it("audit:verifier refuses the version registered with inputBits = 11, naming the field, and accepts the right one", async function () {
    const s = await loadFixture(system);
    const expected = await expectedGroth16Runtime(tf.keys.zkey);
    const circuit = { layout: layoutOf(tf.model), weightsCommitment: tf.modelCommitment };
    const bad = await auditVersion(s.sys.registry, hre.ethers.provider, s.wrongId, 1n, expected, circuit);
    expect(bad.ok).to.equal(false);
    expect(bad.reason).to.equal(
      `model ${s.wrongId} v1: layout.inputBits: registered 11, circuit 12; re-register the version with the circuit's layout`,
    );
    const good = await auditVersion(s.sys.registry, hre.ethers.provider, s.rightId, 1n, expected, circuit);
    expect(good.ok, good.reason).to.equal(true);
    // the manifest records the layout and the public commitment the registry computes for it
    expect(tf.manifest.layout).to.deep.equal(layoutOf(tf.model));
    expect(layoutMismatch(tf.manifest.layout, layoutOf(tf.model))).to.equal(undefined);
  });
});
