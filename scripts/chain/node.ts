/**
 * The Node-side part of the SDK (`zkml-evm/node`): what needs Node's file system or crypto. Reading `file://`
 * bundles (`readLocalFile`, the client's `readFile`), and delivering a private job's opening to its claimant,
 * encrypted to the claimant's key (docs/market-rules.md, "Private delivery"), for a job the client opened or for a
 * subscription run, through the owner's contract (docs/market-rules.md, "Subscriptions", rule 8).
 */
import { readFile } from "fs/promises";
import { type DeliveryOutcome, type DeliverySender, type Opening, deliverToClaim } from "./private-input";
import { type InferenceClient, InferenceClientError, type OpenedJob } from "./client";
import { type SubscriptionClient, SubscriptionClientError } from "./subscriptions-client";

/** Reads a local file's bytes (pass as `readFile` to `InferenceClient.connect` for `file://` bundles). */
export async function readLocalFile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}

/**
 * One delivery step for a private job the client opened: if a prover holds a live claim that was not delivered yet,
 * encrypts the opening (input and salt) to the claimant and sends `deliverInput`. Call it when `watchJob` reports
 * `claimed`.
 * @returns What happened: delivered, or why not (no live claim yet, already delivered, job done).
 */
export async function deliverInput(client: InferenceClient, job: Pick<OpenedJob, "jobId" | "x" | "salt">): Promise<DeliveryOutcome> {
  if (job.salt === undefined) throw new InferenceClientError("deliverInput: the job has no salt (is it a private, committed-input job?)");
  return deliverToClaim(client.jobs.connect(client.signer()), job.jobId, { x: job.x, salt: job.salt });
}

/**
 * One delivery step for a private subscription run (a committed-input subscription whose run was opened without a
 * URI): if the run's job has a live claim that was not delivered yet, encrypts the opening to the claimant and calls
 * `send(claimant, ciphertext)`, which must make the owner's contract call `InferenceSubscriptions.deliverRunInput`
 * (e.g. an operator-only function calling `SubscriptionConsumer._deliverRunInput`): only the run's owner may deliver.
 * Call it for each of `SubscriptionClient.claimsToDeliver(id)`.
 * @returns What happened: delivered, or why not (no live claim yet, already delivered, job done).
 * @throws SubscriptionClientError when the job is not an awaited run of this subscriptions contract.
 */
export async function deliverRunInput(
  client: SubscriptionClient,
  jobId: bigint,
  opening: Opening,
  send: DeliverySender,
  refuse?: (claimant: string) => string | undefined,
): Promise<DeliveryOutcome> {
  if (!(await client.runOf(jobId)))
    throw new SubscriptionClientError(`job ${jobId} is not a run awaiting its result at ${await client.contract.getAddress()}`);
  return deliverToClaim(await client.market(), jobId, opening, refuse, send);
}

export type { DeliveryOutcome, DeliverySender, Opening };
