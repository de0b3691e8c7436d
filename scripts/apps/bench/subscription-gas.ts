/**
 * Gas of subscriptions (issue 33's targets; docs/market-rules.md, "Subscriptions") on the in-process Hardhat network
 * with real proofs of the bundled public-input model `temp-forecast`, registered with its generated batch verifier:
 * creating a subscription (through the example consumer `ScheduledForecaster`, as a consumer would), opening a run
 * (inputs read from an observation oracle; the first run of a subscription and a later one), a claimant's verified
 * delivery of one run with both callbacks (the subscription's and the forecaster's), and 16 runs of 16 subscriptions
 * delivered in one `submitResults` batch. Writes `subscription` into bench/results.json and re-renders
 * bench/REPORT.md. Run: npm run bench:subscription
 */
import * as fs from "fs";
import * as path from "path";
import hre from "hardhat";
import { layoutOf } from "../../formats/model-layout";
import { inferQuantized } from "../../formats/quantized-model";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySubscriptions, deploySystem, registerModel } from "../../chain/system";
import { ROOT, writeFileAtomic } from "../../util/paths";
import { runMain } from "../main";
import { MockObservationOracle__factory, ScheduledForecaster__factory } from "../../../typechain-types";
import { benchBuild } from "./build";
import { type BenchResults, type SubscriptionGas, renderReport } from "./report";

const MODEL = "temp-forecast";
const INTERVAL = 3600;
const BATCH = 16;

runMain(async () => {
  const t0 = Date.now();
  const { built, batchVerifier } = await benchBuild(MODEL);
  const { model } = built;
  const layout = layoutOf(model);
  const [deployer, owner, reporter, prover, keeper] = await hre.ethers.getSigners();
  const sys = await deploySystem(deployer);
  const subs = await deploySubscriptions(deployer, sys.jobs);
  const ver = await deployGroth16Verifier(deployer, batchVerifier, sys.factory);
  const reg = { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: "bench" };
  const { modelId } = await registerModel(sys.registry, owner, reg, ver.adapter.target as string, layout);
  const oracle = await new MockObservationOracle__factory(reporter).deploy();
  const readings = [600n, 620n, 580n, 640n, 610n, 630n, 650n, 660n, 590n, 605n];
  await (await oracle.record(readings.slice(0, 7))).wait();
  await (await sys.jobs.connect(prover).deposit({ value: (await sys.jobs.claimBond()) * BigInt(BATCH + 4) })).wait();
  const fee = hre.ethers.parseEther("0.01");
  const tip = hre.ethers.parseEther("0.001");
  const scale = 2n ** BigInt(layout.outputFrac);
  const forecaster = async () => {
    const f = await new ScheduledForecaster__factory(deployer).deploy(
      await subs.getAddress(),
      await oracle.getAddress(),
      modelId,
      1n,
      0n,
      40n * scale,
      20n * scale,
    );
    await f.waitForDeployment();
    return f;
  };
  const gasOf = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> => Number((await (await tx).wait())!.gasUsed);
  /** Opens the due run of subscription `id` (as the keeper), claims it and proves it; returns the job and its proof. */
  const openClaimProve = async (id: bigint) => {
    const jobId = await subs.connect(keeper).openRun.staticCall(id);
    const openGas = await gasOf(subs.connect(keeper).openRun(id));
    await (await sys.jobs.connect(prover).claim(jobId)).wait();
    const x = [...(await oracle.observations(7))];
    const p = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, undefined, await bindingFor(sys.jobs, prover, jobId, prover.address));
    if (p.output !== inferQuantized(model, x).output) throw new Error("bench:subscription: the proof's output is not the reference's");
    return { jobId, openGas, output: p.output, proof: p.packed.bytes };
  };
  const advance = async (to: bigint) => hre.network.provider.send("evm_mine", [Number(to)]);

  // one subscription, three runs: creation, first opening, later openings, single deliveries
  const f = await forecaster();
  const createGas = await gasOf(f.start(INTERVAL, 3, fee, tip, 2 * INTERVAL, { value: 3n * (fee + tip) }));
  const id = await f.subscriptionId();
  const start = (await subs.getSubscription(id)).start;
  const openGas: number[] = [];
  const deliverGas: number[] = [];
  for (let k = 0; k < 3; k++) {
    if (k > 0) {
      await (await oracle.record([readings[6 + k]])).wait();
      await advance(start + BigInt(k * INTERVAL) + 1n);
    }
    const r = await openClaimProve(id);
    openGas.push(r.openGas);
    deliverGas.push(await gasOf(sys.jobs.connect(prover).submitResult(r.jobId, r.output, r.proof)));
    if ((await f.lastForecast())[1] !== BigInt(k + 1)) throw new Error(`bench:subscription: run ${k} did not reach the forecaster`);
  }

  // 16 subscriptions (16 consumers), one run each in the same interval, delivered in one batch
  const batchRuns: { jobId: bigint; output: bigint; proof: string }[] = [];
  const consumers = [];
  for (let i = 0; i < BATCH; i++) {
    const c = await forecaster();
    await (await c.start(INTERVAL, 1, fee, tip, 2 * INTERVAL, { value: fee + tip })).wait();
    consumers.push(c);
  }
  for (const c of consumers) batchRuns.push(await openClaimProve(await c.subscriptionId()));
  const batchGas = await gasOf(
    sys.jobs.connect(prover).submitResults(
      batchRuns.map((r) => r.jobId),
      batchRuns.map((r) => r.output),
      batchRuns.map((r) => r.proof),
    ),
  );
  for (const c of consumers) if ((await c.lastForecast())[1] !== 1n) throw new Error("bench:subscription: a batched run did not reach its consumer");

  const result: SubscriptionGas = {
    generatedAt: new Date().toISOString(),
    command: "npm run bench:subscription",
    model: MODEL,
    constraints: built.circuit.constraints,
    create: createGas,
    openFirst: openGas[0],
    openLater: Math.max(...openGas.slice(1)),
    deliverSingle: Math.max(...deliverGas.slice(1)),
    deliverFirst: deliverGas[0],
    batch: { size: BATCH, gas: batchGas, perRun: Math.round(batchGas / BATCH) },
    totalSeconds: (Date.now() - t0) / 1000,
  };
  console.log(`BENCH_SUBSCRIPTION_GAS ${JSON.stringify(result)}`);
  const file = path.join(ROOT, "bench", "results.json");
  const results = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  results.subscription = result;
  writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  writeFileAtomic(path.join(ROOT, "bench", "REPORT.md"), renderReport(results));
  console.log("bench/results.json (subscription) and bench/REPORT.md written");
});
