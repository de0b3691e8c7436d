/**
 * The Hardhat plugin of the package (`import "zkml-evm/hardhat"` in a consumer's hardhat.config.ts, after the
 * toolbox): what a consumer's project needs to run the test kit (./index.ts) with real proofs.
 * - Ends snarkjs' proving threads after the test run (a mocha root hook), or mocha never exits.
 * - Compiles with the `solc` npm package when the project has one of the configured version (solc-js, no download),
 *   falling back to Hardhat's own compiler download otherwise: offline CI machines work.
 * - Tasks for a development network (`npx hardhat node` and a dApp against it):
 *     zkml:deploy    deploys the market and the bundled models (the test kit's deployment), prints their addresses
 *     zkml:fulfil --jobs <address>   proves and submits every open job whose model's bundle is a local folder, once
 *                    (a local prover; on a public network run the package's `zkml prover` instead)
 */
import * as path from "path";
import { extendConfig, subtask, task } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import { releaseSnarkjs } from "../../util/snarkjs-threads";

extendConfig((config) => {
  const mocha = config.mocha as { rootHooks?: { afterAll?: (() => unknown) | (() => unknown)[] } };
  const hooks = (mocha.rootHooks ??= {});
  const before = hooks.afterAll === undefined ? [] : Array.isArray(hooks.afterAll) ? hooks.afterAll : [hooks.afterAll];
  hooks.afterAll = [...before, releaseSnarkjs];
});

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(
  async (args: { solcVersion: string; quiet: boolean }, hre, runSuper: (a: unknown) => Promise<unknown>) => {
    let pkgFile: string;
    try {
      pkgFile = require.resolve("solc/package.json", { paths: [hre.config.paths.root] });
    } catch {
      return runSuper(args);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const version = (require(pkgFile) as { version: string }).version;
    if (version !== args.solcVersion) return runSuper(args);
    const dir = path.dirname(pkgFile);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const solc = require(dir) as { version(): string };
    return { compilerPath: path.join(dir, "soljson.js"), isSolcJs: true, version, longVersion: solc.version() };
  },
);

task("zkml:deploy", "Deploys the zkml-evm market and the bundled models (iris-mlp, temp-forecast) on this network").setAction(
  async (_args: unknown, hre) => {
    const { deployInferenceKit } = await import("./index");
    const kit = await deployInferenceKit(hre);
    console.log(`InferenceJobs  ${await kit.jobs.getAddress()}`);
    console.log(`ModelRegistry  ${await kit.registry.getAddress()}`);
    for (const m of Object.values(kit.models)) console.log(`model ${m.modelId} ${m.name} v${m.version} (${m.uri})`);
    console.log(
      `prover ${await kit.prover.getAddress()} is staked; prove open jobs with: npx hardhat zkml:fulfil --jobs <InferenceJobs> --network ${hre.network.name}`,
    );
  },
);

task("zkml:fulfil", "Proves and submits every open job on models whose bundle is a local folder (a local prover, once)")
  .addParam("jobs", "The InferenceJobs address (zkml:deploy printed it)")
  .setAction(async (args: { jobs: string }, hre) => {
    const { fulfilOpenJobs, localBundles } = await import("./index");
    const { InferenceJobs__factory, ModelRegistry__factory } = await import("../../../typechain-types");
    const signers = await hre.ethers.getSigners();
    const prover = signers[signers.length - 1];
    const jobs = InferenceJobs__factory.connect(args.jobs, prover);
    const bundles = await localBundles(ModelRegistry__factory.connect(await jobs.registry(), prover));
    const bond = await jobs.claimBond();
    if ((await jobs.accountOf(await prover.getAddress())).available < bond) await (await jobs.deposit({ value: bond * 4n })).wait();
    const done = await fulfilOpenJobs(jobs, prover, bundles);
    for (const j of done)
      console.log(
        `job ${j.jobId} (model ${j.modelId}): ${j.skipped ? `skipped, ${j.skipped}` : `fulfilled, output ${j.output}, ${j.gasUsed} gas`}`,
      );
    if (done.length === 0) console.log(`no open job on the ${bundles.size} model(s) with a local bundle`);
  });
