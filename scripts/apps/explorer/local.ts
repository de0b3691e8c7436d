/**
 * A local network for the explorer to show (`npm run explorer`, its end-to-end test and the screenshots): a `hardhat
 * node`, the registry and the market with the bundled models (the test kit: their real verifiers, their real bundles,
 * served over HTTP on loopback like a published bundle), a prover node proving with real Groth16 proofs (and settling
 * results that are ready together in one batch), and jobs
 * opened from each card's held-out samples by a requester through the SDK, so every page has real data.
 *
 * Accounts (Hardhat's public test mnemonic): #0 deploys, #1 owns the models, #2 opens the seed jobs, #19 proves;
 * #3 is left for a wallet in the browser (its key is printed by the launcher).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { JsonRpcProvider, NonceManager, Wallet } from "ethers";
import { type LocalNode, startHardhatNode } from "../../chain/local-node";
import { InferenceClient } from "../../chain/client";
import { type ServedFolder, serveFolder } from "../../util/serve-folder";
import { deployInferenceKitWith, type InferenceKit } from "../testkit";
import { writeKitBundles } from "../package/bundles";
import { devKey } from "../load/market";
import { ProverNode } from "../prover/node";
import { DEFAULT_POLICY } from "../prover/bundles";
import type { LogSink } from "../prover/log";

/** Hardhat account of the browser wallet the launcher suggests (never used by the network itself). */
export const WALLET_ACCOUNT = 3;
const REQUESTER_ACCOUNT = 2;
const PROVER_ACCOUNT = 19;

export interface LocalNetworkOptions {
  /** JSON-RPC port of the chain (default: a free one). */
  chainPort?: number;
  /** Which bundled models to publish (default: the test kit's). */
  models?: readonly string[];
  /** Jobs to open per model from its card's samples before resolving, all fulfilled (default 3). */
  seedJobsPerModel?: number;
  /** The prover node's log lines (default: dropped). */
  proverLog?: LogSink;
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
      openSample,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
