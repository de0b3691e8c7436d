import { HardhatUserConfig, subtask, vars } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-ethers";
import "@typechain/hardhat";
import { cliTaskName, guardCommandLine } from "./scripts/apps/tasks/cli";
import "./scripts/apps/tasks";
import { SOLC_SETTINGS } from "./scripts/engine/solc";
import { mochaHooks } from "./test/helpers/root-hooks";
// The toolbox's type extensions (hre.ignition, chai matchers...); its code is loaded below, unless the task is light.
import type {} from "@nomicfoundation/hardhat-toolbox";

/**
 * Plugins. An operator task that only talks to deployed contracts needs hardhat-ethers (and typechain, to compile on
 * a fresh clone); loading the whole toolbox (Ignition, chai matchers, gas reporter, coverage, verify) costs ~0.6 s
 * per command (docs/operators.md, "Start-up time"). Everything else (deploy, test, coverage, run, node...) loads it.
 */
const LIGHT_TASKS = new Set([
  "job:open",
  "job:prove",
  "job:submit",
  "job:status",
  "job:reclaim",
  "market:withdraw",
  "model:register",
  "model:build",
]);
const cliTask = cliTaskName();
if (!(cliTask && LIGHT_TASKS.has(cliTask))) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@nomicfoundation/hardhat-toolbox");
}

/**
 * The one Solidity compiler this project uses: the `solc` npm package (solc-js, WebAssembly),
 * pinned in package.json. Hardhat would otherwise download a compiler, which this project never does.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SOLC_VERSION: string = require("solc/package.json").version;

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string; quiet: boolean }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    // Never fall through to a download: name the fix instead.
    throw new Error(
      `solidity.version is ${args.solcVersion} but the installed solc package is ${SOLC_VERSION}; ` +
        `set solidity.version in hardhat.config.ts to ${SOLC_VERSION} (or pin solc@${args.solcVersion} in package.json).`,
    );
  }
  void runSuper;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version(),
  };
});

/**
 * Networks. RPC URLs and keys come from Hardhat configuration variables (`npx hardhat vars set NAME`) or the
 * environment, never from the repo, and are never required at load time (docs/operators.md).
 * `custom`: any EVM chain by URL (ZKML_RPC_URL); with no key it uses the node's own unlocked accounts.
 */
function configValue(name: string): string {
  return process.env[name] ?? vars.get(name, "");
}
function deployerKeys(): string[] {
  const list = process.env.ZKML_PRIVATE_KEYS ?? configValue("DEPLOYER_PRIVATE_KEY");
  return list
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
}
const customUrl = configValue("ZKML_RPC_URL");

const config: HardhatUserConfig = {
  networks: {
    hardhat: {},
    // A local `npx hardhat node`; on another port: ZKML_LOCALHOST_PORT=8546 (or `npx hardhat vars set ZKML_LOCALHOST_PORT`).
    localhost: { url: `http://127.0.0.1:${configValue("ZKML_LOCALHOST_PORT") || "8545"}` },
    sepolia: { url: configValue("SEPOLIA_RPC_URL"), accounts: deployerKeys(), chainId: 11155111 },
    baseSepolia: { url: configValue("BASE_SEPOLIA_RPC_URL"), accounts: deployerKeys(), chainId: 84532 },
    custom: { url: customUrl, accounts: deployerKeys().length > 0 ? deployerKeys() : "remote" },
  },
  etherscan: {
    // Etherscan API v2: one key for every chain it serves (sepolia, baseSepolia, ...).
    apiKey: configValue("ETHERSCAN_API_KEY"),
  },
  sourcify: { enabled: false },
  solidity: {
    version: SOLC_VERSION,
    // Shared with scripts/chain/audit-verifier.ts, which recompiles verifiers to compare deployed code.
    settings: { optimizer: { ...SOLC_SETTINGS.optimizer }, evmVersion: SOLC_SETTINGS.evmVersion },
  },
  paths: {
    sources: "./contracts",
    tests: "./test",
    cache: "./cache",
    artifacts: "./artifacts",
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    currency: "USD",
  },
  mocha: {
    timeout: 600_000,
    reporter: "test/helpers/reporter.js",
    // root hooks: a plugin file, so that a parallel run's workers get them too (test/run-all.sh); hardhat/register
    // first, so the TypeScript file loads
    require: ["hardhat/register", "./test/helpers/root-hooks.ts"],
    rootHooks: mochaHooks,
    // `--parallel` (npm test): files handed to this many worker processes as they free up
    jobs: Number(process.env.ZKML_TEST_JOBS ?? 2),
  },
};

// `npx hardhat ...` with a wrong network, task or parameter: one line with the fix instead of Hardhat's stack trace.
guardCommandLine([...new Set(["hardhat", ...Object.keys(config.networks ?? {})])], config.defaultNetwork);

export default config;
