/**
 * Deploy fixtures for the contracts, shared by the contract tests and (for real proofs) the e2e tests / demo.
 * Each function deploys with the first signer unless told otherwise and returns typed contracts.
 */
import { ethers } from "hardhat";
import { impersonateAccount, setBalance } from "@nomicfoundation/hardhat-network-helpers";
import { parseEther, type Signer } from "ethers";
import type {
  Groth16VerifierAdapter,
  InferenceJobs,
  MockSnarkjsVerifier,
  ModelRegistry,
  VerifierAdapterFactory,
  ZKMLVerifier,
} from "../../typechain-types";
import type { IERCZKMLRegistry, IModelRegistry } from "../../typechain-types/contracts/ModelRegistry";
import { GROTH16_BN254_V1 } from "../../scripts/formats/public-signals";
import { ModelRegistry__factory } from "../../typechain-types";
import { mockProofN } from "../../scripts/apps/testkit/mock-proof";
export { mockProofN };
import { DEFAULT_LAYOUT, type ModelLayout, publicModelCommitment } from "../../scripts/formats/model-layout";

export { jobBinding, standaloneBinding, GROTH16_BN254_V1, proofSystemId } from "../../scripts/formats/public-signals";

/** Market parameters used by the tests (and a sane default for a local demo). */
export interface MarketParams {
  claimBond: bigint;
  leaseDuration: number;
  slashBps: number;
  callbackGasLimit: number;
  openWindow: number;
  deliveryWindow: number;
  /** Optimistic results (docs/market-rules.md): the bond of a challenge, the challenge window and the proof window. */
  challengeBond: bigint;
  challengeWindow: number;
  proofWindow: number;
}

export const DEFAULT_MARKET: MarketParams = {
  claimBond: parseEther("0.1"),
  leaseDuration: 600,
  slashBps: 5_000,
  callbackGasLimit: 100_000,
  openWindow: 300,
  deliveryWindow: 120,
  challengeBond: parseEther("0.05"),
  challengeWindow: 300,
  proofWindow: 600,
};

/** The slash of an expired claim or a disproved post under DEFAULT_MARKET: `claimBond * slashBps / 10000`. */
export const DEFAULT_SLASH = (DEFAULT_MARKET.claimBond * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;

/** A job's status (`IInferenceJobs.JobStatus`), as `getJob(jobId).status` holds it. */
export enum JobStatus {
  None,
  Open,
  Claimed,
  Fulfilled,
  Reclaimed,
  Posted,
}

/** Deposits `value` of stake (1 ETH unless said) in the market for each of `stakers`. */
export async function depositStake(jobs: InferenceJobs, stakers: readonly Signer[], value = parseEther("1")): Promise<void> {
  for (const s of stakers) await (await jobs.connect(s).deposit({ value })).wait();
}

/** The constructor arguments of `InferenceJobs` on `registry` with `params`, in order. */
export function marketArgs(registry: string, params: MarketParams = DEFAULT_MARKET) {
  return [
    registry,
    params.claimBond,
    params.leaseDuration,
    params.slashBps,
    params.callbackGasLimit,
    params.openWindow,
    params.deliveryWindow,
    params.challengeBond,
    params.challengeWindow,
    params.proofWindow,
  ] as const;
}

/**
 * The `InferenceJobs` contract factory, linked to a freshly deployed `OptimisticResults` library (the market's
 * optimistic rules run there by DELEGATECALL; docs/design-decisions.md).
 */
export async function jobsFactory(deployer?: Signer) {
  const lib = await (await ethers.getContractFactory("OptimisticResults", deployer)).deploy();
  await lib.waitForDeployment();
  return ethers.getContractFactory("InferenceJobs", {
    signer: deployer,
    libraries: { OptimisticResults: await lib.getAddress() },
  });
}

/**
 * The model-commitment public signal (signal [1]) of a version registered with weights commitment `modelHash` and
 * `layout` (default: the all-zero layout of `registerModelWithVerifier`): Poseidon(modelHash, layoutWord(layout)),
 * what the registry computes on chain (docs/public-signals.md, "Layout binding").
 */
export function modelSignal(modelHash: bigint, layout: ModelLayout = DEFAULT_LAYOUT): Promise<bigint> {
  return publicModelCommitment(modelHash, layout);
}

/** Optional commitment fields; `modelHash` is the weights commitment (signal [1] is `modelSignal(modelHash, layout)`). */
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

/** Deploys a `VerifierAdapterFactory`. */
export async function deployFactory(deployer?: Signer): Promise<VerifierAdapterFactory> {
  const f = await ethers.getContractFactory("VerifierAdapterFactory", deployer);
  const a = await f.deploy();
  await a.waitForDeployment();
  return a;
}

/** Deploys a `ModelRegistry` on `factory` (default: a new `VerifierAdapterFactory`). */
export async function deployRegistry(deployer?: Signer, factory?: VerifierAdapterFactory): Promise<ModelRegistry> {
  const fac = factory ?? (await deployFactory(deployer));
  const f = await ethers.getContractFactory("ModelRegistry", deployer);
  const r = await f.deploy(await fac.getAddress());
  await r.waitForDeployment();
  return r;
}

/** The registry's adapter factory. */
export async function factoryOf(registry: ModelRegistry): Promise<VerifierAdapterFactory> {
  return ethers.getContractAt("VerifierAdapterFactory", await registry.factory());
}

/** Deploys `InferenceJobs` on `registry` with `params` (default: DEFAULT_MARKET). */
export async function deployJobs(registry: string, params: MarketParams = DEFAULT_MARKET, deployer?: Signer): Promise<InferenceJobs> {
  const f = await jobsFactory(deployer);
  const j = await f.deploy(...marketArgs(registry, params));
  await j.waitForDeployment();
  return j as unknown as InferenceJobs;
}

/**
 * Has `factory` create the adapter of proof system `proofSystem` (default Groth16) around a snarkjs verifier with
 * `numPublicSignals` signals; returns its address.
 */
export async function createAdapter(
  factory: VerifierAdapterFactory,
  snarkjsVerifier: string,
  numPublicSignals = 4,
  proofSystem: string = GROTH16_BN254_V1,
): Promise<string> {
  const addr = await factory.adapterAddress(proofSystem, snarkjsVerifier, numPublicSignals);
  await (await factory.createAdapter(proofSystem, snarkjsVerifier, numPublicSignals)).wait();
  return addr;
}

/** Has `factory` create a `Groth16VerifierAdapter` around a snarkjs-generated verifier with `numPublicSignals` signals. */
export async function deployGroth16Adapter(
  factory: VerifierAdapterFactory,
  snarkjsVerifier: string,
  numPublicSignals = 4,
): Promise<Groth16VerifierAdapter> {
  return ethers.getContractAt("Groth16VerifierAdapter", await createAdapter(factory, snarkjsVerifier, numPublicSignals));
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

/** The model's current version in the registry of `jobs`. */
export async function currentVersionOf(jobs: InferenceJobs, modelId: bigint): Promise<bigint> {
  const registry = ModelRegistry__factory.connect(await jobs.registry(), jobs.runner);
  return (await registry.currentVersion(modelId)).version;
}

/**
 * Opens a job as `requester` and returns its id (read from the event).
 * @throws When openJob reverts or emits no `JobOpened`.
 */
export async function openJob(
  jobs: InferenceJobs,
  requester: Signer,
  args: {
    modelId: bigint;
    /** The version the test expects (default: the model's current version, read just before). */
    modelVersion?: bigint;
    inputCommitment: bigint;
    fee: bigint;
    deadline: bigint | number;
    inputURI?: string;
    callback?: boolean;
  },
): Promise<bigint> {
  const version = args.modelVersion ?? (await currentVersionOf(jobs, args.modelId));
  const tx = await jobs
    .connect(requester)
    .openJob(args.modelId, version, args.inputCommitment, args.inputURI ?? "ipfs://input", args.deadline, args.callback ?? false, {
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
 * registered (`modelHash = modelHash`, default layout: signal [1] is `modelSignal(modelHash)`), jobs contract,
 * standalone ERC-7992 verifier.
 * Drive it with: `openJob(...)`, then prove with `jobBinding(chainId, await jobs.getAddress(), jobId, prover)`,
 * then `jobs.connect(prover).submitResult(jobId, output, proofBytes)`.
 */
export async function deployMarketForVerifier(snarkjsVerifier: string, modelHash: bigint, params: MarketParams = DEFAULT_MARKET) {
  const [deployer, modelOwner] = await ethers.getSigners();
  const factory = await deployFactory(deployer);
  const adapter = await deployGroth16Adapter(factory, snarkjsVerifier, 4);
  const registry = await deployRegistry(deployer, factory);
  const modelId = await registerModel(registry, modelOwner, { modelHash }, await adapter.getAddress());
  const jobs = await deployJobs(await registry.getAddress(), params, deployer);
  const zkmlVerifier = await deployZKMLVerifier(await registry.getAddress(), deployer);
  const { chainId } = await ethers.provider.getNetwork();
  return { factory, adapter, registry, jobs, zkmlVerifier, modelId, modelOwner, chainId, modelCommitment: await modelSignal(modelHash) };
}

/**
 * The 256-byte Groth16-shaped proof `MockSnarkjsVerifier` accepts for four `signals`:
 * `abi.encode(a, b, c)` with `b = [[1, 2], [3, 4]]`, `c = [5, 6]`, `a = [keccak256(abi.encode(b, c, signals)), 0]`,
 * so like a real proof it is bound to every signal.
 */
export function mockProof(signals: readonly bigint[]): string {
  if (signals.length !== 4) throw new Error(`mockProof: MockSnarkjsVerifier takes 4 signals, got ${signals.length}`);
  return mockProofN(signals);
}

/**
 * Logic-test market: a `MockSnarkjsVerifier` (4 signals; `setMode(4)` makes it reject everything) behind a
 * factory-made Groth16 adapter, the registry, one model, the jobs contract.
 */
export async function mockMarketFixture() {
  const signers = await ethers.getSigners();
  const [deployer, modelOwner, requester, prover, prover2, stranger] = signers;
  const mock: MockSnarkjsVerifier = await (await ethers.getContractFactory("MockSnarkjsVerifier")).deploy();
  const factory = await deployFactory(deployer);
  const adapter = await deployGroth16Adapter(factory, await mock.getAddress(), 4);
  const registry = await deployRegistry(deployer, factory);
  const modelHash = 123456789n;
  const modelId = await registerModel(registry, modelOwner, { modelHash }, await adapter.getAddress());
  const jobs = await deployJobs(await registry.getAddress(), DEFAULT_MARKET, deployer);
  const { chainId } = await ethers.provider.getNetwork();
  return {
    signers,
    deployer,
    modelOwner,
    requester,
    prover,
    prover2,
    stranger,
    mock,
    factory,
    adapter,
    registry,
    jobs,
    modelId,
    modelHash,
    /** Signal [1] of the model (its default-layout public commitment). */
    modelCommitment: await modelSignal(modelHash),
    chainId,
  };
}

/**
 * Registers, on the mock market of {@link mockMarketFixture}, a model with `modelHash` and an explicit `layout`
 * (verified by the mock verifier through a 4-signal adapter); returns its id.
 */
export async function registerMockWithLayout(
  m: Awaited<ReturnType<typeof mockMarketFixture>>,
  modelHash: bigint,
  layout: IModelRegistry.LayoutStruct,
): Promise<bigint> {
  const adapter = await createAdapter(m.factory, await m.mock.getAddress(), 4);
  const r = m.registry.connect(m.modelOwner);
  const id = await r.registerModelWithLayout.staticCall(commitment({ modelHash }), adapter, layout);
  await r.registerModelWithLayout(commitment({ modelHash }), adapter, layout);
  return id;
}

/** A signer that sends as the market contract itself (impersonated, funded): to call consumers' callbacks directly. */
export async function asMarket(jobs: InferenceJobs): Promise<Signer> {
  const address = await jobs.getAddress();
  await impersonateAccount(address);
  await setBalance(address, parseEther("1"));
  return ethers.getSigner(address);
}
