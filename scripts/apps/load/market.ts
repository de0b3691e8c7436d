import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { HDNodeWallet, JsonRpcProvider, Wallet, ZeroAddress, getAddress } from "ethers";
import { IERC20__factory, type InferenceSubscriptions } from "../../../typechain-types";
import { SNARK_FIELD } from "../../util/field";
import {
  type MarketConfig,
  DEFAULT_MARKET,
  deployGroth16Verifier,
  currentModelVersion,
  deploySystem,
  openJob,
  openJobWithInputs,
  openTokenJob,
  registerModel,
  type System,
} from "../../chain/system";
import { type BuiltModel, buildModel } from "../../pipelines/build";
import { inferQuantized, inputCommitment, inputModeOf } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { writeBundle } from "../../formats/bundle-files";
import { DEFAULT_POLICY } from "../prover/bundles";
import { dataUri } from "../../formats/job-input";
import { bundleSources, modelCard } from "../../pipelines/bundle-sources";
import { ProverNode, type ProverNodeConfig } from "../prover/node";
import { type LocalNode, startHardhatNode } from "../../chain/local-node";

/** Hardhat node's default accounts (public test mnemonic). */
export function devKey(i: number): string {
  return HDNodeWallet.fromPhrase("test test test test test test test test test test test junk", undefined, `m/44'/60'/0'/0/${i}`)
    .privateKey;
}

export interface Market {
  chain: LocalNode;
  provider: JsonRpcProvider;
  sys: System;
  built: BuiltModel;
  modelId: bigint;
  /** The registry `uri` of iris: its `file://` bundle folder. */
  uri: string;
  jobsAddress: string;
  requester: Wallet;
  wallet(i: number): Wallet;
  /**
   * Opens a job on a deterministic input of iris (or of `model`, registered as `modelId`); returns its id and the
   * reference output.
   */
  open(opts?: {
    /** Wei, or with `feeToken` the token's units (the requester must have approved the market). */
    fee?: bigint;
    feeToken?: string;
    model?: BuiltModel;
    modelId?: bigint;
    uri?: string;
    commitment?: bigint;
    deadlineIn?: number;
    /** Made optimistic by the requester right after the open (`setOptimistic`, a second transaction). */
    optimistic?: boolean;
  }): Promise<{ jobId: bigint; expected: bigint }>;
  stateDir(name: string): string;
  /**
   * Publishes a built model as `model:publish --ipfs none --uri file://...` does: its verifier and adapter deployed, its
   * bundle written to a folder, a version registered with `uri = file://<folder>` by `owner` (default account 1).
   */
  publish(b: BuiltModel, opts?: { owner?: number; batchVerifier?: boolean }): Promise<{ modelId: bigint; uri: string }>;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * A `hardhat node` with the registry, the jobs market (short lease) and the iris model published (a `file://` bundle:
 * nodes fetch and verify it like any published model), with its snarkjs verifier or (`batchVerifier`) its generated
 * batch verifier (docs/contracts.md, "Batch settlement").
 */
export async function startMarket(market: Partial<MarketConfig> = {}, opts: { batchVerifier?: boolean } = {}): Promise<Market> {
  const built = await buildModel("iris-mlp", { quantize: false });
  const chain = await startHardhatNode();
  const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, pollingInterval: 200 });
  const wallet = (i: number): Wallet => new Wallet(devKey(i), provider);
  const deployer = wallet(0);
  const sys = await deploySystem(deployer, { ...DEFAULT_MARKET, leaseDuration: 30, deliveryWindow: 10, ...market });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-prover-"));
  const publish: Market["publish"] = async (b, o = {}) => {
    const artifact = await hre.artifacts.readArtifact(o.batchVerifier ? b.paths.batchVerifierContract : b.paths.verifierContract);
    const v = await deployGroth16Verifier(deployer, artifact, sys.factory);
    const dir = path.join(tmp, "bundles", `${b.model.name}-${b.keys.vkHash.slice(0, 12)}${o.batchVerifier ? "-batch" : ""}`);
    writeBundle(bundleSources(b, await modelCard(b.model.name, "CC0-1.0")), dir);
    const uri = `file://${dir}`;
    const reg = { modelCommitment: b.modelCommitment, circuitHash: b.circuit.r1csHash, vkHash: b.keys.vkHash, uri };
    const { modelId } = await registerModel(sys.registry, wallet(o.owner ?? 1), reg, await v.adapter.getAddress(), layoutOf(b.model));
    return { modelId, uri };
  };
  const { modelId, uri } = await publish(built, { batchVerifier: opts.batchVerifier });
  const requester = wallet(2);
  let n = 0;
  return {
    chain,
    provider,
    sys,
    built,
    modelId,
    uri,
    jobsAddress: await sys.jobs.getAddress(),
    requester,
    wallet,
    async open(opts = {}) {
      n++;
      const b = opts.model ?? built;
      const x = Array.from({ length: b.model.input.size }, (_, i) => BigInt(((n * 37 + i * 53) % 200) - 100));
      const salt = (BigInt(n) * 982451653n + 7n) % SNARK_FIELD;
      const now = (await provider.getBlock("latest"))!.timestamp;
      const common = {
        modelId: opts.modelId ?? modelId,
        modelVersion: await currentModelVersion(sys.jobs, opts.modelId ?? modelId),
        fee: opts.fee ?? 10n ** 16n,
        deadline: BigInt(now + (opts.deadlineIn ?? 3600)),
      };
      // a public-input model takes its values in the open; any other, a commitment and where to read its opening
      const isPublic = inputModeOf(b.model) === "public";
      const committed = async () => ({
        inputCommitment: opts.commitment ?? (await inputCommitment(b.model, x, salt)),
        inputURI: opts.uri ?? dataUri({ x, salt }),
      });
      const { jobId } = opts.feeToken
        ? isPublic
          ? await openTokenJob(sys.jobs, requester, { ...common, token: opts.feeToken, inputs: x })
          : await openTokenJob(sys.jobs, requester, { ...common, token: opts.feeToken, ...(await committed()) })
        : isPublic
          ? await openJobWithInputs(sys.jobs, requester, { ...common, inputs: x })
          : await openJob(sys.jobs, requester, { ...common, ...(await committed()) });
      if (opts.optimistic) await (await sys.jobs.connect(requester).setOptimistic(jobId)).wait();
      return { jobId, expected: inferQuantized(b.model, x).output };
    },
    stateDir: (name) => path.join(tmp, name),
    publish,
    rpc: (method, params = []) => provider.send(method, params),
    async stop() {
      provider.destroy();
      await chain.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** An in-process prover node on `m` with account `i`, serving every published model (PROVER_SERVE=all). */
export function inProcessNode(m: Market, i: number, name: string, over: Partial<ProverNodeConfig> = {}): ProverNode {
  return new ProverNode({
    rpcUrl: m.chain.url,
    privateKey: devKey(i),
    jobsAddress: m.jobsAddress,
    policy: DEFAULT_POLICY,
    stateDir: m.stateDir(name),
    concurrency: 1,
    minFeeWei: 0n,
    pollMs: 200,
    claimJitterMs: 200,
    metricsEveryMs: 0,
    name,
    logSink: process.env.PROVER_TEST_LOGS === "1" ? (line) => process.stdout.write(line + "\n") : () => undefined,
    ...over,
  });
}

export { until } from "../../util/wait";

/** The market's ETH balance and the sum it must equal (the ETH row of {@link moneyBooks}). */
export async function escrowBooks(m: Market, accounts: string[]): Promise<{ balance: bigint; owed: bigint }> {
  const [eth] = await moneyBooks(m, { accounts });
  return eth;
}

/** One contract's books in one money: its balance and what it owes, which must be equal. */
export interface Books {
  contract: "market" | "subscriptions";
  /** "ETH", or the token's address. */
  money: string;
  balance: bigint;
  owed: bigint;
}

/**
 * The books of the market and (with `subs`) the subscriptions contract, in ETH and in each of `tokens` (market rules,
 * "Parties and money", "Payment tokens" and "Subscriptions", rule 7):
 *   market, ETH:    balance = escrows of open (Open, Claimed, Posted) ETH jobs + every bounty + burned + every account's available + locked
 *   market, token:  balance = escrows of open jobs in the token + every account's balance in it
 *   subscriptions:  balance = escrowOf every subscription in that money + every account's credit in it
 * The accounts: `accounts`, every job's requester (the subscriptions contract among them), every subscription's owner
 * and every run's opener.
 */
export async function moneyBooks(
  m: Market,
  opts: { accounts: string[]; tokens?: string[]; subs?: InferenceSubscriptions },
): Promise<Books[]> {
  const jobs = m.sys.jobs;
  const tokens = (opts.tokens ?? []).map((t) => getAddress(t));
  const market = { eth: 0n, tok: new Map<string, bigint>(tokens.map((t) => [t, 0n])) };
  const accounts = new Set(opts.accounts.map((a) => getAddress(a)));
  const next = await jobs.nextJobId();
  for (let id = 1n; id < next; id++) {
    const j = await jobs.getJob(id);
    accounts.add(getAddress(j.requester));
    market.eth += j.bounty; // bounties (slashed bonds) are ETH for every job
    // Open, Claimed and Posted (an optimistic result posted, not final: its fee still held) owe their escrow; a settled
    // job's escrow slot is 0 (or its output)
    if (Number(j.status) !== 1 && Number(j.status) !== 2 && Number(j.status) !== 5) continue;
    const token = getAddress(await jobs.feeTokenOf(id));
    if (token === ZeroAddress) market.eth += j.escrow;
    else market.tok.set(token, (market.tok.get(token) ?? 0n) + j.escrow);
  }
  market.eth += await jobs.burned();
  const subsAccounts = new Set(accounts);
  const subsOwed = { eth: 0n, tok: new Map<string, bigint>(tokens.map((t) => [t, 0n])) };
  if (opts.subs) {
    for (const e of await opts.subs.queryFilter(opts.subs.filters.SubscriptionCreated())) {
      subsAccounts.add(getAddress(e.args.owner));
      const token = getAddress((await opts.subs.getSubscription(e.args.subscriptionId)).feeToken);
      const escrow = await opts.subs.escrowOf(e.args.subscriptionId);
      if (token === ZeroAddress) subsOwed.eth += escrow;
      else subsOwed.tok.set(token, (subsOwed.tok.get(token) ?? 0n) + escrow);
    }
    for (const e of await opts.subs.queryFilter(opts.subs.filters.RunOpened())) subsAccounts.add(getAddress(e.args.opener));
  }
  for (const a of accounts) {
    const acct = await jobs.accountOf(a);
    market.eth += acct.available + acct.locked;
    for (const t of tokens) market.tok.set(t, market.tok.get(t)! + (await jobs.tokenBalanceOf(a, t)));
  }
  const rows: Books[] = [{ contract: "market", money: "ETH", balance: await m.provider.getBalance(m.jobsAddress), owed: market.eth }];
  for (const t of tokens)
    rows.push({
      contract: "market",
      money: t,
      balance: await IERC20__factory.connect(t, m.provider).balanceOf(m.jobsAddress),
      owed: market.tok.get(t)!,
    });
  if (!opts.subs) return rows;
  const subsAddress = await opts.subs.getAddress();
  for (const a of subsAccounts) {
    subsOwed.eth += await opts.subs.creditOf(a);
    for (const t of tokens) subsOwed.tok.set(t, subsOwed.tok.get(t)! + (await opts.subs.tokenCreditOf(a, t)));
  }
  rows.push({ contract: "subscriptions", money: "ETH", balance: await m.provider.getBalance(subsAddress), owed: subsOwed.eth });
  for (const t of tokens)
    rows.push({
      contract: "subscriptions",
      money: t,
      balance: await IERC20__factory.connect(t, m.provider).balanceOf(subsAddress),
      owed: subsOwed.tok.get(t)!,
    });
  return rows;
}
