/**
 * The Node-side part of the SDK (`zkml-evm/node`): what needs Node's file system or crypto. Reading `file://`
 * bundles (`readLocalFile`, the client's `readFile`), and delivering a private job's opening to its claimant,
 * encrypted to the claimant's key (docs/market-rules.md, "Private delivery").
 */
import { readFile } from "fs/promises";
import { type DeliveryOutcome, deliverToClaim } from "./private-input";
import { type InferenceClient, InferenceClientError, type OpenedJob } from "./client";

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

export type { DeliveryOutcome };
