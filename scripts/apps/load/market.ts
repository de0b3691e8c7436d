import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import { SNARK_FIELD } from "../../util/field";
import {
  type MarketConfig,
  DEFAULT_MARKET,
  deployGroth16Verifier,
  currentModelVersion,
  deploySystem,
  openJob,
  openJobWithInputs,
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
    fee?: bigint;
    model?: BuiltModel;
    modelId?: bigint;
    uri?: string;
    commitment?: bigint;
    deadlineIn?: number;
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
      const { jobId } =
        inputModeOf(b.model) === "public"
          ? await openJobWithInputs(sys.jobs, requester, { ...common, inputs: x })
          : await openJob(sys.jobs, requester, {
              ...common,
              inputCommitment: opts.commitment ?? (await inputCommitment(b.model, x, salt)),
              inputURI: opts.uri ?? dataUri({ x, salt }),
            });
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

/** Contract balance and the sum it must equal: open escrows and bounties + every account's available + locked + burned. */
export async function escrowBooks(m: Market, accounts: string[]): Promise<{ balance: bigint; owed: bigint }> {
  const balance = await m.provider.getBalance(m.jobsAddress);
  let owed = 0n;
  const next = await m.sys.jobs.nextJobId();
  for (let id = 1n; id < next; id++) {
    const j = await m.sys.jobs.getJob(id);
    owed += j.escrow + j.bounty;
  }
  owed += await m.sys.jobs.burned();
  for (const a of accounts) {
    const acct = await m.sys.jobs.accountOf(a);
    owed += acct.available + acct.locked;
  }
  return { balance, owed };
}
