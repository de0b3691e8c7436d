/**
 * The consumer demo on the in-process Hardhat network: a contract (`contracts/examples/SeriesForecaster.sol`) records
 * a week of Seattle daily maximum temperatures on chain, asks the bundled `temp-forecast` regression model (public
 * input, values head) for tomorrow's maximum on exactly that series, and receives the verified forecast in its
 * callback. Prints the value the contract received. Run: npm run demo:consumer. Walkthrough: docs/consumers.md.
 */
import hre from "hardhat";
import { loadSeattleTempMax } from "../../pipelines/datasets";
import { buildModel, loadFloatModel } from "../../pipelines/build";
import { createLog, secondsSince } from "../../util/stage-log";
import { rel } from "../../util/paths";
import { inferQuantized } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { forwardFloat, preprocess } from "../../formats/float-model";
import { quantizeInput } from "../../formats/quantized-input";
import { runMain } from "../main";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySystem, registerModel } from "../../chain/system";
import { SeriesForecaster__factory } from "../../../typechain-types";

const MODEL = "temp-forecast";
/** The held-out week the demo forecasts from. */
const SAMPLE = 100;
/** The alert threshold of the example contract, in degrees C. */
const ALERT_AT = 25;

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = createLog("demo:consumer");
  const built = await buildModel(MODEL);
  if (built.verifierChanged) await log.stage("compile contracts (verifier changed)", () => hre.run("compile", { quiet: true }));
  const { model } = built;
  const layout = layoutOf(model);
  const fm = loadFloatModel(MODEL);

  const [deployer, owner, reporter, prover] = await hre.ethers.getSigners();
  const sys = await log.stage("deploy factory + registry + jobs market", () => deploySystem(deployer));
  const ver = await log.stage(
    `deploy ${built.paths.verifierContract} + adapter`,
    async () => deployGroth16Verifier(deployer, await hre.artifacts.readArtifact(built.paths.verifierContract), sys.factory),
    (v) => `${v.gasUsed} gas`,
  );
  const reg = {
    modelCommitment: built.modelCommitment,
    circuitHash: built.circuit.r1csHash,
    vkHash: built.keys.vkHash,
    uri: `file:${rel(built.paths.qmodelFile)}`,
  };
  const { modelId } = await log.stage(
    "register model with its layout (public input, values head)",
    () => registerModel(sys.registry, owner, reg, ver.adapter.target as string, layout),
    (r) => `model id ${r.modelId}, ${r.receipt.gasUsed} gas`,
  );
  const alertAt = BigInt(ALERT_AT) << BigInt(layout.outputFrac);
  const forecaster = await log.stage("deploy SeriesForecaster (example consumer)", async () => {
    const f = await new SeriesForecaster__factory(deployer).deploy(await sys.jobs.getAddress(), modelId, 1n, reporter.address, alertAt); // the version registered above
    await f.waitForDeployment();
    return f;
  });

  // The reporter records one held-out week, quantized as the model's input (degrees C * 2^frac).
  const data = loadSeattleTempMax();
  const week = data.test.x[SAMPLE];
  const x = quantizeInput(model, fm, week);
  await log.stage("record 7 daily readings on chain", async () => {
    for (const q of x) await (await forecaster.connect(reporter).record(q)).wait();
  });
  const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
  const fee = hre.ethers.parseEther("0.01");
  const jobId = await forecaster.connect(reporter).requestForecast.staticCall(deadline, { value: fee });
  const open = await log.stage(
    "the contract opens a job on its own series (openJobWithInputs)",
    async () => (await forecaster.connect(reporter).requestForecast(deadline, { value: fee })).wait(),
    (r) => `job ${jobId}, ${r?.gasUsed} gas`,
  );

  // A staked prover claims, proves on the values the market packed, and submits.
  await (await sys.jobs.connect(prover).deposit({ value: await sys.jobs.claimBond() })).wait();
  await (await sys.jobs.connect(prover).claim(jobId)).wait();
  const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
  const proof = await log.stage(
    "prove (witness + Groth16)",
    () => proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, undefined, binding),
    (p) => `${p.witnessAndProveSeconds.toFixed(2)} s`,
  );
  const submit = await log.stage(
    "submit result (verification + callback)",
    async () => (await sys.jobs.connect(prover).submitResult(jobId, proof.output, proof.packed.bytes)).wait(),
    (r) => `${r?.gasUsed} gas`,
  );

  const received = await forecaster.lastForecast();
  const alert = await forecaster.alert();
  const scale = 2 ** layout.outputFrac;
  const reference = inferQuantized(model, x).values?.[0];
  const float = forwardFloat(fm, preprocess(fm, week)).at(-1)?.[0] ?? NaN;
  console.log("");
  console.log(
    `A contract received a verified forecast on chain ${(await hre.ethers.provider.getNetwork()).chainId} (in-process Hardhat network)`,
  );
  console.log(`  model        ${MODEL}: ${built.circuit.constraints} constraints, layout ${JSON.stringify(layout)}`);
  console.log(`  series       Seattle temp_max held-out week ${SAMPLE}: ${week.join(", ")} C (recorded on chain as ${x.join(", ")})`);
  console.log(
    `  received     ${received} / 2^${layout.outputFrac} = ${(Number(received) / scale).toFixed(3)} C (float model ${float.toFixed(3)} C, truth ${data.test.y[SAMPLE]} C)`,
  );
  console.log(`  acted on it  alert (forecast >= ${ALERT_AT} C) = ${alert}`);
  console.log(`  gas          open job ${open?.gasUsed}, submit + verify + callback ${submit?.gasUsed}`);
  console.log(`  total time   ${secondsSince(t0)} s`);
  if (received !== reference || (await forecaster.lastForecastJob()) !== jobId) {
    throw new Error(`demo:consumer: the contract received ${received}, the TS reference computes ${reference}`);
  }
}

runMain(main);
