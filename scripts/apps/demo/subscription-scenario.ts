/**
 * The subscription scenario (issue 33), shared by `npm run demo:subscription` and test/e2e/subscription.test.ts: on
 * the in-process Hardhat network, an observation oracle (`MockObservationOracle`) receives a reading each interval;
 * `ScheduledForecaster` (contracts/examples/) subscribes once to `temp-forecast` (a public-input regression model:
 * tomorrow's maximum temperature from the last 7 daily readings), and each interval a staked prover opens the run
 * (the inputs are read from the oracle then), claims it, proves it with a real Groth16 proof on exactly the values
 * the market packed, and submits; the contract's callback steers its parameter within bounds. Returns, per run, the
 * inputs, the verified value, the TS reference's value, the float model's, and the gas of each transaction.
 */
import hre from "hardhat";
import { buildModel, loadFloatModel } from "../../pipelines/build";
import { loadSeattleTempMax } from "../../pipelines/datasets";
import { inferQuantized } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { forwardFloat, preprocess } from "../../formats/float-model";
import { quantizeInput } from "../../formats/quantized-input";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySubscriptions, deploySystem, registerModel } from "../../chain/system";
import { deployForecaster } from "./forecaster";
import type { StageLog } from "../../util/stage-log";

export interface SubscriptionRun {
  run: number;
  jobId: bigint;
  /** The quantized readings the run's job was opened on (read from the oracle at opening). */
  inputs: bigint[];
  verified: bigint;
  reference: bigint;
  /** The float model on the same readings, in output units. */
  float: number;
  parameter: bigint;
  gas: { openRun: bigint; claim: bigint; submit: bigint };
  proveSeconds: number;
}

export interface SubscriptionScenario {
  model: string;
  constraints: number;
  outputFrac: number;
  /** The input's fractional bits (readings are `value * 2^inputFrac`). */
  inputFrac: number;
  subscriptionId: bigint;
  gasCreate: bigint;
  runs: SubscriptionRun[];
  /** A proof of the last run's job made on the previous run's readings: refused by the market. */
  otherIntervalRefused: boolean;
}

const INTERVAL = 3600;
const RUNS = 3;
/** The held-out day the readings start from (Seattle temp_max); each interval adds the next day's reading. */
const FIRST_DAY = 100;

/** Runs `RUNS` intervals of one subscription with real proofs; `log` prints the stages (the demo), or not (the test). */
export async function runSubscriptionScenario(log?: StageLog): Promise<SubscriptionScenario> {
  const stage = <T>(what: string, f: () => Promise<T>, done?: (v: T) => string): Promise<T> => (log ? log.stage(what, f, done) : f());
  const [deployer, owner, reporter, prover] = await hre.ethers.getSigners();
  const name = "temp-forecast";
  const built = await buildModel(name);
  if (built.verifierChanged) await stage("compile contracts (verifier changed)", () => hre.run("compile", { quiet: true }));
  const { model } = built;
  const layout = layoutOf(model);
  const fm = loadFloatModel(name);
  const { sys, subs } = await stage("deploy factory + registry + jobs market + subscriptions", async () => {
    const system = await deploySystem(deployer);
    return { sys: system, subs: await deploySubscriptions(deployer, system.jobs) };
  });
  const ver = await deployGroth16Verifier(deployer, await hre.artifacts.readArtifact(built.paths.verifierContract), sys.factory);
  const reg = { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: "demo" };
  const { modelId } = await registerModel(sys.registry, owner, reg, ver.adapter.target as string, layout);

  // the oracle holds the readings quantized as the model's input (value * 2^inputFrac)
  const data = loadSeattleTempMax();
  const days = [...data.test.x[FIRST_DAY]];
  for (let k = 1; k < RUNS; k++) days.push(data.test.x[FIRST_DAY + k][6]); // the next week's window ends one day later
  const q = days.map((d) => quantizeInput(model, fm, new Array<number>(7).fill(d))[0]);
  const fee = hre.ethers.parseEther("0.01");
  const tip = hre.ethers.parseEther("0.001");
  const { oracle, forecaster, subscriptionId, created } = await stage(
    `subscribe: ${RUNS} runs of ${name}, one an hour, fee 0.01 ETH + tip 0.001 ETH each, paid up front`,
    () =>
      deployForecaster({
        subscriptions: subs,
        modelId,
        outputFrac: layout.outputFrac,
        owner: deployer,
        reporter,
        readings: q.slice(0, 7),
        interval: INTERVAL,
        runs: RUNS,
        fee,
        tip,
        runDeadline: 2 * INTERVAL,
      }),
    (f) => `${f.created?.gasUsed} gas`,
  );
  await (await sys.jobs.connect(prover).deposit({ value: (await sys.jobs.claimBond()) * 2n })).wait();
  const start = (await subs.getSubscription(subscriptionId)).start;

  const runs: SubscriptionRun[] = [];
  let otherIntervalRefused = false;
  for (let k = 0; k < RUNS; k++) {
    if (k > 0) {
      await (await oracle.record([q[6 + k]])).wait(); // the interval's new reading
      await hre.network.provider.send("evm_mine", [Number(start) + k * INTERVAL + 5]); // the next interval begins
    }
    const jobId = await subs.connect(prover).openRun.staticCall(subscriptionId);
    const opened = await stage(`interval ${k}: the prover opens run ${k} (inputs read from the oracle now)`, async () =>
      (await subs.connect(prover).openRun(subscriptionId)).wait(),
    );
    if (jobId === 0n) throw new Error(`run ${k} was skipped: ${JSON.stringify(opened?.logs.map((l) => subs.interface.parseLog(l)?.args))}`);
    const inputs = [...(await oracle.observations(7))];
    const claimed = await (await sys.jobs.connect(prover).claim(jobId)).wait();
    const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
    if (k === RUNS - 1 && runs.length) {
      // a proof over the previous interval's readings, for this interval's job: the market refuses it
      const stale = await proveInference(
        model,
        { wasm: built.circuit.wasm, zkey: built.keys.zkey },
        runs[k - 1].inputs,
        undefined,
        binding,
      );
      otherIntervalRefused = await sys.jobs
        .connect(prover)
        .submitResult.staticCall(jobId, stale.output, stale.packed.bytes)
        .then(() => false)
        .catch((e: Error) => /InvalidProof/.test(e.message));
    }
    const proof = await stage(`prove run ${k} (witness + Groth16)`, () =>
      proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, inputs, undefined, binding),
    );
    const submitted = await stage(
      `submit run ${k} (verification + the subscription's callback + the forecaster's)`,
      async () => (await sys.jobs.connect(prover).submitResult(jobId, proof.output, proof.packed.bytes)).wait(),
      (r) => `${r?.gasUsed} gas`,
    );
    const [verified, acted] = await forecaster.lastForecast();
    if (acted !== BigInt(k + 1)) throw new Error(`run ${k}'s forecast was not acted on (runs acted on: ${acted})`);
    const reference = inferQuantized(model, inputs).values?.[0] ?? -1n;
    const raw = inputs.map((v) => Number(v) / 2 ** model.input.frac);
    runs.push({
      run: k,
      jobId,
      inputs,
      verified,
      reference,
      float: forwardFloat(fm, preprocess(fm, raw)).at(-1)?.[0] ?? NaN,
      parameter: await forecaster.parameter(),
      gas: { openRun: opened?.gasUsed ?? 0n, claim: claimed?.gasUsed ?? 0n, submit: submitted?.gasUsed ?? 0n },
      proveSeconds: proof.witnessAndProveSeconds,
    });
  }
  return {
    model: name,
    constraints: built.circuit.constraints,
    outputFrac: layout.outputFrac,
    inputFrac: model.input.frac,
    subscriptionId,
    gasCreate: created?.gasUsed ?? 0n,
    runs,
    otherIntervalRefused,
  };
}
