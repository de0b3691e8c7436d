/**
 * Tasks `job:prove` and `job:submit`: a prover proves a job's inference from the job input file, with the keys whose
 * vkHash the registry holds (`keysForRegisteredVk`), into a proof file (`JobProofFile`) bound to this chain, market,
 * job and prover; then submits it for on-chain verification.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, getAddress } from "ethers";
import { GROTH16_BN254_V1 } from "../../formats/public-signals";
import type { JobInputFile } from "../../formats/job-input";
import { createLog, phaseReporter } from "../../util/stage-log";
import { ROOT, rel, writeFileAtomic } from "../../util/paths";
import type { BuiltModel } from "../../pipelines/build";
import {
  STATUS_NAMES,
  type TaskResult,
  checkWritable,
  eventsOf,
  gasOf,
  isoTime,
  loadSystem,
  networkInfo,
  parseJobId,
  sendChecked,
  signerFor,
} from "./common";
import { UserError } from "../../chain/errors";
import { jobsDir, modelNameById } from "./records";
import { outputText, quantizedModel, readJson, requireBundledModel } from "./job-common";

export interface JobProofFile {
  format: "zkml-job-proof-v1";
  network: string;
  chainId: number;
  jobs: string;
  jobId: string;
  model: string;
  prover: string;
  output: string;
  proof: string;
  publicSignals: string[];
  proveSeconds: number;
}

/**
 * Builds `name` with the keys whose vkHash is `registeredVk` (the registered commitment's): the ceremony keys of
 * `ceremonyDir` (from --ceremony, or recorded by `deploy --ceremony`), else the dev keys. An explicit --ceremony is
 * the only candidate.
 * @throws UserError when no candidate gives the registered vkHash.
 */
async function keysForRegisteredVk(
  log: ReturnType<typeof createLog>,
  name: string,
  registeredVk: string,
  ceremonyDir: string | undefined,
  explicit: boolean,
): Promise<BuiltModel> {
  const want = BigInt(registeredVk);
  const candidates = ceremonyDir ? [{ ceremonyDir: path.resolve(ROOT, ceremonyDir) }] : [];
  const tried: string[] = [];
  for (const keys of explicit ? candidates : [...candidates, undefined]) {
    const what = keys ? `ceremony keys ${rel(keys.ceremonyDir)}` : "dev keys";
    let b: BuiltModel;
    try {
      const { buildModel } = await import("../../pipelines/build");
      b = await log.stage(`build ${name} with ${what} (cached)`, () => buildModel(name, { quantize: false, keys }));
    } catch (e) {
      // A recorded ceremony folder that is gone or broken: say so, and still try the dev keys.
      if (explicit || !keys) throw e;
      tried.push(`nothing from ${what} (${(e as Error).message.split("\n")[0]})`);
      continue;
    }
    if (BigInt("0x" + b.keys.vkHash) === want) return b;
    tried.push(`${b.keys.vkHash} (${what})`);
  }
  const vk = want.toString(16).padStart(64, "0");
  throw new UserError(`the registered model uses vk ${vk}; local keys give ${tried.join(", ")}: pass --ceremony <dir> or rebuild`);
}

/**
 * Task `job:prove`: runs the model on the job's input and proves it, bound to this chain, market, job and prover.
 * Checks first that the job exists, is open and not expired, that the model's proof system is Groth16 and that the
 * input file (any file in the job input format) matches the job's on-chain commitment.
 */
export async function proveJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { job: string | number | undefined; inputFile?: string; account?: string; prover?: string; out?: string; ceremony?: string },
): Promise<TaskResult> {
  const jobId = parseJobId(opts.job);
  if (opts.prover !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(opts.prover))
    throw new UserError(`--prover ${opts.prover}: give the 0x address of the account that will submit`);
  if (opts.out !== undefined) checkWritable(opts.out, "--out");
  if (opts.ceremony !== undefined && !fs.existsSync(path.join(opts.ceremony, "manifest.json")))
    throw new UserError(`--ceremony ${opts.ceremony}: no ceremony manifest.json there; give the folder setup:verify finalised`);
  const { rec, jobs, registry, chainId } = await loadSystem(hre);
  const prover = opts.prover ? getAddress(opts.prover) : (await signerFor(hre, opts.account)).address;
  const job = await jobs.getJob(jobId);
  const status = STATUS_NAMES[Number(job.status)];
  if (status === "None")
    throw new UserError(`--job ${jobId}: no such job on network "${rec.network}" (next id is ${await jobs.nextJobId()}); check --job`);
  if (status === "Fulfilled")
    return {
      title: `job:prove job ${jobId} on ${rec.network}`,
      lines: [
        ["status", "Fulfilled already: nothing to prove"],
        ["output", job.output.toString()],
      ],
      written: [],
      gasUsed: 0n,
      gasCost: 0n,
      data: { output: job.output, alreadyFulfilled: true },
    };
  if (status !== "Open" && status !== "Claimed")
    throw new UserError(`job ${jobId} is ${status}, not open: nothing to prove (job:status shows it)`);
  const now = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  if (BigInt(now) > job.deadline)
    throw new UserError(
      `job ${jobId} expired at ${isoTime(job.deadline)}: results are no longer accepted; the requester can take the fee back with job:reclaim`,
    );
  const out = path.resolve(ROOT, opts.out ?? path.join(jobsDir(rec.network), `job-${jobId}.proof.json`));
  checkWritable(out, opts.out ? "--out" : "ZKML_DEPLOYMENTS_DIR (proof file)");
  const inputFile = opts.inputFile || path.join(jobsDir(rec.network), `job-${jobId}.input.json`);
  const arg = opts.inputFile ? "--input-file" : "--input-file (default)";
  const j = readJson<unknown>(inputFile, "job input file", "--input-file");
  const meta = (j && typeof j === "object" && !Array.isArray(j) ? j : {}) as Partial<JobInputFile>;
  const wrong =
    (meta.jobId !== undefined && String(meta.jobId) !== jobId.toString()) ||
    (meta.jobs !== undefined && getAddress(meta.jobs) !== getAddress(rec.contracts.InferenceJobs.address)) ||
    (meta.chainId !== undefined && meta.chainId !== chainId);
  if (wrong)
    throw new UserError(
      `${arg} ${rel(inputFile)} is for job ${meta.jobId ?? "?"} on ${meta.jobs ?? "?"} (chain ${meta.chainId ?? "?"}), not job ${jobId} on this network's market: pass the right --input-file`,
    );
  const name = modelNameById(rec, job.modelId) ?? meta.model;
  if (!name)
    throw new UserError(
      `job ${jobId} is for model id ${job.modelId}, which no model in deployments/${rec.network}.json carries: register it with model:register (or add "model" to the input file)`,
    );
  requireBundledModel(name, "model");
  const model = await quantizedModel(name);
  const { JobInputError, readJobInput } = await import("../../formats/job-input");
  let x: bigint[];
  let salt: bigint | undefined;
  try {
    ({ x, salt } = readJobInput(j, model));
  } catch (e) {
    if (e instanceof JobInputError) throw new UserError(`${arg} ${rel(inputFile)}: the input ${e.message}`);
    throw e;
  }
  if (salt === undefined) throw new UserError(`${arg} ${rel(inputFile)} has no "salt": ask the requester for the job file job:open wrote`);
  const [commitment] = await registry.getModelVersion(job.modelId, job.modelVersion);
  if (commitment.proofSystemId !== GROTH16_BN254_V1)
    throw new UserError(
      `wrong proof system: model ${job.modelId} v${job.modelVersion} uses proof system ${commitment.proofSystemId}, this prover makes groth16-bn254-v1 (${GROTH16_BN254_V1}) proofs only`,
    );
  const { inputSignals } = await import("../../formats/model-layout");
  // Committed mode: the salted commitment; public mode: the packed values the market stored for the job.
  const expected = model.input.mode === "public" ? await jobs.inputSignalsOf(jobId) : [job.inputCommitment];
  const mine = await inputSignals(model, x, salt);
  if (mine.length !== expected.length || mine.some((w, i) => w !== expected[i]))
    throw new UserError(
      `${arg} ${rel(inputFile)} does not match job ${jobId}'s input (${expected.join(",")}): ask the requester for the right input${model.input.mode === "public" ? "" : " and salt"}`,
    );
  const log = createLog("job:prove");
  const built = await keysForRegisteredVk(
    log,
    name,
    commitment.vkHash,
    opts.ceremony !== undefined ? path.resolve(opts.ceremony) : rec.models[name]?.ceremonyDir, // recorded: relative to ROOT
    opts.ceremony !== undefined,
  );
  if (built.modelCommitment !== BigInt(commitment.modelHash))
    throw new UserError(
      `the local build of ${name} (commitment ${built.modelCommitment}) is not the registered model ${job.modelId} (${BigInt(commitment.modelHash)}): check out the model version that was registered`,
    );
  const { bindingFor } = await import("../../chain/system");
  const { proveInference } = await import("../../engine/prove/inference");
  const binding = await bindingFor(jobs, hre.ethers.provider, jobId, prover);
  const p = await log.stage(
    "prove (witness + Groth16)",
    async () => {
      // a proof that takes longer than 2 s shows its phases (a TTY line, or plain lines)
      const phases = phaseReporter(`[${name}] proving`);
      const r = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, salt, binding, (ph) =>
        phases.phase(ph),
      );
      phases.done();
      return r;
    },
    (r) => `${r.witnessAndProveSeconds.toFixed(2)} s, output ${r.output}`,
  );
  const file: JobProofFile = {
    format: "zkml-job-proof-v1",
    network: rec.network,
    chainId,
    jobs: rec.contracts.InferenceJobs.address,
    jobId: jobId.toString(),
    model: name,
    prover,
    output: p.output.toString(),
    proof: p.packed.bytes,
    publicSignals: p.publicSignals.map(String),
    proveSeconds: p.witnessAndProveSeconds,
  };
  writeFileAtomic(out, JSON.stringify(file, null, 2) + "\n");
  const { describeOutput } = await import("../../formats/model-layout");
  return {
    title: `job:prove job ${jobId} on ${rec.network}`,
    lines: [
      ["output", describeOutput(model, p.output)],
      ["prover", `${prover} (only this address can submit it)`],
      ["prove time", `${p.witnessAndProveSeconds.toFixed(2)} s`],
      ["keys", `${built.paths.ceremonyDir ? `ceremony ${rel(built.paths.ceremonyDir)}` : "dev-INSECURE"}, vk ${built.keys.vkHash}`],
    ],
    written: [out],
    gasUsed: 0n,
    gasCost: 0n,
    data: { output: p.output, file: out, vkHash: built.keys.vkHash, ceremonyDir: built.paths.ceremonyDir },
  };
}

/**
 * Task `job:submit`: sends the proof; the market verifies it on-chain and credits the fee to the prover. A job this
 * proof already fulfilled is reported as such (nothing sent); a failed requester callback is reported.
 */
export async function submitJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { job?: string | number; proofFile?: string; account?: string },
): Promise<TaskResult> {
  const net = await networkInfo(hre);
  if (!opts.proofFile && (opts.job === undefined || opts.job === ""))
    throw new UserError("--job is required: give the job id (reads its default proof file), or --proof-file <file>");
  const jobArg = opts.job === undefined || opts.job === "" ? undefined : parseJobId(opts.job);
  const proofFile = opts.proofFile || path.join(jobsDir(net.name), `job-${jobArg}.proof.json`);
  const pf = readJson<JobProofFile>(proofFile, "proof file", "--proof-file");
  if (pf?.format !== "zkml-job-proof-v1" || !pf.jobId || !pf.prover || !pf.proof)
    throw new UserError(`${rel(proofFile)} is not a proof file from job:prove (format zkml-job-proof-v1): prove the job with job:prove`);
  if (jobArg !== undefined && jobArg.toString() !== pf.jobId)
    throw new UserError(`${rel(proofFile)} is for job ${pf.jobId}, not job ${jobArg}: pass the right --proof-file or --job`);
  const signer = await signerFor(hre, opts.account ?? pf.prover);
  const { rec, jobs } = await loadSystem(hre, signer);
  if (getAddress(pf.jobs) !== getAddress(rec.contracts.InferenceJobs.address))
    throw new UserError(
      `${rel(proofFile)} is for the market at ${pf.jobs}, not this network's (${rec.contracts.InferenceJobs.address}): prove again here`,
    );
  if (getAddress(pf.prover) !== signer.address)
    throw new UserError(
      `${rel(proofFile)} is bound to prover ${pf.prover} but you send from ${signer.address}: submit with --account ${pf.prover}, or prove again from this account`,
    );
  const jobId = BigInt(pf.jobId);
  const [done, doneOutput] = await jobs.resultOf(jobId);
  if (done && doneOutput === BigInt(pf.output))
    return {
      title: `job:submit job ${jobId} on ${rec.network}`,
      lines: [
        ["fulfilled", "true (already: nothing sent)"],
        ["output", doneOutput.toString()],
      ],
      written: [],
      gasUsed: 0n,
      gasCost: 0n,
      data: { fulfilled: true, output: doneOutput, alreadyFulfilled: true },
    };
  const log = createLog("job:submit");
  const receipt = await log.stage("submit result (on-chain Groth16 verification)", () =>
    sendChecked(jobs.submitResult, jobId, BigInt(pf.output), pf.proof),
  );
  const [fulfilled, output] = await jobs.resultOf(jobId);
  const events = eventsOf(jobs.interface, receipt);
  const fulfilledEvent = events.find((e) => e.name === "JobFulfilled");
  // the fee plus the job's bounty (slashed bonds of earlier claims, docs/market-rules.md)
  const fee = fulfilledEvent ? (fulfilledEvent.args[3] as bigint) + (fulfilledEvent.args[4] as bigint) : undefined;
  const callbackFailed = events.find((e) => e.name === "CallbackFailed");
  const lines: [string, string][] = [
    ["fulfilled", String(fulfilled)],
    ["output", await outputText(pf.model, output)],
    ["fee credited", `${formatEther(fee ?? 0n)} ETH to ${signer.address} (withdraw with market:withdraw)`],
  ];
  if (callbackFailed)
    lines.push([
      "callback",
      `FAILED: the requester contract ${String(callbackFailed.args[1])} reverted or ran out of gas in onInferenceResult (CallbackFailed); the result is recorded and the fee paid, but the requester's contract did not act on it`,
    ]);
  lines.push(["tx", receipt.hash]);
  return {
    title: `job:submit job ${jobId} on ${rec.network}`,
    lines,
    written: [],
    ...gasOf([receipt]),
    data: { fulfilled, output, callbackFailed: Boolean(callbackFailed) },
  };
}
