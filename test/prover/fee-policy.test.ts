/**
 * The prover node's fee policy for ETH and ERC-20 fees (docs/prover.md, "Serving policy"): PROVER_MIN_FEE_WEI and
 * PROVER_MIN_FEE apply to ETH jobs, PROVER_MIN_FEE_TOKENS to token jobs, and a token job in a token without a minimum
 * is skipped unless PROVER_ACCEPT_ANY_TOKEN=1. `feeSkipReason` is what the node's job pipeline calls with the token
 * it read from `feeTokenOf` (scripts/apps/prover/jobs.ts). A subscription paid in a token is judged the same way
 * (its feePerRun by its token's minimum) and its tip, in that token, by PROVER_MIN_TIP_TOKENS (docs/prover.md,
 * "Subscriptions").
 */
import { expect } from "chai";
import { ZeroAddress, getAddress } from "ethers";
import { configFromEnv } from "../../scripts/apps/prover/config";
import { feeSkipReason } from "../../scripts/apps/prover/bundles";
import { tipFloor } from "../../scripts/apps/prover/subscriptions";

const USD = getAddress("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48");
const OTHER = getAddress("0x" + "11".repeat(20));
const ENV = {
  PROVER_RPC_URL: "http://127.0.0.1:8545",
  PROVER_PRIVATE_KEY: "0x" + "01".repeat(32),
  PROVER_JOBS_ADDRESS: "0x" + "22".repeat(20),
  PROVER_STATE_DIR: "/tmp/state",
  PROVER_SERVE: "all",
};

describe("prover node: fee policy for ETH and ERC-20 fees", function () {
  it("reads PROVER_MIN_FEE_TOKENS and PROVER_ACCEPT_ANY_TOKEN, refusing malformed values in one line naming the variable", function () {
    const none = configFromEnv(ENV).policy;
    expect([none.minFeeTokens?.size, none.acceptAnyToken]).to.deep.equal([0, false]);
    const p = configFromEnv({
      ...ENV,
      PROVER_MIN_FEE_TOKENS: ` ${USD.toLowerCase()}:1000000 , ${OTHER}:5`,
      PROVER_ACCEPT_ANY_TOKEN: "1",
    }).policy;
    expect([...p.minFeeTokens!]).to.deep.equal([
      [USD, 1_000_000n],
      [OTHER, 5n],
    ]);
    expect(p.acceptAnyToken).to.equal(true);
    expect(() => configFromEnv({ ...ENV, PROVER_MIN_FEE_TOKENS: "usdc:5" })).to.throw(
      /^PROVER_MIN_FEE_TOKENS: "usdc:5" is not token:units \(e\.g\. PROVER_MIN_FEE_TOKENS=0x[0-9a-fA-F]{40}:1000000\)$/,
    );
    expect(() => configFromEnv({ ...ENV, PROVER_MIN_FEE_TOKENS: `${USD}:1.5` })).to.throw(
      /^PROVER_MIN_FEE_TOKENS: ".*:1\.5" is not token:units/,
    );
    expect(() => configFromEnv({ ...ENV, PROVER_MIN_FEE_TOKENS: `${USD}:1,${USD.toLowerCase()}:2` })).to.throw(
      `PROVER_MIN_FEE_TOKENS: token ${USD} is listed twice; keep one minimum`,
    );
    expect(() => configFromEnv({ ...ENV, PROVER_ACCEPT_ANY_TOKEN: "yes" })).to.throw(
      'PROVER_ACCEPT_ANY_TOKEN must be 1 or 0, got "yes": fix or unset it',
    );
  });

  it("applies the wei minimums to ETH jobs only and the token's minimum to a token job; skips unknown tokens by default", function () {
    const policy = configFromEnv({ ...ENV, PROVER_MIN_FEE: "7:500", PROVER_MIN_FEE_TOKENS: `${USD}:1000000` }).policy;
    const job = (fee: bigint, feeToken = ZeroAddress, modelId = "7") => ({ fee: fee.toString(), modelId, feeToken });
    // ETH: the node's minimum, then the model's
    expect(feeSkipReason(job(99n), 100n, policy)).to.equal("fee 99 below the minimum 100");
    expect(feeSkipReason(job(499n), 100n, policy)).to.equal("fee 499 below this node's minimum 500 for model 7");
    expect(feeSkipReason(job(500n), 100n, policy)).to.equal(undefined);
    // a token job: its token's minimum, whatever the wei minimums (1,000,000 units pass a 10^18 wei minimum)
    expect(feeSkipReason(job(999_999n, USD), 0n, policy)).to.equal(`fee 999999 below this node's minimum 1000000 for token ${USD}`);
    expect(feeSkipReason(job(1_000_000n, USD.toLowerCase()), 10n ** 18n, policy)).to.equal(undefined);
    // a token without a minimum: skipped (a large fee in an unknown token is no reason to serve)
    expect(feeSkipReason(job(10n ** 30n, OTHER), 0n, policy)).to.equal(
      `fee token ${OTHER} not accepted: set PROVER_MIN_FEE_TOKENS=${OTHER}:<min units> (or PROVER_ACCEPT_ANY_TOKEN=1)`,
    );
    expect(feeSkipReason(job(1n, OTHER), 0n, { ...policy, acceptAnyToken: true })).to.equal(undefined);
    // and a policy built in code without the token fields (open-network tests, the load tool) skips token jobs
    expect(feeSkipReason(job(1n, USD), 0n, { minFeeWei: new Map() })).to.match(/^fee token .* not accepted/);
  });

  it("a token subscription: its feePerRun by the token's minimum, its tip by PROVER_MIN_TIP_TOKENS (never by wei figures)", function () {
    const SUBS = { ...ENV, PROVER_SUBSCRIPTIONS_ADDRESS: "0x" + "33".repeat(20) };
    const cfg = configFromEnv({ ...SUBS, PROVER_MIN_FEE_TOKENS: `${USD}:1000000`, PROVER_MIN_TIP_TOKENS: ` ${USD.toLowerCase()}:5000 ` });
    expect([...cfg.subscriptions!.minTipTokens!]).to.deep.equal([[USD, 5000n]]);
    expect(() => configFromEnv({ ...SUBS, PROVER_MIN_TIP_TOKENS: "usdc:5" })).to.throw(
      /^PROVER_MIN_TIP_TOKENS: "usdc:5" is not token:units \(e\.g\. PROVER_MIN_TIP_TOKENS=0x[0-9a-fA-F]{40}:1000000\)$/,
    );
    expect(() => configFromEnv({ ...ENV, PROVER_MIN_TIP_TOKENS: `${USD}:5` })).to.throw(
      /^PROVER_MIN_TIP_TOKENS is set but PROVER_SUBSCRIPTIONS_ADDRESS is not: export PROVER_SUBSCRIPTIONS_ADDRESS=.* or unset PROVER_MIN_TIP_TOKENS$/,
    );
    // the fee of a run: the job policy, named as the subscription's field
    const sub = (fee: bigint, feeToken: string) => ({ fee: fee.toString(), modelId: "7", feeToken });
    expect(feeSkipReason(sub(999_999n, USD), 10n ** 18n, cfg.policy, "feePerRun")).to.equal(
      `feePerRun 999999 below this node's minimum 1000000 for token ${USD}`,
    );
    expect(feeSkipReason(sub(1_000_000n, USD), 10n ** 18n, cfg.policy, "feePerRun")).to.equal(undefined);
    expect(feeSkipReason(sub(99n, ZeroAddress), 100n, cfg.policy, "feePerRun")).to.equal("feePerRun 99 below the minimum 100");
    // the tip: ETH by the opening's gas cost or PROVER_MIN_TIP_WEI; a token by its own floor, or by PROVER_MIN_TIP_WEI=0 (every run)
    expect(tipFloor(ZeroAddress, cfg.subscriptions)).to.deep.equal({ kind: "gas" });
    expect(tipFloor(ZeroAddress, { ...cfg.subscriptions!, minTipWei: 7n })).to.deep.equal({
      kind: "min",
      min: 7n,
      source: "PROVER_MIN_TIP_WEI",
    });
    expect(tipFloor(USD.toLowerCase(), cfg.subscriptions)).to.deep.equal({ kind: "min", min: 5000n, source: "PROVER_MIN_TIP_TOKENS" });
    expect(tipFloor(OTHER, { ...cfg.subscriptions!, minTipWei: 0n })).to.deep.equal({ kind: "min", min: 0n, source: "PROVER_MIN_TIP_WEI" });
    expect(tipFloor(OTHER, cfg.subscriptions)).to.deep.equal({
      kind: "none",
      reason: `tipPerRun is paid in token ${OTHER}, which no gas cost in wei can price: set PROVER_MIN_TIP_TOKENS=${OTHER}:<min units> (or PROVER_MIN_TIP_WEI=0 to open every run served)`,
    });
  });
});
