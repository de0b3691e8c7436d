/**
 * Task `job:deliver`: the requester's delivery agent for a private job, which encrypts the job file's opening to each
 * prover that claims the job (scripts/chain/private-input.ts).
 */
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { ZeroAddress, getAddress } from "ethers";
import type { JobInputFile } from "../../formats/job-input";
import { createLog } from "../../util/stage-log";
import { ROOT, rel } from "../../util/paths";
import { type TaskResult, gasOf, isoTime, loadSystem, parseJobId, parseSeconds, sendChecked, signerFor } from "./common";
import { UserError } from "../../chain/errors";
import { jobsDir, modelNameById } from "./records";
import { quantizedModel, readJson } from "./job-common";

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
