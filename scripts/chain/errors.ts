/**
 * Turning whatever went wrong into ONE line that names the problem and the fix. Custom errors are decoded with the
 * contracts' ABIs (the typechain interfaces' `parseError`); transport and wallet errors are recognised by their
 * codes and messages. No typechain import here: the caller passes the interfaces (loaded lazily).
 */
import type { ErrorDescription, Interface } from "ethers";
import { formatEther } from "ethers";

/** An error whose message is already fit for the user (one line, says what to do). */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** Where the error happened, for messages. */
export interface ErrorContext {
  network: string;
  url?: string;
  /** Interfaces whose custom errors may appear (InferenceJobs, ModelRegistry, the adapter). */
  interfaces?: Interface[];
}

const HEX = /^0x[0-9a-fA-F]*$/;

/** Finds revert data (`0x` + selector + args) anywhere in an ethers / Hardhat error chain. */
export function revertData(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== "object" || depth > 5) return undefined;
  const o = e as Record<string, unknown>;
  for (const k of ["data", "returnData"]) {
    const v = o[k];
    if (typeof v === "string" && HEX.test(v) && v.length >= 10) return v;
    if (v && typeof v === "object") {
      const inner = (v as Record<string, unknown>).data;
      if (typeof inner === "string" && HEX.test(inner) && inner.length >= 10) return inner;
    }
  }
  for (const k of ["error", "info", "cause", "parent"]) {
    const r = revertData(o[k], depth + 1);
    if (r) return r;
  }
  return undefined;
}

/** Every message in an error chain, joined (for pattern matching). */
function allMessages(e: unknown, depth = 0): string {
  if (!e || typeof e !== "object" || depth > 5) return typeof e === "string" ? e : "";
  const o = e as Record<string, unknown>;
  const own = [o.message, o.shortMessage, o.code, o.reason].filter((v) => typeof v === "string" || typeof v === "number").join(" ");
  return [own, ...["error", "info", "cause", "parent"].map((k) => allMessages(o[k], depth + 1))].join(" ");
}

/** Decodes a custom error with the first interface that knows its selector. */
export function decodeCustomError(data: string, interfaces: Interface[]): ErrorDescription | undefined {
  for (const i of interfaces) {
    try {
      const d = i.parseError(data);
      if (d) return d;
    } catch {
      // not this interface's error
    }
  }
  return undefined;
}

const STATUS = ["None", "Open", "Claimed", "Fulfilled", "Reclaimed", "Posted"];

/** The flags of subscription:create that set each field InvalidSubscriptionParameter names. */
const SUBSCRIPTION_FLAGS: Record<string, string> = {
  interval: "--interval",
  runs: "--runs",
  feePerRun: "--fee",
  runDeadline: "--run-deadline",
};

function when(ts: bigint): string {
  return `${new Date(Number(ts) * 1000).toISOString()} (unix ${ts})`;
}

/** The user message for a decoded custom error: what happened, then what to do. */
export function customErrorMessage(d: ErrorDescription): string {
  const a = d.args;
  switch (d.name) {
    case "ModelNotFound":
      return `unknown model id ${a[0]}: no such model in the registry; list registered models in deployments/<network>.json or register one with model:register`;
    case "VersionNotFound":
      return `model ${a[0]} has no version ${a[1]} with a verifier; register the model with its verifier adapter (model:register)`;
    case "ModelIsDeprecated":
    case "DeprecatedModel":
    case "VerificationRefused_ModelDeprecated":
      return `model ${a[0]} is deprecated: register a new model and use its id`;
    case "NotModelOwner":
      return `${a[1]} does not own model ${a[0]}: send the transaction from the model owner's account (--account)`;
    case "VerifierMismatch":
      return `wrong proof system: the verifier adapter ${a[0]} is ${a[1]} with ${a[2]} public signals, which does not match the commitment; use --proof-system groth16-bn254-v1 (the only system this toolchain proves)`;
    case "UnsupportedProofSystem":
      return `wrong proof system ${a[0]}: this toolchain proves groth16-bn254-v1 only; register the model with --proof-system groth16-bn254-v1`;
    case "InvalidVerifierConfig":
      return `verifier adapter ${a[0]} with ${a[1]} public signals is not usable (no code there?): deploy it with \`deploy --models <name>\` on this network`;
    case "ModelHashNotInField":
      return `model commitment ${a[0]} is not below the BN254 field: rebuild the model with model:build`;
    case "UnsupportedModel":
      return `model ${a[0]} has ${a[1]} public signals (needs 4, and a verifier): register it with its Groth16 adapter`;
    case "ZeroFee":
      return "insufficient fee: a job needs a fee above zero; pass --fee <ETH>, e.g. --fee 0.01";
    case "AmountTooLarge":
      return `fee ${formatEther(a[0] as bigint)} ETH does not fit in 96 bits: pass a smaller --fee`;
    case "InputCommitmentNotInField":
      return `input commitment ${a[0]} is not below the BN254 field: use a salt below the field modulus`;
    case "OutputNotInField":
      return `output ${a[0]} is not below the BN254 field: the proof file is corrupt; prove again`;
    case "InvalidDeadline":
      return `deadline ${when(a[0] as bigint)} is not after the chain's latest block time ${when(a[1] as bigint)}, or is past the year 2106 (uint32): pass a --deadline-in that lands between the two (job:open counts it from the later of this machine's clock and the chain's)`;
    case "JobNotFound":
      return `--job ${a[0]}: no such job on this network's jobs market; check --job (job:open printed the id)`;
    case "JobNotOpen":
      return `job ${a[0]} is ${STATUS[Number(a[1])] ?? a[1]}, not open: nothing to do for it (job:status shows its result)`;
    case "DeadlinePassed":
      return `job ${a[0]} expired at ${when(a[1] as bigint)}: results are no longer accepted; the requester can take the fee back with job:reclaim`;
    case "DeadlineNotPassed":
      return `job ${a[0]} is still open until ${when(a[1] as bigint)}: reclaim only after its deadline`;
    case "NotRequester":
      return `${a[1]} did not open job ${a[0]}: reclaim from the requester's account (--account)`;
    case "ModelVersionMismatch":
      return `model ${a[0]} is at version ${a[2]}, not the version ${a[1]} this job names: the model was updated since it was checked; audit version ${a[2]} (npm run audit:verifier) and open naming it (--model-version ${a[2]})`;
    case "AlreadyClaimedOnce":
      return `${a[1]} has claimed private job ${a[0]} once already: an address claims a private job at most once; leave it to other provers`;
    case "ClaimantMismatch":
      return `job ${a[0]} is now claimed by ${a[2]}, not ${a[1]} whom the input was encrypted to: the claim changed; job:deliver encrypts to the live claimant`;
    case "JobAlreadyClaimed":
      return `job ${a[0]} is claimed by ${a[1]} until ${when(a[2] as bigint)}: wait for the lease to end or pick another job`;
    case "InsufficientStake":
      return `${a[0]} has ${formatEther(a[1] as bigint)} ETH stake but a claim needs ${formatEther(a[2] as bigint)}: deposit more stake first`;
    case "InvalidProof":
      return `the proof for job ${a[0] ?? ""} does not verify on-chain: it is bound to another job, prover, model or input; prove again with job:prove from the submitting account`;
    case "InvalidProofLength":
      return `the proof has ${a[1]} bytes, the verifier expects ${a[0]}: the proof file is corrupt; prove again`;
    case "SignalNotInField":
      return `public signal ${a[0]} (${a[1]}) is not below the BN254 field: prove again`;
    case "InsufficientCallbackGas":
      return `job ${a[0]} needs ${a[2]} gas for its callback but only ${a[1]} was left: the transaction's gas limit was too low; run the task again (it estimates the gas)`;
    case "NothingToWithdraw":
      return `${a[0]} has nothing to withdraw: a prover is credited after a verified job:submit, a requester after job:reclaim; check --account`;
    case "TransferFailed":
      return a.length > 1
        ? `sending ${formatEther(a[1] as bigint)} ETH to ${a[0]} failed: withdraw to an account that accepts ETH`
        : `sending ETH to ${a[0]} failed: withdraw to an account that accepts ETH`;
    case "FeeNotReceived":
      return `token ${a[0]} delivered ${a[2]} of the ${a[1]} units pulled: a fee-on-transfer or deflationary token, which the market refuses (docs/market-rules.md, "Payment tokens"); pay in another token or in ETH (drop --fee-token)`;
    case "TokenAmountNotReceived":
      return `token ${a[0]} delivered ${a[2]} of the ${a[1]} units pulled: a fee-on-transfer or deflationary token, which the subscriptions contract refuses (docs/market-rules.md, "Payment tokens"); pay in another token`;
    case "FeeTokenNotContract":
      return `--fee-token ${a[0]}: no contract there; give the ERC-20 token's address`;
    case "NothingToWithdrawInToken":
      return `${a[0]} has nothing to withdraw in token ${a[1]}: check --token and --account`;
    case "InvalidSubscriptionParameter":
      return `the subscriptions contract refuses ${a[0]} ${a[1]} (docs/market-rules.md, "Subscriptions", rule 1: an interval of at least 60 s, 1 to 1,000,000 runs, a fee and a run deadline above zero): fix ${SUBSCRIPTION_FLAGS[a[0] as string] ?? "the consumer's settings"}`;
    case "WrongEscrow":
      return `the escrow sent (${formatEther(a[1] as bigint)} ETH) is not runs x (fee + tip) = ${formatEther(a[0] as bigint)} ETH: let the task compute it`;
    case "UnknownSubscription":
      return `--subscription ${a[0]}: no such subscription on this network; check the id (subscription:status --owner <consumer> lists a consumer's)`;
    case "NotSubscriptionOwner":
      return `${a[1]} does not own subscription ${a[0]}: only its owner (the consumer contract that created it) can; subscription:status shows it`;
    case "SubscriptionIsCancelled":
      return `subscription ${a[0]} is cancelled: it takes no more runs`;
    case "RunNotDue":
      return `subscription ${a[0]}: no run is due now; the next one opens at ${when(a[1] as bigint)}`;
    case "SubscriptionEnded":
      return `subscription ${a[0]} has had all its ${a[1]} runs: add runs with subscription:top-up`;
    case "UnknownRun":
      return `job ${a[0]} is no awaited run of a subscription (delivered or reclaimed already): nothing to do`;
    case "ZeroDeposit":
      return "a deposit needs a value above zero";
    default:
      return `the contract reverted with ${d.signature}${a.length ? ` (${a.map(String).join(", ")})` : ""}`;
  }
}

/**
 * One line for any error a task can hit.
 * @param e The error thrown.
 * @param ctx The network and the contract interfaces to decode custom errors with.
 */
export function describeError(e: unknown, ctx: ErrorContext): string {
  if (e instanceof UserError) return e.message;
  const data = revertData(e);
  if (data && ctx.interfaces) {
    const d = decodeCustomError(data, ctx.interfaces);
    if (d) return customErrorMessage(d);
  }
  const text = allMessages(e);
  const named = /reverted with custom error '([A-Za-z0-9_]+)\(/.exec(text);
  if (named) return `the contract reverted with ${named[1]}: see the contract's NatSpec in contracts/interfaces/`;
  const where = `network "${ctx.network}"${ctx.url ? ` (${ctx.url})` : ""}`;
  if (
    /HH108|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|fetch failed|could not detect network|Cannot connect to the network|socket hang up/i.test(
      text,
    )
  ) {
    return `RPC down: cannot reach ${where}; start the node (npx hardhat node) or fix the RPC URL (ZKML_RPC_URL, SEPOLIA_RPC_URL, BASE_SEPOLIA_RPC_URL: see docs/operators.md)`;
  }
  if (/nonce too low|nonce has already been used|NONCE_EXPIRED/i.test(text)) {
    return `nonce too low on ${where}: another transaction from this account was mined or is pending; wait for it to be mined and run the task again (do not reuse a signed transaction)`;
  }
  if (/insufficient funds|INSUFFICIENT_FUNDS/i.test(text)) {
    return `insufficient funds on ${where}: the sending account cannot pay value + gas; fund it (testnet faucet) or use another --account`;
  }
  if (/replacement (transaction )?underpriced|REPLACEMENT_UNDERPRICED/i.test(text)) {
    return `a pending transaction with the same nonce pays more gas on ${where}: wait for it to be mined, then run the task again`;
  }
  if (/BAD_DATA|could not decode result data|execution reverted \(no data present/i.test(text)) {
    return `a contract on ${where} did not answer as the deployment record expects (no contract there, or another one): check --network and the addresses in deployments/${ctx.network}.json, or deploy again`;
  }
  const first = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  return first;
}

/** A Hardhat argument or network error (HH100, HH301, HH303, HH305, HH306...): what it means for this project. */
export interface HardhatErrorLike {
  number: number;
  messageArguments: Record<string, unknown>;
  message: string;
}

/** `--deadline-in` for a parameter named `deadlineIn`. */
export function cliFlag(name: string): string {
  return name.startsWith("--") ? name : `--${name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
}

/**
 * One line, with the fix, for a Hardhat error raised before a task runs (bad network, unknown task or parameter,
 * missing or mistyped value).
 * @param networks The configured network names.
 */
export function hardhatErrorMessage(e: HardhatErrorLike, task: string | undefined, networks: string[]): string {
  const a = e.messageArguments;
  const help = task ? `npx hardhat help ${task}` : "npx hardhat help";
  switch (e.number) {
    case 100:
      return `--network ${String(a.network)}: no such network; use one of ${networks.join(", ")} (hardhat.config.ts; any chain by URL: ZKML_RPC_URL=... --network custom)`;
    case 301:
      if (/^-\d+$/.test(String(a.value))) return `${cliFlag(String(a.name))} ${String(a.value)}: must be a positive whole number (${help})`;
      return `${cliFlag(String(a.name))} ${String(a.value)}: not a valid ${String(a.type)}; ${a.type === "int" ? "give a whole number" : `give a ${String(a.type)}`} (${help})`;
    case 303:
      return `unknown task "${String(a.task)}": \`npx hardhat help\` lists the tasks${a.task === "prover:withdraw" ? " (prover:withdraw is now market:withdraw)" : ""}`;
    case 305:
      return `unknown parameter ${String(a.param)}: \`${help}\` lists the parameters`;
    case 306:
      return `${cliFlag(String(a.param))} is required: give it a value (${help})`;
    default:
      return `${e.message.split("\n")[0].replace(/^HH\d+: /, "")} (${help})`;
  }
}
