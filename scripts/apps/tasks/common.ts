/**
 * What every operator task shares: the result it prints, the network and signer it works with, the argument parsers
 * (each error names the argument and the fix), output-path checks made before the first transaction, and the one way
 * to send a transaction: preflighted with a static call, so a transaction that would revert is never signed.
 * Typechain bindings are imported lazily, one factory file at a time (a chain-read task stays fast, and a fresh clone
 * compiles first: scripts/apps/tasks/index.ts).
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ContractTransactionReceipt, ContractTransactionResponse, Interface, Provider, Signer } from "ethers";
import { formatEther, isAddress, parseEther } from "ethers";
import type { InferenceJobs, ModelRegistry } from "../../../typechain-types";
import { ROOT, rel, writablePath } from "../../util/paths";
import { UserError } from "../../chain/errors";
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
