/**
 * Task `deploy`: Ignition modules for the registry + jobs market and, per model, its verifier + adapter; writes
 * deployments/<network>.json. Re-running is idempotent (Ignition's journal; a model already recorded is kept, with
 * its model id); a core deployment that replaces another is kept in the record's history.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Provider } from "ethers";
import { getAddress } from "ethers";
import { DEFAULT_MARKET, NUM_PUBLIC_SIGNALS } from "../../chain/system";
import { VerifierAdapterFactory__factory } from "../../../typechain-types";
import { createLog } from "../../util/stage-log";
import { ROOT, rel } from "../../util/paths";
import type { BuiltModel } from "../../pipelines/build";
import { type TaskResult, networkInfo, signerFor } from "./common";
import { UserError } from "../../chain/errors";
import { type DeployedContract, type DeploymentRecord, RECORD_FORMAT, hasRecord, readRecord, writeRecord } from "./records";

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

export interface DeployOptions {
  models: string[];
  verify: boolean;
  /** Run `compile` first (default true). */
  compile?: boolean;
  account?: string;
  /** A finalised, verified phase-2 ceremony folder: deploy a verifier built from its final keys (one model). */
  ceremony?: string;
  /** The models already built by the caller (same order as `models`, dev keys): not built, nor logged, again. */
  built?: BuiltModel[];
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
  for (const m of opts.models)
    if (!fs.existsSync(path.join(ROOT, "models", m)))
      throw new UserError(
        `--models ${m}: no such model (models/${m}/ not found); bundled: ${fs.readdirSync(path.join(ROOT, "models")).join(", ")}`,
      );
  const deployer = await signerFor(hre, opts.account);
  const { buildModel } = await import("../../pipelines/build");
  const provider = hre.ethers.provider;
  if (opts.compile !== false) await log.stage("compile contracts", () => hre.run("compile", { quiet: true }));
  const built: BuiltModel[] = [];
  for (const [i, m] of opts.models.entries()) {
    const pre = keys ? undefined : opts.built?.[i];
    const b =
      pre ??
      (await log.stage(
        `build ${m}${keys ? " with ceremony keys" : ""}`,
        () => buildModel(m, { quantize: false, keys }),
        (x) => `vk ${x.keys.vkHash.slice(0, 12)}...`,
      ));
    if (b.verifierChanged) await log.stage("compile (verifier changed)", () => hre.run("compile", { quiet: true }));
    built.push(b);
  }
  const genesis = await provider.getBlock(0);
  const deploymentId = net.local ? `local-${net.chainId}-${(genesis?.hash ?? "0x00").slice(2, 10)}` : `chain-${net.chainId}`;
  const startBlock = await provider.getBlockNumber();
  const { default: CoreModule } = await import("../../../ignition/modules/Core");
  const { modelVerifierModule } = await import("../../../ignition/modules/ModelVerifier");
  const market = DEFAULT_MARKET;
  const core = await log.stage(
    "deploy VerifierAdapterFactory + ModelRegistry + OptimisticResults + InferenceJobs + InferenceSubscriptions (Ignition)",
    () => hre.ignition.deploy(CoreModule, { deploymentId, defaultSender: deployer.address, parameters: { ZkmlCore: { ...market } } }),
  );
  const factoryAddr = await core.factory.getAddress();
  const registryAddr = await core.registry.getAddress();
  const optimisticAddr = await core.optimistic.getAddress();
  const jobsAddr = await core.jobs.getAddress();
  const subscriptionsAddr = await core.subscriptions.getAddress();
  const prev = hasRecord(net.name) ? readRecord(net.name) : undefined;
  const sameCore =
    prev?.chainId === net.chainId && prev.ignitionDeploymentId === deploymentId && prev.contracts.InferenceJobs.address === jobsAddr;
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
    optimisticAddr,
    jobsAddr,
    subscriptionsAddr,
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
    market.deliveryWindow,
    market.challengeBond.toString(),
    market.challengeWindow,
    market.proofWindow,
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
        ptauSha256: v.b.keys.ptau.sha256,
        insecure: v.b.keys.insecure,
        constraints: v.b.circuit.constraints,
      },
    };
  }
  const history = [...(prev?.history ?? [])];
  if (prev && !sameCore)
    history.push({
      ModelRegistry: prev.contracts.ModelRegistry.address,
      InferenceJobs: prev.contracts.InferenceJobs.address,
      block: prev.block,
      chainId: prev.chainId,
      replacedAt: new Date().toISOString(),
    });
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
      deliveryWindow: market.deliveryWindow,
      challengeBond: market.challengeBond.toString(),
      challengeWindow: market.challengeWindow,
      proofWindow: market.proofWindow,
    },
    contracts: {
      VerifierAdapterFactory: info(factoryAddr, sameCore ? prev?.contracts.VerifierAdapterFactory : undefined, []),
      ModelRegistry: coreRegistry,
      OptimisticResults: info(optimisticAddr, sameCore ? prev?.contracts.OptimisticResults : undefined, []),
      InferenceJobs: {
        ...info(jobsAddr, sameCore ? prev?.contracts.InferenceJobs : undefined, jobsArgs),
        libraries: { OptimisticResults: optimisticAddr },
      },
      InferenceSubscriptions: info(subscriptionsAddr, sameCore ? prev?.contracts.InferenceSubscriptions : undefined, [jobsAddr]),
    },
    models,
    ...(history.length ? { history } : {}),
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
      ...(rec.contracts.OptimisticResults ? [["OptimisticResults", rec.contracts.OptimisticResults] as [string, DeployedContract]] : []),
      ["InferenceJobs", rec.contracts.InferenceJobs],
      ...(rec.contracts.InferenceSubscriptions
        ? [["InferenceSubscriptions", rec.contracts.InferenceSubscriptions] as [string, DeployedContract]]
        : []),
      ...verifiers.flatMap((v): [string, DeployedContract, string?][] => [
        [v.b.paths.verifierContract, models[v.name].verifier],
        ["Groth16VerifierAdapter", models[v.name].adapter],
      ]),
    ];
    for (const [name, c] of targets) {
      await log.stage(`verify ${name} at ${c.address} (hardhat-verify)`, () =>
        hre.run("verify:verify", { address: c.address, constructorArguments: c.constructorArgs ?? [], libraries: c.libraries ?? {} }),
      );
    }
  }
  return {
    title: `deploy on ${net.name} (chain ${net.chainId})`,
    lines: [
      ["VerifierAdapterFactory", `${factoryAddr}${created.has(factoryAddr.toLowerCase()) ? "" : " (existing)"}`],
      ["ModelRegistry", `${registryAddr}${created.has(registryAddr.toLowerCase()) ? "" : " (existing)"}`],
      ["OptimisticResults", `${optimisticAddr}${created.has(optimisticAddr.toLowerCase()) ? "" : " (existing)"}`],
      ["InferenceJobs", `${jobsAddr}${created.has(jobsAddr.toLowerCase()) ? "" : " (existing)"}`],
      [
        "InferenceSubscriptions",
        `${subscriptionsAddr}${created.has(subscriptionsAddr.toLowerCase()) ? "" : " (existing)"} (PROVER_SUBSCRIPTIONS_ADDRESS)`,
      ],
      ...verifiers.flatMap((v): [string, string][] => [
        [`${v.name} verifier`, `${v.verifier} (${v.b.paths.verifierContract})`],
        [`${v.name} adapter`, v.adapter],
        [
          `${v.name} keys`,
          `${v.b.paths.ceremonyDir ? `ceremony ${rel(v.b.paths.ceremonyDir)}` : `dev-INSECURE ${rel(v.b.keys.zkey)}`}, vk ${v.b.keys.vkHash}`,
        ],
      ]),
      ...(verifiers.some((v) => v.b.keys.insecure)
        ? [
            [
              "WARNING",
              `INSECURE dev keys for ${verifiers
                .filter((v) => v.b.keys.insecure)
                .map((v) => v.name)
                .join(
                  ", ",
                )}: their secrets are public, anyone can forge proofs; for production deploy with --ceremony <dir> (docs/trusted-setup.md)`,
            ] as [string, string],
          ]
        : []),
      ["ignition journal", net.name === "hardhat" ? "none (in-process network)" : `ignition/deployments/${deploymentId}/`],
    ],
    written: [file],
    gasUsed,
    gasCost,
    data: { record: rec },
  };
}
