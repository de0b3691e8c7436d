/**
 * A local network for the explorer to show (`npm run explorer`, its end-to-end test and the screenshots): a `hardhat
 * node`, the registry and the market with the bundled models (the test kit: their real verifiers, their real bundles,
 * served over HTTP on loopback like a published bundle), a prover node proving with real Groth16 proofs (and settling
 * results that are ready together in one batch), and jobs
 * opened from each card's held-out samples by a requester through the SDK, so every page has real data. Unless told
 * not to, also `InferenceSubscriptions` beside the market and one subscriber, the example `ScheduledForecaster`
 * (contracts/examples/, set up as `npm run demo:subscription` does): a temp-forecast forecast over an on-chain
 * oracle every minute, whose runs the prover node opens and serves; the oracle gets the next card sample's readings
 * every interval.
 *
 * Accounts (Hardhat's public test mnemonic): #0 deploys (and owns the forecaster), #1 owns the models, #2 opens the
 * seed jobs, #4 reports the oracle's readings, #19 proves; #3 is left for a wallet in the browser (its key is printed
 * by the launcher).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { type LocalNode, startHardhatNode } from "../../chain/local-node";
import { InferenceClient, quantizeWithCard } from "../../chain/client";
import { type ServedFolder, serveFolder } from "../../util/serve-folder";
import { deployInferenceKitWith, type InferenceKit } from "../testkit";
import { deploySubscriptions } from "../../chain/system";
import { deployForecaster } from "../demo/forecaster";
import { writeKitBundles } from "../package/bundles";
import { devKey } from "../load/market";
import { ProverNode } from "../prover/node";
import { DEFAULT_POLICY } from "../prover/bundles";
import type { LogSink } from "../prover/log";

/** Hardhat account of the browser wallet the launcher suggests (never used by the network itself). */
export const WALLET_ACCOUNT = 3;
const REQUESTER_ACCOUNT = 2;
const PROVER_ACCOUNT = 19;
const DEPLOYER_ACCOUNT = 0;
const REPORTER_ACCOUNT = 4;
/** The model the subscriber forecasts with. */
const FORECAST_MODEL = "temp-forecast";

export interface LocalNetworkOptions {
  /** JSON-RPC port of the chain (default: a free one). */
  chainPort?: number;
  /** Which bundled models to publish (default: the test kit's). */
  models?: readonly string[];
  /** Jobs to open per model from its card's samples before resolving, all fulfilled (default 3). */
  seedJobsPerModel?: number;
  /** The prover node's log lines (default: dropped). */
  proverLog?: LogSink;
  /**
   * Seconds between the subscriber's runs (>= 60, the contract's least interval; default 60); 0: no subscriptions
   * contract and no subscriber.
   */
  subscriptionIntervalS?: number;
}

/** The subscriptions contract and its one subscriber. */
export interface LocalSubscriptions {
  /** The `InferenceSubscriptions` contract (lower case). */
  address: string;
  /** The `ScheduledForecaster` (lower case) and its subscription. */
  forecaster: string;
  subscriptionId: bigint;
  intervalS: number;
}

export interface LocalNetwork {
  chain: LocalNode;
  provider: JsonRpcProvider;
  kit: InferenceKit;
  jobsAddress: string;
  chainId: number;
  /** Where the bundles are served (the registry's `uri` of each version is under it). */
  bundles: ServedFolder;
  prover: ProverNode;
  /** The SDK client of the requester that opened the seed jobs. */
  requester: InferenceClient;
  /** The seed jobs, fulfilled. */
  seedJobs: bigint[];
  /** Unless `subscriptionIntervalS` was 0. */
  subscriptions?: LocalSubscriptions;
  /** Opens one more job on `model` from its card's sample `i` (by the requester; the prover serves it). */
  openSample(model: string, i?: number, opts?: { optimistic?: boolean }): Promise<bigint>;
  stop(): Promise<void>;
}

/** Starts the chain, deploys and publishes, starts the prover and opens the seed jobs (see the file's header). */
export async function startLocalNetwork(hre: HardhatRuntimeEnvironment, opts: LocalNetworkOptions = {}): Promise<LocalNetwork> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-"));
  const cleanups: (() => Promise<void>)[] = [async () => fs.rmSync(tmp, { recursive: true, force: true })];
  const stop = async () => {
    for (const c of cleanups.reverse()) {
      if (process.env.ZKML_DEBUG === "1") console.log(`stopping: ${c.name || "a part of the local network"} ...`);
      await c().catch(() => undefined);
    }
  };
  try {
    const models = opts.models ?? ["iris-mlp", "temp-forecast"];
    await writeKitBundles(hre, path.join(tmp, "bundles"), models);
    const bundles = await serveFolder(tmp);
    cleanups.push(() => bundles.close());
    const chain = await startHardhatNode(60_000, { port: opts.chainPort });
    cleanups.push(() => chain.stop());
    const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, pollingInterval: 250 });
    cleanups.push(async () => provider.destroy());
    const wallet = (i: number) => new NonceManager(new Wallet(devKey(i), provider));
    const kit = await deployInferenceKitWith([wallet(0), wallet(1), wallet(PROVER_ACCOUNT)], {
      models,
      bundlesDir: path.join(tmp, "bundles"),
      bundleUri: (name) => `${bundles.base}/bundles/${name}`,
    });
    const jobsAddress = (await kit.jobs.getAddress()).toLowerCase();
    const intervalS = opts.subscriptionIntervalS ?? 60;
    const subscriptions = intervalS > 0 ? await startSubscriber(kit, wallet, intervalS, cleanups) : undefined;
    const prover = new ProverNode({
      rpcUrl: chain.url,
      privateKey: devKey(PROVER_ACCOUNT),
      jobsAddress,
      policy: DEFAULT_POLICY,
      stateDir: path.join(tmp, "prover"),
      concurrency: 1,
      minFeeWei: 0n,
      pollMs: 250,
      claimJitterMs: 0,
      metricsEveryMs: 0,
      // results of one verifier that are proven within 3 s of each other settle in one submitResults
      batch: { max: 4, waitMs: 3000, marginS: 120 },
      // it opens the subscriber's due runs (and any other subscription's it would serve), tip or not
      ...(subscriptions ? { subscriptions: { address: subscriptions.address, minTipWei: 0n } } : {}),
      name: "prover",
      logSink: opts.proverLog ?? (() => undefined),
    });
    await prover.start();
    cleanups.push(async () => void (await prover.stop()));
    const requester = await InferenceClient.connect({ jobs: jobsAddress, runner: wallet(REQUESTER_ACCOUNT) });
    const openSample: LocalNetwork["openSample"] = async (model, i = 0, o = {}) => {
      const m = kit.models[model];
      if (!m) throw new Error(`model "${model}" is not on this network; it has ${Object.keys(kit.models).join(", ")}`);
      const samples = m.card.samples ?? [];
      if (!samples.length) throw new Error(`model "${model}": its card has no samples to open a job from`);
      const job = await requester.openJob({
        modelId: m.modelId,
        input: { raw: samples[i % samples.length].input },
        fee: 10n ** 16n,
        optimistic: o.optimistic,
      });
      return job.jobId;
    };
    const seedJobs: bigint[] = [];
    for (const model of models) for (let i = 0; i < (opts.seedJobsPerModel ?? 3); i++) seedJobs.push(await openSample(model, i));
    for (const id of seedJobs) await requester.waitForResult(id, { timeoutMs: 300_000, pollMs: 250 });
    return {
      chain,
      provider,
      kit,
      jobsAddress,
      chainId: Number((await provider.getNetwork()).chainId),
      bundles,
      prover,
      requester,
      seedJobs,
      subscriptions,
      openSample,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Deploys `InferenceSubscriptions` beside the kit's market and the example subscriber (`deployForecaster`, the
 * subscription demo's): 10,000 runs of temp-forecast, one every `intervalS` seconds, over an oracle that holds a card
 * sample's readings and gets the next sample's every interval (stopped by `cleanups`).
 * @throws Error naming the option when the network has no temp-forecast.
 */
async function startSubscriber(
  kit: InferenceKit,
  wallet: (i: number) => NonceManager,
  intervalS: number,
  cleanups: (() => Promise<void>)[],
): Promise<LocalSubscriptions> {
  const m = kit.models[FORECAST_MODEL];
  if (!m)
    throw new Error(
      `subscriptionIntervalS: the subscriber forecasts with ${FORECAST_MODEL}, which is not among the models (${Object.keys(kit.models).join(", ")}): add it, or give 0 for no subscriptions`,
    );
  const readings = (m.card.samples ?? []).map((s) => quantizeWithCard(m.card, s.input));
  if (!readings.length) throw new Error(`${FORECAST_MODEL}: its card has no samples to fill the oracle with`);
  const owner = wallet(DEPLOYER_ACCOUNT);
  const subs = await deploySubscriptions(owner, kit.jobs);
  const fee = 10n ** 16n;
  const f = await deployForecaster({
    subscriptions: subs,
    modelId: m.modelId,
    outputFrac: m.layout.outputFrac,
    owner,
    reporter: wallet(REPORTER_ACCOUNT),
    readings: readings[0],
    interval: intervalS,
    runs: 10_000,
    fee,
    tip: fee / 10n,
    // a run's job must outlast a claim's lease and the open window (docs/market-rules.md), whatever the interval
    runDeadline: Math.max(2 * intervalS, 1200),
  });
  let k = 0;
  const timer = setInterval(() => {
    k++;
    f.oracle.record(readings[k % readings.length]).catch((e: Error) => console.error(`oracle reading: ${e.message}`));
  }, intervalS * 1000);
  cleanups.push(async function oracleReadings() {
    clearInterval(timer);
  });
  return {
    address: (await subs.getAddress()).toLowerCase(),
    forecaster: (await f.forecaster.getAddress()).toLowerCase(),
    subscriptionId: f.subscriptionId,
    intervalS,
  };
}
