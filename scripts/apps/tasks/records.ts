/**
 * Deployment records: `deployments/<network>.json`, one per network, written by `deploy` and `model:register` and
 * read by every later task so nobody pastes addresses. Job files (the requester's private input and salt, and the
 * prover's proofs) live under `deployments/jobs/<network>/` (git-ignored). `ZKML_DEPLOYMENTS_DIR` moves both (tests).
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, rel, writeFileAtomic } from "../../util/paths";
import { UserError } from "../../chain/errors";

export const RECORD_FORMAT = "zkml-deployment-v1";

/** One deployed contract. */
export interface DeployedContract {
  address: string;
  /** Creation transaction (absent when Ignition reused an earlier deployment it did not record here). */
  txHash?: string;
  block?: number;
  gasUsed?: string;
  constructorArgs?: (string | number)[];
  /** Libraries the contract is linked to, by name (`InferenceJobs`: `OptimisticResults`); verification needs them. */
  libraries?: Record<string, string>;
}

/** A model as deployed and registered on one network. */
export interface ModelRecord {
  /** Registry model id (decimal), once registered. */
  modelId?: string;
  owner?: string;
  registerTx?: string;
  proofSystem?: string;
  uri?: string;
  verifierContract: string;
  /**
   * The phase-2 ceremony folder whose final keys the verifier was built from (`deploy --ceremony`), relative to the
   * repository when inside it; absent for the dev keys. `job:prove` proves with these keys when their vkHash is the
   * registered one.
   */
  ceremonyDir?: string;
  verifier: DeployedContract;
  adapter: DeployedContract;
  /** Earlier registrations of this model on this network (model:register --new / --update), oldest first. */
  history?: RegistrationRecord[];
  /** The hashes the verifier was built from (the ERC-7992 commitment). */
  manifest: {
    r1csSha256: string;
    vkHash: string;
    modelCommitment: string;
    zkeySha256: string;
    /** The phase-1 file's hash; absent for dev keys computed directly (they use none). */
    ptauSha256?: string;
    /** true for dev keys (public secrets: anyone can forge proofs); false for a verified ceremony's. Absent in old records. */
    insecure?: boolean;
    constraints: number;
  };
}

/** One registration (a model id, or a new version of one) as it was. */
export interface RegistrationRecord {
  modelId: string;
  version?: number;
  owner?: string;
  registerTx?: string;
  vkHash: string;
  modelCommitment: string;
  adapter: string;
  at: string;
}

export interface DeploymentRecord {
  format: typeof RECORD_FORMAT;
  network: string;
  chainId: number;
  deployer: string;
  /** The block of the core deployment. */
  block: number;
  ignitionDeploymentId: string;
  compiler: { version: string; settings: unknown };
  market: {
    claimBond: string;
    leaseDuration: number;
    slashBps: number;
    callbackGasLimit: number;
    openWindow?: number;
    deliveryWindow?: number;
    /** Absent in records written before optimistic results (issue 34). */
    challengeBond?: string;
    challengeWindow?: number;
    proofWindow?: number;
  };
  /** `VerifierAdapterFactory` is absent only in records written before the registry took a factory. */
  /** `InferenceSubscriptions` is absent only in records written before subscriptions (issue 33). */
  /** `OptimisticResults` (the library `InferenceJobs` is linked to) is absent in records written before issue 34. */
  contracts: {
    VerifierAdapterFactory?: DeployedContract;
    ModelRegistry: DeployedContract;
    OptimisticResults?: DeployedContract;
    InferenceJobs: DeployedContract;
    InferenceSubscriptions?: DeployedContract;
  };
  models: Record<string, ModelRecord>;
  /** Earlier core deployments on this network that this record replaced (a chain reset, a redeploy), oldest first. */
  history?: { ModelRegistry: string; InferenceJobs: string; block: number; chainId: number; replacedAt: string }[];
  updatedAt: string;
}

/** Folder of the deployment records. */
export function deploymentsDir(): string {
  return process.env.ZKML_DEPLOYMENTS_DIR ? path.resolve(process.env.ZKML_DEPLOYMENTS_DIR) : path.join(ROOT, "deployments");
}

export function recordPath(network: string): string {
  return path.join(deploymentsDir(), `${network}.json`);
}

/** Folder for a network's job files (inputs, proofs). */
export function jobsDir(network: string): string {
  return path.join(deploymentsDir(), "jobs", network);
}

export function hasRecord(network: string): boolean {
  return fs.existsSync(recordPath(network));
}

/**
 * Reads the record of `network`.
 * @throws UserError when there is none (names the deploy command), or when it is for another chain.
 */
export function readRecord(network: string, chainId?: number): DeploymentRecord {
  const file = recordPath(network);
  if (!fs.existsSync(file)) {
    throw new UserError(
      `no deployment for network "${network}" (${rel(file)} not found): run \`npx hardhat deploy --models iris-mlp --network ${network}\` first`,
    );
  }
  let rec: DeploymentRecord;
  try {
    rec = JSON.parse(fs.readFileSync(file, "utf8")) as DeploymentRecord;
  } catch (e) {
    throw new UserError(`${rel(file)} is not valid JSON (${(e as Error).message}): fix it or delete it and deploy again`);
  }
  if (rec.format !== RECORD_FORMAT)
    throw new UserError(`${rel(file)} has format ${String(rec.format)}, expected ${RECORD_FORMAT}: deploy again`);
  if (chainId !== undefined && rec.chainId !== chainId) {
    throw new UserError(
      `${rel(file)} is for chain ${rec.chainId} but network "${network}" is chain ${chainId}: point the network at the right RPC URL, or deploy again with \`npx hardhat deploy --network ${network}\``,
    );
  }
  return rec;
}

export function writeRecord(rec: DeploymentRecord): string {
  const file = recordPath(rec.network);
  rec.updatedAt = new Date().toISOString();
  writeFileAtomic(file, JSON.stringify(rec, null, 2) + "\n");
  return file;
}

/**
 * The record of `model` on this network.
 * @throws UserError naming the command that creates it.
 */
export function modelRecord(rec: DeploymentRecord, model: string, needId = true): ModelRecord & { modelId: string } {
  const m = rec.models[model];
  if (!m) {
    const known = Object.keys(rec.models);
    throw new UserError(
      `model "${model}" has no verifier on network "${rec.network}"${known.length ? ` (deployed: ${known.join(", ")})` : ""}: run \`npx hardhat deploy --models ${model} --network ${rec.network}\``,
    );
  }
  if (needId && !m.modelId) {
    throw new UserError(
      `model "${model}" is not registered on network "${rec.network}": run \`npx hardhat model:register --model ${model} --network ${rec.network}\``,
    );
  }
  return m as ModelRecord & { modelId: string };
}

/** The model name whose record carries `modelId`, if any. */
export function modelNameById(rec: DeploymentRecord, modelId: bigint): string | undefined {
  const id = modelId.toString();
  return Object.entries(rec.models).find(([, m]) => m.modelId === id || (m.history ?? []).some((h) => h.modelId === id))?.[0];
}
