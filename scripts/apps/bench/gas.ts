/**
 * Gas figures of one bundled model on the in-process Hardhat network (Groth16, open weights): verifier deployment
 * (snarkjs verifier + adapter), model registration, opening a job, submitting a verified result. Models without
 * committed artifacts are built in a scratch root (scripts/apps/bench/build.ts), never into the repository.
 * Run by scripts/apps/bench/run.ts as: BENCH_MODEL=iris-mlp npx hardhat run scripts/apps/bench/gas.ts
 * Prints one line `BENCH_GAS {json}` on stdout.
 */
import hre from "hardhat";
import { SNARK_FIELD } from "../../util/field";
import { loadFloatModel } from "../../pipelines/build";
import { benchBuild, benchMarket } from "./build";
import { inputCommitment } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { quantizeInput } from "../../formats/quantized-input";
import { runMain } from "../main";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, openJob, openJobWithInputs } from "../../chain/system";
import { sampleInput } from "../../pipelines/held-out";
import { deliverToClaim } from "../../chain/private-input";

async function main(): Promise<void> {
  const name = process.env.BENCH_MODEL;
  if (!name) throw new Error("set BENCH_MODEL to a bundled model name");
  // The committed build (cached stages) where the repository has one, else a scratch build (scripts/apps/bench/build.ts).
  const { built, verifier: artifact } = await benchBuild(name);
  const { model } = built;
  const [deployer, modelOwner, requester, prover] = await hre.ethers.getSigners();
  const { sys, ver, reg } = await benchMarket(built, artifact, deployer, modelOwner);
  const x = quantizeInput(model, loadFloatModel(name), sampleInput(name));
  const salt = 987654321n % SNARK_FIELD;
  const latest = await hre.ethers.provider.getBlock("latest");
  const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600);
  // A committed-input model gets a salted commitment, a public-input one its values (openJobWithInputs).
  const isPublic = layoutOf(model).inputMode === 1;
  const open = async (s: bigint) =>
    isPublic
      ? openJobWithInputs(sys.jobs, requester, { modelId: reg.modelId, modelVersion: 1n, inputs: x, fee: hre.ethers.parseEther("0.01"), deadline })
      : openJob(sys.jobs, requester, {
          modelId: reg.modelId,
          modelVersion: 1n, // registered above: its first version
          inputCommitment: await inputCommitment(model, x, s),
          inputURI: "bench:held-out-0",
          fee: hre.ethers.parseEther("0.01"),
          deadline,
        });
  const opened = await open(salt);
  const binding = await bindingFor(sys.jobs, prover, opened.jobId, prover.address);
  const proof = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, salt, binding);
  const submitted = await (await sys.jobs.connect(prover).submitResult(opened.jobId, proof.output, proof.packed.bytes)).wait();
  if (!submitted) throw new Error("submitResult: no receipt");
  const [fulfilled] = await sys.jobs.resultOf(opened.jobId);
  if (!fulfilled) throw new Error("the job was not fulfilled");
  // A later job on the same version (its target is cached), claimed by a staked prover who then submits: the
  // market's common path.
  const second = await open(salt + 1n);
  await (await sys.jobs.connect(prover).deposit({ value: await sys.jobs.claimBond() })).wait();
  const claimed = await (await sys.jobs.connect(prover).claim(second.jobId)).wait();
  const binding2 = await bindingFor(sys.jobs, prover, second.jobId, prover.address);
  const proof2 = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, salt + 1n, binding2);
  const submitted2 = await (await sys.jobs.connect(prover).submitResult(second.jobId, proof2.output, proof2.packed.bytes)).wait();
  if (!claimed || !submitted2) throw new Error("claim/submitResult: no receipt");
  // Committed input delivered privately: openPrivateJob, claim, the requester's encrypted delivery, the claimant's
  // submission (docs/market-rules.md, "Private delivery").
  let priv: Record<string, number> = {};
  if (!isPublic) {
    const s3 = salt + 2n;
    const c3 = await inputCommitment(model, x, s3);
    const jobs = sys.jobs.connect(requester);
    const id3 = await jobs.openPrivateJob.staticCall(reg.modelId, 1n, c3, deadline, false, { value: hre.ethers.parseEther("0.01") });
    const o3 = await (await jobs.openPrivateJob(reg.modelId, 1n, c3, deadline, false, { value: hre.ethers.parseEther("0.01") })).wait();
    await (await sys.jobs.connect(prover).deposit({ value: await sys.jobs.claimBond() })).wait();
    const cl3 = await (await sys.jobs.connect(prover).claim(id3)).wait();
    const d = await deliverToClaim(jobs, id3, { x, salt: s3 });
    if (d.kind !== "delivered") throw new Error(`private delivery: ${d.kind}`);
    const b3 = await bindingFor(sys.jobs, prover, id3, prover.address);
    const p3 = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, s3, b3);
    const sub3 = await (await sys.jobs.connect(prover).submitResult(id3, p3.output, p3.packed.bytes)).wait();
    if (!o3 || !cl3 || !sub3) throw new Error("private path: no receipt");
    const ct = (await sys.jobs.queryFilter(sys.jobs.filters.InputDelivered(id3)))[0].args.ciphertext;
    priv = {
      openPrivateJob: Number(o3.gasUsed),
      claimPrivate: Number(cl3.gasUsed),
      deliverInput: Number(d.gasUsed),
      ciphertextBytes: (ct.length - 2) / 2,
      submitResultPrivate: Number(sub3.gasUsed),
    };
  }
  const out = {
    verifierContract: built.paths.verifierContract,
    verifierDeployment: Number(ver.gasUsed),
    registerModel: Number(reg.receipt.gasUsed),
    openJob: Number(opened.receipt.gasUsed),
    submitResult: Number(submitted.gasUsed),
    openJobLater: Number(second.receipt.gasUsed),
    claim: Number(claimed.gasUsed),
    submitResultClaimant: Number(submitted2.gasUsed),
    publicSignals: proof.publicSignals.length,
    inputMode: isPublic ? "public" : "committed",
    ...priv,
  };
  process.stdout.write(`BENCH_GAS ${JSON.stringify(out)}\n`);
}

runMain(main);
