/**
 * Task `job:open`: checks every argument and output path before the first transaction, escrows the fee (ETH, or an
 * ERC-20 token with `--fee-token`: approved and simulated with the open before anything is signed) for an inference on
 * a committed (or public) input and writes the job input file (input, salt, job id: all the prover needs) atomically;
 * the version the job pins is checked against this deployment record first (`checkedVersion`).
 */
import { randomBytes } from "crypto";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { type ContractTransactionReceipt, type TransactionReceipt, formatEther } from "ethers";
import type { InputKind, JobInputFile } from "../../formats/job-input";
import { ROOT, rel, writeFileAtomic } from "../../util/paths";
import {
  type TaskResult,
  type TokenArg,
  checkWritable,
  checkedTokenPayment,
  eventsOf,
  gasOf,
  isoTime,
  loadSystem,
  parseEth,
  parseSeconds,
  parseTokenAmount,
  sendChecked,
  signerFor,
  simulateAs,
  simulatedRevert,
  tokenArg,
} from "./common";
import type { TokenPayment } from "../../chain/erc20";
import { UserError } from "../../chain/errors";
import { type ModelRecord, jobsDir, modelRecord } from "./records";
import type { ModelRegistry } from "../../../typechain-types";
import { parseInputArg, quantizedModel, requireBundledModel } from "./job-common";

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
  /**
   * Pay the fee in this ERC-20 token (docs/market-rules.md, "Payment tokens"): `fee` is then in whole tokens at the
   * token's decimals (its smallest units for a token without `decimals()`); the balance is checked, the market
   * approved for the fee when its allowance is short (unless `noApprove`) and the approval and the open simulated
   * together before anything is signed.
   */
  feeToken?: string;
  /** With `feeToken`: send no approval; refuse when the market's allowance is below the fee. */
  noApprove?: boolean;
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
  if (opts.noApprove && opts.feeToken === undefined)
    throw new UserError("--no-approve is for --fee-token: drop it (an ETH fee needs no approval)");
  let fee = opts.feeToken === undefined ? parseEth(opts.fee, "--fee") : 0n; // a token's amount is read once its decimals are known
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
  const token = opts.feeToken === undefined ? undefined : await tokenArg(hre, opts.feeToken, "--fee-token");
  if (token) {
    fee = parseTokenAmount(opts.fee, "--fee", token);
    if (fee >= 1n << 96n) throw new UserError(`--fee ${opts.fee}: the market takes fees below 2^96 token units; lower --fee`);
  }
  const balance = await hre.ethers.provider.getBalance(requester.address);
  if (balance <= (token ? 0n : fee))
    throw new UserError(
      token
        ? `--account: ${requester.address} has no ETH to pay the gas with; fund the account or use another --account`
        : `--fee ${opts.fee}: account ${requester.address} has ${formatEther(balance)} ETH, not enough for the fee and gas; lower --fee, fund the account or use another --account`,
    );
  const payment = token
    ? await checkedTokenPayment(requester, token, rec.contracts.InferenceJobs.address, fee, {
        approve: !opts.noApprove,
        names: { token: "--fee-token", amount: "--fee", amountWord: "fee", spender: "market", approveFix: "drop --no-approve" },
      })
    : undefined;
  const { inputSignals } = await import("../../formats/model-layout");
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
  const { dataUri } = await import("../../formats/job-input");
  const uri = delivery === "data" ? dataUri({ x: input.x, salt }) : (opts.inputUri ?? "");
  const chainNow = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  const wallNow = Math.floor(Date.now() / 1000);
  const deadline = BigInt(Math.max(chainNow, wallNow) + deadlineIn);
  const counted =
    wallNow >= chainNow
      ? `${deadlineIn} s from this machine's clock`
      : `${deadlineIn} s from the chain's latest block time (${chainNow - wallNow} s ahead of this machine's clock)`;

  const id = BigInt(m.modelId);
  const market = jobs.connect(requester);
  let approvals: TransactionReceipt[] = [];
  let receipt: ContractTransactionReceipt;
  if (token && payment) {
    const open = isPublic
      ? market.interface.encodeFunctionData("openTokenJobWithInputs", [token.address, fee, id, version, input.x, deadline, false])
      : delivery === "private"
        ? market.interface.encodeFunctionData("openPrivateTokenJob", [token.address, fee, id, version, commitment, deadline, false])
        : market.interface.encodeFunctionData("openTokenJob", [token.address, fee, id, version, commitment, uri, deadline, false]);
    await simulatedTokenOpen(hre, requester.address, token, payment, { to: rec.contracts.InferenceJobs.address, data: open });
    approvals = await payment.approveIfShort();
    receipt = isPublic
      ? await sendChecked(market.openTokenJobWithInputs, token.address, fee, id, version, input.x, deadline, false)
      : delivery === "private"
        ? await sendChecked(market.openPrivateTokenJob, token.address, fee, id, version, commitment, deadline, false)
        : await sendChecked(market.openTokenJob, token.address, fee, id, version, commitment, uri, deadline, false);
  } else
    receipt = isPublic
      ? await sendChecked(market.openJobWithInputs, id, version, input.x, deadline, false, { value: fee })
      : delivery === "private"
        ? await sendChecked(market.openPrivateJob, id, version, commitment, deadline, false, { value: fee })
        : await sendChecked(market.openJob, id, version, commitment, uri, deadline, false, { value: fee });
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
      ["fee", token ? `${token.format(fee)} of token ${token.address}` : `${formatEther(fee)} ETH`],
      ...(token
        ? ([
            [
              "approval",
              approvals.length
                ? `the market approved for the fee (${approvals.map((r) => r.hash).join(", ")})`
                : "none sent: the market's allowance covered the fee",
            ],
          ] as [string, string][])
        : []),
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
    ...gasOf([...approvals, receipt]),
    data: { jobId, inputCommitment: commitment, file: out, x: input.x, ...(token ? { feeToken: token.address, fee } : {}) },
  };
}

/**
 * The approvals a token open needs and the open itself, simulated together as the requester (common.simulateAs)
 * before anything is signed: a token whose `approve` fails or returns false, or that the market refuses at the pull
 * (a fee-on-transfer token: `FeeNotReceived`), stops here. On a node without state overrides nothing can be said
 * before sending: the open's own preflight (after the approval) still stops it.
 * @throws UserError naming --fee-token and the fix.
 */
async function simulatedTokenOpen(
  hre: HardhatRuntimeEnvironment,
  requester: string,
  token: TokenArg,
  payment: TokenPayment,
  open: { to: string; data: string },
): Promise<void> {
  const sim = await simulateAs(hre, requester, [...payment.approvals, open]);
  if (!sim) return;
  const approvals = payment.approvals.length;
  if (!sim.ok)
    throw new UserError(
      sim.index < approvals
        ? `--fee-token ${token.address}: the token's approve(market, fee) ${await simulatedRevert(sim.data)}; approve the market yourself and pass --no-approve, or pay in another token`
        : `--fee-token ${token.address}: ${await simulatedRevert(sim.data)}`,
    );
  if (sim.results.slice(0, approvals).some((r) => r.length === 66 && BigInt(r) === 0n))
    throw new UserError(
      `--fee-token ${token.address}: the token's approve(market, fee) returned false (no allowance given); approve the market yourself and pass --no-approve, or pay in another token`,
    );
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
