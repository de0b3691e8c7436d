/**
 * Randomized sequences of open / deposit / claim / submit / reclaim / expireClaim / withdraw / time jumps
 * (fast-check), checking after every step:
 *  - the ETH held equals the escrow of unsettled jobs plus every account's available + locked balance;
 *  - each account's locked balance equals claimBond times the live-or-expired claims it holds;
 *  - no job is paid twice, or both paid and refunded; an invalid proof never pays.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import type { ContractTransactionResponse } from "ethers";
import { DEFAULT_MARKET, jobBinding, mockMarketFixture, mockProof } from "./fixtures";

type Cmd =
  | { k: "open"; who: number; fee: number; dur: number }
  | { k: "deposit"; who: number; amt: number }
  | { k: "claim"; who: number; job: number }
  | { k: "submit"; who: number; job: number; valid: boolean }
  | { k: "reclaim"; who: number; job: number }
  | { k: "expire"; job: number }
  | { k: "withdraw"; who: number }
  | { k: "wait"; s: number };

const actor = fc.integer({ min: 0, max: 4 });
const jobPick = fc.integer({ min: 0, max: 7 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record({ k: fc.constant("open" as const), who: actor, fee: fc.integer({ min: 1, max: 5 }), dur: fc.integer({ min: 60, max: 3000 }) }),
  fc.record({ k: fc.constant("deposit" as const), who: actor, amt: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant("claim" as const), who: actor, job: jobPick }),
  fc.record({ k: fc.constant("submit" as const), who: actor, job: jobPick, valid: fc.boolean() }),
  fc.record({ k: fc.constant("reclaim" as const), who: actor, job: jobPick }),
  fc.record({ k: fc.constant("expire" as const), job: jobPick }),
  fc.record({ k: fc.constant("withdraw" as const), who: actor }),
  fc.record({ k: fc.constant("wait" as const), s: fc.integer({ min: 1, max: 1500 }) }),
);

const UNIT = ethers.parseEther("0.05");
const OUTPUT = 1n;

describe("InferenceJobs (randomized sequences)", function () {
  it("keeps the ETH accounting exact and never pays a job twice", async function () {
    this.timeout(120_000);
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 22 }), async (cmds) => {
        const { jobs, modelId, modelHash, chainId, signers } = await loadFixture(mockMarketFixture);
        const actors = signers.slice(2, 7);
        const jobsAddr = await jobs.getAddress();
        const jobIds: bigint[] = [];
        const paid = new Map<bigint, number>();
        const refunded = new Set<bigint>();
        const bond = DEFAULT_MARKET.claimBond;

        const attempt = async (p: Promise<ContractTransactionResponse>) => {
          try {
            const receipt = await (await p).wait();
            return receipt!;
          } catch {
            return null; // a revert is a legal outcome; the invariants below decide whether state is still right
          }
        };

        for (const c of cmds) {
          const pick = (j: number) => (jobIds.length ? jobIds[j % jobIds.length] : 1n);
          let receipt = null;
          switch (c.k) {
            case "open": {
              const deadline = (await time.latest()) + c.dur;
              receipt = await attempt(
                jobs.connect(actors[c.who]).openJob(modelId, 5n, "ipfs://x", deadline, false, { value: UNIT * BigInt(c.fee) }),
              );
              if (receipt) jobIds.push((await jobs.nextJobId()) - 1n);
              break;
            }
            case "deposit":
              receipt = await attempt(jobs.connect(actors[c.who]).deposit({ value: bond * BigInt(c.amt) }));
              break;
            case "claim":
              receipt = await attempt(jobs.connect(actors[c.who]).claim(pick(c.job)));
              break;
            case "submit": {
              const id = pick(c.job);
              const who = actors[c.who];
              const binding = jobBinding(chainId, jobsAddr, id, c.valid ? who.address : actors[(c.who + 1) % 5].address);
              const proof = mockProof([OUTPUT, modelHash, 5n, binding]);
              receipt = await attempt(jobs.connect(who).submitResult(id, OUTPUT, proof));
              if (receipt) expect(c.valid, "an invalid proof was accepted").to.equal(true);
              break;
            }
            case "reclaim":
              receipt = await attempt(jobs.connect(actors[c.who]).reclaim(pick(c.job)));
              break;
            case "expire":
              receipt = await attempt(jobs.expireClaim(pick(c.job)));
              break;
            case "withdraw":
              receipt = await attempt(jobs.connect(actors[c.who]).withdraw());
              break;
            case "wait":
              await time.increase(c.s);
              break;
          }
          if (receipt) {
            for (const log of receipt.logs) {
              const ev = jobs.interface.parseLog(log);
              if (ev?.name === "JobFulfilled") paid.set(ev.args.jobId, (paid.get(ev.args.jobId) ?? 0) + 1);
              if (ev?.name === "JobReclaimed") refunded.add(ev.args.jobId);
            }
          }

          // ---- invariants
          let escrow = 0n;
          const claimsOf = new Map<string, bigint>();
          for (const id of jobIds) {
            const job = await jobs.getJob(id);
            escrow += job.escrow;
            if (job.status === 1n || job.status === 2n) expect(job.escrow).to.be.greaterThan(0n);
            if (job.status === 2n) {
              const cl = await jobs.claimOf(id);
              claimsOf.set(cl.claimant, (claimsOf.get(cl.claimant) ?? 0n) + 1n);
            } else {
              expect((await jobs.claimOf(id)).claimant).to.equal(ethers.ZeroAddress);
            }
            expect(paid.get(id) ?? 0).to.be.lessThanOrEqual(1);
            expect(paid.has(id) && refunded.has(id), "paid and refunded").to.equal(false);
            if (paid.has(id)) expect(job.status).to.equal(3n);
            if (refunded.has(id)) expect(job.status).to.equal(4n);
          }
          let accounts = 0n;
          for (const a of actors) {
            const acc = await jobs.accountOf(a.address);
            accounts += acc.available + acc.locked;
            expect(acc.locked).to.equal(bond * (claimsOf.get(a.address) ?? 0n));
          }
          expect(await ethers.provider.getBalance(jobsAddr)).to.equal(escrow + accounts);
        }
      }),
      { numRuns: 25 },
    );
  });
});
