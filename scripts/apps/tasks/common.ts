/**
 * What every operator task shares: the result it prints, the network and signer it works with, the argument parsers
 * (each error names the argument and the fix), output-path checks made before the first transaction, and the one way
 * to send a transaction: preflighted with a static call, so a transaction that would revert is never signed.
 * Typechain bindings are imported lazily, one factory file at a time (a chain-read task stays fast, and a fresh clone
 * compiles first: scripts/apps/tasks/index.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ContractTransactionReceipt, ContractTransactionResponse, Provider, Signer } from "ethers";
import { Interface, formatEther, formatUnits, getAddress, isAddress, parseEther, parseUnits } from "ethers";
import type { InferenceJobs, ModelRegistry } from "../../../typechain-types";
import { ROOT, rel, writablePath } from "../../util/paths";
import { UserError, customErrorMessage, decodeCustomError, revertData } from "../../chain/errors";
import { type PaymentNames, type TokenPayment, TokenPaymentError, checkTokenPayment, tokenMetadata } from "../../chain/erc20";
import type { SubscriptionClient } from "../../chain/subscriptions-client";
import { type DeploymentRecord, readRecord, recordPath } from "./records";

/** What every task prints at its end. */
export interface TaskResult {
  title: string;
  /** label -> value lines. */
  lines: [string, string][];
  /** Files written (changed). */
  written: string[];
  /** Files left as they were (same content). */
  unchanged?: string[];
  gasUsed: bigint;
  /** Wei spent on gas. */
  gasCost: bigint;
  /** Anything else the caller (tests) may want. */
  data?: Record<string, unknown>;
}

/** Chains whose state is throwaway (Hardhat, anvil, ganache). */
export const LOCAL_CHAIN_IDS = [31337, 1337];

/**
 * Every contract interface typechain generated (the contracts, their interfaces, the mocks), so that any custom error
 * a task meets decodes from the ABI, including errors added after this code was written. Only called on error paths.
 */
export async function contractInterfaces(): Promise<Interface[]> {
  const out: Interface[] = [];
  const walk = (o: unknown, depth: number): void => {
    if (!o || typeof o !== "object" || depth > 4) return;
    for (const v of Object.values(o as Record<string, unknown>)) {
      const f = v as { createInterface?: () => Interface };
      if (typeof v === "function" && typeof f.createInterface === "function") out.push(f.createInterface());
      else if (typeof v === "object") walk(v, depth + 1);
    }
  };
  walk(await import("../../../typechain-types"), 0);
  return out;
}

/** Renders a task result as plain lines. */
export function formatResult(r: TaskResult): string {
  const rows: [string, string][] = [...r.lines];
  for (const w of r.written) rows.push(["wrote", rel(w)]);
  for (const w of r.unchanged ?? []) rows.push(["unchanged", rel(w)]);
  if (r.written.length === 0 && !r.unchanged?.length) rows.push(["wrote", "nothing"]);
  rows.push(["gas", r.gasUsed === 0n ? "0 (no transaction)" : `${r.gasUsed} (${formatEther(r.gasCost)} ETH)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [r.title, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join("\n");
}

export function gasOf(receipts: ({ gasUsed: bigint; gasPrice: bigint } | null | undefined)[]): { gasUsed: bigint; gasCost: bigint } {
  let gasUsed = 0n;
  let gasCost = 0n;
  for (const r of receipts) {
    if (!r) continue;
    gasUsed += r.gasUsed;
    gasCost += r.gasUsed * r.gasPrice;
  }
  return { gasUsed, gasCost };
}

/** Network facts every task needs; the first RPC call, so an unreachable node fails here. */
export async function networkInfo(
  hre: HardhatRuntimeEnvironment,
): Promise<{ name: string; chainId: number; url?: string; local: boolean }> {
  const name = hre.network.name;
  const cfg = hre.network.config as { url?: string };
  if (name !== "hardhat" && !cfg.url) {
    const v = name === "sepolia" ? "SEPOLIA_RPC_URL" : name === "baseSepolia" ? "BASE_SEPOLIA_RPC_URL" : "ZKML_RPC_URL";
    throw new UserError(`network "${name}" has no RPC URL: run \`npx hardhat vars set ${v}\` (or export ${v}); see docs/operators.md`);
  }
  const chainId = Number(await hre.network.provider.request({ method: "eth_chainId", params: [] }));
  return { name, chainId, url: cfg.url, local: LOCAL_CHAIN_IDS.includes(chainId) };
}

/**
 * The signer for `account`: an index into the network's accounts or one of their addresses (default 0).
 * @throws UserError when the network has no accounts or the account is not among them.
 */
export async function signerFor(hre: HardhatRuntimeEnvironment, account?: string): Promise<Signer & { address: string }> {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) {
    throw new UserError(
      `network "${hre.network.name}" has no account to send from: run \`npx hardhat vars set DEPLOYER_PRIVATE_KEY\` (or export ZKML_PRIVATE_KEYS); see docs/operators.md`,
    );
  }
  if (account === undefined || account === "") return signers[0];
  if (/^\d+$/.test(account)) {
    const s = signers[Number(account)];
    if (!s)
      throw new UserError(
        `--account ${account}: network "${hre.network.name}" has only ${signers.length} account(s); give an index 0..${signers.length - 1} or an address`,
      );
    return s;
  }
  if (!isAddress(account)) throw new UserError(`--account ${account}: give an account index (0, 1, ...) or an address`);
  const s = signers.find((x) => x.address.toLowerCase() === account.toLowerCase());
  if (!s)
    throw new UserError(`--account ${account}: no key for this address on network "${hre.network.name}"; add its key (docs/operators.md)`);
  return s;
}

export async function requireCode(provider: Provider, address: string, what: string, network: string): Promise<void> {
  if ((await provider.getCode(address)) === "0x") {
    throw new UserError(
      `no contract at ${address} (${what} in ${rel(recordPath(network))}): the chain was reset (a restarted local node?); run \`npx hardhat deploy --network ${network}\` again`,
    );
  }
}

/** The record and connected contracts of this network. */
export async function loadSystem(
  hre: HardhatRuntimeEnvironment,
  runner?: Signer,
): Promise<{ rec: DeploymentRecord; registry: ModelRegistry; jobs: InferenceJobs; chainId: number }> {
  const net = await networkInfo(hre);
  const rec = readRecord(net.name, net.chainId);
  const r = runner ?? hre.ethers.provider;
  await requireCode(hre.ethers.provider, rec.contracts.InferenceJobs.address, "InferenceJobs", net.name);
  // One factory file each (not the typechain index, which transpiles every contract's bindings).
  const { ModelRegistry__factory } = await import("../../../typechain-types/factories/contracts/ModelRegistry__factory");
  const { InferenceJobs__factory } = await import("../../../typechain-types/factories/contracts/InferenceJobs__factory");
  return {
    rec,
    registry: ModelRegistry__factory.connect(rec.contracts.ModelRegistry.address, r),
    jobs: InferenceJobs__factory.connect(rec.contracts.InferenceJobs.address, r),
    chainId: net.chainId,
  };
}

/**
 * The record's `InferenceSubscriptions` (docs/market-rules.md, "Subscriptions") as the SDK's SubscriptionClient.
 * @throws UserError when the record has none (deployed before subscriptions) or the chain has no contract there.
 */
export async function loadSubscriptions(
  hre: HardhatRuntimeEnvironment,
  runner?: Signer,
): Promise<{ rec: DeploymentRecord; jobs: InferenceJobs; client: SubscriptionClient; chainId: number }> {
  const { rec, jobs, chainId } = await loadSystem(hre, runner);
  const address = rec.contracts.InferenceSubscriptions?.address;
  if (!address)
    throw new UserError(
      `${rel(recordPath(rec.network))} records no InferenceSubscriptions (deployed before subscriptions): run \`npx hardhat deploy --network ${rec.network}\` again`,
    );
  await requireCode(hre.ethers.provider, address, "InferenceSubscriptions", rec.network);
  const { SubscriptionClient } = await import("../../chain/subscriptions-client");
  return {
    rec,
    jobs,
    client: await SubscriptionClient.connect({ subscriptions: address, runner: runner ?? hre.ethers.provider }),
    chainId,
  };
}

// ---- ERC-20 amounts (docs/market-rules.md, "Payment tokens") ----

/** A token named by a flag: its address, symbol and decimals, and how its amounts are printed. */
export interface TokenArg {
  address: string;
  symbol: string;
  decimals?: number;
  /** An amount of its smallest units, for a line or an error: `5.0 sUSD (5000000000000000000 units)`. */
  format(units: bigint): string;
}

/**
 * The token a flag names (`--fee-token`, `--token`): an address with code on this network that answers `balanceOf`;
 * its symbol and decimals when it answers them (both optional in ERC-20).
 * @throws UserError naming the flag and the fix.
 */
export async function tokenArg(hre: HardhatRuntimeEnvironment, v: string, arg: string): Promise<TokenArg> {
  if (!isAddress(v)) throw new UserError(`${arg} ${v}: not an address; give the ERC-20 token's 0x address`);
  const address = getAddress(v);
  if ((await hre.ethers.provider.getCode(address)) === "0x")
    throw new UserError(`${arg} ${address}: no contract at this address on network "${hre.network.name}"; give the ERC-20 token's address`);
  const { symbol, decimals, erc20 } = await tokenMetadata(hre.ethers.provider, address);
  if (!erc20)
    throw new UserError(
      `${arg} ${address}: the contract there does not answer balanceOf (not an ERC-20 token); give the ERC-20 token's address`,
    );
  const name = symbol ?? "units";
  return {
    address,
    symbol: name,
    decimals,
    format: (u) => (decimals === undefined ? `${u} units` : `${formatUnits(u, decimals)} ${name} (${u} units)`),
  };
}

/**
 * An amount of `token` above zero: in whole tokens at its `decimals()` (`--fee 5` is 5 tokens), or, for a token
 * without `decimals()` (optional in ERC-20), in its smallest units (a whole number).
 * @throws UserError naming the flag: not a number, more decimals than the token has, or zero.
 */
export function parseTokenAmount(v: string, arg: string, token: TokenArg): bigint {
  const text = String(v).trim();
  let units: bigint;
  if (token.decimals === undefined) {
    if (!/^\d+$/.test(text))
      throw new UserError(`${arg} ${v}: token ${token.address} has no decimals(), so ${arg} is in its smallest units: give a whole number`);
    units = BigInt(text);
  } else
    try {
      units = parseUnits(text, token.decimals);
    } catch {
      throw new UserError(`${arg} ${v}: give an amount of ${token.symbol} (at most ${token.decimals} decimals), e.g. ${arg} 5`);
    }
  if (units <= 0n) throw new UserError(`${arg} ${v}: must be above zero, e.g. ${arg} 5`);
  return units;
}

/**
 * erc20.checkTokenPayment for a task: the signer's balance of the token and the spender's allowance (unless it
 * may approve), before any transaction; the error names the task's flags.
 * @throws UserError naming the flags and the fix.
 */
export async function checkedTokenPayment(
  signer: Signer,
  token: TokenArg,
  spender: string,
  amount: bigint,
  opts: { approve: boolean; names: PaymentNames },
): Promise<TokenPayment> {
  try {
    return await checkTokenPayment(signer, token.address, spender, amount, { ...opts, format: token.format });
  } catch (e) {
    throw e instanceof TokenPaymentError ? new UserError(e.message) : e;
  }
}

/** The outcome of {@link simulateAs}: each call's return data, or the first call that reverted and its revert data. */
export type Simulation = { ok: true; results: string[] } | { ok: false; index: number; data: string };

/**
 * Runs `calls` as `account` would send them, one after the other, in one `eth_call`: the runtime code of
 * contracts/tools/AccountSimulator.sol is placed at the account's address by a state override, so each call's
 * `msg.sender` is the account and each sees the state the previous ones left (an approval, then the open that pulls
 * the tokens). Nothing is signed.
 * @returns undefined when the node takes no state override (the simulation cannot be made).
 */
export async function simulateAs(
  hre: HardhatRuntimeEnvironment,
  account: string,
  calls: { to: string; data: string }[],
): Promise<Simulation | undefined> {
  const artifact = await hre.artifacts.readArtifact("AccountSimulator");
  const iface = new Interface(artifact.abi);
  const data = iface.encodeFunctionData("run", [calls.map((c) => c.to), calls.map((c) => c.data)]);
  let out: string;
  try {
    out = (await hre.ethers.provider.send("eth_call", [
      { from: account, to: account, data },
      "latest",
      { [account]: { code: artifact.deployedBytecode } },
    ])) as string;
  } catch (e) {
    const failed = iface.parseError(revertData(e) ?? "0x");
    if (failed?.name === "SimulatedCallFailed") return { ok: false, index: Number(failed.args[0]), data: failed.args[1] as string };
    return undefined; // no state overrides on this node (or no answer): nothing to say before sending
  }
  return { ok: true, results: [...(iface.decodeFunctionResult("run", out)[0] as string[])] };
}

/** One line for a revert found by a simulation: the decoded custom error, or the raw data. */
export async function simulatedRevert(data: string): Promise<string> {
  const d = data.length >= 10 ? decodeCustomError(data, await contractInterfaces()) : undefined;
  return d ? customErrorMessage(d) : data === "0x" ? "reverted without a reason" : `reverted with ${data}`;
}

// ---- arguments: one parser per kind, each error names the argument and the fix ----

/**
 * A job id (`--job`): a positive integer.
 * @throws UserError otherwise.
 */
export function parseJobId(v: unknown, arg = "--job"): bigint {
  const s = v === undefined || v === null ? "" : String(v).trim();
  if (s === "") throw new UserError(`${arg} is required: give the job id job:open printed, e.g. ${arg} 1`);
  if (!/^\d+$/.test(s) || BigInt(s) === 0n) throw new UserError(`${arg} ${s}: a job id is a positive integer (1, 2, ...)`);
  return BigInt(s);
}

/**
 * A subscription id (`--subscription`): a positive integer.
 * @throws UserError otherwise.
 */
export function parseSubscriptionId(v: unknown, arg = "--subscription"): bigint {
  const s = v === undefined || v === null ? "" : String(v).trim();
  if (s === "") throw new UserError(`${arg} is required: give the subscription id (subscription:status --owner <consumer> lists them)`);
  if (!/^\d+$/.test(s) || BigInt(s) === 0n) throw new UserError(`${arg} ${s}: a subscription id is a positive integer (1, 2, ...)`);
  return BigInt(s);
}

/**
 * An amount of ETH above zero (`--fee`).
 * @throws UserError otherwise.
 */
export function parseEth(v: string, arg: string): bigint {
  let wei: bigint;
  try {
    wei = parseEther(String(v).trim());
  } catch {
    throw new UserError(`${arg} ${v}: give an amount of ETH, e.g. ${arg} 0.01`);
  }
  if (wei <= 0n) throw new UserError(`${arg} ${v}: must be above zero, e.g. ${arg} 0.01`);
  return wei;
}

/**
 * A positive whole number of seconds (`--deadline-in`).
 * @throws UserError otherwise.
 */
export function parseSeconds(v: unknown, arg: string): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UserError(`${arg} ${String(v)}: give a positive whole number of seconds, e.g. ${arg} 3600`);
  return n;
}

/**
 * A positive whole number of things (`--runs`).
 * @throws UserError otherwise.
 */
export function parseCount(v: unknown, arg: string): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`${arg} ${String(v)}: give a positive whole number, e.g. ${arg} 3`);
  return n;
}

/**
 * Checks, before anything is sent, that `file` can be written: its folder exists or can be made, is writable, and
 * `file` is not a folder. Leaves nothing behind but the folder.
 * @returns The absolute path.
 * @throws UserError naming the argument and the fix.
 */
export function checkWritable(file: string, arg: string): string {
  try {
    return writablePath(file, ROOT);
  } catch (e) {
    throw new UserError(`${arg} ${file}: ${(e as Error).message}`);
  }
}

/** Any typechain contract method: callable to send, with a `staticCall` to preflight. */
export interface SendableMethod<A extends unknown[]> {
  (...args: A): Promise<ContractTransactionResponse>;
  staticCall(...args: A): Promise<unknown>;
}

/**
 * The one way tasks send a transaction: a static call first (a revert stops here with its custom error, decoded by
 * the task runner, before anything is signed), then the transaction, then its receipt.
 * @throws the static call's error (nothing sent), or Error when the transaction gives no receipt.
 */
export async function sendChecked<A extends unknown[]>(method: SendableMethod<A>, ...args: A): Promise<ContractTransactionReceipt> {
  await method.staticCall(...args);
  const tx = await method(...args);
  const r = await tx.wait();
  if (!r) throw new Error(`transaction ${tx.hash} gave no receipt`);
  return r;
}

/** The events of `iface` in a receipt (other contracts' logs skipped). */
export function eventsOf(iface: Interface, receipt: ContractTransactionReceipt): { name: string; args: readonly unknown[] }[] {
  const out: { name: string; args: readonly unknown[] }[] = [];
  for (const l of receipt.logs) {
    try {
      const p = iface.parseLog(l);
      if (p) out.push({ name: p.name, args: p.args });
    } catch {
      // another contract's log
    }
  }
  return out;
}

export const STATUS_NAMES = ["None", "Open", "Claimed", "Fulfilled", "Reclaimed", "Posted"] as const;

export function isoTime(ts: bigint | number): string {
  return new Date(Number(ts) * 1000).toISOString();
}
