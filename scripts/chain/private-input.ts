/**
 * Private delivery of a committed input (docs/public-signals.md, "Delivering a committed input"; rules:
 * docs/market-rules.md, "Private delivery"). The requester encrypts the opening `{x, salt}` to the prover that claimed
 * the job and publishes it with `deliverInput`; only that claimant can read it.
 *
 *   S   = x-coordinate of ECDH(ephemeral secp256k1 key, claimant's public key)
 *   ctx = "zkml-private-input-v1" || keccak256(abi.encode(chainId, jobs, jobId, claimant))
 *   key = HKDF-SHA256(S, salt = "", info = ctx, 32)
 *   ciphertext = 0x01 || compressed ephemeral public key (33) || iv (12) || AES-256-GCM(key, iv, aad = ctx) || tag (16)
 *
 * The claimant's public key is recovered from the signature of its `claim` transaction, so it must be the
 * transaction's sender (an externally owned account).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "crypto";
import {
  AbiCoder,
  type BytesLike,
  type Provider,
  SigningKey,
  type TransactionResponse,
  Transaction,
  concat,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  toUtf8Bytes,
} from "ethers";
import type { InferenceJobs } from "../../typechain-types";

const LABEL = "zkml-private-input-v1";
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PUB_BYTES = 33;
const HEADER_BYTES = 1 + PUB_BYTES + IV_BYTES;
const ZERO = "0x0000000000000000000000000000000000000000";

/** Which delivery an encryption is for: one chain, one market, one job, one claimant. */
export interface DeliveryContext {
  chainId: bigint;
  jobs: string;
  jobId: bigint;
  claimant: string;
}

/** An opening: the quantized input and the salt of its commitment. */
export interface Opening {
  x: readonly bigint[];
  salt: bigint;
}

/** A delivery that cannot be made or read; the message says why. */
export class DeliveryError extends Error {}

function contextBytes(c: DeliveryContext): Uint8Array {
  const h = keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "uint256", "address"],
      [c.chainId, getAddress(c.jobs), c.jobId, getAddress(c.claimant)],
    ),
  );
  return getBytes(concat([toUtf8Bytes(LABEL), h]));
}

function deriveKey(privateKey: SigningKey, publicKey: string, ctx: Uint8Array): Buffer {
  const shared = getBytes(privateKey.computeSharedSecret(publicKey)); // 0x04 || x || y
  return Buffer.from(hkdfSync("sha256", shared.slice(1, 33), new Uint8Array(0), ctx, 32));
}

/**
 * The longest {@link openingJson} of `n` values: `{"x":[` + n quoted values of at most 20 characters (a 64-bit signed
 * integer) with commas + `],"salt":"` + a salt of at most 77 digits (below the field) + `"}`.
 */
export function openingJsonLength(n: number): number {
  return 6 + 23 * n - 1 + 10 + 77 + 2;
}

/**
 * The opening as the job input format's minimal JSON (what a prover parses), padded with spaces (JSON whitespace) to
 * {@link openingJsonLength}: the ciphertext's length depends only on the number of values, never on their digits.
 */
export function openingJson(o: Opening): string {
  const json = JSON.stringify({ x: o.x.map(String), salt: o.salt.toString() });
  return json.padEnd(openingJsonLength(o.x.length), " ");
}

/**
 * Encrypts `plaintext` (normally {@link openingJson}) to `claimantPublicKey` for the delivery `ctx`.
 * @returns The ciphertext, 0x-hex.
 */
export function encryptDelivery(plaintext: string, claimantPublicKey: string, ctx: DeliveryContext): string {
  const eph = new SigningKey(hexlify(randomBytes(32)));
  const c = contextBytes(ctx);
  const key = deriveKey(eph, claimantPublicKey, c);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(c);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return hexlify(concat([new Uint8Array([VERSION]), SigningKey.computePublicKey(eph.publicKey, true), iv, body, cipher.getAuthTag()]));
}

/**
 * Decrypts a delivery with the claimant's key.
 * @throws DeliveryError when it is malformed, of another version, or does not authenticate (not for this key, job,
 * claimant, market or chain, or tampered with).
 */
export function decryptDelivery(ciphertext: BytesLike, claimantKey: SigningKey, ctx: DeliveryContext): string {
  const b = getBytes(ciphertext);
  if (b.length < HEADER_BYTES + TAG_BYTES)
    throw new DeliveryError(`ciphertext is ${b.length} bytes, shorter than the ${HEADER_BYTES + TAG_BYTES}-byte envelope`);
  if (b[0] !== VERSION) throw new DeliveryError(`ciphertext version ${b[0]} is not ${VERSION}`);
  let ephPub: string;
  try {
    ephPub = SigningKey.computePublicKey(b.slice(1, 1 + PUB_BYTES));
  } catch {
    throw new DeliveryError("ciphertext's ephemeral public key is not a secp256k1 point");
  }
  const c = contextBytes(ctx);
  const key = deriveKey(claimantKey, ephPub, c);
  const decipher = createDecipheriv("aes-256-gcm", key, b.slice(1 + PUB_BYTES, HEADER_BYTES));
  decipher.setAAD(c);
  decipher.setAuthTag(b.slice(b.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(b.slice(HEADER_BYTES, b.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new DeliveryError(
      "ciphertext does not decrypt with this claimant's key for this job (wrong key, job, market or chain, or tampered)",
    );
  }
}

/**
 * The public key of the live claim's claimant, recovered from its `claim` transaction.
 * @throws DeliveryError when the job has no claim event for that claimant, or the claim was sent by another address
 * (a contract or a relayer): nobody's key is known, so no delivery is possible.
 */
export async function claimantPublicKey(provider: Provider, jobs: InferenceJobs, jobId: bigint, claimant: string): Promise<string> {
  const events = await jobs.queryFilter(jobs.filters.JobClaimed(jobId, claimant));
  const last = events.at(-1);
  if (!last) throw new DeliveryError(`job ${jobId}: no JobClaimed event by ${claimant}`);
  const tx = await provider.getTransaction(last.transactionHash);
  if (!tx) throw new DeliveryError(`job ${jobId}: claim transaction ${last.transactionHash} not found`);
  if (getAddress(tx.from) !== getAddress(claimant))
    throw new DeliveryError(
      `job ${jobId}: the claim by ${claimant} was sent by ${tx.from} (a contract or relayed claim): private delivery needs the claimant to sign its own claim`,
    );
  const pub = Transaction.from(tx).fromPublicKey;
  if (!pub) throw new DeliveryError(`job ${jobId}: claim transaction ${tx.hash} carries no signature`);
  return pub;
}

/** What {@link deliverToClaim} did. */
export type DeliveryOutcome =
  | { kind: "delivered"; claimant: string; txHash: string; leaseEnd: bigint; gasUsed: bigint }
  | { kind: "waiting"; reason: string }
  | { kind: "done"; reason: string }
  | { kind: "refused"; claimant: string; reason: string };

/** Sends a delivery: the requester's `deliverInput(jobId, claimant, ciphertext)`, directly or through a contract. */
export type DeliverySender = (claimant: string, ciphertext: string) => Promise<TransactionResponse>;

/**
 * One step of a requester's delivery agent: if `jobId` has a live claim that was not delivered yet, encrypts the
 * opening to the claimant and sends `deliverInput`. `refuse(claimant)` lets the caller skip a claimant (e.g. one
 * that declined a valid delivery before); a refused claim ends unslashed after the delivery window. `send` sends the
 * delivery another way than the market's `deliverInput` from the jobs contract's signer (a subscription run's owner
 * delivers through its consumer contract and `InferenceSubscriptions.deliverRunInput`); then `jobs` only reads.
 */
export async function deliverToClaim(
  jobs: InferenceJobs,
  jobId: bigint,
  opening: Opening,
  refuse: (claimant: string) => string | undefined = () => undefined,
  send?: DeliverySender,
): Promise<DeliveryOutcome> {
  const runner = jobs.runner;
  const provider = runner?.provider;
  if (!runner || !provider || (!send && !("sendTransaction" in runner)))
    throw new Error("deliverToClaim: the jobs contract must be connected to the requester's signer");
  const job = await jobs.getJob(jobId);
  const status = Number(job.status);
  if (status === 3 || status === 4) return { kind: "done", reason: status === 3 ? "fulfilled" : "reclaimed" };
  if (!job.privateInput) throw new DeliveryError(`job ${jobId} was not opened for private delivery (openPrivateJob)`);
  const c = await jobs.claimOf(jobId);
  const block = await provider.getBlock("latest");
  const now = BigInt(block?.timestamp ?? 0);
  if (now > job.deadline) return { kind: "done", reason: "deadline passed" };
  if (c.claimant === ZERO || now > c.leaseEnd) return { kind: "waiting", reason: "no live claim" };
  if (c.deliveredAt !== 0n) return { kind: "waiting", reason: `delivered to ${c.claimant}` };
  const why = refuse(c.claimant);
  if (why) return { kind: "refused", claimant: c.claimant, reason: why };
  let pub: string;
  try {
    pub = await claimantPublicKey(provider, jobs, jobId, c.claimant);
  } catch (e) {
    if (e instanceof DeliveryError) return { kind: "refused", claimant: c.claimant, reason: e.message };
    throw e;
  }
  const { chainId } = await provider.getNetwork();
  const ct = encryptDelivery(openingJson(opening), pub, { chainId, jobs: await jobs.getAddress(), jobId, claimant: c.claimant });
  const tx = send ? await send(c.claimant, ct) : await jobs.deliverInput(jobId, c.claimant, ct);
  const r = await tx.wait();
  if (!r || r.status !== 1) throw new Error(`deliverInput for job ${jobId} failed (tx ${tx.hash})`);
  return { kind: "delivered", claimant: c.claimant, txHash: r.hash, leaseEnd: (await jobs.claimOf(jobId)).leaseEnd, gasUsed: r.gasUsed };
}
