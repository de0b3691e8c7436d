/**
 * The consumer demo on the in-process Hardhat network: a contract (`contracts/examples/SeriesForecaster.sol`) records
 * readings on chain, asks a bundled public-input model with a values head on exactly those readings, and acts on the
 * verified answer in its callback: `temp-forecast` (tomorrow's maximum temperature from a week of Seattle readings;
 * alert at 25 C), `rain-risk` (the probability of rain tomorrow from today's weather, 20 boosted trees; a parametric
 * cover arms at p >= 0.8) and `weather-cnn` (tomorrow's maximum temperature from two weeks of four readings a day, a
 * 1-D CNN; alert at 25 C). Prints what each contract received. Run: npm run demo:consumer. Walkthrough:
 * docs/consumers.md.
 */
import hre from "hardhat";
import {
  RAIN_FEATURES,
  WEATHER_CHANNELS,
  WEATHER_WINDOW,
  loadSeattleRain,
  loadSeattleTempMax,
  loadSeattleWeatherSeries,
} from "../../pipelines/datasets";
import { buildModel, loadFloatModel } from "../../pipelines/build";
import { createLog, secondsSince } from "../../util/stage-log";
import { rel } from "../../util/paths";
import { inferQuantized } from "../../formats/quantized-model";
import { layoutOf, numPublicSignals } from "../../formats/model-layout";
import { forwardFloat, preprocess } from "../../formats/float-model";
import { quantizeInput } from "../../formats/quantized-input";
import { runMain } from "../main";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySystem, registerModel } from "../../chain/system";
import { SeriesForecaster__factory } from "../../../typechain-types";

/** A question a consumer contract asks, and the raw inputs its reporter records. */
interface Scenario {
  model: string;
  what: string;
  /** Raw inputs (model units) and what they are. */
  inputs: number[];
  about: string;
  /** The contract's alert threshold in the output's units, and what it means. */
  alertAt: number;
  alertMeans: string;
  /** The output's unit when printed, and the truth when known. */
  unit: string;
  truth?: string;
}

/**
 * The held-out week the temperature forecast starts from, the held-out day the rain risk is asked for, and the
 * held-out fortnight the sequence model reads.
 */
const SAMPLE = 100;
const RAIN_DAY = 13;
const FORTNIGHT = 100;

function scenarios(): Scenario[] {
  const temps = loadSeattleTempMax();
  const rain = loadSeattleRain();
  const series = loadSeattleWeatherSeries();
  const fortnight = series.test.x[FORTNIGHT];
  const range = (c: number) => {
    const v = fortnight.slice(c * WEATHER_WINDOW, (c + 1) * WEATHER_WINDOW);
    return `${Math.min(...v)}..${Math.max(...v)}`;
  };
  return [
    {
      model: "temp-forecast",
      what: "tomorrow's maximum temperature in Seattle (regression)",
      inputs: temps.test.x[SAMPLE],
      about: `Seattle temp_max held-out week ${SAMPLE}`,
      alertAt: 25,
      alertMeans: "forecast >= 25 C",
      unit: " C",
      truth: `${temps.test.y[SAMPLE]} C`,
    },
    {
      model: "rain-risk",
      what: "the probability of rain in Seattle tomorrow (20 boosted trees + sigmoid)",
      inputs: rain.test.x[RAIN_DAY],
      about: `held-out day ${RAIN_DAY}: ${RAIN_FEATURES.map((f, i) => `${f} ${rain.test.x[RAIN_DAY][i]}`).join(", ")}`,
      alertAt: 0.8,
      alertMeans: "a parametric rain cover arms at p >= 0.8",
      unit: "",
      truth: rain.test.y[RAIN_DAY] ? "it rained" : "it stayed dry",
    },
    {
      model: "weather-cnn",
      what: "tomorrow's maximum temperature in Seattle from 14 days x 4 readings (conv1d sequence model, regression)",
      // channel by channel: the reporter records the 14 precipitation readings, then temp_max, temp_min, wind
      inputs: fortnight,
      about: `held-out fortnight ${FORTNIGHT}, ${WEATHER_CHANNELS.map((c, i) => `${c} ${range(i)}`).join(", ")}`,
      alertAt: 25,
      alertMeans: "forecast >= 25 C",
      unit: " C",
      truth: `${series.test.y[FORTNIGHT]} C`,
    },
  ];
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = createLog("demo:consumer");
  const [deployer, owner, reporter, prover] = await hre.ethers.getSigners();
  const sys = await log.stage("deploy factory + registry + jobs market", () => deploySystem(deployer));
  await (await sys.jobs.connect(prover).deposit({ value: (await sys.jobs.claimBond()) * 2n })).wait();
  const lines: string[] = [];
  for (const sc of scenarios()) {
    const built = await buildModel(sc.model);
    if (built.verifierChanged) await log.stage("compile contracts (verifier changed)", () => hre.run("compile", { quiet: true }));
    const { model } = built;
    const layout = layoutOf(model);
    const fm = loadFloatModel(sc.model);
    const ver = await log.stage(
      `deploy ${built.paths.verifierContract} + adapter`,
      async () =>
        deployGroth16Verifier(
          deployer,
          await hre.artifacts.readArtifact(built.paths.verifierContract),
          sys.factory,
          numPublicSignals(model),
        ),
      (v) => `${v.gasUsed} gas`,
    );
    const reg = {
      modelCommitment: built.modelCommitment,
      circuitHash: built.circuit.r1csHash,
      vkHash: built.keys.vkHash,
      uri: `file:${rel(built.paths.qmodelFile)}`,
    };
    const { modelId } = await log.stage(
      `register ${sc.model} with its layout (public input, values head)`,
      () => registerModel(sys.registry, owner, reg, ver.adapter.target as string, layout),
      (r) => `model id ${r.modelId}, ${r.receipt.gasUsed} gas`,
    );
    const scale = 2 ** layout.outputFrac;
    const alertAt = BigInt(Math.round(sc.alertAt * scale));
    const forecaster = await log.stage(`deploy SeriesForecaster for ${sc.model} (example consumer)`, async () => {
      const f = await new SeriesForecaster__factory(deployer).deploy(await sys.jobs.getAddress(), modelId, 1n, reporter.address, alertAt); // the version registered above
      await f.waitForDeployment();
      return f;
    });

    // The reporter records the readings on chain, quantized as the model's input (value * 2^frac).
    const x = quantizeInput(model, fm, sc.inputs);
    await log.stage(`record ${x.length} readings on chain`, async () => {
      for (const q of x) await (await forecaster.connect(reporter).record(q)).wait();
    });
    const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const fee = hre.ethers.parseEther("0.01");
    const jobId = await forecaster.connect(reporter).requestForecast.staticCall(deadline, { value: fee });
    const open = await log.stage(
      "the contract opens a job on its own readings (openJobWithInputs)",
      async () => (await forecaster.connect(reporter).requestForecast(deadline, { value: fee })).wait(),
      (r) => `job ${jobId}, ${r?.gasUsed} gas`,
    );

    // A staked prover claims, proves on the values the market packed, and submits.
    await (await sys.jobs.connect(prover).claim(jobId)).wait();
    const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
    const proof = await log.stage(
      `prove ${sc.model} (witness + Groth16)`,
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
    const reference = inferQuantized(model, x).values?.[0];
    const float = forwardFloat(fm, preprocess(fm, sc.inputs)).at(-1)?.[0] ?? NaN;
    if (received !== reference || (await forecaster.lastForecastJob()) !== jobId)
      throw new Error(`demo:consumer: the contract received ${received} from ${sc.model}, the TS reference computes ${reference}`);
    lines.push(
      `  ${sc.model}: ${sc.what}, ${built.circuit.constraints} constraints`,
      `    readings     ${sc.about} (recorded on chain as ${x.join(", ")})`,
      `    received     ${received} / 2^${layout.outputFrac} = ${(Number(received) / scale).toFixed(3)}${sc.unit} (float model ${float.toFixed(3)}${sc.unit}${sc.truth ? `, truth: ${sc.truth}` : ""})`,
      `    acted on it  alert (${sc.alertMeans}) = ${alert}`,
      `    gas          open job ${open?.gasUsed}, submit + verify + callback ${submit?.gasUsed}`,
    );
  }
  console.log("");
  console.log(
    `Contracts received verified answers on chain ${(await hre.ethers.provider.getNetwork()).chainId} (in-process Hardhat network); what a consumer can ask:`,
  );
  console.log(lines.join("\n"));
  console.log(`  total time   ${secondsSince(t0)} s`);
}

runMain(main);
