/**
 * The subscription demo (issue 33) on the in-process Hardhat network: `ScheduledForecaster`
 * (contracts/examples/) subscribes once to three hourly forecasts by the bundled `temp-forecast` model on the last 7
 * readings of an on-chain observation oracle; each interval a prover opens the run (the inputs are read from the
 * oracle then), proves it with a real Groth16 proof and submits; the contract steers its parameter within bounds.
 * Prints each run's readings, the verified value (checked against the TS reference) and the gas of each step.
 * Run: npm run demo:subscription. Rules: docs/market-rules.md, "Subscriptions"; walkthrough: docs/consumers.md.
 */
import { createLog, secondsSince } from "../../util/stage-log";
import { runMain } from "../main";
import { runSubscriptionScenario } from "./subscription-scenario";

runMain(async () => {
  const t0 = Date.now();
  const s = await runSubscriptionScenario(createLog("demo:subscription"));
  const scale = 2 ** s.outputFrac;
  const lines = [
    "",
    `A contract subscribed once (subscription ${s.subscriptionId}, ${s.gasCreate} gas) and received a verified forecast every interval:`,
    `  ${s.model}: tomorrow's maximum temperature from the last 7 daily readings on chain, ${s.constraints} constraints`,
  ];
  for (const r of s.runs) {
    if (r.verified !== r.reference)
      throw new Error(`demo:subscription: run ${r.run} received ${r.verified}, the TS reference computes ${r.reference}`);
    lines.push(
      `  run ${r.run} (job ${r.jobId})`,
      `    readings     ${r.inputs.map((v) => (Number(v) / 2 ** s.inputFrac).toFixed(1)).join(", ")} (as read from the oracle when the run opened)`,
      `    verified     ${r.verified} / 2^${s.outputFrac} = ${(Number(r.verified) / scale).toFixed(3)} C (float model ${r.float.toFixed(3)} C), proved in ${r.proveSeconds.toFixed(2)} s`,
      `    acted on it  parameter = ${(Number(r.parameter) / scale).toFixed(3)} (the forecast within [10, 30])`,
      `    gas          openRun ${r.gas.openRun}, claim ${r.gas.claim}, submit + verify + callbacks ${r.gas.submit}`,
    );
  }
  lines.push(
    `  a proof of the last run on the previous interval's readings: ${s.otherIntervalRefused ? "refused (InvalidProof)" : "ACCEPTED (bug)"}`,
  );
  lines.push(`  total time   ${secondsSince(t0)} s`);
  console.log(lines.join("\n"));
  if (!s.otherIntervalRefused) throw new Error("demo:subscription: a proof over another interval's readings was not refused");
});
