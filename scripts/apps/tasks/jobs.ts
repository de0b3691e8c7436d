/**
 * Job tasks. Here: `job:status`, `job:reclaim` (a subscription's run through the subscriptions contract) and
 * `market:withdraw` (ETH, or an ERC-20 token's balance); `job:open` is in ./job-open.ts, `job:deliver` in
 * ./job-deliver.ts, `job:prove` and `job:submit` in ./job-prove.ts, what they share in ./job-common.ts. Every argument
 * and output path is checked before the first transaction; every transaction is preflighted (common.sendChecked); the
 * job input file (input, salt, job id: all the prover needs) is written atomically and its path printed.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatEther, getAddress } from "ethers";
import {
  STATUS_NAMES,
  type TaskResult,
  eventsOf,
  gasOf,
  isoTime,
  loadSubscriptions,
  loadSystem,
  parseJobId,
  sendChecked,
  signerFor,
  tokenArg,
} from "./common";
import { UserError } from "../../chain/errors";
import { modelNameById } from "./records";
import { outputText } from "./job-common";

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
  const subscriptions = rec.contracts.InferenceSubscriptions?.address;
  if (job && subscriptions && getAddress(job.requester) === getAddress(subscriptions)) {
    // a subscription's run: anyone reclaims it through the subscriptions contract, for the subscription's owner
    const { client } = await loadSubscriptions(hre, signer);
    if (Number(job.status) === 1 || Number(job.status) === 2) {
      const now = BigInt((await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0);
      if (now <= job.deadline)
        throw new UserError(`job ${jobId} is still open until ${isoTime(job.deadline)}: reclaim only after its deadline`);
    }
    const { subscriptionId, run, receipt } = await client.reclaimRun(jobId);
    const owner = (await client.get(subscriptionId)).owner;
    return {
      title: `job:reclaim job ${jobId} on ${rec.network}`,
      lines: [
        ["run", `run ${run} of subscription ${subscriptionId}`],
        ["note", `the fee is credited to the subscription's owner ${owner} in the subscriptions contract (its consumer withdraws it)`],
        ["tx", receipt.hash],
      ],
      written: [],
      ...gasOf([receipt]),
    };
  }
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

/**
 * Task `market:withdraw`: sends the account's whole available balance (prover fees, requester refunds) to it; with
 * `token`, its whole balance in that ERC-20 token (token fees earned, refunds of token jobs: `withdrawToken`).
 */
export async function withdrawOp(hre: HardhatRuntimeEnvironment, opts: { account?: string; token?: string }): Promise<TaskResult> {
  const signer = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, signer);
  if (opts.token !== undefined) {
    const token = await tokenArg(hre, opts.token, "--token");
    const amount = await jobs.tokenBalanceOf(signer.address, token.address);
    const title = `market:withdraw --token ${token.symbol} on ${rec.network}`;
    if (amount === 0n)
      return {
        title,
        lines: [
          ["account", signer.address],
          ["withdrawn", `0 (nothing available in token ${token.address}: nothing sent)`],
        ],
        written: [],
        gasUsed: 0n,
        gasCost: 0n,
        data: { amount: 0n },
      };
    const receipt = await sendChecked(jobs.withdrawToken, token.address);
    return {
      title,
      lines: [
        ["account", signer.address],
        ["withdrawn", `${token.format(amount)} of token ${token.address}`],
        ["tx", receipt.hash],
      ],
      written: [],
      ...gasOf([receipt]),
      data: { amount },
    };
  }
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
