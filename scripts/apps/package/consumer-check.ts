/**
 * `npm run package:check` (in CI): the package as a protocol developer meets it. Packs the tarball (after
 * `npm run build:package`), checks its budget (size, no tests, benchmark output or large files), lints it with publint
 * and arethetypeswrong, then creates a fresh Hardhat project in a temporary folder, installs the tarball with Hardhat
 * and the toolbox (the versions docs/consumers.md names), writes a consumer contract on the base contract and a test
 * that uses the test kit, and runs that test: it must get a verified inference with a real proof. Prints the figures
 * the front-door issue targets: consumer lines, test lines, commands, tarball size, time to the first green test.
 * Exits 1 on any failure. Needs the npm registry (or a warm npm cache) for the fresh project's install.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../../util/paths";
import { commandLine } from "../../util/args";
import { TARBALL_BUDGET_BYTES } from "./contents";
import { freePort } from "../../chain/local-node";
import { HDNodeWallet } from "ethers";

/** What a consumer's project installs besides the package (docs/consumers.md, "Supported versions"). */
export const CONSUMER_DEV_DEPENDENCIES = {
  hardhat: "2.29.1",
  "@nomicfoundation/hardhat-toolbox": "6.1.2",
  solc: "0.8.28",
  // Hardhat 2 runs TypeScript through ts-node, which needs the TypeScript 5 API (npm would pick TypeScript 7 today)
  typescript: "5.9.3",
} as const;

/** The consumer contract a user writes (the check counts its lines). */
export const CONSUMER_CONTRACT = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {InferenceConsumer, IInferenceJobs} from "zkml-evm/contracts/consumer/InferenceConsumer.sol";

contract IrisGate is InferenceConsumer {
    uint256 public lastClass;
    constructor(IInferenceJobs jobs, uint256 modelId) InferenceConsumer(jobs, modelId, 1) {}
    function ask(uint256 commitment, string calldata uri) external payable returns (uint256) {
        return _requestInference(commitment, uri, msg.value, uint64(block.timestamp + 1 hours));
    }
    function _onInferenceResult(uint256, uint256 output, bool isLatest) internal override {
        if (isLatest) lastClass = output;
    }
}
`;

/** Its test: one fixture call, a request, the kit proving it, the verified class. */
export const CONSUMER_TEST = `import hre, { ethers } from "hardhat";
import { expect } from "chai";
import { deployInferenceKit } from "zkml-evm/testing";

it("classifies an iris flower with a verified proof", async () => {
  const kit = await deployInferenceKit(hre);
  const gate = await ethers.deployContract("IrisGate", [kit.jobs, kit.modelId("iris-mlp")]);
  const input = await kit.client.commitInput(kit.modelId("iris-mlp"), { raw: [5.1, 3.5, 1.4, 0.2] });
  await gate.ask(input.inputCommitment, input.inputURI, { value: ethers.parseEther("0.01") });
  const [job] = await kit.fulfilJobs();
  expect(job.output).to.equal(0n); // setosa, proven by a real Groth16 proof
  expect(await gate.lastClass()).to.equal(0n);
});
`;

/**
 * A script run in the fresh project with `hardhat run`: the SDK's open -> result time for iris on the in-process
 * network (kit proving), and an own ONNX model published from the installed package (import, circuit compile, keys,
 * bundle, registration) and proven.
 */
const SDK_SCRIPT = (onnx: string, calibration: string) => `import hre from "hardhat";
import { deployInferenceKit } from "zkml-evm/testing";

async function main() {
  const kit = await deployInferenceKit(hre, { onnx: [{ onnx: ${JSON.stringify(onnx)}, calibration: ${JSON.stringify(calibration)}, name: "own-mlp" }] });
  const iris = kit.modelId("iris-mlp");
  await kit.client.modelCard(iris);
  const t0 = Date.now();
  const job = await kit.client.openJob({ modelId: iris, input: { raw: [6.7, 3.0, 5.2, 2.3] }, fee: 10n ** 16n });
  await kit.fulfilJobs();
  const r = await kit.client.waitForResult(job.jobId, { pollMs: 20 });
  const ms = Date.now() - t0;
  const own = await kit.client.openJob({ modelId: kit.modelId("own-mlp"), input: { raw: [1.7, 2.7, 0.46, -2.29, 0.035] }, fee: 10n ** 16n });
  await kit.fulfilJobs();
  const o = await kit.client.waitForResult(own.jobId, { pollMs: 20 });
  console.log("SDK_TIMING " + JSON.stringify({ openToResultMs: ms, irisLabel: r.label, ownClass: o.class }));
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

const CONFIG = `import "@nomicfoundation/hardhat-toolbox";
import "zkml-evm/hardhat";
export default { solidity: "${CONSUMER_DEV_DEPENDENCIES.solc}" };
`;

/** The tsconfig.json `npx hardhat init` writes for a TypeScript project (part of the fresh project, not the consumer's code). */
const HARDHAT_TSCONFIG = {
  compilerOptions: {
    target: "es2020",
    module: "commonjs",
    esModuleInterop: true,
    forceConsistentCasingInFileNames: true,
    strict: true,
    skipLibCheck: true,
    resolveJsonModule: true,
  },
};

/** Lines that hold code (not blank, not only a comment). */
export function codeLines(src: string): number {
  return src.split("\n").filter((l) => l.trim() !== "" && !/^\s*\/\//.test(l)).length;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${err.stdout ?? ""}${err.stderr ?? ""}`.slice(0, 8000));
  }
}

interface PackFile {
  path: string;
  size: number;
}

/**
 * The development loop on a `hardhat node` in the fresh project: the plugin's `zkml:deploy`, a job opened with the
 * package's `zkml` bin, the plugin's `zkml:fulfil` proving it, and `zkml job status` reading the verified class.
 * @returns A problem, or undefined.
 */
async function devLoop(project: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const port = await freePort();
  fs.writeFileSync(
    path.join(project, "hardhat.dev.config.ts"),
    `import config from "./hardhat.config";\nexport default { ...config, networks: { dev: { url: "http://127.0.0.1:${port}" } } };\n`,
  );
  // the project's hardhat binary itself (no npx in between), in a process group of its own, ended as a whole
  const node = spawn(path.join(project, "node_modules", ".bin", "hardhat"), ["node", "--port", String(port)], {
    cwd: project,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`hardhat node did not start in 120 s:\n${log}`)), 120_000);
      node.stdout.on("data", (d: Buffer) => {
        log += d.toString();
        if (log.includes("Started HTTP")) {
          clearTimeout(t);
          resolve();
        }
      });
      node.on("exit", (code) => reject(new Error(`hardhat node exited (${code}):\n${log}`)));
    });
    const hh = (...args: string[]) =>
      run("npx", ["hardhat", "--config", "hardhat.dev.config.ts", ...args, "--network", "dev"], project, env);
    const deployed = hh("zkml:deploy");
    const jobs = /^InferenceJobs\s+(0x[0-9a-fA-F]{40})$/m.exec(deployed)?.[1];
    if (!jobs) return `zkml:deploy printed no InferenceJobs address:\n${deployed}`;
    // account 1 of the public test mnemonic hardhat node funds (never a real key)
    const requesterKey = HDNodeWallet.fromPhrase(
      "test test test test test test test test test test test junk",
      undefined,
      "m/44'/60'/0'/0/1",
    ).privateKey;
    const zenv = {
      ...env,
      ZKML_RPC_URL: `http://127.0.0.1:${port}`,
      ZKML_JOBS_ADDRESS: jobs,
      ZKML_PRIVATE_KEY: requesterKey,
    };
    const opened = run("npx", ["zkml", "job", "open", "--model", "1", "--raw", "5.1,3.5,1.4,0.2", "--fee", "0.01"], project, zenv);
    const jobId = /^job (\d+) opened/m.exec(opened)?.[1];
    if (!jobId) return `zkml job open printed no job id:\n${opened}`;
    const fulfilled = hh("zkml:fulfil", "--jobs", jobs);
    if (!new RegExp(`^job ${jobId} \\(model 1\\): fulfilled, output 0`, "m").test(fulfilled))
      return `zkml:fulfil did not prove job ${jobId}:\n${fulfilled}`;
    const status = run("npx", ["zkml", "job", "status", "--job", jobId], project, zenv);
    if (!status.startsWith(`job ${jobId} fulfilled: class 0 (setosa)`)) return `zkml job status: ${status}`;
    return undefined;
  } finally {
    try {
      process.kill(-node.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    node.stdout.destroy();
    node.stderr.destroy();
  }
}

async function main(): Promise<void> {
  const { values: o } = commandLine(process.argv.slice(2), { keep: { type: "boolean" } }, "usage: npm run package:check [-- --keep]");
  if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) throw new Error("dist/ is missing: run npm run build:package first");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-package-check-"));
  const problems: string[] = [];

  // 1. the tarball and its budget
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], ROOT)) as {
    filename: string;
    size: number;
    unpackedSize: number;
    files: PackFile[];
  }[];
  const tarball = path.join(work, packed[0].filename);
  const { size, unpackedSize, files } = packed[0];
  if (size > TARBALL_BUDGET_BYTES) problems.push(`tarball is ${size} bytes, over the budget of ${TARBALL_BUDGET_BYTES}`);
  for (const f of files) {
    if (/^(test|bench|build|models|circuits\/models|scripts|coverage)\//.test(f.path))
      problems.push(`tarball holds ${f.path} (tests, benchmark, sources or build output)`);
    if (f.size > 2 * 2 ** 20) problems.push(`tarball holds ${f.path} of ${f.size} bytes (over 2 MiB)`);
  }

  // 2. package lint
  run("npx", ["publint", "--strict", tarball], ROOT);
  run("npx", ["attw", tarball], ROOT);

  // 3. a fresh Hardhat project: install (command 1), write the two files, test (command 2)
  const project = path.join(work, "consumer");
  fs.mkdirSync(path.join(project, "contracts"), { recursive: true });
  fs.mkdirSync(path.join(project, "test"));
  fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }, null, 2));
  fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(HARDHAT_TSCONFIG, null, 2));
  const t0 = Date.now();
  const deps = Object.entries(CONSUMER_DEV_DEPENDENCIES).map(([n, v]) => `${n}@${v}`);
  run("npm", ["install", "--save-dev", "--no-audit", "--no-fund", "--prefer-offline", tarball, ...deps], project);
  const installSeconds = (Date.now() - t0) / 1000;
  fs.writeFileSync(path.join(project, "hardhat.config.ts"), CONFIG);
  fs.writeFileSync(path.join(project, "contracts", "IrisGate.sol"), CONSUMER_CONTRACT);
  fs.writeFileSync(path.join(project, "test", "IrisGate.test.ts"), CONSUMER_TEST);
  const t1 = Date.now();
  const env = { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true", CI: "true" };
  const out = run("npx", ["hardhat", "test"], project, env);
  const testSeconds = (Date.now() - t1) / 1000;
  if (!/1 passing/.test(out)) problems.push(`the consumer's test did not pass:\n${out.slice(-2000)}`);

  // 4. the SDK's open -> result time, and an own ONNX model published from the installed package
  const fx = (f: string) => path.join(ROOT, "test", "fixtures", "onnx", f);
  fs.mkdirSync(path.join(project, "scripts"));
  fs.writeFileSync(path.join(project, "scripts", "sdk.ts"), SDK_SCRIPT(fx("bn1d-mlp.onnx"), fx("bn1d-mlp.calib.npy")));
  const timing = /SDK_TIMING (.*)/.exec(run("npx", ["hardhat", "run", "scripts/sdk.ts"], project, env));
  const sdk = timing ? (JSON.parse(timing[1]) as { openToResultMs: number; irisLabel: string; ownClass: number }) : undefined;
  if (!sdk || sdk.irisLabel !== "virginica" || !Number.isInteger(sdk.ownClass))
    problems.push(`the SDK script did not report a proven result: ${timing?.[1]}`);

  // 5. the development loop: plugin tasks on a hardhat node, the bin as the requester
  const dev = await devLoop(project, env);
  if (dev) problems.push(`development loop: ${dev}`);

  // 6. every entry point loads from the installed package, as CommonJS and as ESM; the bin runs
  const load = `const ids = ["zkml-evm", "zkml-evm/node", "zkml-evm/testing"];
    for (const id of ids) require(id);
    Promise.all(ids.map((id) => import(id))).then((ms) => {
      if (typeof ms[0].InferenceClient !== "function") throw new Error("no InferenceClient in the ESM root export");
      console.log("LOADED " + ids.length);
    });`;
  if (!/LOADED 3/.test(run(process.execPath, ["-e", load], project))) problems.push("an entry point did not load");
  const help = run("npx", ["zkml", "--help"], project);
  if (!/^usage: zkml <command>/.test(help)) problems.push(`zkml --help printed: ${help.slice(0, 200)}`);
  try {
    run("npx", ["zkml", "prover"], project, { ...env, PROVER_PRIVATE_KEY: "" });
    problems.push("zkml prover without configuration did not fail");
  } catch (e) {
    if (!/error: PROVER_PRIVATE_KEY is not set/.test((e as Error).message))
      problems.push(`zkml prover without configuration: ${(e as Error).message.slice(0, 300)}`);
  }

  const figures = {
    consumerContractLines: codeLines(CONSUMER_CONTRACT),
    consumerTestLines: codeLines(CONSUMER_TEST),
    commands: 2,
    tarballBytes: size,
    unpackedBytes: unpackedSize,
    files: files.length,
    installSeconds,
    firstTestSeconds: testSeconds,
    sdkOpenToResultMs: sdk?.openToResultMs,
  };
  const targets: [string, boolean][] = [
    [`consumer contract ${figures.consumerContractLines} lines (target <= 15)`, figures.consumerContractLines <= 15],
    [`consumer test ${figures.consumerTestLines} lines (target <= 15)`, figures.consumerTestLines <= 15],
    [`install to first green test in ${figures.commands} commands (target <= 3)`, figures.commands <= 3],
    [`tarball ${(size / 2 ** 20).toFixed(2)} MiB (target <= 3)`, size <= TARBALL_BUDGET_BYTES],
    [
      `SDK open -> result for iris on the in-process network ${sdk?.openToResultMs} ms (target < 2000)`,
      (sdk?.openToResultMs ?? Infinity) < 2000,
    ],
  ];
  for (const [line, ok] of targets) console.log(`${ok ? "ok  " : "MISS"} ${line}`);
  console.log(
    `install ${installSeconds.toFixed(1)} s, first test run ${testSeconds.toFixed(1)} s, ${files.length} files (${(unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked)`,
  );
  console.log(`PACKAGE_CHECK ${JSON.stringify(figures)}`);
  if (!o.keep) fs.rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  for (const t of targets) if (!t[1]) problems.push(`target missed: ${t[0]}`);
  if (problems.length) {
    for (const p of problems) console.error(`error: ${p}`);
    process.exit(1);
  }
}

if (require.main === module)
  main().catch((e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  });
