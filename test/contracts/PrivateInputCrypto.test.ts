/**
 * The private-delivery encryption (scripts/chain/private-input.ts): only the claimant's key opens a ciphertext, and
 * only for the job, claimant, market and chain it was made for; the requester recovers the claimant's key from its
 * claim transaction on a real (in-process) chain and refuses a claim sent by a contract.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Wallet, getBytes } from "ethers";
import {
  DeliveryError,
  claimantPublicKey,
  decryptDelivery,
  deliverToClaim,
  encryptDelivery,
  openingJson,
  openingJsonLength,
} from "../../scripts/chain/private-input";
import { SNARK_FIELD } from "../../scripts/util/field";
import { mockMarketFixture } from "./fixtures";
import { rejectionMessage } from "../helpers/errors";

const opening = { x: [-462n, 404n, -653n, -681n], salt: 123456789n };

describe("Private delivery encryption", function () {
  const claimant = Wallet.createRandom();
  const ctx = { chainId: 31337n, jobs: "0x5FbDB2315678afecb367f032d93F642f64180aa3", jobId: 7n, claimant: claimant.address };

  it("round-trips to the claimant, with a fresh ephemeral key and IV every time", function () {
    const a = encryptDelivery(openingJson(opening), claimant.signingKey.publicKey, ctx);
    const b = encryptDelivery(openingJson(opening), claimant.signingKey.publicKey, ctx);
    expect(a).to.not.equal(b);
    expect(getBytes(a)[0]).to.equal(1);
    expect(getBytes(a).length).to.equal(1 + 33 + 12 + openingJson(opening).length + 16);
    expect(JSON.parse(decryptDelivery(a, claimant.signingKey, ctx))).to.deep.equal({
      x: ["-462", "404", "-653", "-681"],
      salt: "123456789",
    });
  });

  it("pads the opening: the ciphertext's length depends on the number of values only, never on their digits (issue 27 finding 9)", function () {
    const short = { x: [0n, 1n, -2n, 3n], salt: 1n };
    const long = { x: [-9223372036854775808n, 9223372036854775807n, -9223372036854775808n, -1n], salt: SNARK_FIELD - 1n };
    const lengths = [opening, short, long].map((o) => getBytes(encryptDelivery(openingJson(o), claimant.signingKey.publicKey, ctx)).length);
    expect(new Set(lengths).size).to.equal(1);
    expect(lengths[0]).to.equal(1 + 33 + 12 + openingJsonLength(4) + 16);
    expect(openingJson(long).length).to.equal(openingJsonLength(4)); // the longest opening needs no padding
    for (const o of [short, long])
      expect(
        JSON.parse(decryptDelivery(encryptDelivery(openingJson(o), claimant.signingKey.publicKey, ctx), claimant.signingKey, ctx)),
      ).to.deep.equal({
        x: o.x.map(String),
        salt: o.salt.toString(),
      });
  });

  it("does not open with another key, for another job, claimant, market or chain, or when a byte is changed", function () {
    const ct = encryptDelivery(openingJson(opening), claimant.signingKey.publicKey, ctx);
    const other = Wallet.createRandom();
    expect(() => decryptDelivery(ct, other.signingKey, ctx)).to.throw(DeliveryError, /does not decrypt/);
    for (const c of [
      { ...ctx, jobId: 8n },
      { ...ctx, claimant: other.address },
      { ...ctx, jobs: other.address },
      { ...ctx, chainId: 1n },
    ])
      expect(() => decryptDelivery(ct, claimant.signingKey, c)).to.throw(DeliveryError, /does not decrypt/);
    const bytes = getBytes(ct);
    for (const i of [40, 50, bytes.length - 1]) {
      const t = Uint8Array.from(bytes);
      t[i] ^= 1;
      expect(() => decryptDelivery(t, claimant.signingKey, ctx), `byte ${i}`).to.throw(DeliveryError);
    }
    const v2 = Uint8Array.from(bytes);
    v2[0] = 2;
    expect(() => decryptDelivery(v2, claimant.signingKey, ctx)).to.throw(DeliveryError, /version 2 is not 1/);
    expect(() => decryptDelivery("0x01", claimant.signingKey, ctx)).to.throw(DeliveryError, /shorter than/);
    const badPoint = Uint8Array.from(bytes);
    badPoint.set(new Uint8Array(33).fill(0xff), 1);
    expect(() => decryptDelivery(badPoint, claimant.signingKey, ctx)).to.throw(DeliveryError, /not a secp256k1 point/);
  });

  it("recovers the claimant's key from its claim transaction, delivers to it, and refuses a contract claimant", async function () {
    const m = await loadFixture(mockMarketFixture);
    const deadline = (await ethers.provider.getBlock("latest"))!.timestamp + 3600;
    const jobs = m.jobs.connect(m.requester);
    const open = async () => {
      const id = await jobs.openPrivateJob.staticCall(m.modelId, 1n, 42n, deadline, false, { value: 1n });
      await jobs.openPrivateJob(m.modelId, 1n, 42n, deadline, false, { value: 1n });
      return id;
    };
    const jobId = await open();
    expect(await deliverToClaim(jobs, jobId, opening)).to.deep.equal({ kind: "waiting", reason: "no live claim" });
    await m.jobs.connect(m.prover).deposit({ value: ethers.parseEther("1") });
    await m.jobs.connect(m.prover).claim(jobId);
    const pub = await claimantPublicKey(ethers.provider, m.jobs, jobId, m.prover.address);
    expect(ethers.computeAddress(pub)).to.equal(m.prover.address);

    const r = await deliverToClaim(jobs, jobId, opening);
    expect(r.kind).to.equal("delivered");
    const ev = (await m.jobs.queryFilter(m.jobs.filters.InputDelivered(jobId)))[0];
    expect(ev.args.claimant).to.equal(m.prover.address);
    // the prover's side: its own key opens it (hardhat's account 3 key, from the public test mnemonic)
    const proverKey = ethers.HDNodeWallet.fromPhrase(
      "test test test test test test test test test test test junk",
      undefined,
      "m/44'/60'/0'/0/3",
    );
    expect(proverKey.address).to.equal(m.prover.address);
    const { chainId } = await ethers.provider.getNetwork();
    const text = decryptDelivery(ev.args.ciphertext, proverKey.signingKey, {
      chainId,
      jobs: await m.jobs.getAddress(),
      jobId,
      claimant: m.prover.address,
    });
    expect(text).to.equal(openingJson(opening));
    expect(await deliverToClaim(jobs, jobId, opening)).to.deep.equal({ kind: "waiting", reason: `delivered to ${m.prover.address}` });

    // a claim made through a contract: no key to encrypt to, so the requester refuses (the claim ends unslashed)
    const job2 = await open();
    const caller = await (await ethers.getContractFactory("MockCaller")).deploy();
    const iface = m.jobs.interface;
    await caller.forward(await m.jobs.getAddress(), iface.encodeFunctionData("deposit"), { value: ethers.parseEther("1") });
    await caller.forward(await m.jobs.getAddress(), iface.encodeFunctionData("claim", [job2]));
    const refused = await deliverToClaim(jobs, job2, opening);
    expect(refused.kind).to.equal("refused");
    expect(refused.kind === "refused" && refused.reason).to.match(/was sent by .* \(a contract or relayed claim\)/);
    // and a claimant the requester's own policy refuses
    const job3 = await open();
    await m.jobs.connect(m.prover).claim(job3);
    expect(
      await deliverToClaim(jobs, job3, opening, (c) => (c === m.prover.address ? "declined a valid delivery before" : undefined)),
    ).to.deep.equal({
      kind: "refused",
      claimant: m.prover.address,
      reason: "declined a valid delivery before",
    });
    expect(await rejectionMessage(deliverToClaim(jobs, 999n, opening))).to.match(/JobNotFound|reverted/);
    const pubJob = await jobs.openJob.staticCall(m.modelId, 1n, 42n, "", deadline, false, { value: 1n });
    await jobs.openJob(m.modelId, 1n, 42n, "", deadline, false, { value: 1n });
    expect(await rejectionMessage(deliverToClaim(jobs, pubJob, opening))).to.match(/not opened for private delivery/);
  });
});
