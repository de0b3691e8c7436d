/**
 * Randomized sequences of open (committed or private delivery; fee in ETH, in a standard ERC-20, in a token that
 * returns no bool, or in a fee-on-transfer token, which must be refused; optimistic or not) / deposit / claim /
 * deliverInput / releaseClaim / submit / reclaim / expireClaim / withdraw / withdrawToken / time jumps, and the
 * optimistic actions postResult (a right or a wrong output) / challengeResult / finalizeResult / expireChallenge
 * (fast-check), checking after every step:
 *  - for every token, the market's balance is at least the fees of its open token jobs plus every token account in
 *    it (and equal: nothing sends tokens in outside the market's functions), and each token account matches a model
 *    of the rules (a token job's fee goes to the deliverer's token account, or back to the requester's);
 *  - the ETH held is at least the ETH fee of open ETH jobs + the bounty of every open job (bounties are ETH on token
 *    jobs too) plus every account's available + locked balance plus `burned()`. It is `>=` in the contract's rules (docs/market-rules.md) because ETH can be forced into any contract
 *    without calling it (a SELFDESTRUCT beneficiary, a block reward); nothing forces ETH in here, so the sequences
 *    must produce exact equality, which is checked too;
 *  - every account, every job's fee and bounty and `burned()` match a model of the rules: an expired claim's slash
 *    goes into the job's bounty, the bounty goes with the fee to whoever delivers, or is burned on reclaim (a slash
 *    never reaches the requester); a private job's claim that was never delivered, or was declined within the
 *    delivery window, is never slashed;
 *  - optimistic results follow the payout table of docs/market-rules.md ("Optimistic results"): a post is final after
 *    its window unless challenged; a proof of the posted output pays the poster (and a bond challenger's bond to
 *    it); a proof of another output slashes the poster (claimBond - slash to the first challenger, the slash into the
 *    bounty); an unanswered challenge slashes the poster for the challenger and reopens the job, proven only;
 *  - each account's locked balance equals claimBond times the live-or-expired claims and posted results it holds,
 *    plus challengeBond times its open challenges;
 *  - no job is paid twice, or both paid and refunded; an invalid proof never pays.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { DEFAULT_MARKET, DEFAULT_SLASH, jobBinding, mockMarketFixture, mockProof } from "./fixtures";

type Cmd =
  | { k: "open"; who: number; fee: number; dur: number; priv: boolean; tok: number; opt: boolean }
  | { k: "post"; who: number; job: number; wrong: boolean; asClaimant: boolean; claimFirst: boolean }
  | { k: "challenge"; who: number; job: number; focus: boolean }
  | { k: "finalize"; who: number; job: number; focus: boolean }
  | { k: "expireChallenge"; job: number; focus: boolean }
  | { k: "deliver"; job: number }
  | { k: "release"; who: number; job: number }
  | { k: "deposit"; who: number; amt: number }
  | { k: "claim"; who: number; job: number }
  | { k: "submit"; who: number; job: number; valid: boolean }
  | { k: "reclaim"; who: number; job: number; asRequester: boolean }
  | { k: "expire"; job: number }
  | { k: "withdraw"; who: number }
  | { k: "withdrawToken"; who: number; tok: number }
  | { k: "wait"; s: number };

/** The shortest deadline that can still be claimed right after opening (lease + open window), plus a margin. */
const MIN_DUR = DEFAULT_MARKET.leaseDuration + DEFAULT_MARKET.openWindow + 60;

const actor = fc.integer({ min: 0, max: 4 });
const jobPick = fc.integer({ min: 0, max: 7 });
/** Optimistic steps mostly pick among the jobs they apply to (optimistic, or with a posted result), else any job. */
const focus = fc.constantFrom(true, true, true, false);
const open = fc.record({
  k: fc.constant("open" as const),
  who: actor,
  fee: fc.integer({ min: 1, max: 5 }),
  dur: fc.integer({ min: MIN_DUR, max: 4000 }),
  priv: fc.boolean(),
  // 0 ETH, 1 a standard ERC-20, 2 a token that returns no bool, 3 a fee-on-transfer token (always refused)
  tok: fc.constantFrom(0, 0, 1, 2, 3),
  // optimistic: the requester calls setOptimistic right after opening
  opt: fc.boolean(),
});
// Weighted towards claims, expiries and time jumps so that slashes, bounties and burns happen in most runs.
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: open },
  // mostly sent by the job's claimant (a random actor would hold the live claim only by chance)
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant("post" as const),
      who: actor,
      job: jobPick,
      wrong: fc.boolean(),
      asClaimant: fc.constantFrom(true, true, true, false),
      // claim in the step before posting (as the "claim" step would), so that sequences reach posts often
      claimFirst: fc.constantFrom(true, true, true, false),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("challenge" as const), who: actor, job: jobPick, focus }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("finalize" as const), who: actor, job: jobPick, focus }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("expireChallenge" as const), job: jobPick, focus }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("deliver" as const), job: jobPick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("release" as const), who: actor, job: jobPick }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("deposit" as const), who: actor, amt: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("claim" as const), who: actor, job: jobPick }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("submit" as const), who: actor, job: jobPick, valid: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("reclaim" as const), who: actor, job: jobPick, asRequester: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("expire" as const), job: jobPick }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("withdraw" as const), who: actor }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("withdrawToken" as const), who: actor, tok: fc.integer({ min: 1, max: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("wait" as const), s: fc.integer({ min: 1, max: 2500 }) }) },
);

/** Every sequence starts with a few opens, so that the steps after them (claims, posts, challenges...) find jobs. */
const sequence: fc.Arbitrary<Cmd[]> = fc
  .tuple(fc.array(open, { minLength: 2, maxLength: 4 }), fc.array(cmd, { minLength: 10, maxLength: 30, size: "max" }))
  .map(([opens, rest]) => [...opens, ...rest]);

const UNIT = ethers.parseEther("0.05");
const OUTPUT = 1n;
const BOND = DEFAULT_MARKET.claimBond;
const SLASH = DEFAULT_SLASH;
const DW = DEFAULT_MARKET.deliveryWindow;
const LEASE = DEFAULT_MARKET.leaseDuration;
const CBOND = DEFAULT_MARKET.challengeBond;
const CW = DEFAULT_MARKET.challengeWindow;
const PW = DEFAULT_MARKET.proofWindow;
const OW = DEFAULT_MARKET.openWindow;
const WRONG = 2n;

/** The model's view of one job. */
interface ModelJob {
  requester: string;
  /** The fee token (zero: ETH). */
  token: string;
  fee: bigint;
  bounty: bigint;
  settled: boolean;
  priv: boolean;
  claim?: { claimant: string; leaseEnd: number; deliveredAt: number };
  /** Private jobs: every address that claimed it (one claim per address). */
  claimedBy?: Set<string>;
  deadline: number;
  optimistic: boolean;
  /** A posted result (its poster is `claim.claimant`, its window end `claim.leaseEnd`). */
  posted?: { output: bigint; challenger?: string; proofDeadline?: number };
}

/** The mock market plus two fee tokens every actor holds and has approved (a standard ERC-20 and a no-return one)
 * and a fee-on-transfer token, likewise. */
async function fuzzFixture() {
  const m = await mockMarketFixture();
  const market = await m.jobs.getAddress();
  const std = await (await ethers.getContractFactory("MockERC20")).deploy("Mock USD", "mUSD");
  const noReturn = await (await ethers.getContractFactory("MockNoReturnToken")).deploy();
  const fot = await (await ethers.getContractFactory("MockFeeOnTransferToken")).deploy(100);
  for (const t of [std, noReturn, fot]) {
    for (const a of m.signers.slice(2, 7)) {
      await (await t.mint(a.address, ethers.parseEther("1000"))).wait();
      await (await t.connect(a).approve(market, ethers.MaxUint256)).wait();
    }
  }
  const tokens = [
    { address: await std.getAddress(), contract: std as unknown as { balanceOf(a: string): Promise<bigint> } },
    { address: await noReturn.getAddress(), contract: noReturn as unknown as { balanceOf(a: string): Promise<bigint> } },
  ];
  return { ...m, tokens, feeOnTransfer: await fot.getAddress() };
}

describe("InferenceJobs (randomized sequences)", function () {
  it("keeps balance >= open fees + bounties + accounts + burned (>=: ETH can be forced in by SELFDESTRUCT or as a block reward; equal here, nothing forces ETH in), per token balance >= open token fees + token accounts, and never pays a job twice", async function () {
    this.timeout(180_000);
    await fc.assert(
      fc.asyncProperty(sequence, async (cmds) => {
        const { jobs, modelId, modelCommitment, chainId, signers, tokens, feeOnTransfer } = await loadFixture(fuzzFixture);
        const actors = signers.slice(2, 7);
        const jobsAddr = await jobs.getAddress();
        const jobIds: bigint[] = [];
        const paid = new Map<bigint, number>();
        const refunded = new Set<bigint>();

        // ---- the model of the rules (docs/market-rules.md)
        const model = new Map<bigint, ModelJob>();
        const available = new Map<string, bigint>(actors.map((a) => [a.address, 0n]));
        const locked = new Map<string, bigint>(actors.map((a) => [a.address, 0n]));
        let burned = 0n;
        const add = (m: Map<string, bigint>, who: string, v: bigint) => m.set(who, m.get(who)! + v);
        /** Token accounts: token address -> account -> balance. */
        const tokenAvailable = new Map<string, Map<string, bigint>>(
          tokens.map((t) => [t.address, new Map<string, bigint>(actors.map((a) => [a.address, 0n]))]),
        );
        /** Credits `v` of the job's fee asset to `who`: its ETH account or its account in the job's token. */
        const creditFee = (job: ModelJob, who: string, v: bigint) =>
          job.token === ethers.ZeroAddress ? add(available, who, v) : add(tokenAvailable.get(job.token)!, who, v);
        /** Settles `job`'s expired claim: the slash joins the bounty, the rest goes back to the claimant. */
        const settleExpired = (job: ModelJob) => {
          const c = job.claim!;
          const slash = job.priv && c.deliveredAt === 0 ? 0n : SLASH;
          add(locked, c.claimant, -BOND);
          add(available, c.claimant, BOND - slash);
          job.bounty += slash;
          job.claim = undefined;
        };

        /** Releases a challenger's bond: back to it (`toPoster` false) or to the poster. */
        const releaseChallenge = (job: ModelJob, toPoster: boolean) => {
          const ch = job.posted!.challenger;
          if (!ch) return;
          add(locked, ch, -CBOND);
          add(available, toPoster ? job.claim!.claimant : ch, CBOND);
        };
        /** Slashes a poster: claimBond - slash to `rewarded`, the slash into the bounty; ends the post. */
        const slashPoster = (job: ModelJob, rewarded: string) => {
          add(locked, job.claim!.claimant, -BOND);
          add(available, rewarded, BOND - SLASH);
          job.bounty += SLASH;
          job.claim = undefined;
          job.posted = undefined;
        };
        /** Pays fee and bounty to `who` and settles the job. */
        const payOut = (job: ModelJob, who: string) => {
          creditFee(job, who, job.fee);
          add(available, who, job.bounty); // a bounty is ETH, also on a token job
          job.fee = 0n;
          job.bounty = 0n;
          job.settled = true;
        };
        /** The posted result is right (finalised, or proven): the poster is paid and its bond released. */
        const payPoster = (job: ModelJob) => {
          const poster = job.claim!.claimant;
          releaseChallenge(job, true);
          add(locked, poster, -BOND);
          add(available, poster, BOND);
          job.claim = undefined;
          job.posted = undefined;
          payOut(job, poster);
        };
        /** An unanswered challenge: the challenger's bond back, the poster slashed for it, the job reopened (proven only). */
        const expireChallenge = (job: ModelJob) => {
          const ch = job.posted!.challenger!;
          releaseChallenge(job, false);
          slashPoster(job, ch);
          job.optimistic = false;
        };

        // every actor starts with stake for two claims, so claims (and their slashes) happen from the first steps
        for (const a of actors) {
          await (await jobs.connect(a).deposit({ value: 2n * BOND })).wait();
          add(available, a.address, 2n * BOND);
        }

        const attempt = async (p: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt | null> => {
          try {
            return (await (await p).wait())!;
          } catch {
            return null; // a revert is a legal outcome; the invariants below decide whether state is still right
          }
        };
        const timestampOf = async (r: ContractTransactionReceipt) => (await ethers.provider.getBlock(r.blockNumber))!.timestamp;

        /** A claim by `signer` on job `id`, checked against the model (the "claim" step). */
        const claimStep = async (signer: (typeof actors)[number], id: bigint): Promise<ContractTransactionReceipt | null> => {
          const who = signer.address;
          const receipt = await attempt(jobs.connect(signer).claim(id));
          if (receipt) {
            const t = await timestampOf(receipt);
            const job = model.get(id)!;
            expect(job.settled, "claimed a settled job").to.equal(false);
            expect(job.posted, "claimed a job with a posted result").to.equal(undefined);
            if (job.claim) {
              expect(t, "claimed over a live claim").to.be.greaterThan(job.claim.leaseEnd);
              settleExpired(job);
            }
            if (job.priv) {
              expect(job.claimedBy?.has(who) ?? false, "claimed a private job twice from one address").to.equal(false);
              (job.claimedBy ??= new Set()).add(who);
            }
            add(available, who, -BOND);
            add(locked, who, BOND);
            job.claim = { claimant: who, leaseEnd: t + (job.priv ? DW : LEASE), deliveredAt: 0 };
          }
          return receipt;
        };

        for (const c of cmds) {
          const pick = (j: number) => (jobIds.length ? jobIds[j % jobIds.length] : 1n);
          /** `pick` among the jobs `pred` holds for (if `on` and there are any). */
          const pickWhere = (on: boolean, j: number, pred: (job: ModelJob) => boolean) => {
            const xs = on ? jobIds.filter((id) => pred(model.get(id)!)) : [];
            return xs.length ? xs[j % xs.length] : pick(j);
          };
          let receipt: ContractTransactionReceipt | null = null;
          switch (c.k) {
            case "open": {
              const who = actors[c.who];
              const fee = UNIT * BigInt(c.fee);
              // an optimistic job gets room for a dispute after a claim (docs/market-rules.md: the requester picks such deadlines)
              const deadline = (await time.latest()) + c.dur + (c.opt ? CW + PW + OW : 0);
              const token = c.tok === 0 ? ethers.ZeroAddress : c.tok === 3 ? feeOnTransfer : tokens[c.tok - 1].address;
              const next = await jobs.nextJobId();
              if (c.tok === 0) {
                receipt = await attempt(
                  c.priv
                    ? jobs.connect(who).openPrivateJob(modelId, 1n, 5n, deadline, false, { value: fee })
                    : jobs.connect(who).openJob(modelId, 1n, 5n, "ipfs://x", deadline, false, { value: fee }),
                );
              } else {
                receipt = await attempt(
                  c.priv
                    ? jobs.connect(who).openPrivateTokenJob(token, fee, modelId, 1n, 5n, deadline, false)
                    : jobs.connect(who).openTokenJob(token, fee, modelId, 1n, 5n, "ipfs://x", deadline, false),
                );
              }
              if (c.tok === 3) {
                // fee-on-transfer: refused, nothing opened, nothing held
                expect(receipt, "a fee-on-transfer fee was accepted").to.equal(null);
                expect(await jobs.nextJobId()).to.equal(next);
                break;
              }
              expect(receipt, "a valid open reverted").not.to.equal(null);
              const id = (await jobs.nextJobId()) - 1n;
              jobIds.push(id);
              model.set(id, {
                requester: who.address,
                token,
                fee,
                bounty: 0n,
                settled: false,
                priv: c.priv,
                deadline,
                optimistic: c.opt,
              });
              if (c.opt) expect(await attempt(jobs.connect(who).setOptimistic(id)), "setOptimistic reverted").not.to.equal(null);
              break;
            }
            case "post": {
              const id = pickWhere(c.asClaimant, c.job, (j) => j.optimistic && !j.settled && !j.posted);
              if (c.claimFirst) await claimStep(actors[c.who], id);
              const claimant = model.get(id)?.claim?.claimant;
              const signer = (c.asClaimant && actors.find((a) => a.address === claimant)) || actors[c.who];
              const who = signer.address;
              const output = c.wrong ? WRONG : OUTPUT;
              receipt = await attempt(jobs.connect(signer).postResult(id, output));
              if (receipt) {
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                expect(job.optimistic && !job.settled && !job.posted, "posted on a job not open to posts").to.equal(true);
                expect(job.claim?.claimant === who && t <= job.claim.leaseEnd, "posted without the live claim").to.equal(true);
                expect(t + CW + PW + OW, "posted too late").to.be.lessThanOrEqual(job.deadline);
                job.posted = { output };
                job.claim!.leaseEnd = t + CW; // the claim record is the post's: its leaseEnd the window's end
              }
              break;
            }
            case "challenge": {
              const id = pickWhere(c.focus, c.job, (j) => j.posted !== undefined);
              const who = actors[c.who].address;
              receipt = await attempt(jobs.connect(actors[c.who]).challengeResult(id));
              if (receipt) {
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                expect(job.posted && !job.posted.challenger, "challenged what is not an unchallenged post").to.not.equal(undefined);
                expect(job.posted!.challenger, "challenged twice").to.equal(undefined);
                expect(t, "challenged after the window").to.be.lessThanOrEqual(job.claim!.leaseEnd);
                add(available, who, -CBOND);
                add(locked, who, CBOND);
                job.posted!.challenger = who;
                job.posted!.proofDeadline = t + PW;
              }
              break;
            }
            case "finalize": {
              const id = pickWhere(c.focus, c.job, (j) => j.posted !== undefined);
              receipt = await attempt(jobs.connect(actors[c.who]).finalizeResult(id));
              if (receipt) {
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                expect(job.posted, "finalized without a post").to.not.equal(undefined);
                expect(job.posted!.challenger, "finalized a challenged post").to.equal(undefined);
                expect(t, "finalized in the window").to.be.greaterThan(job.claim!.leaseEnd);
                payPoster(job);
              }
              break;
            }
            case "expireChallenge": {
              const id = pickWhere(c.focus, c.job, (j) => j.posted?.challenger !== undefined);
              receipt = await attempt(jobs.expireChallenge(id));
              if (receipt) {
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                expect(job.posted?.challenger, "expired a challenge that does not exist").to.not.equal(undefined);
                expect(t, "expired a challenge in its proof window").to.be.greaterThan(job.posted!.proofDeadline!);
                expireChallenge(job);
              }
              break;
            }
            case "deliver": {
              const id = pick(c.job);
              const job = model.get(id);
              const who = actors.find((a) => a.address === job?.requester) ?? actors[0];
              const to = job?.claim?.claimant ?? actors[0].address;
              receipt = await attempt(jobs.connect(who).deliverInput(id, to, "0x0102"));
              if (receipt) {
                const t = await timestampOf(receipt);
                expect(job!.priv && !job!.settled && !job!.posted, "delivered to a public, settled or posted job").to.equal(true);
                const cl = job!.claim!;
                expect(t, "delivered to a lapsed claim").to.be.lessThanOrEqual(cl.leaseEnd);
                expect(cl.deliveredAt, "delivered twice").to.equal(0);
                cl.deliveredAt = t;
                cl.leaseEnd = t + LEASE; // a full lease from the delivery
              }
              break;
            }
            case "release": {
              const id = pick(c.job);
              const who = actors[c.who].address;
              receipt = await attempt(jobs.connect(actors[c.who]).releaseClaim(id));
              if (receipt) {
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                const cl = job.claim!;
                expect(
                  job.priv && cl.claimant === who && t <= cl.leaseEnd && !job.posted,
                  "released a claim it did not hold live",
                ).to.equal(true);
                expect(cl.deliveredAt === 0 || t <= cl.deliveredAt + DW, "released after the decline window").to.equal(true);
                add(locked, who, -BOND);
                add(available, who, BOND);
                job.claim = undefined;
              }
              break;
            }
            case "deposit": {
              const who = actors[c.who];
              const amt = BOND * BigInt(c.amt);
              receipt = await attempt(jobs.connect(who).deposit({ value: amt }));
              expect(receipt, "a valid deposit reverted").not.to.equal(null);
              add(available, who.address, amt);
              break;
            }
            case "claim": {
              receipt = await claimStep(actors[c.who], pick(c.job));
              break;
            }
            case "submit": {
              const id = pick(c.job);
              const who = actors[c.who];
              const binding = jobBinding(chainId, jobsAddr, id, c.valid ? who.address : actors[(c.who + 1) % 5].address);
              const proof = mockProof([OUTPUT, modelCommitment, 5n, binding]);
              receipt = await attempt(jobs.connect(who).submitResult(id, OUTPUT, proof));
              if (receipt) {
                expect(c.valid, "an invalid proof was accepted").to.equal(true);
                const t = await timestampOf(receipt);
                const job = model.get(id)!;
                expect(job.settled, "paid a settled job").to.equal(false);
                expect(t, "paid after the deadline").to.be.lessThanOrEqual(job.deadline);
                if (job.posted) {
                  const ch = job.posted.challenger;
                  if (!ch) expect(t, "a proof against a post after its window").to.be.lessThanOrEqual(job.claim!.leaseEnd);
                  if (ch && t > job.posted.proofDeadline!) {
                    expireChallenge(job); // unanswered: settled first, then an ordinary proof
                    payOut(job, who.address);
                  } else if (job.posted.output === OUTPUT) {
                    payPoster(job);
                  } else {
                    releaseChallenge(job, false);
                    slashPoster(job, ch ?? who.address);
                    payOut(job, who.address);
                  }
                  break;
                }
                if (job.claim && t <= job.claim.leaseEnd) {
                  expect(job.claim.claimant, "delivered over another's live claim").to.equal(who.address);
                  add(locked, who.address, -BOND);
                  add(available, who.address, BOND);
                  job.claim = undefined;
                } else if (job.claim) {
                  settleExpired(job);
                }
                creditFee(job, who.address, job.fee);
                add(available, who.address, job.bounty); // a bounty is ETH, also on a token job
                job.fee = 0n;
                job.bounty = 0n;
                job.settled = true;
              }
              break;
            }
            case "reclaim": {
              const id = pick(c.job);
              const requester = model.get(id)?.requester;
              const who = c.asRequester && requester ? actors.find((a) => a.address === requester)! : actors[c.who];
              receipt = await attempt(jobs.connect(who).reclaim(id));
              if (receipt) {
                const job = model.get(id)!;
                expect(job.settled, "reclaimed a settled job").to.equal(false);
                expect(job.posted, "reclaimed a job with a posted result").to.equal(undefined);
                expect(job.requester).to.equal(who.address);
                if (job.claim) settleExpired(job);
                creditFee(job, job.requester, job.fee);
                burned += job.bounty;
                job.fee = 0n;
                job.bounty = 0n;
                job.settled = true;
              }
              break;
            }
            case "expire": {
              const id = pick(c.job);
              receipt = await attempt(jobs.expireClaim(id));
              if (receipt) {
                const job = model.get(id)!;
                expect(job.claim, "expired a claim that does not exist").not.to.equal(undefined);
                expect(job.posted, "expired the claim record of a post").to.equal(undefined);
                expect(await timestampOf(receipt)).to.be.greaterThan(job.claim!.leaseEnd);
                settleExpired(job);
              }
              break;
            }
            case "withdraw": {
              const who = actors[c.who].address;
              receipt = await attempt(jobs.connect(actors[c.who]).withdraw());
              expect(receipt !== null, "withdraw succeeds iff something is available").to.equal(available.get(who)! > 0n);
              available.set(who, 0n);
              break;
            }
            case "withdrawToken": {
              const who = actors[c.who].address;
              const token = tokens[c.tok - 1].address;
              const owed = tokenAvailable.get(token)!.get(who)!;
              const before = await tokens[c.tok - 1].contract.balanceOf(who);
              receipt = await attempt(jobs.connect(actors[c.who]).withdrawToken(token));
              expect(receipt !== null, "withdrawToken succeeds iff something is available").to.equal(owed > 0n);
              expect((await tokens[c.tok - 1].contract.balanceOf(who)) - before, "withdrawToken paid another amount").to.equal(owed);
              tokenAvailable.get(token)!.set(who, 0n);
              break;
            }
            case "wait":
              await time.increase(c.s);
              break;
          }
          if (receipt) {
            for (const log of receipt.logs) {
              const ev = jobs.interface.parseLog(log);
              if (ev?.name === "JobFulfilled") paid.set(ev.args.jobId, (paid.get(ev.args.jobId) ?? 0) + 1);
              if (ev?.name === "JobReclaimed") refunded.add(ev.args.jobId);
              if (ev?.name === "ClaimExpired") {
                expect([0n, SLASH]).to.include(ev.args.slashed);
                expect(ev.args.returned).to.equal(BOND - ev.args.slashed);
              }
            }
          }

          // ---- invariants
          let openEscrow = 0n;
          const tokenEscrow = new Map<string, bigint>(tokens.map((t) => [t.address, 0n]));
          const claimsOf = new Map<string, bigint>();
          const challengesOf = new Map<string, bigint>();
          for (const id of jobIds) {
            const job = await jobs.getJob(id);
            const m = model.get(id)!;
            expect(job.escrow, `fee of job ${id}`).to.equal(m.fee);
            expect(job.bounty, `bounty of job ${id}`).to.equal(m.bounty);
            if (job.status === 1n || job.status === 2n || job.status === 5n) {
              expect(job.escrow).to.be.greaterThan(0n);
              expect(await jobs.feeTokenOf(id), `fee token of job ${id}`).to.equal(m.token);
              if (m.token === ethers.ZeroAddress) openEscrow += job.escrow;
              else tokenEscrow.set(m.token, tokenEscrow.get(m.token)! + job.escrow);
              openEscrow += job.bounty;
            } else {
              expect(job.escrow + job.bounty, "a settled job still holds ETH").to.equal(0n);
            }
            expect(job.status === 5n, `job ${id} Posted`).to.equal(m.posted !== undefined);
            if (!m.settled) {
              const st = await jobs.optimisticStateOf(id);
              expect(st.optimistic, `mode of job ${id}`).to.equal(m.optimistic);
              expect([st.output, st.challenger, st.proofDeadline], `post on job ${id}`).to.deep.equal([
                m.posted?.output ?? 0n,
                m.posted?.challenger ?? ethers.ZeroAddress,
                BigInt(m.posted?.proofDeadline ?? 0),
              ]);
              if (m.posted?.challenger) challengesOf.set(m.posted.challenger, (challengesOf.get(m.posted.challenger) ?? 0n) + 1n);
            }
            if (job.status === 2n || job.status === 5n) {
              const cl = await jobs.claimOf(id);
              expect(cl.claimant).to.equal(m.claim?.claimant);
              expect(cl.leaseEnd).to.equal(BigInt(m.claim!.leaseEnd));
              expect(cl.deliveredAt).to.equal(BigInt(m.claim!.deliveredAt));
              claimsOf.set(cl.claimant, (claimsOf.get(cl.claimant) ?? 0n) + 1n);
            } else {
              expect((await jobs.claimOf(id)).claimant).to.equal(ethers.ZeroAddress);
              expect(m.claim).to.equal(undefined);
            }
            expect(paid.get(id) ?? 0).to.be.lessThanOrEqual(1);
            expect(paid.has(id) && refunded.has(id), "paid and refunded").to.equal(false);
            if (paid.has(id)) expect(job.status).to.equal(3n);
            if (refunded.has(id)) expect(job.status).to.equal(4n);
          }
          let accounts = 0n;
          for (const a of actors) {
            const acc = await jobs.accountOf(a.address);
            expect(acc.available, `available of ${a.address}`).to.equal(available.get(a.address));
            expect(acc.locked, `locked of ${a.address}`).to.equal(locked.get(a.address));
            expect(acc.locked).to.equal(BOND * (claimsOf.get(a.address) ?? 0n) + CBOND * (challengesOf.get(a.address) ?? 0n));
            accounts += acc.available + acc.locked;
          }
          expect(await jobs.burned()).to.equal(burned);
          for (const t of tokens) {
            let owedInToken = tokenEscrow.get(t.address)!;
            for (const a of actors) {
              const bal = await jobs.tokenBalanceOf(a.address, t.address);
              expect(bal, `token account of ${a.address} in ${t.address}`).to.equal(tokenAvailable.get(t.address)!.get(a.address));
              owedInToken += bal;
            }
            const held = await t.contract.balanceOf(jobsAddr);
            expect(held >= owedInToken, `token ${t.address}: held ${held} < owed ${owedInToken}`).to.equal(true);
            expect(held, `token ${t.address}: nothing sends tokens in, so held == owed`).to.equal(owedInToken);
          }
          const owed = openEscrow + accounts + burned;
          const balance = await ethers.provider.getBalance(jobsAddr);
          // the contract's invariant
          expect(balance >= owed, `balance ${balance} < owed ${owed}`).to.equal(true);
          // and what these sequences must produce exactly: no ETH was forced in
          expect(balance).to.equal(owed);
        }
      }),
      { numRuns: 20 },
    );
  });
});
