import { expect } from "chai";
import { runSubscriptionScenario } from "../../scripts/apps/demo/subscription-scenario";

/**
 * A subscription with real Groth16 proofs (issue 33; the scenario `npm run demo:subscription` prints): the example
 * consumer `ScheduledForecaster` receives three proven forecasts of `temp-forecast`, each computed on the oracle's
 * readings at its own interval, equal to the TS reference on those readings; a proof of the last run made on the
 * previous interval's readings is refused by the market.
 */
describe("e2e: a subscription delivers a proven forecast every interval", function () {
  this.timeout(300_000);

  it("three intervals, three proven forecasts on each interval's state, acted on within bounds; another interval's proof refused", async function () {
    const s = await runSubscriptionScenario();
    expect(s.runs.map((r) => r.run)).to.deep.equal([0, 1, 2]);
    const scale = 2n ** BigInt(s.outputFrac);
    for (const [k, r] of s.runs.entries()) {
      expect(r.verified, `run ${k}`).to.equal(r.reference);
      expect(Math.abs(Number(r.verified) / Number(scale) - r.float), `run ${k} against the float model`).to.be.lessThan(0.5);
      const clamped = r.verified < 10n * scale ? 10n * scale : r.verified > 30n * scale ? 30n * scale : r.verified;
      expect(r.parameter, `run ${k}'s parameter`).to.equal(clamped);
      // each run read the oracle at its own interval: its window is the previous one shifted by the new reading
      if (k > 0) expect(r.inputs.slice(0, 6), `run ${k}'s readings`).to.deep.equal(s.runs[k - 1].inputs.slice(1));
    }
    expect(new Set(s.runs.map((r) => r.jobId)).size).to.equal(3);
    expect(s.otherIntervalRefused).to.equal(true);
    console.log(
      `      create ${s.gasCreate} gas; per run: openRun ${s.runs.map((r) => r.gas.openRun).join(" / ")}, submit with callbacks ${s.runs.map((r) => r.gas.submit).join(" / ")} gas`,
    );
  });
});
