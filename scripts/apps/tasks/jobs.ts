/**
 * Job tasks: `job:open`, `job:deliver`, `job:prove`, `job:submit`, `job:status`, `job:reclaim`. Every argument and output path is
 * checked before the first transaction; every transaction is preflighted (common.sendChecked); the job input file
 * (input, salt, job id: all the prover needs) is written atomically and its path printed.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { ZeroAddress, formatEther, getAddress } from "ethers";
import { GROTH16_BN254_V1 } from "../../formats/public-signals";
import type { InputKind, JobInputFile } from "../../formats/job-input";
import { createLog, phaseReporter } from "../../util/stage-log";
import { ROOT, rel, writeFileAtomic } from "../../util/paths";
import type { BuiltModel } from "../../pipelines/build";
import type { QuantizedModel } from "../../formats/quantized-model";
import {
  STATUS_NAMES,
  type TaskResult,
  checkWritable,
  eventsOf,
  gasOf,
  isoTime,
  loadSystem,
  networkInfo,
  parseEth,
  parseJobId,
  parseSeconds,
  sendChecked,
  signerFor,
} from "./common";
import { UserError } from "../../chain/errors";
import { type ModelRecord, jobsDir, modelNameById, modelRecord } from "./records";
import type { ModelRegistry } from "../../../typechain-types";

export type { JobInputFile } from "../../formats/job-input";

/** The quantized model file of a bundled model (no circuit or snarkjs code loaded). */
async function quantizedModel(name: string): Promise<QuantizedModel> {
  const { loadQuantizedModel } = await import("../../pipelines/build");
  return loadQuantizedModel(name);
}

function readJson<T>(file: string, what: string, arg: string): T {
  if (!fs.existsSync(file)) throw new UserError(`${what} ${rel(file)} not found: pass ${arg} <file>, or run the task that writes it first`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new UserError(`${what} ${rel(file)} is not valid JSON (${(e as Error).message.split("\n")[0]}): fix it or write it again`);
  }
}

/**
 * The quantized input of `--input`: a JSON file (an array, or a job input file with `x` or `raw`) or a comma list;
 * raw floats are quantized with the model's preprocessing and scale.
 * @throws UserError naming the bad value.
 */
export async function parseInputArg(
  spec: string | undefined,
  model: QuantizedModel,
  kind: InputKind = "auto",
): Promise<{ x: bigint[]; raw?: number[]; salt?: bigint }> {
  const { JobInputError, inputValues, readJobInput } = await import("../../formats/job-input");
  if (spec === undefined || spec.trim() === "")
    throw new UserError("--input is required: give a comma list (quantized -462,404,-653,-681 or raw 5.1,3.4,1.5,0.2) or a JSON file");
  try {
    if (fs.existsSync(spec)) {
      let j: unknown;
      try {
        j = JSON.parse(fs.readFileSync(spec, "utf8"));
      } catch (e) {
        throw new UserError(`--input ${spec} is not valid JSON (${(e as Error).message.split("\n")[0]})`);
      }
      return readJobInput(j, model);
    }
    if (/[\\/]|\.json$/i.test(spec)) throw new UserError(`--input ${spec}: file not found (or give a comma list like -462,404,-653,-681)`);
    return inputValues(spec.split(","), model, kind);
  } catch (e) {
    if (e instanceof JobInputError) throw new UserError(`--input ${e.message}`);
    throw e;
  }
}

/** Class names of a bundled model, read from its quantized model file without loading the pipeline. */
/** Public signal 0 of `name`'s jobs as a person reads it (class name, or decoded values); the raw word if unknown. */
async function outputText(name: string | undefined, output: bigint): Promise<string> {
  if (!name) return output.toString();
  try {
    const { describeOutput } = await import("../../formats/quantized-model");
    return describeOutput(await quantizedModel(name), output);
  } catch {
    return output.toString(); // the model is not built on this machine: the raw word
  }
}

function requireBundledModel(name: string, arg = "--model"): void {
  if (fs.existsSync(path.join(ROOT, "models", name)) && !fs.existsSync(path.join(ROOT, "models", name, `${name}.qmodel.json`)))
    throw new UserError(
      `${arg} ${name}: not built yet (no models/${name}/${name}.qmodel.json): run \`npx hardhat model:build --model ${name}\`, then \`deploy --models ${name}\` and model:register`,
    );
  if (!fs.existsSync(path.join(ROOT, "models", name, `${name}.qmodel.json`)))
    throw new UserError(
      `${arg} ${name}: no such model (models/${name}/${name}.qmodel.json not found); bundled: ${fs.readdirSync(path.join(ROOT, "models")).join(", ")}`,
    );
}

export interface OpenJobOptions {
  model: string;
  input?: string;
  /** How to read --input values (default auto: raw when any has a decimal point). */
  inputKind?: InputKind;
  salt?: string;
  fee: string;
  deadlineIn: number | string;
  inputUri?: string;
  /**
   * How a committed input reaches provers (docs/public-signals.md, "Delivering a committed input"): `private`
   * (default: `openPrivateJob`, then `job:deliver` encrypts it to the claimant), `data` (a `data:` URI in the event,
   * public), `uri` (the `--input-uri` given), `none` (hand the job file to a prover yourself).
   */
  delivery?: string;
  account?: string;
  out?: string;
  /** The version the job pins; default: the current one, if it is the version this deployment record registered. */
  modelVersion?: string;
}

const DELIVERIES = ["private", "data", "uri", "none"] as const;

/**
 * The version a new job names (docs/market-rules.md, "Open"): `--model-version` or the current one, refused before any
 * transaction unless it is the model's current version and carries the adapter and verifying key this deployment
 * record registered (the local model this requester quantizes its input with).
 */
async function checkedVersion(
  registry: ModelRegistry,
  name: string,
  m: ModelRecord & { modelId: string },
  given?: string,
): Promise<bigint> {
  const id = BigInt(m.modelId);
  const [current] = await registry.currentVersion(id);
  let version = current;
  if (given !== undefined) {
    if (!/^[1-9][0-9]*$/.test(given)) throw new UserError(`--model-version ${given}: give a version number (1, 2, ...)`);
    version = BigInt(given);
    if (version !== current)
      throw new UserError(
        `--model-version ${given}: model ${name} (id ${id}) is at version ${current} on chain, and the market pins only the current version; audit version ${current} and name it, or register the version you want with model:register --update`,
      );
  }
  const [commitment, adapter] = await registry.getModelVersion(id, version);
  const { bytes32 } = await import("./model");
  if (adapter.toLowerCase() !== m.adapter.address.toLowerCase() || bytes32(commitment.vkHash) !== bytes32(m.manifest.vkHash))
    throw new UserError(
      `model ${name} (id ${id}) is at version ${version} on chain, whose adapter ${adapter} / vk ${commitment.vkHash} is not the one this deployment record registered (${m.adapter.address} / ${m.manifest.vkHash}): audit that version (npm run audit:verifier) and re-run model:register, or open on another network`,
    );
  return version;
}
type Delivery = (typeof DELIVERIES)[number];

/**
 * Task `job:open`: escrows the fee for an inference on a committed input; writes the job file for the prover.
 * The deadline counts from the later of this machine's clock and the chain's latest block (an idle local chain's
 * clock stands still).
 */
export async function openJobOp(hre: HardhatRuntimeEnvironment, opts: OpenJobOptions): Promise<TaskResult> {
  // Arguments first: nothing on the chain is touched until every one is valid.
  requireBundledModel(opts.model);
  const model = await quantizedModel(opts.model);
  const input = await parseInputArg(opts.input, model, opts.inputKind);
  const { JOB_INPUT_FORMAT, parseSalt } = await import("../../formats/job-input");
  const fee = parseEth(opts.fee, "--fee");
  const deadlineIn = parseSeconds(opts.deadlineIn, "--deadline-in");
  let salt: bigint;
  try {
    salt = opts.salt ? parseSalt(opts.salt) : (input.salt ?? BigInt("0x" + randomBytes(31).toString("hex")));
  } catch (e) {
    throw new UserError(`--salt ${opts.salt}: ${(e as Error).message}; give a decimal or 0x-hex integer below the field, or omit it`);
  }
  if (opts.out !== undefined) checkWritable(opts.out, "--out");

  const requester = await signerFor(hre, opts.account);
  const { rec, registry, jobs, chainId } = await loadSystem(hre, requester);
  const m = modelRecord(rec, opts.model);
  const version = await checkedVersion(registry, opts.model, m, opts.modelVersion);
  const predicted = await jobs.nextJobId();
  const defaultOut = (id: bigint): string => path.join(jobsDir(rec.network), `job-${id}.input.json`);
  checkWritable(opts.out ?? defaultOut(predicted), opts.out ? "--out" : "ZKML_DEPLOYMENTS_DIR (job file)");
  const balance = await hre.ethers.provider.getBalance(requester.address);
  if (balance <= fee)
    throw new UserError(
      `--fee ${opts.fee}: account ${requester.address} has ${formatEther(balance)} ETH, not enough for the fee and gas; lower --fee, fund the account or use another --account`,
    );
  const { inputSignals } = await import("../../formats/quantized-model");
  // Committed mode: the salted commitment; public mode: the market packs the values, the first word is recorded.
  const isPublic = model.input.mode === "public";
  if (isPublic && opts.inputUri)
    throw new UserError(`--input-uri: ${opts.model} takes public inputs (they go on chain with the job); omit --input-uri`);
  if (isPublic && opts.delivery !== undefined)
    throw new UserError(`--delivery ${opts.delivery}: ${opts.model} takes public inputs (they go on chain with the job); omit --delivery`);
  const delivery = (opts.delivery ?? (opts.inputUri ? "uri" : "private")) as Delivery;
  if (!DELIVERIES.includes(delivery)) throw new UserError(`--delivery ${opts.delivery}: must be one of ${DELIVERIES.join(", ")}`);
  if ((delivery === "uri") !== Boolean(opts.inputUri))
    throw new UserError(
      opts.inputUri
        ? `--input-uri with --delivery ${delivery}: a URI is only published with --delivery uri (or omit --delivery)`
        : "--delivery uri needs --input-uri <data:|https://|ipfs://...>",
    );
  const commitment = (await inputSignals(model, input.x, salt))[0];
  const { dataUri } = await import("../prover/input");
  const uri = delivery === "data" ? dataUri({ x: input.x, salt }) : (opts.inputUri ?? "");
  const chainNow = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  const wallNow = Math.floor(Date.now() / 1000);
  const deadline = BigInt(Math.max(chainNow, wallNow) + deadlineIn);
  const counted =
    wallNow >= chainNow
      ? `${deadlineIn} s from this machine's clock`
      : `${deadlineIn} s from the chain's latest block time (${chainNow - wallNow} s ahead of this machine's clock)`;

  const id = BigInt(m.modelId);
  const receipt = isPublic
    ? await sendChecked(jobs.connect(requester).openJobWithInputs, id, version, input.x, deadline, false, { value: fee })
    : delivery === "private"
      ? await sendChecked(jobs.connect(requester).openPrivateJob, id, version, commitment, deadline, false, { value: fee })
      : await sendChecked(jobs.connect(requester).openJob, id, version, commitment, uri, deadline, false, { value: fee });
  const opened = eventsOf(jobs.interface, receipt).find((e) => e.name === "JobOpened");
  const jobId = (opened?.args[0] as bigint | undefined) ?? predicted;
  const file: JobInputFile = {
    format: JOB_INPUT_FORMAT,
    x: input.x.map(String),
    salt: salt.toString(),
    ...(input.raw ? { raw: input.raw } : {}),
    network: rec.network,
    chainId,
    jobs: rec.contracts.InferenceJobs.address,
    jobId: jobId.toString(),
    model: opts.model,
    modelId: m.modelId,
    inputCommitment: commitment.toString(),
    openTx: receipt.hash,
  };
  const out = path.resolve(ROOT, opts.out ?? defaultOut(jobId));
  const text = JSON.stringify(file, null, 2) + "\n";
  try {
    writeFileAtomic(out, text, 0o600);
  } catch (e) {
    // The job is open and paid for: never lose what proving it needs.
    console.error(text);
    throw new UserError(
      `job ${jobId} is open (tx ${receipt.hash}) but ${rel(out)} could not be written (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): save the job file printed above; it holds the input and salt`,
    );
  }
  return {
    title: `job:open on ${rec.network}`,
    lines: [
      ["job id", jobId.toString()],
      [
        "input",
        `${abbreviate(input.x)}${input.raw ? ` (quantized from raw ${abbreviate(input.raw)}, scale 2^${model.input.frac})` : " (quantized)"}`,
      ],
      [isPublic ? "input (public, packed)" : "input commitment", commitment.toString()],
      ["model", `${opts.model} (id ${m.modelId}, version ${version})`],
      ["fee", `${formatEther(fee)} ETH`],
      ["deadline", `${isoTime(deadline)} (${counted})`],
      ...(isPublic ? [] : ([["delivery", deliveryNote(delivery, jobId, rec.network, opts.account)]] as [string, string][])),
      [
        "note",
        isPublic
          ? `the input is public (on chain in JobInputs); ${rel(out)} records it`
          : delivery === "data"
            ? `${rel(out)} records the input and salt (public anyway: they are in the event)`
            : `${rel(out)} holds the input and salt: keep it private${delivery === "none" ? " and give it to the prover yourself" : ""}`,
      ],
    ],
    written: [out],
    ...gasOf([receipt]),
    data: { jobId, inputCommitment: commitment, file: out, x: input.x },
  };
}

/** Values for one line: all of them up to 16, else the first 8, the count left out and the last 4. */
function abbreviate(v: readonly (bigint | number | string)[]): string {
  if (v.length <= 16) return v.join(",");
  return `${v.slice(0, 8).join(",")},... (${v.length - 12} more) ...,${v.slice(-4).join(",")} (${v.length} values)`;
}

function deliveryNote(d: Delivery, jobId: bigint, network: string, account?: string): string {
  if (d === "private")
    return `private: provers claim first; run \`npx hardhat job:deliver --job ${jobId}${account !== undefined ? ` --account ${account}` : ""} --network ${network}\` and keep it running: it encrypts the input to each claimant`;
  if (d === "data") return "public: the input and salt are in the JobOpened event (data: URI); anyone can read them";
  if (d === "uri") return "at the --input-uri given; provers check it against the commitment";
  return "none: no prover node can serve this job until it has the job file";
}

export interface DeliverOptions {
  job: string | number | undefined;
  /** The job input file (default: the one job:open wrote). */
  inputFile?: string;
  account?: string;
  /** Stop after the first delivery. */
  once?: boolean;
  /** Give up after this many seconds (default: until the job is settled or past its deadline). */
  timeout?: number | string;
  /** Poll interval (ms, default 2000). */
  pollMs?: number;
  /** Let only this prover claim the job from now on (`designateClaimant`; "any" lets anyone claim again). */
  designate?: string;
}

/**
 * Task `job:deliver`: the requester's delivery agent for a private job. Watches the job; each time a prover holds a
 * live claim that was not delivered yet, encrypts the opening of the job file to that claimant
 * (scripts/chain/private-input.ts) and sends `deliverInput`. A claimant that declined a delivery of this (valid)
 * opening is not delivered to again. Ends when the job is fulfilled, reclaimed or past its deadline (or `--once`,
 * `--timeout`).
 */
export async function deliverJobOp(hre: HardhatRuntimeEnvironment, opts: DeliverOptions): Promise<TaskResult> {
  const jobId = parseJobId(opts.job);
  const timeout = opts.timeout === undefined ? undefined : parseSeconds(opts.timeout, "--timeout");
  let designate: string | undefined;
  if (opts.designate !== undefined) {
    try {
      designate = opts.designate === "any" ? ZeroAddress : getAddress(opts.designate);
    } catch {
      throw new UserError(`--designate ${opts.designate}: give the prover's address (0x + 40 hex digits), or "any" to let anyone claim`);
    }
  }
  const requester = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, requester);
  const file = path.resolve(ROOT, opts.inputFile ?? path.join(jobsDir(rec.network), `job-${jobId}.input.json`));
  const arg = opts.inputFile ? "--input-file" : "the job file job:open wrote";
  const jf = readJson<JobInputFile>(file, "job input file", "--input-file");
  const job = await jobs.getJob(jobId);
  if (Number(job.status) === 0) throw new UserError(`--job ${jobId}: no such job on network "${rec.network}"; check --job`);
  if (!job.privateInput)
    throw new UserError(`--job ${jobId} was opened with a public delivery (not job:open --delivery private): there is nothing to deliver`);
  if (getAddress(job.requester) !== requester.address)
    throw new UserError(`--account: job ${jobId} was opened by ${job.requester}, not ${requester.address}; only its requester can deliver`);
  const name = modelNameById(rec, job.modelId);
  if (!name) throw new UserError(`--job ${jobId}: model id ${job.modelId} is not in this network's deployment record`);
  const model = await quantizedModel(name);
  const { JobInputError, readJobInput } = await import("../../formats/job-input");
  let opening: { x: bigint[]; salt: bigint };
  try {
    const r = readJobInput(jf, model);
    if (r.salt === undefined) throw new JobInputError('has no "salt"');
    opening = { x: r.x, salt: r.salt };
  } catch (e) {
    if (e instanceof JobInputError) throw new UserError(`${arg} ${rel(file)} ${e.message}`);
    throw e;
  }
  const { inputCommitment } = await import("../../formats/quantized-model");
  if ((await inputCommitment(model, opening.x, opening.salt)) !== job.inputCommitment)
    throw new UserError(`${arg} ${rel(file)} does not open job ${jobId}'s input commitment: give the job file job:open wrote for this job`);

  const { deliverToClaim } = await import("../../chain/private-input");
  const log = createLog("job:deliver");
  const designations = [];
  if (designate !== undefined) {
    designations.push(await sendChecked(jobs.connect(requester).designateClaimant, jobId, designate));
    log.info(designate === ZeroAddress ? "any prover may claim again" : `only ${designate} may claim from now on`);
  }
  const deliveredTo = new Set<string>();
  const declined = new Set<string>();
  const deliveries: { claimant: string; tx: string; gasUsed: bigint }[] = [];
  const t0 = Date.now();
  let end = "";
  let refusedLogged = "";
  for (;;) {
    for (const e of await jobs.queryFilter(jobs.filters.ClaimReleased(jobId))) {
      if (deliveredTo.has(getAddress(e.args.prover))) declined.add(getAddress(e.args.prover));
    }
    let r;
    try {
      r = await deliverToClaim(jobs, jobId, opening, (c) =>
        declined.has(getAddress(c))
          ? "declined a valid delivery of this input before"
          : designate && designate !== ZeroAddress && getAddress(c) !== designate
            ? `not the designated claimant ${designate} (its claim ends unslashed after the delivery window)`
            : undefined,
      );
    } catch (e) {
      // The claim lapsed or settled between the check and the transaction: look again.
      log.info(`delivery attempt failed (${(e as Error).message.split("\n")[0].slice(0, 160)}); retrying`);
      r = { kind: "waiting" as const, reason: "retry" };
    }
    if (r.kind === "delivered") {
      deliveredTo.add(getAddress(r.claimant));
      deliveries.push({ claimant: r.claimant, tx: r.txHash, gasUsed: r.gasUsed });
      log.info(`delivered to ${r.claimant} (tx ${r.txHash}, lease until ${isoTime(r.leaseEnd)})`);
      if (opts.once) {
        end = "delivered once (--once)";
        break;
      }
    } else if (r.kind === "refused" && refusedLogged !== `${r.claimant}:${r.reason}`) {
      refusedLogged = `${r.claimant}:${r.reason}`;
      log.info(`not delivering to ${r.claimant}: ${r.reason}`);
    }
    if (r.kind === "done") {
      end = r.reason;
      break;
    }
    if (timeout !== undefined && Date.now() - t0 > timeout * 1000) {
      end = `--timeout ${timeout} s reached`;
      break;
    }
    await new Promise((res) => setTimeout(res, opts.pollMs ?? 2000));
  }
  const receipts = [...designations, ...(await Promise.all(deliveries.map((d) => hre.ethers.provider.getTransactionReceipt(d.tx))))];
  return {
    title: `job:deliver job ${jobId} on ${rec.network}`,
    lines: [
      ["deliveries", deliveries.length ? deliveries.map((d) => `${d.claimant} (tx ${d.tx})`).join("; ") : "none"],
      ["ended", end],
    ],
    written: [],
    ...gasOf(receipts.filter((x): x is NonNullable<typeof x> => x !== null)),
    data: { deliveries, end },
  };
}

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
  const { inputSignals } = await import("../../formats/quantized-model");
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
  const { describeOutput } = await import("../../formats/quantized-model");
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

/** Task `job:status`: a job's state, from the chain. */
export async function jobStatusOp(hre: HardhatRuntimeEnvironment, opts: { job: string | number | undefined }): Promise<TaskResult> {
  const jobId = parseJobId(opts.job);
  const { rec, jobs } = await loadSystem(hre);
  const job = await jobs.getJob(jobId);
  const status = STATUS_NAMES[Number(job.status)] ?? String(job.status);
  if (status === "None")
    throw new UserError(`--job ${jobId}: no such job on network "${rec.network}" (next id is ${await jobs.nextJobId()}); check --job`);
  const name = modelNameById(rec, job.modelId);
  const now = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  const lines: [string, string][] = [
    ["status", status],
    ["model", `${name ?? "? (not in this network's deployment record)"} (id ${job.modelId}, version ${job.modelVersion})`],
    ["requester", job.requester],
    ["input commitment", job.inputCommitment.toString()],
    ["deadline", `${isoTime(job.deadline)}${BigInt(now) > job.deadline ? " (passed)" : ""}`],
    ["escrow", `${formatEther(job.escrow)} ETH`],
  ];
  if (status === "Fulfilled") lines.push(["output", await outputText(name, job.output)]);
  if (status === "Claimed") {
    const claim = await jobs.claimOf(jobId);
    lines.push(["claim", `${claim.claimant} until ${isoTime(claim.leaseEnd)}`]);
  }
  return {
    title: `job:status job ${jobId} on ${rec.network}`,
    lines,
    written: [],
    gasUsed: 0n,
    gasCost: 0n,
    data: { status, output: job.output, model: name },
  };
}

/** Task `job:reclaim`: after the deadline, credits an unfulfilled job's fee back to the requester. */
export async function reclaimJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { job: string | number | undefined; account?: string },
): Promise<TaskResult> {
  const jobId = parseJobId(opts.job);
  const signer = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, signer);
  const job = await jobs.getJob(jobId).catch(() => undefined); // an unknown job: the preflight below names it
  if (job && getAddress(job.requester) !== signer.address) {
    // Only the requester reclaims. A contract requester reclaims through its own function; no --account can help.
    if ((await hre.ethers.provider.getCode(job.requester)) !== "0x")
      throw new UserError(
        `job ${jobId} was opened by the contract ${job.requester}: only that contract can reclaim it, through its own function (the example consumers: ClassifierGate.refund, SeriesForecaster.reclaim)`,
      );
    throw new UserError(`job ${jobId} was opened by ${job.requester}, not ${signer.address}: reclaim with --account ${job.requester}`);
  }
  const receipt = await sendChecked(jobs.reclaim, jobId);
  return {
    title: `job:reclaim job ${jobId} on ${rec.network}`,
    lines: [
      ["requester", signer.address],
      ["note", "the fee is credited to the requester's balance: withdraw it with market:withdraw --account <requester>"],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
  };
}

/** Task `market:withdraw`: sends the account's whole available balance (prover fees, requester refunds) to it. */
export async function withdrawOp(hre: HardhatRuntimeEnvironment, opts: { account?: string }): Promise<TaskResult> {
  const signer = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, signer);
  const account = await jobs.accountOf(signer.address);
  if (account.available === 0n)
    return {
      title: `market:withdraw on ${rec.network}`,
      lines: [
        ["account", signer.address],
        [
          "withdrawn",
          `0 ETH (nothing available${account.locked > 0n ? `; ${formatEther(account.locked)} ETH locked in claim bonds` : ""}: nothing sent)`,
        ],
      ],
      written: [],
      gasUsed: 0n,
      gasCost: 0n,
      data: { amount: 0n },
    };
  const receipt = await sendChecked(jobs.withdraw);
  const amount = eventsOf(jobs.interface, receipt).find((e) => e.name === "Withdrawn")?.args[1] as bigint | undefined;
  return {
    title: `market:withdraw on ${rec.network}`,
    lines: [
      ["account", signer.address],
      ["withdrawn", `${formatEther(amount ?? 0n)} ETH`],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { amount },
  };
}
