/**
 * Deploy fixtures for the contracts, shared by the contract tests and (for real proofs) the e2e tests / demo.
 * Each function deploys with the first signer unless told otherwise and returns typed contracts.
 */
import { ethers } from "hardhat";
import { AbiCoder, keccak256, parseEther, type Signer } from "ethers";
import type { Groth16VerifierAdapter, InferenceJobs, MockProofVerifier, ModelRegistry, ZKMLVerifier } from "../../typechain-types";
import type { IERCZKMLRegistry } from "../../typechain-types/ModelRegistry";
import { GROTH16_BN254_V1 } from "../../scripts/chain/binding";

export { jobBinding, standaloneBinding, GROTH16_BN254_V1, proofSystemId } from "../../scripts/chain/binding";

/** Market parameters used by the tests (and a sane default for a local demo). */
export interface MarketParams {
  claimBond: bigint;
  leaseDuration: number;
  slashBps: number;
  callbackGasLimit: number;
}

export const DEFAULT_MARKET: MarketParams = {
  claimBond: parseEther("0.1"),
  leaseDuration: 600,
  slashBps: 5_000,
  callbackGasLimit: 100_000,
};

/** Optional commitment fields; `modelHash` is the model-commitment public signal. */
export interface CommitmentInput {
  modelHash: bigint;
  circuitHash?: string;
  vkHash?: string;
  proofSystemId?: string;
  uri?: string;
}

/** An ERC-7992 `ModelCommitment` as ethers takes it. */
export function commitment(c: CommitmentInput): IERCZKMLRegistry.ModelCommitmentStruct {
  return {
    modelHash: ethers.toBeHex(c.modelHash, 32),
    circuitHash: c.circuitHash ?? ethers.id("circuit"),
    vkHash: c.vkHash ?? ethers.id("vk"),
    proofSystemId: c.proofSystemId ?? GROTH16_BN254_V1,
    uri: c.uri ?? "ipfs://model-manifest",
  };
}

/** Deploys a `ModelRegistry`. */
export async function deployRegistry(deployer?: Signer): Promise<ModelRegistry> {
  const f = await ethers.getContractFactory("ModelRegistry", deployer);
  const r = await f.deploy();
  await r.waitForDeployment();
  return r;
}

/** Deploys `InferenceJobs` on `registry` with `params` (default: DEFAULT_MARKET). */
export async function deployJobs(registry: string, params: MarketParams = DEFAULT_MARKET, deployer?: Signer): Promise<InferenceJobs> {
  const f = await ethers.getContractFactory("InferenceJobs", deployer);
  const j = await f.deploy(registry, params.claimBond, params.leaseDuration, params.slashBps, params.callbackGasLimit);
  await j.waitForDeployment();
  return j;
}

/** Deploys a `Groth16VerifierAdapter` around a snarkjs-generated verifier with `numPublicSignals` signals. */
export async function deployGroth16Adapter(
  snarkjsVerifier: string,
  numPublicSignals = 4,
  deployer?: Signer,
): Promise<Groth16VerifierAdapter> {
  const f = await ethers.getContractFactory("Groth16VerifierAdapter", deployer);
  const a = await f.deploy(snarkjsVerifier, numPublicSignals);
  await a.waitForDeployment();
  return a;
}

/** Deploys the standalone ERC-7992 `ZKMLVerifier` on `registry`. */
export async function deployZKMLVerifier(registry: string, deployer?: Signer): Promise<ZKMLVerifier> {
  const f = await ethers.getContractFactory("ZKMLVerifier", deployer);
  const v = await f.deploy(registry);
  await v.waitForDeployment();
  return v;
}

/**
 * Registers a model with its verifier adapter as `owner`; returns the new model id (read from the event).
 * @throws When the registration reverts or emits no `ModelRegistered`.
 */
export async function registerModel(
  registry: ModelRegistry,
  owner: Signer,
  c: CommitmentInput,
  verifier: string,
  numPublicSignals = 4,
): Promise<bigint> {
  const tx = await registry.connect(owner).registerModelWithVerifier(commitment(c), verifier, numPublicSignals);
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ModelRegistered") return parsed.args.modelId as bigint;
  }
  throw new Error("registerModel: no ModelRegistered event");
}

/**
 * Opens a job as `requester` and returns its id (read from the event).
 * @throws When openJob reverts or emits no `JobOpened`.
 */
export async function openJob(
  jobs: InferenceJobs,
  requester: Signer,
  args: { modelId: bigint; inputCommitment: bigint; fee: bigint; deadline: bigint | number; inputURI?: string; callback?: boolean },
): Promise<bigint> {
  const tx = await jobs
    .connect(requester)
    .openJob(args.modelId, args.inputCommitment, args.inputURI ?? "ipfs://input", args.deadline, args.callback ?? false, {
      value: args.fee,
    });
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = jobs.interface.parseLog(log);
    if (parsed?.name === "JobOpened") return parsed.args.jobId as bigint;
  }
  throw new Error("openJob: no JobOpened event");
}

/**
 * The whole market around one real snarkjs Groth16 verifier (4 public signals): adapter, registry with the model
 * registered (`modelHash = modelCommitment`), jobs contract, standalone ERC-7992 verifier.
 * Drive it with: `openJob(...)`, then prove with `jobBinding(chainId, await jobs.getAddress(), jobId, prover)`,
 * then `jobs.connect(prover).submitResult(jobId, output, proofBytes)`.
 */
export async function deployMarketForVerifier(snarkjsVerifier: string, modelCommitment: bigint, params: MarketParams = DEFAULT_MARKET) {
  const [deployer, modelOwner] = await ethers.getSigners();
  const adapter = await deployGroth16Adapter(snarkjsVerifier, 4, deployer);
  const registry = await deployRegistry(deployer);
  const modelId = await registerModel(registry, modelOwner, { modelHash: modelCommitment }, await adapter.getAddress());
  const jobs = await deployJobs(await registry.getAddress(), params, deployer);
  const zkmlVerifier = await deployZKMLVerifier(await registry.getAddress(), deployer);
  const { chainId } = await ethers.provider.getNetwork();
  return { adapter, registry, jobs, zkmlVerifier, modelId, modelOwner, chainId };
}

/** The proof `MockProofVerifier` accepts for `signals`: `abi.encode(keccak256(abi.encode(signals)))`. */
export function mockProof(signals: readonly bigint[]): string {
  const coder = AbiCoder.defaultAbiCoder();
  return coder.encode(["bytes32"], [keccak256(coder.encode(["uint256[]"], [signals]))]);
}

/** Logic-test market: a `MockProofVerifier` (4 signals) behind the registry, one model, the jobs contract. */
export async function mockMarketFixture() {
  const signers = await ethers.getSigners();
  const [deployer, modelOwner, requester, prover, prover2, stranger] = signers;
  const mock: MockProofVerifier = await (await ethers.getContractFactory("MockProofVerifier")).deploy(GROTH16_BN254_V1, 4);
  const registry = await deployRegistry(deployer);
  const modelHash = 123456789n;
  const modelId = await registerModel(registry, modelOwner, { modelHash }, await mock.getAddress());
  const jobs = await deployJobs(await registry.getAddress(), DEFAULT_MARKET, deployer);
  const { chainId } = await ethers.provider.getNetwork();
  return { signers, deployer, modelOwner, requester, prover, prover2, stranger, mock, registry, jobs, modelId, modelHash, chainId };
}
