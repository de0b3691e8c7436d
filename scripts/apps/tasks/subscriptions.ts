/**
 * Subscription tasks (docs/market-rules.md, "Subscriptions"; docs/operators.md), on the SDK's SubscriptionClient:
 * `subscription:status`, `subscription:create`, `subscription:top-up`, `subscription:open-run`,
 * `subscription:cancel` and `subscription:withdraw`. Every argument is checked and every transaction preflighted
 * before anything is signed, as for the job tasks.
 *
 * Who creates and cancels: a subscription's owner is the contract that created it, whose `subscriptionInputs` view
 * gives each run's inputs and whose callback receives each result (rule 1). An account cannot be that: a subscription
 * created from one would read no inputs and skip every run, its fees refunded and its tips paid for nothing. So these
 * tasks create and cancel *through the consumer contract*: `subscription:create --consumer` calls the consumer's
 * `start(interval, runs, feePerRun, tipPerRun, runDeadline)` and `subscription:cancel` its `stop()`, the owner-only
 * functions contracts/examples/ScheduledForecaster.sol exposes; a consumer with other functions is driven by its own
 * code, and the tasks say so in one line. Funding (`top-up`), opening a due run and withdrawing credits are open to
 * anyone and work on every subscription.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { type TransactionReceipt, ZeroAddress, formatEther, getAddress, isAddress } from "ethers";
import { type ScheduledForecaster, ScheduledForecaster__factory, SubscriptionConsumer__factory } from "../../../typechain-types";
import { UserError, decodeCustomError, revertData } from "../../chain/errors";
import { type SubscriptionState, SubscriptionClientError } from "../../chain/subscriptions-client";
import {
  type TaskResult,
  type TokenArg,
  checkedTokenPayment,
  contractInterfaces,
  eventsOf,
  gasOf,
  isoTime,
  loadSubscriptions,
  parseCount,
  parseEth,
  parseSeconds,
  parseSubscriptionId,
  sendChecked,
  signerFor,
  simulateAs,
  simulatedRevert,
  tokenArg,
} from "./common";
import { modelNameById } from "./records";

/** The contract's smallest interval (InferenceSubscriptions.MIN_INTERVAL) and most runs (MAX_RUNS). */
const MIN_INTERVAL = 60;
const MAX_RUNS = 1_000_000;

/** A SubscriptionClientError (a problem the caller can fix, said in one line) as the task's UserError. */
async function oneLine<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw e instanceof SubscriptionClientError ? new UserError(e.message) : e;
  }
}

/** How a subscription's amounts are printed: ETH, or its token's units with the token's symbol. */
async function moneyOf(hre: HardhatRuntimeEnvironment, s: SubscriptionState): Promise<{ token?: TokenArg; fmt: (v: bigint) => string }> {
  if (s.feeToken === ZeroAddress) return { fmt: (v) => `${formatEther(v)} ETH` };
  const token = await tokenArg(hre, s.feeToken, "feeToken");
  return { token, fmt: token.format };
}

/** What every task on one subscription starts from: the signer of `account`, the deployment and the subscription. */
async function subscriptionFor(hre: HardhatRuntimeEnvironment, id: bigint, account?: string) {
  const signer = await signerFor(hre, account);
  const { rec, client } = await loadSubscriptions(hre, signer);
  return { signer, rec, client, s: await oneLine(client.get(id)) };
}

/** Task `subscription:status`: one subscription from the chain, or (`owner`) the list of a consumer's. */
export async function subscriptionStatusOp(
  hre: HardhatRuntimeEnvironment,
  opts: { subscription?: string | number; owner?: string },
): Promise<TaskResult> {
  if (opts.owner !== undefined && opts.subscription !== undefined)
    throw new UserError("--subscription and --owner exclude each other: give one subscription id, or the consumer to list");
  if (opts.owner !== undefined && !isAddress(opts.owner))
    throw new UserError(`--owner ${opts.owner}: not an address; give the consumer contract's 0x address`);
  const id = opts.owner === undefined ? parseSubscriptionId(opts.subscription) : undefined;
  const { rec, client } = await loadSubscriptions(hre);
  if (opts.owner !== undefined) {
    const owner = getAddress(opts.owner);
    const ids = await client.listByOwner(owner);
    const lines: [string, string][] = [["owner", owner]];
    for (const i of ids) {
      const s = await client.get(i);
      const { fmt } = await moneyOf(hre, s);
      lines.push([
        `subscription ${i}`,
        `${stateOf(s)}; ${s.nextRun} of ${s.runs} runs used, ${fmt(s.feePerRun)} + tip ${fmt(s.tipPerRun)} per run`,
      ]);
    }
    if (ids.length === 0) lines.push(["subscriptions", "none created by this owner"]);
    return { title: `subscription:status --owner on ${rec.network}`, lines, written: [], gasUsed: 0n, gasCost: 0n, data: { ids } };
  }
  const s = await oneLine(client.get(id!));
  const { token, fmt } = await moneyOf(hre, s);
  const results = await client.results(s.subscriptionId);
  const last = results[results.length - 1];
  const name = modelNameById(rec, s.modelId);
  const lines: [string, string][] = [
    ["state", stateOf(s)],
    [
      "owner",
      `${s.owner}${(await hre.ethers.provider.getCode(s.owner)) === "0x" ? " (an account: its runs read no inputs)" : " (consumer contract)"}`,
    ],
    ["model", `${name ?? "? (not in this network's deployment record)"} (id ${s.modelId}, version ${s.modelVersion})`],
    ["paid in", token ? `token ${token.address} (${token.symbol})` : "ETH"],
    ["per run", `fee ${fmt(s.feePerRun)}, tip ${fmt(s.tipPerRun)}`],
    ["schedule", `every ${s.interval} s from ${isoTime(s.start)}; each run's job open ${s.runDeadline} s`],
    ["runs", `${s.nextRun} of ${s.runs} used (opened, skipped or missed)`],
    ["escrow left", fmt(s.escrow)],
    ["results delivered", last ? `${results.length}; the last: run ${last.run} (job ${last.jobId}, output ${last.output})` : "0"],
  ];
  return {
    title: `subscription:status subscription ${s.subscriptionId} on ${rec.network}`,
    lines,
    written: [],
    gasUsed: 0n,
    gasCost: 0n,
    data: { state: s, delivered: results.length },
  };
}

/** A subscription's state in a few words: cancelled, ended, due now, or when its next run opens. */
function stateOf(s: SubscriptionState): string {
  if (s.cancelled) return "cancelled";
  if (s.due) return `run ${s.currentRun} due now (subscription:open-run, or a prover node, opens it)`;
  if (s.opensAt === 0n) return `ended (all ${s.runs} runs used; subscription:top-up adds runs)`;
  return `next run opens at ${isoTime(s.opensAt)}`;
}

/**
 * The consumer a create or a cancel goes through: a contract built on SubscriptionConsumer for this deployment's
 * InferenceSubscriptions, seen as the ScheduledForecaster-style consumer whose owner-only `start` and `stop` the tasks
 * call.
 * @throws UserError naming --consumer (or the owner) and the fix.
 */
async function consumerOf(
  hre: HardhatRuntimeEnvironment,
  address: string,
  subscriptions: string,
  arg: string,
): Promise<{ address: string; forecaster: ScheduledForecaster }> {
  if (!isAddress(address)) throw new UserError(`${arg} ${address}: not an address; give your consumer contract's 0x address`);
  const a = getAddress(address);
  if ((await hre.ethers.provider.getCode(a)) === "0x")
    throw new UserError(
      `${arg} ${a}: no contract there, and a subscription's owner must be the contract whose subscriptionInputs view gives each run's inputs (docs/market-rules.md, "Subscriptions", rule 1): deploy your consumer (contracts/consumer/SubscriptionConsumer.sol) and give its address`,
    );
  let via: string;
  try {
    via = getAddress(await SubscriptionConsumer__factory.connect(a, hre.ethers.provider).subscriptions());
  } catch {
    throw new UserError(
      `${arg} ${a}: the contract there is not a SubscriptionConsumer (no subscriptions()); give a consumer built on contracts/consumer/SubscriptionConsumer.sol`,
    );
  }
  if (via !== getAddress(subscriptions))
    throw new UserError(
      `${arg} ${a}: this consumer subscribes through ${via}, not this deployment's InferenceSubscriptions ${subscriptions}: check --network, or deploy the consumer against ${subscriptions}`,
    );
  return { address: a, forecaster: ScheduledForecaster__factory.connect(a, hre.ethers.provider) };
}

/**
 * A preflight of a consumer's owner-only function (`start`, `stop`) as `from`: its revert in one line. A revert with
 * no data is read as a consumer without that function.
 * @throws UserError naming what to do.
 */
async function consumerPreflight(
  call: () => Promise<unknown>,
  what: string,
  consumer: string,
  owner: () => Promise<string>,
): Promise<void> {
  try {
    await call();
  } catch (e) {
    const data = revertData(e);
    const d = data ? decodeCustomError(data, await contractInterfaces()) : undefined;
    if (d?.name === "NotOwner")
      throw new UserError(
        `${consumer}: only its owner ${await owner()} may call its ${what.split("(")[0]}, not ${d.args[0]}: pass --account ${await owner()}`,
      );
    if (d) throw e; // the subscriptions contract's refusal, decoded by the task runner
    throw new UserError(
      `${consumer} has no ${what} (the owner-only function contracts/examples/ScheduledForecaster.sol exposes): drive your consumer through its own function; subscriptions are created and cancelled by their consumer contract (docs/market-rules.md, "Subscriptions", rule 1)`,
    );
  }
}

/** Task `subscription:create`: the consumer's `start(...)` with the exact escrow, by its owner. */
export async function createSubscriptionOp(
  hre: HardhatRuntimeEnvironment,
  opts: {
    consumer?: string;
    interval: string | number;
    runs: string | number;
    fee: string;
    tip: string;
    runDeadline?: string | number;
    account?: string;
  },
): Promise<TaskResult> {
  if (opts.consumer === undefined)
    throw new UserError(
      '--consumer is required: a subscription belongs to the contract whose subscriptionInputs view gives each run\'s inputs and whose callback receives each result (docs/market-rules.md, "Subscriptions", rule 1), so it is created through that contract; one created from an account would skip every run',
    );
  const interval = parseSeconds(opts.interval, "--interval");
  if (interval < MIN_INTERVAL)
    throw new UserError(`--interval ${interval}: the subscriptions contract takes intervals of at least ${MIN_INTERVAL} s`);
  const runs = parseCount(opts.runs, "--runs");
  if (runs > MAX_RUNS) throw new UserError(`--runs ${runs}: at most ${MAX_RUNS.toLocaleString("en-US")} runs; top up later for more`);
  const fee = parseEth(opts.fee, "--fee");
  const tip = parseTip(opts.tip);
  const runDeadline = opts.runDeadline === undefined ? interval : parseSeconds(opts.runDeadline, "--run-deadline");
  const signer = await signerFor(hre, opts.account);
  const { rec, client } = await loadSubscriptions(hre, signer);
  const subsAddress = await client.contract.getAddress();
  const c = await consumerOf(hre, opts.consumer, subsAddress, "--consumer");
  const f = c.forecaster.connect(signer);
  // a consumer of this shape keeps one subscription: starting it again would leave the live one without its stop()
  const current = await f.subscriptionId().catch(() => 0n);
  if (current !== 0n) {
    const s = await client.get(current).catch(() => undefined);
    if (s && !s.cancelled && s.opensAt !== 0n)
      throw new UserError(
        `--consumer ${c.address} runs subscription ${current} already (${s.runs - s.nextRun} runs left): cancel it first (subscription:cancel --subscription ${current}) or deploy another consumer`,
      );
  }
  const escrow = BigInt(runs) * (fee + tip);
  const balance = await hre.ethers.provider.getBalance(signer.address);
  if (balance <= escrow)
    throw new UserError(
      `--runs ${runs}: the escrow is ${formatEther(escrow)} ETH (runs x (fee + tip)) and ${signer.address} has ${formatEther(balance)} ETH, not enough with gas; lower --runs, --fee or --tip, or fund the account`,
    );
  const owner = () => f.owner().catch(() => "?");
  await consumerPreflight(
    () => f.start.staticCall(interval, runs, fee, tip, runDeadline, { value: escrow }),
    "start(interval, runs, feePerRun, tipPerRun, runDeadline)",
    `--consumer ${c.address}`,
    owner,
  );
  const receipt = await sendChecked(f.start, interval, runs, fee, tip, runDeadline, { value: escrow });
  const created = eventsOf(client.contract.interface, receipt).find((e) => e.name === "SubscriptionCreated");
  const id = created?.args[0] as bigint;
  const s = await client.get(id);
  return {
    title: `subscription:create on ${rec.network}`,
    lines: [
      ["subscription", `${id} (owner: the consumer ${c.address})`],
      ["model", `${modelNameById(rec, s.modelId) ?? "?"} (id ${s.modelId}, version ${s.modelVersion}, as the consumer pins it)`],
      ["runs", `${runs}, one every ${interval} s from ${isoTime(s.start)}; each run's job open ${runDeadline} s`],
      ["escrow", `${formatEther(escrow)} ETH paid (fee ${formatEther(fee)} + tip ${formatEther(tip)} per run)`],
      [
        "next",
        `a prover node with PROVER_SUBSCRIPTIONS_ADDRESS=${subsAddress} opens each run for its tip (or subscription:open-run --subscription ${id}); subscription:status --subscription ${id} follows it`,
      ],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { subscriptionId: id },
  };
}

/** A tip in ETH, zero allowed (then nobody is paid to open the runs: only the owner's own keeper will). */
function parseTip(v: string): bigint {
  if (/^\s*0*(\.0*)?\s*$/.test(String(v))) return 0n;
  return parseEth(v, "--tip");
}

/** Task `subscription:top-up`: pays for more runs (anyone may), the exact escrow, in ETH or the subscription's token. */
export async function topUpSubscriptionOp(
  hre: HardhatRuntimeEnvironment,
  opts: { subscription: string | number; runs: string | number; account?: string; noApprove?: boolean },
): Promise<TaskResult> {
  const id = parseSubscriptionId(opts.subscription);
  const runs = parseCount(opts.runs, "--runs");
  const { signer, rec, client, s } = await subscriptionFor(hre, id, opts.account);
  if (s.cancelled) throw new UserError(`subscription ${id} is cancelled: it takes no more runs`);
  const { token, fmt } = await moneyOf(hre, s);
  if (!token && opts.noApprove) throw new UserError(`--no-approve: subscription ${id} is paid in ETH, which needs no approval; drop it`);
  const due = BigInt(runs) * (s.feePerRun + s.tipPerRun);
  let approvals: TransactionReceipt[] = [];
  if (token) {
    // the balance, the allowance, then the approvals and the top-up simulated together before anything is signed
    const pay = await checkedTokenPayment(signer, token, await client.contract.getAddress(), due, {
      approve: !opts.noApprove,
      names: { token: "token", amount: "--runs", amountWord: "escrow", spender: "subscriptions contract", approveFix: "drop --no-approve" },
    });
    const topUp = { to: await client.contract.getAddress(), data: client.contract.interface.encodeFunctionData("topUp", [id, runs]) };
    const sim = await simulateAs(hre, signer.address, [...pay.approvals, topUp]);
    if (sim && !sim.ok)
      throw new UserError(
        `${sim.index < pay.approvals.length ? `token ${token.address}: its approve ` : ""}${await simulatedRevert(sim.data)}`,
      );
    approvals = await pay.approveIfShort();
  } else await client.contract.connect(signer).topUp.staticCall(id, runs, { value: due });
  const hash = await oneLine(client.topUp(id, runs, { approve: false })); // approved above when it had to be
  const receipts = [...approvals, await hre.ethers.provider.getTransactionReceipt(hash)];
  return {
    title: `subscription:top-up subscription ${id} on ${rec.network}`,
    lines: [
      ["runs", `${s.runs} -> ${s.runs + BigInt(runs)}`],
      ["paid", fmt(due)],
      ["tx", hash],
    ],
    written: [],
    ...gasOf(receipts),
    data: { runs: s.runs + BigInt(runs) },
  };
}

/** Task `subscription:open-run`: opens the due run for its tip; says when the next run opens when none is due. */
export async function openRunOp(
  hre: HardhatRuntimeEnvironment,
  opts: { subscription: string | number; account?: string },
): Promise<TaskResult> {
  const id = parseSubscriptionId(opts.subscription);
  const { signer, rec, client, s } = await subscriptionFor(hre, id, opts.account);
  if (s.due) await client.contract.connect(signer).openRun.staticCall(id); // else the client says when the next run opens
  const r = await oneLine(client.openRun(id));
  const receipt = await hre.ethers.provider.getTransactionReceipt(r.txHash);
  const { fmt } = await moneyOf(hre, s);
  return {
    title: `subscription:open-run subscription ${id} on ${rec.network}`,
    lines: [
      ["run", String(r.run)],
      r.skipped
        ? ["skipped", `${r.skipped}: the run's fee went back to the owner (docs/market-rules.md, "Subscriptions", rule 3)`]
        : ["job", `${r.jobId} (job:status --job ${r.jobId}; a prover serves it like any job)`],
      [
        "tip",
        `${fmt(s.tipPerRun)} credited to ${signer.address} (subscription:withdraw${s.feeToken === ZeroAddress ? "" : ` --token ${s.feeToken}`})`,
      ],
      ["tx", r.txHash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { ...r },
  };
}

/**
 * Task `subscription:cancel`: through the owner. An account owner cancels itself; a consumer contract through its
 * `stop()` (ScheduledForecaster's: cancels, withdraws the refunds and sends them to its owner), by its owner.
 */
export async function cancelSubscriptionOp(
  hre: HardhatRuntimeEnvironment,
  opts: { subscription: string | number; account?: string },
): Promise<TaskResult> {
  const id = parseSubscriptionId(opts.subscription);
  const { signer, rec, client, s } = await subscriptionFor(hre, id, opts.account);
  const title = `subscription:cancel subscription ${id} on ${rec.network}`;
  if (s.cancelled)
    return { title, lines: [["state", "cancelled already: nothing sent"]], written: [], gasUsed: 0n, gasCost: 0n, data: { refunded: 0n } };
  const { fmt } = await moneyOf(hre, s);
  let receipt;
  let via: string;
  if ((await hre.ethers.provider.getCode(s.owner)) === "0x") {
    if (s.owner !== signer.address)
      throw new UserError(`subscription ${id} is owned by the account ${s.owner}: cancel with --account ${s.owner}`);
    receipt = await sendChecked(client.contract.connect(signer).cancel, id);
    via = "its owner account";
  } else {
    const c = await consumerOf(hre, s.owner, await client.contract.getAddress(), "the owner");
    const f = c.forecaster.connect(signer);
    const current = await f.subscriptionId().catch(() => undefined);
    if (current !== id)
      throw new UserError(
        `subscription ${id} is owned by the contract ${s.owner}, which cancels it through its own function only (a SubscriptionConsumer calls _cancelSubscription; contracts/examples/ScheduledForecaster.sol: stop(), by its owner, for its current subscription${current ? ` ${current}` : ""}): call that function`,
      );
    await consumerPreflight(
      () => f.stop.staticCall(),
      "stop()",
      `subscription ${id}'s consumer ${s.owner}`,
      () => f.owner().catch(() => "?"),
    );
    receipt = await sendChecked(f.stop);
    via = `the consumer's stop() (its refunds withdrawn and sent to its owner ${await f.owner()})`;
  }
  const cancelled = eventsOf(client.contract.interface, receipt).find((e) => e.name === "SubscriptionCancelled");
  const refunded = (cancelled?.args[1] as bigint | undefined) ?? 0n;
  return {
    title,
    lines: [
      ["cancelled", `through ${via}`],
      ["refunded", `${fmt(refunded)} (${s.runs - s.nextRun} runs not opened); runs already opened still deliver`],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { refunded },
  };
}

/** Task `subscription:withdraw`: the account's credits in the subscriptions contract (ETH, or one token). */
export async function withdrawSubscriptionCreditsOp(
  hre: HardhatRuntimeEnvironment,
  opts: { account?: string; token?: string },
): Promise<TaskResult> {
  const signer = await signerFor(hre, opts.account);
  const { rec, client } = await loadSubscriptions(hre, signer);
  const token = opts.token === undefined ? undefined : await tokenArg(hre, opts.token, "--token");
  const fmt = token ? token.format : (v: bigint) => `${formatEther(v)} ETH`;
  const title = `subscription:withdraw${token ? ` --token ${token.symbol}` : ""} on ${rec.network}`;
  const credit = await client.creditOf(signer.address, token?.address);
  if (credit === 0n)
    return {
      title,
      lines: [
        ["account", signer.address],
        ["withdrawn", `0 (nothing credited${token ? ` in token ${token.address}` : " in ETH"}: nothing sent)`],
      ],
      written: [],
      gasUsed: 0n,
      gasCost: 0n,
      data: { amount: 0n },
    };
  const subs = client.contract.connect(signer);
  await (token ? subs.withdrawToken.staticCall(token.address) : subs.withdraw.staticCall());
  const { amount, receipt } = await oneLine(client.withdraw(token?.address));
  return {
    title,
    lines: [
      ["account", signer.address],
      ["withdrawn", fmt(amount)],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { amount },
  };
}
