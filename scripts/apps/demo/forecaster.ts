/**
 * The subscription demo's subscriber (contracts/examples/ScheduledForecaster.sol) over an observation oracle
 * (`MockObservationOracle`), deployed and subscribed in one call: shared by the demo (subscription-scenario.ts), the
 * explorer's local network (scripts/apps/explorer/local.ts) and the explorer's subscription test.
 */
import type { ContractTransactionReceipt, Signer } from "ethers";
import {
  type InferenceSubscriptions,
  type MockObservationOracle,
  MockObservationOracle__factory,
  type ScheduledForecaster,
  ScheduledForecaster__factory,
} from "../../../typechain-types";

/** What {@link deployForecaster} is given. */
export interface ForecasterOptions {
  subscriptions: InferenceSubscriptions;
  /** A public-input, one-value regression model (temp-forecast) and its version's output fractional bits. */
  modelId: bigint;
  outputFrac: number;
  /** Deploys the forecaster, owns it and pays the subscription. */
  owner: Signer;
  /** Deploys the oracle and is its only reporter. */
  reporter: Signer;
  /** The oracle's first readings, in the model's input units (at least the model's input count). */
  readings: readonly bigint[];
  /** Seconds between runs (>= 60), how many runs, the fee and tip of each (wei), seconds each run's job has. */
  interval: number;
  runs: number;
  fee: bigint;
  tip: bigint;
  runDeadline: number;
}

export interface Forecaster {
  oracle: MockObservationOracle;
  forecaster: ScheduledForecaster;
  subscriptionId: bigint;
  /** The receipt of `start` (the subscription's creation). */
  created: ContractTransactionReceipt | null;
}

/**
 * An observation oracle holding `readings` and a `ScheduledForecaster` over it, subscribed once to `runs` forecasts
 * (paid up front) whose verified value steers its parameter within [10, 30] in the output's units (starting at 20).
 * The demo's and the explorer's local network's subscriber.
 */
export async function deployForecaster(o: ForecasterOptions): Promise<Forecaster> {
  const oracle = await new MockObservationOracle__factory(o.reporter).deploy();
  await oracle.waitForDeployment();
  await (await oracle.record([...o.readings])).wait();
  const scale = 2n ** BigInt(o.outputFrac);
  const forecaster = await new ScheduledForecaster__factory(o.owner).deploy(
    await o.subscriptions.getAddress(),
    await oracle.getAddress(),
    o.modelId,
    1n,
    10n * scale,
    30n * scale,
    20n * scale,
  );
  await forecaster.waitForDeployment();
  const created = await (
    await forecaster.start(o.interval, o.runs, o.fee, o.tip, o.runDeadline, { value: BigInt(o.runs) * (o.fee + o.tip) })
  ).wait();
  return { oracle, forecaster, subscriptionId: await forecaster.subscriptionId(), created };
}
