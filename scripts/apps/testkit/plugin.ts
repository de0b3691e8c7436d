/**
 * The Hardhat plugin of the package (`import "zkml-evm/hardhat"` in a consumer's hardhat.config.ts, after the
 * toolbox): what a consumer's project needs to run the test kit (./index.ts) with real proofs.
 * - Ends snarkjs' proving threads after the test run (a mocha root hook), or mocha never exits.
 * - Compiles with the `solc` npm package when the project has one of the configured version (solc-js, no download),
 *   falling back to Hardhat's own compiler download otherwise: offline CI machines work.
 */
import * as path from "path";
import { extendConfig, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import { releaseSnarkjs } from "../../engine/prove/groth16";

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
