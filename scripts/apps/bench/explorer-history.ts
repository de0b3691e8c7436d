/**
 * The generated market history of the explorer's benchmark (issue 35; scripts/apps/bench/explorer.ts): on a `hardhat
 * node`, the registry and the market (production parameters), models registered with test verifiers, then thousands
 * of jobs from several requesters served by several provers in a realistic mix, in blocks spread over hours of chain
 * time so the explorer's per-minute charts have data.
 *
 * Models: the committed models iris-mlp (committed input), temp-forecast (public input) and rain-risk (public input),
 * registered with the hashes and layout of their manifests (models/<name>/<name>.manifest.json) and a bundle in a
 * temporary folder that holds their real card and quantized model (the explorer reads both) but no proving files (the
 * circuit is not built: nothing here proves). iris-mlp and temp-forecast verify with `AcceptAllVerifier` (single
 * `submitResult`s), rain-risk with `MockBatchVerifier` (every result settled by a batch `submitResults`, its proofs
 * the ones that mock accepts). weather-cnn is registered too, without a job.
 *
 * Speed: automine off; every block's transactions are sent unsigned (the node's unlocked accounts) in one JSON-RPC
 * batch, with explicit gas, then mined with `evm_mine <timestamp>`. A job's steps are in different blocks (opened in
 * block k, claimed in k+1, settled in k+2, ...), so no transaction depends on another of its own block. After each
 * block its logs are counted against what was sent: a reverted transaction stops the run with its block.
 */
import * as fs from "fs";
import * as path from "path";
import { type Interface, Wallet, JsonRpcProvider } from "ethers";
import { AcceptAllVerifier__factory, InferenceJobs__factory, MockBatchVerifier__factory } from "../../../typechain-types";
import { DEFAULT_MARKET, createAdapter, deploySystem, registerModel, type System } from "../../chain/system";
import { devKey } from "../load/market";
import { mockProofN } from "../testkit/mock-proof";
import { rng } from "../../engine/train";
import { type ModelManifest, loadQuantizedModel, modelPaths, readJson } from "../../pipelines/build";
import { modelCard } from "../../pipelines/bundle-sources";
import { writeBundle } from "../../formats/bundle-files";
import { inputCommitment, type QuantizedModel } from "../../formats/quantized-model";
import { inputSignals, layoutOf, numPublicSignals } from "../../formats/model-layout";
import { GROTH16_BN254_V1, jobBinding } from "../../formats/public-signals";
import { dataUri } from "../../formats/job-input";
import { SNARK_FIELD } from "../../util/field";

/** A JSON-RPC request. */
export interface RpcCall {
  method: string;
  params: unknown[];
}

/** Sends `calls` as one JSON-RPC batch; @throws Error naming the first call that failed. */
export async function rpcBatch(url: string, calls: readonly RpcCall[]): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: "2.0", id: i, method: c.method, params: c.params }))),
  });
  const body = (await res.json()) as { id: number; result?: unknown; error?: { message: string } }[];
  const out: unknown[] = new Array(calls.length);
  for (const r of body) {
    if (r.error) throw new Error(`${calls[r.id].method} failed: ${r.error.message}`);
    out[r.id] = r.result;
  }
  return out;
}

export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  return (await rpcBatch(url, [{ method, params }]))[0];
}

/** The node's default accounts by role. */
export const ROLES = {
  deployer: 0,
  owners: [1, 2],
  requesters: [3, 4, 5, 6, 7, 8],
  /** Provers, the first ones busier (their share of claims: 40%, 30%, 20%, 10%). */
  provers: [9, 10, 11, 12],
  /** Calls expireClaim and finalizeResult (anyone may). */
  keeper: 13,
} as const;
const PROVER_WEIGHTS = [4, 3, 2, 1];

const addresses = new Map<number, string>();
/** The address of default account `i` (lowercase). */
export function address(i: number): string {
  let a = addresses.get(i);
  if (!a) addresses.set(i, (a = new Wallet(devKey(i)).address.toLowerCase()));
  return a;
}

export interface HistoryModel {
  name: string;
  modelId: bigint;
  model: QuantizedModel;
  /** Settled by batches (MockBatchVerifier) or by single submitResult (AcceptAllVerifier). */
  batched: boolean;
  /** Signal [1] of its version (the registry's Poseidon(modelHash, layoutWord)). */
  commitment: bigint;
  /** A few inputs to open jobs with: public inputs (their values and input signals) or committed ones. */
  inputs: { x: bigint[]; signals: bigint[]; commitment: bigint; uri: string }[];
}

export interface Deployment {
  sys: System;
  jobsAddress: string;
  chainId: bigint;
  models: HistoryModel[];
}

/** A model's bundle without its proving files: its card and quantized model, hashes from its manifest. */
async function cardBundle(name: string, dir: string): Promise<{ manifest: ModelManifest; model: QuantizedModel; uri: string }> {
  const paths = modelPaths(name);
  const manifest = readJson<ModelManifest>(paths.manifestFile);
  const model = loadQuantizedModel(name);
  const card = await modelCard(name, "MIT", undefined, { paths, model, circuit: { constraints: manifest.constraints } });
  const placeholder = path.join(dir, `${name}.not-built`);
  fs.writeFileSync(placeholder, "explorer benchmark: the circuit of this model is not built; nothing here proves\n");
  const bdir = path.join(dir, name);
  writeBundle(
    {
      model,
      modelFile: paths.qmodelFile,
      r1cs: placeholder,
      wasm: placeholder,
      zkey: placeholder,
      vkeyFile: placeholder,
      modelCommitment: BigInt(manifest.modelHash),
      circuitHash: manifest.circuitHash,
      vkHash: manifest.vkHash,
      proofSystemId: GROTH16_BN254_V1,
      numPublicSignals: numPublicSignals(model),
      constraints: manifest.constraints,
      card,
    },
    bdir,
  );
  return { manifest, model, uri: `file://${bdir}` };
}

/** Deploys the market and registers the models (see the file's comment). */
export async function deployHistoryMarket(url: string, bundlesDir: string): Promise<Deployment> {
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 50 });
  const wallet = (i: number) => new Wallet(devKey(i), provider);
  const deployer = wallet(ROLES.deployer);
  const sys = await deploySystem(deployer, DEFAULT_MARKET);
  const acceptAll = await (await new AcceptAllVerifier__factory(deployer).deploy()).waitForDeployment();
  const batch = await (await new MockBatchVerifier__factory(deployer).deploy()).waitForDeployment();
  const specs = [
    { name: "iris-mlp", verifier: acceptAll, batched: false, owner: ROLES.owners[0] },
    { name: "temp-forecast", verifier: acceptAll, batched: false, owner: ROLES.owners[0] },
    { name: "rain-risk", verifier: batch, batched: true, owner: ROLES.owners[1] },
    { name: "weather-cnn", verifier: acceptAll, batched: false, owner: ROLES.owners[1] },
  ];
  const models: HistoryModel[] = [];
  for (const s of specs) {
    const b = await cardBundle(s.name, bundlesDir);
    const n = numPublicSignals(b.model);
    const { adapter } = await createAdapter(sys.factory, deployer, GROTH16_BN254_V1, await s.verifier.getAddress(), n);
    const reg = { modelCommitment: BigInt(b.manifest.modelHash), circuitHash: b.manifest.circuitHash, vkHash: b.manifest.vkHash, uri: b.uri };
    const { modelId } = await registerModel(sys.registry, wallet(s.owner), reg, adapter, layoutOf(b.model));
    const target = await sys.registry.verificationTarget(modelId, 1n);
    const inputs = [];
    for (let k = 0; k < 6; k++) {
      const x = Array.from({ length: b.model.input.size }, (_, i) => BigInt(((k * 97 + i * 31) % 1200) - 600));
      const salt = (BigInt(k + 1) * 982451653n + 11n) % SNARK_FIELD;
      const pub = layoutOf(b.model).inputMode === 1;
      inputs.push({
        x,
        signals: pub ? await inputSignals(b.model, x) : [],
        commitment: pub ? 0n : await inputCommitment(b.model, x, salt),
        uri: pub ? "" : dataUri({ x, salt }),
      });
    }
    models.push({ name: s.name, modelId, model: b.model, batched: s.batched, commitment: target.modelCommitment, inputs });
  }
  // stakes for the claims' bonds
  for (const p of ROLES.provers) await (await sys.jobs.connect(wallet(p)).deposit({ value: 10n ** 20n })).wait();
  const chainId = (await provider.getNetwork()).chainId;
  const jobsAddress = (await sys.jobs.getAddress()).toLowerCase();
  provider.destroy();
  return { sys, jobsAddress, chainId, models };
}


/** What becomes of a job. */
export type Fate = "single" | "batched" | "reclaimed" | "expiredThenFulfilled" | "expiredThenReclaimed" | "optimistic" | "leftOpen";

export interface HistoryOptions {
  jobs: number;
  /** Chain seconds between blocks. */
  blockSeconds: number;
  /** Jobs opened per block. */
  perBlock: number;
  /** false: every job opened, claimed and fulfilled alone (the keep-up drive); default: the realistic mix. */
  mix?: boolean;
  /**
   * Mine in real time, one block every `blockSeconds` of the wall clock, at the node's clock (the keep-up drive);
   * default: as fast as possible, each block `blockSeconds` of chain time after the last.
   */
  realtime?: boolean;
  /** Called after each block is mined: its number, when its `evm_mine` returned (performance.now()), the jobs it fulfilled. */
  onMined?: (block: number, minedAt: number, fulfilled: bigint[]) => void;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface HistoryResult {
  jobs: number;
  blocks: number;
  transactions: number;
  fates: Record<Fate, number>;
  /** Chain time covered (s). */
  spanSeconds: number;
  seconds: number;
  firstBlock: number;
  lastBlock: number;
}

/** The reverted transactions of block `n`, each with its call and error replayed on the block before. */
async function revertReasons(url: string, iface: Interface, n: number): Promise<string> {
  const block = (await rpc(url, "eth_getBlockByNumber", ["0x" + n.toString(16), true])) as {
    transactions: { hash: string; from: string; to: string; input: string; value: string; gas: string }[];
  };
  const out: string[] = [];
  for (const tx of block.transactions) {
    const r = (await rpc(url, "eth_getTransactionReceipt", [tx.hash])) as { status: string };
    if (r.status === "0x1") continue;
    const call = iface.parseTransaction({ data: tx.input });
    let why = "?";
    try {
      await rpc(url, "eth_call", [{ from: tx.from, to: tx.to, data: tx.input, value: tx.value, gas: tx.gas }, "0x" + (n - 1).toString(16)]);
      why = "succeeds on the block before";
    } catch (e) {
      why = (e as Error).message;
    }
    out.push(`${call?.name}(${call?.args.map((a) => String(a).slice(0, 20)).join(", ")}): ${why.slice(0, 300)}`);
    if (out.length >= 3) break;
  }
  return out.length ? `reverted: ${out.join("; ")}` : "no transaction reverted";
}


interface Planned {
  model: HistoryModel;
  requester: number;
  fate: Fate;
  input: number;
  deadline: number;
  jobId?: bigint;
  prover?: number;
}

type Action =
  | { kind: "claim"; job: Planned; prover: number }
  | { kind: "submit"; job: Planned }
  | { kind: "batch"; job: Planned }
  | { kind: "expire"; job: Planned }
  | { kind: "reclaim"; job: Planned }
  | { kind: "setOptimistic"; job: Planned }
  | { kind: "post"; job: Planned }
  | { kind: "finalize"; job: Planned };

/**
 * Generates the history on the node at `url` against `d`'s market (see the file's comment). Chain time starts at
 * the node's and advances `blockSeconds` per block.
 * @throws Error naming the block whose logs do not match what was sent (a transaction reverted).
 */
export async function generateHistory(url: string, d: Deployment, o: HistoryOptions): Promise<HistoryResult> {
  const t0 = performance.now();
  const iface: Interface = InferenceJobs__factory.createInterface();
  const opened = iface.getEvent("JobOpened")!.topicHash;
  const topics = {
    claimed: iface.getEvent("JobClaimed")!.topicHash,
    fulfilled: iface.getEvent("JobFulfilled")!.topicHash,
    expired: iface.getEvent("ClaimExpired")!.topicHash,
    reclaimed: iface.getEvent("JobReclaimed")!.topicHash,
    optimistic: iface.getEvent("JobMadeOptimistic")!.topicHash,
    posted: iface.getEvent("ResultPosted")!.topicHash,
  };
  const rand = rng(35);
  const served = d.models.filter((m) => m.name !== "weather-cnn");
  const pick = <T>(xs: readonly T[], weights: readonly number[]): T => {
    const total = weights.reduce((a, b) => a + b, 0);
    let r = rand() * total;
    for (let i = 0; i < xs.length; i++) if ((r -= weights[i]) < 0) return xs[i];
    return xs[xs.length - 1];
  };
  const fates: Record<Fate, number> = { single: 0, batched: 0, reclaimed: 0, expiredThenFulfilled: 0, expiredThenReclaimed: 0, optimistic: 0, leftOpen: 0 };
  const schedule = new Map<number, Action[]>();
  const at = (block: number, a: Action) => {
    const l = schedule.get(block);
    if (l) l.push(a);
    else schedule.set(block, [a]);
  };
  const lease = DEFAULT_MARKET.leaseDuration;
  const after = (seconds: number) => Math.ceil(seconds / o.blockSeconds) + 1;
  const proverOf = () => pick(ROLES.provers, PROVER_WEIGHTS);
  await rpc(url, "evm_setAutomine", [false]);
  await rpc(url, "evm_setBlockGasLimit", ["0x" + (2_000_000_000).toString(16)]);
  const latest = (await rpc(url, "eth_getBlockByNumber", ["latest", false])) as { number: string; timestamp: string };
  const firstBlock = Number(latest.number) + 1;
  let now = Number(latest.timestamp);
  const startTime = now;
  const openBlocks = Math.ceil(o.jobs / o.perBlock);
  let openedSoFar = 0;
  let transactions = 0;
  let block = 0;
  // explicit nonces: the node may take a batch's requests in any order, and a requester's opens must run in the
  // order they were planned (their job ids are matched to the plans by requester, below)
  const nonces = new Map<number, number>();
  for (const i of [ROLES.keeper, ...ROLES.requesters, ...ROLES.provers])
    nonces.set(i, Number(await rpc(url, "eth_getTransactionCount", [address(i), "pending"])));
  const send = (from: number, data: string, gas: number, value = 0n): RpcCall => {
    const nonce = nonces.get(from)!;
    nonces.set(from, nonce + 1);
    return {
      method: "eth_sendTransaction",
      params: [{ from: address(from), to: d.jobsAddress, data, gas: "0x" + gas.toString(16), value: "0x" + value.toString(16), nonce: "0x" + nonce.toString(16) }],
    };
  };
  const fee = 10n ** 16n;
  const mix = o.mix ?? true;
  for (; block < openBlocks || schedule.size > 0; block++) {
    if (o.realtime) {
      const wait = t0 + block * o.blockSeconds * 1000 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    now += o.blockSeconds;
    const calls: RpcCall[] = [];
    const expect = { opened: 0, claimed: 0, fulfilled: 0, expired: 0, reclaimed: 0, optimistic: 0, posted: 0 };
    const plans: Planned[] = [];
    const n = Math.min(o.perBlock, o.jobs - openedSoFar);
    for (let i = 0; i < n && block < openBlocks; i++) {
      const model = pick(served, [45, 30, 25]);
      const r = rand();
      const lastOnes = openedSoFar + i >= o.jobs - 2 * o.perBlock;
      const fate: Fate = !mix
        ? model.batched
          ? "batched"
          : "single"
        : lastOnes
        ? "leftOpen"
        : model.batched
          ? r < 0.95
            ? "batched"
            : "expiredThenReclaimed"
          : r < 0.84
            ? "single"
            : r < 0.89
              ? "reclaimed"
              : r < 0.94
                ? "expiredThenFulfilled"
                : r < 0.97
                  ? "expiredThenReclaimed"
                  : "optimistic";
      const deadline =
        fate === "reclaimed" ? now + 1200 : fate === "expiredThenReclaimed" ? now + 1500 : fate === "optimistic" ? now + 7200 : now + 3600;
      const p: Planned = { model, requester: ROLES.requesters[Math.floor(rand() * ROLES.requesters.length)], fate, input: Math.floor(rand() * model.inputs.length), deadline };
      fates[fate]++;
      plans.push(p);
      const input = model.inputs[p.input];
      const data =
        layoutOf(model.model).inputMode === 1
          ? iface.encodeFunctionData("openJobWithInputs", [model.modelId, 1n, input.x, BigInt(deadline), false])
          : iface.encodeFunctionData("openJob", [model.modelId, 1n, input.commitment, input.uri, BigInt(deadline), false]);
      calls.push(send(p.requester, data, 600_000, fee));
      expect.opened++;
    }
    openedSoFar += plans.length;
    const actions = schedule.get(block) ?? [];
    schedule.delete(block);
    const batches = new Map<number, Planned[]>();
    for (const a of actions) {
      const j = a.job;
      const jobId = j.jobId!;
      switch (a.kind) {
        case "claim":
          j.prover = a.prover;
          calls.push(send(a.prover, iface.encodeFunctionData("claim", [jobId]), 300_000));
          expect.claimed++;
          break;
        case "submit": {
          const output = j.model.model.head === "values" ? 1000n + (jobId % 500n) : jobId % 3n;
          calls.push(send(j.prover!, iface.encodeFunctionData("submitResult", [jobId, output, "0x" + "11".repeat(256)]), 600_000));
          expect.fulfilled++;
          break;
        }
        case "batch": {
          const l = batches.get(j.prover!) ?? [];
          l.push(j);
          batches.set(j.prover!, l);
          break;
        }
        case "expire":
          calls.push(send(ROLES.keeper, iface.encodeFunctionData("expireClaim", [jobId]), 300_000));
          expect.expired++;
          break;
        case "reclaim":
          calls.push(send(j.requester, iface.encodeFunctionData("reclaim", [jobId]), 300_000));
          expect.reclaimed++;
          if (j.prover !== undefined) expect.expired++; // an expired claim is settled by the reclaim
          break;
        case "setOptimistic":
          calls.push(send(j.requester, iface.encodeFunctionData("setOptimistic", [jobId]), 200_000));
          expect.optimistic++;
          break;
        case "post":
          calls.push(send(j.prover!, iface.encodeFunctionData("postResult", [jobId, jobId % 3n]), 300_000));
          expect.posted++;
          break;
        case "finalize":
          calls.push(send(ROLES.keeper, iface.encodeFunctionData("finalizeResult", [jobId]), 300_000));
          expect.fulfilled++;
          break;
      }
    }
    for (const [prover, list] of batches) {
      list.sort((a, b) => (a.jobId! < b.jobId! ? -1 : 1));
      for (let i = 0; i < list.length; i += 8) {
        const chunk = list.slice(i, i + 8);
        const outputs = chunk.map((j) => 1000n + (j.jobId! % 500n));
        const proofs = chunk.map((j, k) =>
          mockProofN([
            outputs[k],
            j.model.commitment,
            ...j.model.inputs[j.input].signals,
            jobBinding(d.chainId, d.jobsAddress, j.jobId!, address(prover)),
          ]),
        );
        const ids = chunk.map((j) => j.jobId!);
        calls.push(send(prover, iface.encodeFunctionData("submitResults", [ids, outputs, proofs]), 400_000 + 250_000 * chunk.length));
        expect.fulfilled += chunk.length;
      }
    }
    await rpcBatch(url, calls);
    transactions += calls.length;
    await rpc(url, "evm_mine", o.realtime ? [] : [now]);
    const minedAt = performance.now();
    const number = firstBlock + block;
    if (o.realtime) now = Number(((await rpc(url, "eth_getBlockByNumber", ["0x" + number.toString(16), false])) as { timestamp: string }).timestamp);
    const count = Number(await rpc(url, "eth_getBlockTransactionCountByNumber", ["0x" + number.toString(16)]));
    if (count !== calls.length) throw new Error(`block ${number}: ${count} transactions mined of ${calls.length} sent`);
    const logs = (await rpc(url, "eth_getLogs", [
      { fromBlock: "0x" + number.toString(16), toBlock: "0x" + number.toString(16), address: d.jobsAddress },
    ])) as { topics: string[] }[];
    const countOf = (t: string) => logs.filter((l) => l.topics[0] === t).length;
    const got = {
      opened: countOf(opened),
      claimed: countOf(topics.claimed),
      fulfilled: countOf(topics.fulfilled),
      expired: countOf(topics.expired),
      reclaimed: countOf(topics.reclaimed),
      optimistic: countOf(topics.optimistic),
      posted: countOf(topics.posted),
    };
    if (JSON.stringify(got) !== JSON.stringify(expect))
      throw new Error(
        `block ${number}: events ${JSON.stringify(got)}, expected ${JSON.stringify(expect)}: ${await revertReasons(url, iface, number)}`,
      );
    o.onMined?.(
      number,
      minedAt,
      logs.filter((l) => l.topics[0] === topics.fulfilled).map((l) => BigInt(l.topics[1])),
    );
    // the new jobs' ids, matched to their plans by requester (each requester's opens run in nonce order)
    const byRequester = new Map<string, Planned[]>();
    for (const p of plans) {
      const k = address(p.requester);
      const l = byRequester.get(k) ?? [];
      l.push(p);
      byRequester.set(k, l);
    }
    for (const l of logs.filter((x) => x.topics[0] === opened)) {
      const requester = ("0x" + l.topics[2].slice(26)).toLowerCase();
      const p = byRequester.get(requester)!.shift()!;
      p.jobId = BigInt(l.topics[1]);
      const b = block;
      switch (p.fate) {
        case "single":
          at(b + 1, { kind: "claim", job: p, prover: proverOf() });
          at(b + 2, { kind: "submit", job: p });
          break;
        case "batched":
          at(b + 1, { kind: "claim", job: p, prover: proverOf() });
          at(b + 2 + Math.floor(rand() * 2), { kind: "batch", job: p });
          break;
        case "reclaimed":
          at(b + after(p.deadline - now), { kind: "reclaim", job: p });
          break;
        case "expiredThenFulfilled": {
          const first = proverOf();
          const second = ROLES.provers[(ROLES.provers.indexOf(first as (typeof ROLES.provers)[number]) + 1) % ROLES.provers.length];
          const e = b + 1 + after(lease);
          at(b + 1, { kind: "claim", job: p, prover: first });
          at(e, { kind: "expire", job: p });
          at(e + 1, { kind: "claim", job: p, prover: second });
          at(e + 2, { kind: "submit", job: p });
          break;
        }
        case "expiredThenReclaimed":
          at(b + 1, { kind: "claim", job: p, prover: proverOf() });
          at(b + after(p.deadline - now), { kind: "reclaim", job: p });
          break;
        case "optimistic": {
          at(b + 1, { kind: "setOptimistic", job: p });
          at(b + 2, { kind: "claim", job: p, prover: proverOf() });
          at(b + 3, { kind: "post", job: p });
          at(b + 3 + after(DEFAULT_MARKET.challengeWindow), { kind: "finalize", job: p });
          break;
        }
        case "leftOpen":
          break;
      }
    }
    if (o.log && block % 50 === 0)
      o.log(`block ${number}: ${openedSoFar}/${o.jobs} jobs opened, ${transactions} transactions, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  await rpc(url, "evm_setAutomine", [true]);
  return {
    jobs: openedSoFar,
    blocks: block,
    transactions,
    fates,
    spanSeconds: now - startTime,
    seconds: (performance.now() - t0) / 1000,
    firstBlock,
    lastBlock: firstBlock + block - 1,
  };
}
