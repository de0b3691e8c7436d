/**
 * Deploying and driving the contracts from TypeScript, with the typechain bindings. The demo, the tests and the
 * operator tasks all call these functions.
 */
import type { ContractRunner, ContractTransactionReceipt, Signer } from "ethers";
import { ContractFactory, getAddress, toBeHex, zeroPadValue } from "ethers";
import {
  type Groth16VerifierAdapter,
  Groth16VerifierAdapter__factory,
  type InferenceJobs,
  InferenceJobs__factory,
  type ModelRegistry,
  ModelRegistry__factory,
  OptimisticResults__factory,
  type VerifierAdapterFactory,
  VerifierAdapterFactory__factory,
  InferenceSubscriptions__factory,
  type InferenceSubscriptions,
} from "../../typechain-types";
import { SNARK_FIELD } from "../util/field";
import type { ModelLayout } from "../formats/model-layout";
import { GROTH16_BN254_V1, jobBinding } from "../formats/public-signals";

/** Number of public signals of every model circuit (docs/public-signals.md). */
export const NUM_PUBLIC_SIGNALS = 4;

/** Market parameters (docs/market-rules.md). */
export interface MarketConfig {
  claimBond: bigint;
  leaseDuration: number;
  slashBps: number;
  callbackGasLimit: number;
  /** The last seconds before every deadline in which no claim can be live (docs/market-rules.md). */
  openWindow: number;
  /** Private jobs: the requester's time to deliver after a claim, and the claimant's to decline (1..leaseDuration). */
  deliveryWindow: number;
  /** Optimistic results: the bond a challenge locks (wei; covers the poster's cost of answering with a proof). */
  challengeBond: bigint;
  /** Optimistic results: how long a posted result can be challenged (s). */
  challengeWindow: number;
  /** Optimistic results: the poster's time to prove its result after a challenge by bond (s). */
  proofWindow: number;
}

export const DEFAULT_MARKET: MarketConfig = {
  claimBond: 10n ** 16n, // 0.01 ETH
  leaseDuration: 600,
  slashBps: 5000,
  callbackGasLimit: 200_000,
  openWindow: 300,
  deliveryWindow: 120,
  challengeBond: 10n ** 16n, // 0.01 ETH: a submitResult (~270k gas) at 37 gwei
  challengeWindow: 600,
  proofWindow: 600,
};

/** The fully qualified name `InferenceJobs` is linked against (its optimistic rules, docs/design-decisions.md). */
export const OPTIMISTIC_LIBRARY = "contracts/OptimisticResults.sol:OptimisticResults";

export interface System {
  factory: VerifierAdapterFactory;
  registry: ModelRegistry;
  jobs: InferenceJobs;
  /** The `OptimisticResults` library the market is linked to. */
  optimisticLibrary: string;
  receipts: {
    factory: ContractTransactionReceipt;
    registry: ContractTransactionReceipt;
    optimisticLibrary: ContractTransactionReceipt;
    jobs: ContractTransactionReceipt;
  };
}

async function receiptOf(
  tx: { wait(): Promise<ContractTransactionReceipt | null> } | null | undefined,
  what: string,
): Promise<ContractTransactionReceipt> {
  const r = tx ? await tx.wait() : null;
  if (!r) throw new Error(`${what}: no receipt`);
  return r;
}

/** The constructor arguments of `InferenceJobs` on `registry` with `market`, in order. */
export function marketConstructorArgs(registry: string, market: MarketConfig) {
  return [
    registry,
    market.claimBond,
    market.leaseDuration,
    market.slashBps,
    market.callbackGasLimit,
    market.openWindow,
    market.deliveryWindow,
    market.challengeBond,
    market.challengeWindow,
    market.proofWindow,
  ] as const;
}

/**
 * Deploys the adapter factory, the registry (accepting only the factory's adapters), the `OptimisticResults` library
 * and the jobs market linked to it.
 */
export async function deploySystem(deployer: Signer, market: MarketConfig = DEFAULT_MARKET): Promise<System> {
  const factory = await new VerifierAdapterFactory__factory(deployer).deploy();
  const fr = await receiptOf(factory.deploymentTransaction(), "VerifierAdapterFactory deployment");
  const registry = await new ModelRegistry__factory(deployer).deploy(await factory.getAddress());
  const rr = await receiptOf(registry.deploymentTransaction(), "ModelRegistry deployment");
  const library = await new OptimisticResults__factory(deployer).deploy();
  const lr = await receiptOf(library.deploymentTransaction(), "OptimisticResults deployment");
  const optimisticLibrary = await library.getAddress();
  const jobs = await new InferenceJobs__factory({ [OPTIMISTIC_LIBRARY]: optimisticLibrary }, deployer).deploy(
    ...marketConstructorArgs(await registry.getAddress(), market),
  );
  const jr = await receiptOf(jobs.deploymentTransaction(), "InferenceJobs deployment");
  return { factory, registry, jobs, optimisticLibrary, receipts: { factory: fr, registry: rr, optimisticLibrary: lr, jobs: jr } };
}

/**
 * Deploys `InferenceSubscriptions` beside a market (docs/market-rules.md, "Subscriptions"): scheduled runs, each an
 * ordinary job of `jobs` whose requester is the subscriptions contract.
 */
export async function deploySubscriptions(deployer: Signer, jobs: InferenceJobs): Promise<InferenceSubscriptions> {
  const subs = await new InferenceSubscriptions__factory(deployer).deploy(await jobs.getAddress());
  await receiptOf(subs.deploymentTransaction(), "InferenceSubscriptions deployment");
  return subs;
}

/**
 * Creates (or finds) the factory adapter for a snarkjs verifier; the registry accepts no other adapter.
 * @returns The adapter's address and the gas of its creation (0 if it existed).
 */
export async function createAdapter(
  factory: VerifierAdapterFactory,
  sender: Signer,
  proofSystem: string,
  verifier: string,
  numPublicSignals = NUM_PUBLIC_SIGNALS,
): Promise<{ adapter: string; gasUsed: bigint }> {
  const f = factory.connect(sender);
  const adapter = await f.adapterAddress(proofSystem, verifier, numPublicSignals);
  if (await f.isAdapter(adapter)) return { adapter, gasUsed: 0n };
  const r = await receiptOf(await f.createAdapter(proofSystem, verifier, numPublicSignals), "createAdapter");
  return { adapter, gasUsed: r.gasUsed };
}

/** A compiled contract artifact (Hardhat's artifacts/ JSON). */
export interface Artifact {
  contractName: string;
  abi: unknown[];
  bytecode: string;
}

export interface DeployedVerifier {
  verifier: string;
  adapter: Groth16VerifierAdapter;
  gasUsed: bigint;
}

/**
 * Deploys a snarkjs-generated Groth16 verifier and has `factory` create the adapter that puts it behind IProofVerifier.
 * `numPublicSignals`: the circuit's (`numPublicSignals(model)`: 3 + its input signals); 4 for a committed input or a
 * public input that fits one signal.
 */
export async function deployGroth16Verifier(
  deployer: Signer,
  artifact: Artifact,
  factory: VerifierAdapterFactory,
  numPublicSignals = NUM_PUBLIC_SIGNALS,
): Promise<DeployedVerifier> {
  const v = await new ContractFactory(artifact.abi as never[], artifact.bytecode, deployer).deploy();
  const vr = await receiptOf(v.deploymentTransaction(), `${artifact.contractName} deployment`);
  const a = await createAdapter(factory, deployer, GROTH16_BN254_V1, await v.getAddress(), numPublicSignals);
  const adapter = Groth16VerifierAdapter__factory.connect(a.adapter, deployer);
  return { verifier: await v.getAddress(), adapter, gasUsed: vr.gasUsed + a.gasUsed };
}

/** What the registry records for a model (ERC-7992 ModelCommitment). */
export interface ModelRegistration {
  modelCommitment: bigint;
  /** hex sha256 of the R1CS */
  circuitHash: string;
  /** hex sha256 of the canonical verification key JSON */
  vkHash: string;
  uri: string;
}

function bytes32(hexOrInt: string | bigint): string {
  return typeof hexOrInt === "bigint"
    ? zeroPadValue(toBeHex(hexOrInt), 32)
    : zeroPadValue(hexOrInt.startsWith("0x") ? hexOrInt : `0x${hexOrInt}`, 32);
}

/**
 * Registers a model with its verifier adapter and its public-signal layout (`layoutOf(model)`, the fields of
 * `IModelRegistry.Layout`), always with `registerModelWithLayout`: the circuit commits to its own layout (public
 * signal 1 is Poseidon(weights commitment, layoutWord(layout))), so the registered layout must be exactly
 * `layoutOf(model)` or no proof verifies (docs/public-signals.md, "Layout binding"). Returns the new model id.
 * @throws if the model commitment is not below the field modulus.
 */
export async function registerModel(
  registry: ModelRegistry,
  owner: Signer,
  reg: ModelRegistration,
  adapter: string,
  layout: ModelLayout,
): Promise<{ modelId: bigint; receipt: ContractTransactionReceipt }> {
  if (reg.modelCommitment >= SNARK_FIELD) throw new Error("modelCommitment must be below the BN254 field modulus");
  const commitment = {
    modelHash: bytes32(reg.modelCommitment),
    circuitHash: bytes32(reg.circuitHash),
    vkHash: bytes32(reg.vkHash),
    proofSystemId: GROTH16_BN254_V1,
    uri: reg.uri,
  };
  const r = registry.connect(owner);
  const modelId = await r.registerModelWithLayout.staticCall(commitment, adapter, layout);
  const receipt = await receiptOf(await r.registerModelWithLayout(commitment, adapter, layout), "registerModelWithLayout");
  return { modelId, receipt };
}

/**
 * The model's current version in the registry of `jobs`. A job names the version its requester checked
 * (docs/market-rules.md, "Open"): pass this only for a version you registered or audited yourself.
 */
export async function currentModelVersion(jobs: InferenceJobs, modelId: bigint): Promise<bigint> {
  const registry = ModelRegistry__factory.connect(await jobs.registry(), jobs.runner);
  return (await registry.currentVersion(modelId)).version;
}

/**
 * Opens a job and returns its id (read from the JobOpened event). `modelVersion` is the version the requester checked;
 * the market refuses the job (`ModelVersionMismatch`) if the model's current version is another one.
 */
export async function openJob(
  jobs: InferenceJobs,
  requester: Signer,
  args: {
    modelId: bigint;
    modelVersion: bigint;
    inputCommitment: bigint;
    inputURI: string;
    fee: bigint;
    deadline: bigint;
    callback?: boolean;
  },
): Promise<{ jobId: bigint; receipt: ContractTransactionReceipt }> {
  const j = jobs.connect(requester);
  const receipt = await receiptOf(
    await j.openJob(args.modelId, args.modelVersion, args.inputCommitment, args.inputURI, args.deadline, args.callback ?? false, {
      value: args.fee,
    }),
    "openJob",
  );
  return { jobId: jobOpenedId(jobs, receipt), receipt };
}

/** Opens a job on a public-input model with its quantized input values; returns its id (from JobOpened). */
export async function openJobWithInputs(
  jobs: InferenceJobs,
  requester: Signer,
  args: { modelId: bigint; modelVersion: bigint; inputs: readonly bigint[]; fee: bigint; deadline: bigint; callback?: boolean },
): Promise<{ jobId: bigint; receipt: ContractTransactionReceipt }> {
  const j = jobs.connect(requester);
  const receipt = await receiptOf(
    await j.openJobWithInputs(args.modelId, args.modelVersion, [...args.inputs], args.deadline, args.callback ?? false, {
      value: args.fee,
    }),
    "openJobWithInputs",
  );
  return { jobId: jobOpenedId(jobs, receipt), receipt };
}

/**
 * Opens a job whose fee is paid in an ERC-20 token (docs/market-rules.md, "Payment tokens"): a committed input
 * (`openTokenJob`) or, with `inputs`, a public-input model's values (`openTokenJobWithInputs`). The requester has
 * approved the market for the fee. Returns its id (from JobOpened).
 */
export async function openTokenJob(
  jobs: InferenceJobs,
  requester: Signer,
  args: { token: string; fee: bigint; modelId: bigint; modelVersion: bigint; deadline: bigint; callback?: boolean } & (
    { inputs: readonly bigint[]; inputCommitment?: never; inputURI?: never } | { inputCommitment: bigint; inputURI: string; inputs?: never }
  ),
): Promise<{ jobId: bigint; receipt: ContractTransactionReceipt }> {
  const j = jobs.connect(requester);
  const cb = args.callback ?? false;
  const tx = args.inputs
    ? await j.openTokenJobWithInputs(args.token, args.fee, args.modelId, args.modelVersion, [...args.inputs], args.deadline, cb)
    : await j.openTokenJob(args.token, args.fee, args.modelId, args.modelVersion, args.inputCommitment, args.inputURI, args.deadline, cb);
  const receipt = await receiptOf(tx, args.inputs ? "openTokenJobWithInputs" : "openTokenJob");
  return { jobId: jobOpenedId(jobs, receipt), receipt };
}

/** The job id of the `JobOpened` event in `receipt`. */
function jobOpenedId(jobs: InferenceJobs, receipt: ContractTransactionReceipt): bigint {
  for (const log of receipt.logs) {
    try {
      const parsed = jobs.interface.parseLog(log);
      if (parsed?.name === "JobOpened") return parsed.args[0] as bigint;
    } catch {
      // a log of another contract
    }
  }
  throw new Error("no JobOpened event in the receipt");
}

/** The job binding the circuit must carry for `prover` on `jobId` (rebuilt identically by the contract). */
export async function bindingFor(
  jobs: InferenceJobs,
  runner: ContractRunner & { provider: { getNetwork(): Promise<{ chainId: bigint }> } | null },
  jobId: bigint,
  prover: string,
): Promise<bigint> {
  const net = await runner.provider?.getNetwork();
  if (!net) throw new Error("bindingFor: the runner has no provider");
  return jobBinding(net.chainId, await jobs.getAddress(), jobId, getAddress(prover));
}
