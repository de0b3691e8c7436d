/**
 * Operator operations behind the Hardhat tasks in scripts/tasks/index.ts. Each task is a thin shell over one function
 * here; the tests call the same functions (through `hre.run` or directly). Every operation returns what it wrote,
 * the gas it spent and the lines to print. This module imports the typechain bindings, so only load it lazily from
 * task actions (a fresh clone has no typechain-types before `compile`).
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { ContractTransactionReceipt, Interface, Provider, Signer } from "ethers";
import { formatEther, getAddress, isAddress, parseEther, toBeHex, zeroPadValue } from "ethers";
import {
  Groth16VerifierAdapter__factory,
  VerifierAdapterFactory__factory,
  InferenceJobs__factory,
  ModelRegistry__factory,
  type InferenceJobs,
  type ModelRegistry,
} from "../../typechain-types";
import { DEFAULT_MARKET, bindingFor, openJob, registerModel, NUM_PUBLIC_SIGNALS } from "../chain/system";
import { GROTH16_BN254_V1, proofSystemId } from "../chain/binding";
import { SNARK_FIELD } from "../lib/field";
import { createLog } from "../lib/log";
import { ROOT, ensureDir, rel } from "../lib/paths";
import { type BuiltModel, buildModel, loadQuantizedModel } from "../model/build";
import { inputCommitment } from "../model/quantized";
import { proveInference } from "../prove/inference";
import { UserError } from "./errors";
import {
  type DeployedContract,
  type DeploymentRecord,
  RECORD_FORMAT,
  hasRecord,
  jobsDir,
  modelNameById,
  modelRecord,
  readRecord,
  recordPath,
  writeRecord,
} from "./records";

/** What every task prints at its end. */
export interface TaskResult {
  title: string;
  /** label -> value lines. */
  lines: [string, string][];
  /** Files written. */
  written: string[];
  gasUsed: bigint;
  /** Wei spent on gas. */
  gasCost: bigint;
  /** Anything else the caller (tests) may want. */
  data?: Record<string, unknown>;
}

/** Chains whose state is throwaway (Hardhat, anvil, ganache). */
export const LOCAL_CHAIN_IDS = [31337, 1337];

/** The contract interfaces whose custom errors a task can meet (for errors.describeError). */
export function contractInterfaces(): Interface[] {
  return [
    InferenceJobs__factory.createInterface(),
    ModelRegistry__factory.createInterface(),
    Groth16VerifierAdapter__factory.createInterface(),
  ];
}

/** Renders a task result as plain lines. */
export function formatResult(r: TaskResult): string {
  const rows: [string, string][] = [...r.lines];
  for (const w of r.written) rows.push(["wrote", rel(w)]);
  if (r.written.length === 0) rows.push(["wrote", "nothing"]);
  rows.push(["gas", r.gasUsed === 0n ? "0 (no transaction)" : `${r.gasUsed} (${formatEther(r.gasCost)} ETH)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [r.title, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join("\n");
}

function gasOf(receipts: (ContractTransactionReceipt | { gasUsed: bigint; gasPrice: bigint } | null)[]): {
  gasUsed: bigint;
  gasCost: bigint;
} {
  let gasUsed = 0n;
  let gasCost = 0n;
  for (const r of receipts) {
    if (!r) continue;
    gasUsed += r.gasUsed;
    gasCost += r.gasUsed * r.gasPrice;
  }
  return { gasUsed, gasCost };
}

/** Network facts every task needs; the first RPC call, so an unreachable node fails here. */
export async function networkInfo(
  hre: HardhatRuntimeEnvironment,
): Promise<{ name: string; chainId: number; url?: string; local: boolean }> {
  const name = hre.network.name;
  const cfg = hre.network.config as { url?: string };
  if (name !== "hardhat" && !cfg.url) {
    const v = name === "sepolia" ? "SEPOLIA_RPC_URL" : name === "baseSepolia" ? "BASE_SEPOLIA_RPC_URL" : "ZKML_RPC_URL";
    throw new UserError(`network "${name}" has no RPC URL: run \`npx hardhat vars set ${v}\` (or export ${v}); see docs/operators.md`);
  }
  const chainId = Number(await hre.network.provider.request({ method: "eth_chainId", params: [] }));
  return { name, chainId, url: cfg.url, local: LOCAL_CHAIN_IDS.includes(chainId) };
}

/**
 * The signer for `account`: an index into the network's accounts or one of their addresses (default 0).
 * @throws UserError when the network has no accounts or the account is not among them.
 */
export async function signerFor(hre: HardhatRuntimeEnvironment, account?: string): Promise<Signer & { address: string }> {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) {
    throw new UserError(
      `network "${hre.network.name}" has no account to send from: run \`npx hardhat vars set DEPLOYER_PRIVATE_KEY\` (or export ZKML_PRIVATE_KEYS); see docs/operators.md`,
    );
  }
  if (account === undefined || account === "") return signers[0];
  if (/^\d+$/.test(account)) {
    const s = signers[Number(account)];
    if (!s)
      throw new UserError(
        `--account ${account}: network "${hre.network.name}" has only ${signers.length} account(s) (indexes 0..${signers.length - 1})`,
      );
    return s;
  }
  if (!isAddress(account)) throw new UserError(`--account ${account}: give an account index (0, 1, ...) or an address`);
  const s = signers.find((x) => x.address.toLowerCase() === account.toLowerCase());
  if (!s)
    throw new UserError(`--account ${account}: no key for this address on network "${hre.network.name}"; add its key (docs/operators.md)`);
  return s;
}

async function requireCode(provider: Provider, address: string, what: string, network: string): Promise<void> {
  if ((await provider.getCode(address)) === "0x") {
    throw new UserError(
      `no contract at ${address} (${what} in ${rel(recordPath(network))}): the chain was reset (a restarted local node?); run \`npx hardhat deploy --network ${network}\` again`,
    );
  }
}

/** The record and connected contracts of this network. */
export async function loadSystem(
  hre: HardhatRuntimeEnvironment,
  runner?: Signer,
): Promise<{ rec: DeploymentRecord; registry: ModelRegistry; jobs: InferenceJobs; chainId: number }> {
  const net = await networkInfo(hre);
  const rec = readRecord(net.name, net.chainId);
  const r = runner ?? hre.ethers.provider;
  await requireCode(hre.ethers.provider, rec.contracts.InferenceJobs.address, "InferenceJobs", net.name);
  return {
    rec,
    registry: ModelRegistry__factory.connect(rec.contracts.ModelRegistry.address, r),
    jobs: InferenceJobs__factory.connect(rec.contracts.InferenceJobs.address, r),
    chainId: net.chainId,
  };
}

/** Finds the creation transactions of `addresses` sent by `from` in blocks after `afterBlock`. */
async function findCreations(
  provider: Provider,
  from: string,
  afterBlock: number,
  addresses: string[],
): Promise<Map<string, DeployedContract>> {
  const out = new Map<string, DeployedContract>();
  const want = new Set(addresses.map((a) => a.toLowerCase()));
  const latest = await provider.getBlockNumber();
  for (let b = afterBlock + 1; b <= latest && out.size < want.size; b++) {
    const block = await provider.getBlock(b, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.to !== null || tx.from.toLowerCase() !== from.toLowerCase()) continue;
      const rc = await provider.getTransactionReceipt(tx.hash);
      const addr = rc?.contractAddress?.toLowerCase();
      if (rc && addr && want.has(addr))
        out.set(addr, { address: getAddress(addr), txHash: tx.hash, block: rc.blockNumber, gasUsed: rc.gasUsed.toString() });
    }
  }
  return out;
}

/** Stage: build a bundled model (task `model:build`). */
export async function buildModelOp(name: string, quantize: boolean): Promise<TaskResult & { built: BuiltModel }> {
  const b = await buildModel(name, { quantize });
  return {
    title: `model:build ${name}`,
    lines: [
      ["constraints", String(b.circuit.constraints)],
      ["r1cs sha256", b.circuit.r1csHash],
      ["vk hash", b.keys.vkHash],
      ["model commitment", b.modelCommitment.toString()],
      ["r1cs", rel(b.circuit.r1cs)],
      ["zkey", rel(b.keys.zkey)],
      ["ptau", b.ptau.file],
    ],
    written: [b.paths.qmodelFile, b.paths.circuitFile, b.paths.verifierFile],
    gasUsed: 0n,
    gasCost: 0n,
    built: b,
  };
}

export interface DeployOptions {
  models: string[];
  verify: boolean;
  /** Run `compile` first (default true). */
  compile?: boolean;
  account?: string;
  /** A finalised, verified phase-2 ceremony folder: deploy a verifier built from its final keys (one model). */
  ceremony?: string;
}

/**
 * Task `deploy`: Ignition modules for the registry + jobs market and, per model, its verifier + adapter; writes
 * deployments/<network>.json. Re-running is idempotent (Ignition's journal; a model already recorded is kept).
 * @throws UserError for `--verify` on a local chain or without an explorer API key.
 */
export async function deployOp(hre: HardhatRuntimeEnvironment, opts: DeployOptions): Promise<TaskResult> {
  const log = createLog("deploy");
  const net = await networkInfo(hre);
  if (opts.verify) {
    if (net.local)
      throw new UserError(
        `--verify needs a public block explorer, and network "${net.name}" is a local chain (${net.chainId}): drop --verify`,
      );
    const key = (hre.config as unknown as { etherscan?: { apiKey?: unknown } }).etherscan?.apiKey;
    if (!key || (typeof key === "string" && key === ""))
      throw new UserError("--verify needs an explorer API key: run `npx hardhat vars set ETHERSCAN_API_KEY`");
  }
  if (opts.ceremony !== undefined && opts.models.length !== 1) {
    throw new UserError(
      `--ceremony ${opts.ceremony} holds the keys of one circuit: deploy exactly one model with it (--models <name>), the others in a separate deploy`,
    );
  }
  const keys = opts.ceremony !== undefined ? { ceremonyDir: path.resolve(opts.ceremony) } : undefined;
  if (keys && !fs.existsSync(path.join(keys.ceremonyDir, "manifest.json")))
    throw new UserError(
      `--ceremony ${opts.ceremony}: no ceremony manifest.json there; run setup:contribute/beacon/verify first (docs/trusted-setup.md)`,
    );
  const deployer = await signerFor(hre, opts.account);
  const provider = hre.ethers.provider;
  if (opts.compile !== false) await log.stage("compile contracts", () => hre.run("compile", { quiet: true }));
  const built: BuiltModel[] = [];
  for (const m of opts.models) {
    const b = await log.stage(
      `build ${m}${keys ? " with ceremony keys" : ""}`,
      () => buildModel(m, { quantize: false, keys }),
      (x) => `vk ${x.keys.vkHash.slice(0, 12)}...`,
    );
    if (b.verifierChanged) await log.stage("compile (verifier changed)", () => hre.run("compile", { quiet: true }));
    built.push(b);
  }
  const genesis = await provider.getBlock(0);
  const deploymentId = net.local ? `local-${net.chainId}-${(genesis?.hash ?? "0x00").slice(2, 10)}` : `chain-${net.chainId}`;
  const startBlock = await provider.getBlockNumber();
  const { default: CoreModule } = await import("../../ignition/modules/Core");
  const { modelVerifierModule } = await import("../../ignition/modules/ModelVerifier");
  const market = DEFAULT_MARKET;
  const core = await log.stage("deploy VerifierAdapterFactory + ModelRegistry + InferenceJobs (Ignition)", () =>
    hre.ignition.deploy(CoreModule, { deploymentId, defaultSender: deployer.address, parameters: { ZkmlCore: { ...market } } }),
  );
  const factoryAddr = await core.factory.getAddress();
  const registryAddr = await core.registry.getAddress();
  const jobsAddr = await core.jobs.getAddress();
  const prev = hasRecord(net.name) ? readRecord(net.name) : undefined;
  const sameCore = prev?.chainId === net.chainId && prev.contracts.InferenceJobs.address === jobsAddr;
  const models: DeploymentRecord["models"] = sameCore && prev ? { ...prev.models } : {};
  const verifiers: { name: string; b: BuiltModel; verifier: string; adapter: string }[] = [];
  for (const b of built) {
    const r = await log.stage(`deploy ${b.paths.verifierContract} + adapter (Ignition)`, () =>
      hre.ignition.deploy(modelVerifierModule(b.paths.verifierContract, b.keys.vkHash, factoryAddr), {
        deploymentId,
        defaultSender: deployer.address,
      }),
    );
    verifiers.push({ name: b.paths.name, b, verifier: await r.verifier.getAddress(), adapter: await r.adapter.getAddress() });
  }
  const created = await findCreations(provider, deployer.address, startBlock, [
    factoryAddr,
    registryAddr,
    jobsAddr,
    ...verifiers.map((v) => v.verifier),
  ]);
  // Adapters are created by the factory (CREATE2 inside its createAdapter call): their creation is its event.
  const factory = VerifierAdapterFactory__factory.connect(factoryAddr, provider);
  for (const v of verifiers) {
    for (const ev of await factory.queryFilter(factory.filters.AdapterCreated(v.adapter), startBlock)) {
      const rc = await ev.getTransactionReceipt();
      created.set(v.adapter.toLowerCase(), {
        address: v.adapter,
        txHash: ev.transactionHash,
        block: ev.blockNumber,
        gasUsed: rc.gasUsed.toString(),
      });
    }
  }
  const info = (addr: string, old?: DeployedContract, args?: (string | number)[]): DeployedContract => ({
    ...(old?.address === addr ? old : { address: addr }),
    ...(created.get(addr.toLowerCase()) ?? {}),
    ...(args ? { constructorArgs: args } : {}),
  });
  const jobsArgs = [
    registryAddr,
    market.claimBond.toString(),
    market.leaseDuration,
    market.slashBps,
    market.callbackGasLimit,
    market.openWindow,
  ];
  for (const v of verifiers) {
    const old = models[v.name];
    const keep = old && old.adapter.address === v.adapter;
    models[v.name] = {
      ...(keep ? old : {}),
      verifierContract: v.b.paths.verifierContract,
      ceremonyDir: v.b.paths.ceremonyDir ? rel(v.b.paths.ceremonyDir) : undefined,
      verifier: info(v.verifier, old?.verifier),
      adapter: info(v.adapter, old?.adapter, [v.verifier, NUM_PUBLIC_SIGNALS]),
      manifest: {
        r1csSha256: v.b.circuit.r1csHash,
        vkHash: v.b.keys.vkHash,
        modelCommitment: v.b.modelCommitment.toString(),
        zkeySha256: v.b.keys.zkeySha256,
        ptauSha256: v.b.keys.ptauSha256,
        constraints: v.b.circuit.constraints,
      },
    };
  }
  const coreRegistry = info(registryAddr, sameCore ? prev?.contracts.ModelRegistry : undefined, [factoryAddr]);
  const rec: DeploymentRecord = {
    format: RECORD_FORMAT,
    network: net.name,
    chainId: net.chainId,
    deployer: deployer.address,
    block: coreRegistry.block ?? prev?.block ?? startBlock,
    ignitionDeploymentId: deploymentId,
    compiler: { version: hre.config.solidity.compilers[0].version, settings: hre.config.solidity.compilers[0].settings },
    market: {
      claimBond: market.claimBond.toString(),
      leaseDuration: market.leaseDuration,
      slashBps: market.slashBps,
      callbackGasLimit: market.callbackGasLimit,
      openWindow: market.openWindow,
    },
    contracts: {
      VerifierAdapterFactory: info(factoryAddr, sameCore ? prev?.contracts.VerifierAdapterFactory : undefined, []),
      ModelRegistry: coreRegistry,
      InferenceJobs: info(jobsAddr, sameCore ? prev?.contracts.InferenceJobs : undefined, jobsArgs),
    },
    models,
    updatedAt: "",
  };
  const file = writeRecord(rec);
  let gasUsed = 0n;
  let gasCost = 0n;
  for (const c of created.values()) {
    const rc = c.txHash ? await provider.getTransactionReceipt(c.txHash) : null;
    if (rc) {
      gasUsed += rc.gasUsed;
      gasCost += rc.gasUsed * rc.gasPrice;
    }
  }
  if (opts.verify) {
    const targets: [string, DeployedContract, string?][] = [
      ...(rec.contracts.VerifierAdapterFactory
        ? [["VerifierAdapterFactory", rec.contracts.VerifierAdapterFactory] as [string, DeployedContract]]
        : []),
      ["ModelRegistry", rec.contracts.ModelRegistry],
      ["InferenceJobs", rec.contracts.InferenceJobs],
      ...verifiers.flatMap((v): [string, DeployedContract, string?][] => [
        [v.b.paths.verifierContract, models[v.name].verifier],
        ["Groth16VerifierAdapter", models[v.name].adapter],
      ]),
    ];
    for (const [name, c] of targets) {
      await log.stage(`verify ${name} at ${c.address} (hardhat-verify)`, () =>
        hre.run("verify:verify", { address: c.address, constructorArguments: c.constructorArgs ?? [] }),
      );
    }
  }
  return {
    title: `deploy on ${net.name} (chain ${net.chainId})`,
    lines: [
      ["VerifierAdapterFactory", `${factoryAddr}${created.has(factoryAddr.toLowerCase()) ? "" : " (existing)"}`],
      ["ModelRegistry", `${registryAddr}${created.has(registryAddr.toLowerCase()) ? "" : " (existing)"}`],
      ["InferenceJobs", `${jobsAddr}${created.has(jobsAddr.toLowerCase()) ? "" : " (existing)"}`],
      ...verifiers.flatMap((v): [string, string][] => [
        [`${v.name} verifier`, `${v.verifier} (${v.b.paths.verifierContract})`],
        [`${v.name} adapter`, v.adapter],
        [`${v.name} keys`, `${v.b.paths.ceremonyDir ? `ceremony ${rel(v.b.paths.ceremonyDir)}` : "dev (INSECURE)"}, vk ${v.b.keys.vkHash}`],
      ]),
      ["ignition journal", net.name === "hardhat" ? "none (in-process network)" : `ignition/deployments/${deploymentId}/`],
    ],
    written: [file],
    gasUsed,
    gasCost,
    data: { record: rec },
  };
}

/**
 * Task `model:register`: registers a deployed model's commitment with its verifier adapter; records the model id.
 * @throws UserError when the model has no verifier on this network.
 */
export async function registerOp(
  hre: HardhatRuntimeEnvironment,
  opts: { model: string; proofSystem: string; account?: string; uri?: string },
): Promise<TaskResult> {
  const owner = await signerFor(hre, opts.account);
  const { rec, registry } = await loadSystem(hre, owner);
  const m = modelRecord(rec, opts.model, false);
  await requireCode(hre.ethers.provider, m.adapter.address, `${opts.model} adapter`, rec.network);
  const uri = opts.uri || `zkml:${opts.model}?vk=${m.manifest.vkHash}`;
  const psId = proofSystemId(opts.proofSystem);
  let modelId: bigint;
  let receipt: ContractTransactionReceipt;
  const reg = { modelCommitment: BigInt(m.manifest.modelCommitment), circuitHash: m.manifest.r1csSha256, vkHash: m.manifest.vkHash, uri };
  if (psId === GROTH16_BN254_V1) {
    ({ modelId, receipt } = await registerModel(registry, owner, reg, m.adapter.address));
  } else {
    // Same call with another proof system id: the registry checks it against the adapter (VerifierMismatch).
    const b32 = (h: string | bigint) =>
      typeof h === "bigint" ? zeroPadValue(toBeHex(h), 32) : zeroPadValue(`0x${h.replace(/^0x/, "")}`, 32);
    const c = { modelHash: b32(reg.modelCommitment), circuitHash: b32(reg.circuitHash), vkHash: b32(reg.vkHash), proofSystemId: psId, uri };
    modelId = await registry.registerModelWithVerifier.staticCall(c, m.adapter.address, NUM_PUBLIC_SIGNALS);
    const tx = await registry.registerModelWithVerifier(c, m.adapter.address, NUM_PUBLIC_SIGNALS);
    const r = await tx.wait();
    if (!r) throw new Error("registerModelWithVerifier: no receipt");
    receipt = r;
  }
  rec.models[opts.model] = {
    ...m,
    modelId: modelId.toString(),
    owner: owner.address,
    registerTx: receipt.hash,
    proofSystem: opts.proofSystem,
    uri,
  };
  const file = writeRecord(rec);
  return {
    title: `model:register ${opts.model} on ${rec.network}`,
    lines: [
      ["model id", modelId.toString()],
      ["owner", owner.address],
      ["adapter", m.adapter.address],
      ["vk hash", `${m.manifest.vkHash} (${m.ceremonyDir ? `ceremony ${m.ceremonyDir}` : "dev keys"})`],
      ["tx", receipt.hash],
    ],
    written: [file],
    ...gasOf([receipt]),
    data: { modelId },
  };
}

/** The job file a requester hands to the prover (private: input and salt). */
export interface JobInputFile {
  format: "zkml-job-input-v1";
  network: string;
  chainId: number;
  jobs: string;
  jobId: string;
  model: string;
  modelId: string;
  input: string[];
  salt: string;
  inputCommitment: string;
  openTx?: string;
}

/**
 * Parses a quantized input: a JSON file (an array, or `{ "input": [...] }`) or a comma list; checks the length and
 * the signed range of the model's input.
 * @throws UserError naming the bad index.
 */
export function parseInput(spec: string, size: number, bits: number): bigint[] {
  let raw: unknown[];
  if (fs.existsSync(spec)) {
    let j: unknown;
    try {
      j = JSON.parse(fs.readFileSync(spec, "utf8"));
    } catch (e) {
      throw new UserError(`--input ${spec} is not valid JSON (${(e as Error).message})`);
    }
    const arr = Array.isArray(j) ? j : ((j as { input?: unknown; x?: unknown }).input ?? (j as { x?: unknown }).x);
    if (!Array.isArray(arr)) throw new UserError(`--input ${spec}: expected a JSON array of integers or { "input": [...] }`);
    raw = arr;
  } else {
    if (/[\\/]|\.json$/i.test(spec)) throw new UserError(`--input ${spec}: file not found (or give a comma list like -462,404,-653,-681)`);
    raw = spec.split(",").map((s) => s.trim());
  }
  if (raw.length !== size)
    throw new UserError(`--input has ${raw.length} values, the model takes ${size}: give exactly ${size} quantized integers`);
  const lo = -(1n << BigInt(bits - 1));
  const hi = (1n << BigInt(bits - 1)) - 1n;
  return raw.map((v, i) => {
    const s = String(v);
    if (!/^-?\d+$/.test(s)) throw new UserError(`--input value ${i} ("${s}") is not an integer: the input must be already quantized`);
    const x = BigInt(s);
    if (x < lo || x > hi) throw new UserError(`--input value ${i} (${x}) is outside the model's ${bits}-bit input range [${lo}, ${hi}]`);
    return x;
  });
}

/** Task `job:open`: escrows the fee for an inference on a committed input; writes the job file for the prover. */
export async function openJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { model: string; input: string; salt?: string; fee: string; deadlineIn: number; inputUri?: string; account?: string; out?: string },
): Promise<TaskResult> {
  const requester = await signerFor(hre, opts.account);
  const { rec, jobs, chainId } = await loadSystem(hre, requester);
  const m = modelRecord(rec, opts.model);
  const model = loadQuantizedModel(opts.model);
  const x = parseInput(opts.input, model.input.size, model.input.bits);
  let salt: bigint;
  if (opts.salt) {
    if (!/^\d+$|^0x[0-9a-fA-F]+$/.test(opts.salt)) throw new UserError(`--salt ${opts.salt}: give a decimal or 0x-hex integer`);
    salt = BigInt(opts.salt);
    if (salt >= SNARK_FIELD) throw new UserError("--salt must be below the BN254 field modulus");
  } else {
    salt = BigInt("0x" + randomBytes(31).toString("hex"));
  }
  let fee: bigint;
  try {
    fee = parseEther(opts.fee);
  } catch {
    throw new UserError(`--fee ${opts.fee}: give an amount in ETH, e.g. 0.01`);
  }
  if (!Number.isInteger(opts.deadlineIn) || opts.deadlineIn <= 0)
    throw new UserError(`--deadline-in ${opts.deadlineIn}: give a positive number of seconds`);
  const commitment = await inputCommitment(model, x, salt);
  const latest = await hre.ethers.provider.getBlock("latest");
  const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + opts.deadlineIn);
  const { jobId, receipt } = await openJob(jobs, requester, {
    modelId: BigInt(m.modelId),
    inputCommitment: commitment,
    inputURI: opts.inputUri ?? "",
    fee,
    deadline,
  });
  const file: JobInputFile = {
    format: "zkml-job-input-v1",
    network: rec.network,
    chainId,
    jobs: rec.contracts.InferenceJobs.address,
    jobId: jobId.toString(),
    model: opts.model,
    modelId: m.modelId,
    input: x.map(String),
    salt: salt.toString(),
    inputCommitment: commitment.toString(),
    openTx: receipt.hash,
  };
  const out = opts.out || path.join(jobsDir(rec.network), `job-${jobId}.input.json`);
  ensureDir(path.dirname(out));
  fs.writeFileSync(out, JSON.stringify(file, null, 2) + "\n", { mode: 0o600 });
  return {
    title: `job:open on ${rec.network}`,
    lines: [
      ["job id", jobId.toString()],
      ["input commitment", commitment.toString()],
      ["model", `${opts.model} (id ${m.modelId})`],
      ["fee", `${formatEther(fee)} ETH`],
      ["deadline", new Date(Number(deadline) * 1000).toISOString()],
      ["note", `${rel(out)} holds the input and salt: give it to the prover privately`],
    ],
    written: [out],
    ...gasOf([receipt]),
    data: { jobId, inputCommitment: commitment, file: out },
  };
}

export interface JobProofFile {
  format: "zkml-job-proof-v1";
  network: string;
  chainId: number;
  jobs: string;
  jobId: string;
  model: string;
  prover: string;
  output: string;
  proof: string;
  publicSignals: string[];
  proveSeconds: number;
}

function readJson<T>(file: string, what: string): T {
  if (!fs.existsSync(file)) throw new UserError(`${what} ${rel(file)} not found`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new UserError(`${what} ${rel(file)} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Builds `name` with the keys whose vkHash is `registeredVk` (the registered commitment's): the ceremony keys of
 * `ceremonyDir` (from --ceremony, or recorded by `deploy --ceremony`), else the dev keys. An explicit --ceremony is
 * the only candidate.
 * @throws UserError when no candidate gives the registered vkHash.
 */
async function keysForRegisteredVk(
  log: ReturnType<typeof createLog>,
  name: string,
  registeredVk: string,
  ceremonyDir: string | undefined,
  explicit: boolean,
): Promise<BuiltModel> {
  const want = BigInt(registeredVk);
  const candidates = ceremonyDir ? [{ ceremonyDir: path.resolve(ROOT, ceremonyDir) }] : [];
  const tried: string[] = [];
  for (const keys of explicit ? candidates : [...candidates, undefined]) {
    const what = keys ? `ceremony keys ${rel(keys.ceremonyDir)}` : "dev keys";
    let b: BuiltModel;
    try {
      b = await log.stage(`build ${name} with ${what} (cached)`, () => buildModel(name, { quantize: false, keys }));
    } catch (e) {
      // A recorded ceremony folder that is gone or broken: say so, and still try the dev keys.
      if (explicit || !keys) throw e;
      tried.push(`nothing from ${what} (${(e as Error).message.split("\n")[0]})`);
      continue;
    }
    if (BigInt("0x" + b.keys.vkHash) === want) return b;
    tried.push(`${b.keys.vkHash} (${what})`);
  }
  const vk = want.toString(16).padStart(64, "0");
  throw new UserError(`the registered model uses vk ${vk}; local keys give ${tried.join(", ")}: pass --ceremony <dir> or rebuild`);
}

/**
 * Task `job:prove`: runs the model on the job's input and proves it, bound to this chain, market, job and prover.
 * Checks first that the job is open and not expired, that the model's proof system is Groth16 and that the input
 * file matches the job's on-chain commitment.
 */
export async function proveJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { job: string; inputFile?: string; account?: string; prover?: string; out?: string; ceremony?: string },
): Promise<TaskResult> {
  const { rec, jobs, registry, chainId } = await loadSystem(hre);
  const jobId = BigInt(opts.job);
  const inputFile = opts.inputFile || path.join(jobsDir(rec.network), `job-${jobId}.input.json`);
  const input = readJson<JobInputFile>(inputFile, "job input file");
  if (
    input.jobId !== jobId.toString() ||
    getAddress(input.jobs) !== getAddress(rec.contracts.InferenceJobs.address) ||
    input.chainId !== chainId
  ) {
    throw new UserError(
      `${rel(inputFile)} is for job ${input.jobId} on ${input.jobs} (chain ${input.chainId}), not job ${jobId} on this network's market: pass the right --input-file`,
    );
  }
  const prover = opts.prover ? getAddress(opts.prover) : (await signerFor(hre, opts.account)).address;
  const job = await jobs.getJob(jobId);
  if (Number(job.status) === 0)
    throw new UserError(`unknown job id ${jobId}: no job with this id on this network's jobs market; check --job`);
  if (Number(job.status) !== 1 && Number(job.status) !== 2)
    throw new UserError(
      `job ${jobId} is not open (status ${["None", "Open", "Claimed", "Fulfilled", "Reclaimed"][Number(job.status)]}): nothing to prove`,
    );
  const now = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  if (BigInt(now) > job.deadline) {
    throw new UserError(
      `job ${jobId} expired at ${new Date(Number(job.deadline) * 1000).toISOString()}: results are no longer accepted; the requester can take the fee back with job:reclaim`,
    );
  }
  const [commitment] = await registry.getModelVersion(job.modelId, job.modelVersion);
  if (commitment.proofSystemId !== GROTH16_BN254_V1) {
    throw new UserError(
      `wrong proof system: model ${job.modelId} v${job.modelVersion} uses proof system ${commitment.proofSystemId}, this prover makes groth16-bn254-v1 (${GROTH16_BN254_V1}) proofs only`,
    );
  }
  const name = modelNameById(rec, job.modelId) ?? input.model;
  const model = loadQuantizedModel(name);
  const x = input.input.map((v) => BigInt(v));
  const salt = BigInt(input.salt);
  const c = await inputCommitment(model, x, salt);
  if (c !== job.inputCommitment)
    throw new UserError(
      `${rel(inputFile)} does not match job ${jobId}'s input commitment (${job.inputCommitment}): ask the requester for the right input and salt`,
    );
  const log = createLog("job:prove");
  const built = await keysForRegisteredVk(
    log,
    name,
    commitment.vkHash,
    opts.ceremony !== undefined ? path.resolve(opts.ceremony) : rec.models[name]?.ceremonyDir, // recorded: relative to ROOT
    opts.ceremony !== undefined,
  );
  if (built.modelCommitment !== BigInt(commitment.modelHash)) {
    throw new UserError(
      `the local build of ${name} (commitment ${built.modelCommitment}) is not the registered model ${job.modelId} (${BigInt(commitment.modelHash)}): check out the model version that was registered`,
    );
  }
  const binding = await bindingFor(jobs, hre.ethers.provider, jobId, prover);
  const p = await log.stage(
    "prove (witness + Groth16)",
    () => proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, salt, binding),
    (r) => `${r.witnessAndProveSeconds.toFixed(2)} s, output ${r.output}`,
  );
  const out = opts.out || path.join(jobsDir(rec.network), `job-${jobId}.proof.json`);
  const file: JobProofFile = {
    format: "zkml-job-proof-v1",
    network: rec.network,
    chainId,
    jobs: rec.contracts.InferenceJobs.address,
    jobId: jobId.toString(),
    model: name,
    prover,
    output: p.output.toString(),
    proof: p.packed.bytes,
    publicSignals: p.publicSignals.map(String),
    proveSeconds: p.witnessAndProveSeconds,
  };
  ensureDir(path.dirname(out));
  fs.writeFileSync(out, JSON.stringify(file, null, 2) + "\n");
  const cls = model.classes?.[Number(p.output)];
  return {
    title: `job:prove job ${jobId} on ${rec.network}`,
    lines: [
      ["output", `${p.output}${cls ? ` (${cls})` : ""}`],
      ["prover", `${prover} (only this address can submit it)`],
      ["prove time", `${p.witnessAndProveSeconds.toFixed(2)} s`],
      ["keys", `${built.paths.ceremonyDir ? `ceremony ${rel(built.paths.ceremonyDir)}` : "dev"}, vk ${built.keys.vkHash}`],
    ],
    written: [out],
    gasUsed: 0n,
    gasCost: 0n,
    data: { output: p.output, file: out, vkHash: built.keys.vkHash, ceremonyDir: built.paths.ceremonyDir },
  };
}

/** Task `job:submit`: sends the proof; the market verifies it on-chain and credits the fee to the prover. */
export async function submitJobOp(
  hre: HardhatRuntimeEnvironment,
  opts: { job?: string; proofFile?: string; account?: string },
): Promise<TaskResult> {
  const net = await networkInfo(hre);
  if (!opts.proofFile && !opts.job) throw new UserError("give --job <id> (reads the default proof file) or --proof-file <file>");
  const proofFile = opts.proofFile || path.join(jobsDir(net.name), `job-${opts.job}.proof.json`);
  const pf = readJson<JobProofFile>(proofFile, "proof file");
  const signer = opts.account ? await signerFor(hre, opts.account) : await signerFor(hre, pf.prover);
  const { rec, jobs } = await loadSystem(hre, signer);
  if (opts.job && opts.job !== pf.jobId) throw new UserError(`${rel(proofFile)} is for job ${pf.jobId}, not job ${opts.job}`);
  if (getAddress(pf.jobs) !== getAddress(rec.contracts.InferenceJobs.address))
    throw new UserError(
      `${rel(proofFile)} is for the market at ${pf.jobs}, not this network's (${rec.contracts.InferenceJobs.address}): prove again here`,
    );
  if (getAddress(pf.prover) !== signer.address) {
    throw new UserError(
      `${rel(proofFile)} is bound to prover ${pf.prover} but you send from ${signer.address}: submit with --account ${pf.prover}, or prove again from this account`,
    );
  }
  const log = createLog("job:submit");
  const receipt = await log.stage("submit result (on-chain Groth16 verification)", async () => {
    const tx = await jobs.submitResult(BigInt(pf.jobId), BigInt(pf.output), pf.proof);
    const r = await tx.wait();
    if (!r) throw new Error("submitResult: no receipt");
    return r;
  });
  const [fulfilled, output] = await jobs.resultOf(BigInt(pf.jobId));
  const fulfilledEvent = receipt.logs
    .map((l) => {
      try {
        return jobs.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((e) => e?.name === "JobFulfilled");
  const fee = fulfilledEvent ? (fulfilledEvent.args[3] as bigint) + (fulfilledEvent.args[4] as bigint) : undefined;
  return {
    title: `job:submit job ${pf.jobId} on ${rec.network}`,
    lines: [
      ["fulfilled", String(fulfilled)],
      ["output", output.toString()],
      ["fee credited", `${formatEther(fee ?? 0n)} ETH to ${signer.address} (withdraw with prover:withdraw)`],
      ["tx", receipt.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { fulfilled, output },
  };
}

const STATUS_NAMES = ["None", "Open", "Claimed", "Fulfilled", "Reclaimed"];

/** Task `job:status`: a job's state, from the chain. */
export async function jobStatusOp(hre: HardhatRuntimeEnvironment, opts: { job: string }): Promise<TaskResult> {
  const { rec, jobs } = await loadSystem(hre);
  const jobId = BigInt(opts.job);
  const job = await jobs.getJob(jobId);
  const status = STATUS_NAMES[Number(job.status)] ?? String(job.status);
  if (status === "None")
    throw new UserError(`unknown job id ${jobId}: no job with this id on network "${rec.network}" (next id is ${await jobs.nextJobId()})`);
  const name = modelNameById(rec, job.modelId);
  let answer = "";
  if (status === "Fulfilled" && name) {
    const cls = loadQuantizedModel(name).classes?.[Number(job.output)];
    if (cls) answer = ` (${cls})`;
  }
  const now = (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;
  const claim = await jobs.claimOf(jobId);
  const lines: [string, string][] = [
    ["status", status],
    ["model", `${name ?? "?"} (id ${job.modelId}, version ${job.modelVersion})`],
    ["requester", job.requester],
    ["input commitment", job.inputCommitment.toString()],
    ["deadline", `${new Date(Number(job.deadline) * 1000).toISOString()}${BigInt(now) > job.deadline ? " (passed)" : ""}`],
    ["escrow", `${formatEther(job.escrow)} ETH`],
  ];
  if (status === "Fulfilled") lines.push(["output", `${job.output}${answer}`]);
  if (claim.claimant !== "0x0000000000000000000000000000000000000000")
    lines.push(["claim", `${claim.claimant} until ${new Date(Number(claim.leaseEnd) * 1000).toISOString()}`]);
  return {
    title: `job:status job ${jobId} on ${rec.network}`,
    lines,
    written: [],
    gasUsed: 0n,
    gasCost: 0n,
    data: { status, output: job.output },
  };
}

/** Task `job:reclaim`: after the deadline, credits an unfulfilled job's fee back to the requester. */
export async function reclaimJobOp(hre: HardhatRuntimeEnvironment, opts: { job: string; account?: string }): Promise<TaskResult> {
  const signer = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, signer);
  const tx = await jobs.reclaim(BigInt(opts.job));
  const receipt = await tx.wait();
  return {
    title: `job:reclaim job ${opts.job} on ${rec.network}`,
    lines: [
      ["requester", signer.address],
      ["note", "the fee is credited to the requester's balance: withdraw it with prover:withdraw --account <requester>"],
      ["tx", receipt?.hash ?? tx.hash],
    ],
    written: [],
    ...gasOf([receipt]),
  };
}

/** Task `prover:withdraw`: sends the account's whole available balance (fees, refunds) to it. */
export async function withdrawOp(hre: HardhatRuntimeEnvironment, opts: { account?: string }): Promise<TaskResult> {
  const signer = await signerFor(hre, opts.account);
  const { rec, jobs } = await loadSystem(hre, signer);
  const tx = await jobs.withdraw();
  const receipt = await tx.wait();
  const amount = receipt?.logs
    .map((l) => {
      try {
        return jobs.interface.parseLog(l);
      } catch {
        return null;
      }
    })
    .find((e) => e?.name === "Withdrawn")?.args[1] as bigint | undefined;
  return {
    title: `prover:withdraw on ${rec.network}`,
    lines: [
      ["account", signer.address],
      ["withdrawn", `${formatEther(amount ?? 0n)} ETH`],
      ["tx", receipt?.hash ?? tx.hash],
    ],
    written: [],
    ...gasOf([receipt]),
    data: { amount },
  };
}
