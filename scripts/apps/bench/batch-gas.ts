/**
 * Gas per verified result of batch settlement (`InferenceJobs.submitResults`, docs/contracts.md "Batch settlement")
 * for one bundled committed-input model on the in-process Hardhat network: the model's generated batch verifier
 * (contracts/verifiers/<Name>Groth16BatchVerifier.sol) registered as its verifier; claimed jobs submitted by their
 * claimant (staked, account non-empty); batches of 1, 4 and 16 in one run, and `submitResult` of one job for
 * comparison (with the batch verifier and with the plain snarkjs verifier).
 * Run by scripts/apps/bench/run.ts as: BENCH_MODEL=iris-mlp npx hardhat run scripts/apps/bench/batch-gas.ts
 * Prints one line `BENCH_BATCH_GAS {json}` on stdout.
 */
import hre from "hardhat";
import { SNARK_FIELD } from "../../util/field";
import { rel } from "../../util/paths";
import { loadFloatModel } from "../../pipelines/build";
import { benchBuild } from "./build";
import { inputCommitment } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { quantizeInput } from "../../formats/quantized-input";
import { runMain } from "../main";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySystem, openJob, registerModel } from "../../chain/system";
import { sampleInput } from "../../pipelines/held-out";

/** The batch sizes measured. */
const BATCH_SIZES = [1, 4, 16];

async function main(): Promise<void> {
  const name = process.env.BENCH_MODEL;
  if (!name) throw new Error("set BENCH_MODEL to a bundled model name");
  const { built, verifier, batchVerifier } = await benchBuild(name);
  const { model } = built;
  if (layoutOf(model).inputMode !== 0) throw new Error(`${name}: the batch benchmark takes a committed-input model`);
  const [deployer, modelOwner, requester, prover] = await hre.ethers.getSigners();
  const sys = await deploySystem(deployer);
  const commitment = {
    modelCommitment: built.modelCommitment,
    circuitHash: built.circuit.r1csHash,
    vkHash: built.keys.vkHash,
    uri: `file:${rel(built.paths.qmodelFile)}`,
  };
  const batchVer = await deployGroth16Verifier(deployer, batchVerifier, sys.factory);
  const plainVer = await deployGroth16Verifier(deployer, verifier, sys.factory);
  const onBatch = await registerModel(sys.registry, modelOwner, commitment, batchVer.adapter.target as string, layoutOf(model));
  const onPlain = await registerModel(sys.registry, modelOwner, commitment, plainVer.adapter.target as string, layoutOf(model));
  const x = quantizeInput(model, loadFloatModel(name), sampleInput(name));
  const latest = await hre.ethers.provider.getBlock("latest");
  const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600);
  const fee = hre.ethers.parseEther("0.01");
  await (await sys.jobs.connect(prover).deposit({ value: hre.ethers.parseEther("10") })).wait();
  let salt = 987654321n % SNARK_FIELD;
  /** Opens a job (the version's target already cached by a first job), claims it and proves it. */
  const claimedJob = async (modelId: bigint) => {
    const s = salt++;
    const { jobId } = await openJob(sys.jobs, requester, { modelId, modelVersion: 1n, inputCommitment: await inputCommitment(model, x, s), inputURI: "bench:held-out-0", fee, deadline });
    await (await sys.jobs.connect(prover).claim(jobId)).wait();
    const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
    const p = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, s, binding);
    return { jobId, output: p.output, proof: p.packed.bytes };
  };
  for (const id of [onBatch.modelId, onPlain.modelId]) await claimedJob(id); // first jobs: cache the targets
  const single = async (modelId: bigint) => {
    const j = await claimedJob(modelId);
    const r = await (await sys.jobs.connect(prover).submitResult(j.jobId, j.output, j.proof)).wait();
    if (!r) throw new Error("submitResult: no receipt");
    return Number(r.gasUsed);
  };
  const submitResultPlain = await single(onPlain.modelId);
  const submitResultBatchVerifier = await single(onBatch.modelId);
  const batches: { size: number; gas: number; perResult: number }[] = [];
  for (const n of BATCH_SIZES) {
    const js = [];
    for (let i = 0; i < n; i++) js.push(await claimedJob(onBatch.modelId));
    const r = await (
      await sys.jobs.connect(prover).submitResults(
        js.map((j) => j.jobId),
        js.map((j) => j.output),
        js.map((j) => j.proof),
      )
    ).wait();
    if (!r) throw new Error("submitResults: no receipt");
    for (const j of js) if (!(await sys.jobs.resultOf(j.jobId))[0]) throw new Error(`job ${j.jobId} not fulfilled`);
    batches.push({ size: n, gas: Number(r.gasUsed), perResult: Math.round(Number(r.gasUsed) / n) });
  }
  const out = {
    model: name,
    batchVerifierContract: built.paths.batchVerifierContract,
    batchVerifierDeployment: Number(batchVer.gasUsed),
    submitResultPlain,
    submitResultBatchVerifier,
    batches,
  };
  process.stdout.write(`BENCH_BATCH_GAS ${JSON.stringify(out)}\n`);
}

runMain(main);
