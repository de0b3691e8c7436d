/**
 * Operator tasks (issue 6). Each is a thin shell over a function in ./lib.ts (or scripts/setup/ceremony.ts) that the
 * tests call too. Nothing here imports typechain-types or snarkjs at config-load time: a fresh clone has no
 * typechain-types before `compile`, so every action imports lazily.
 * Errors: one line naming the problem and the fix (./errors.ts), non-zero exit.
 */
import { task, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { TaskResult } from "./lib";

const PLUGIN = "zkml-evm";

/** Runs a task body: prints its result, turns any error into one line, releases snarkjs' workers. */
async function run(hre: HardhatRuntimeEnvironment, body: () => Promise<TaskResult>, name = ""): Promise<TaskResult> {
  const { describeError } = await import("./errors");
  try {
    const r = await body();
    const { formatResult } = await import("./lib");
    console.log(formatResult(r));
    return r;
  } catch (e) {
    let interfaces;
    try {
      interfaces = (await import("./lib")).contractInterfaces();
    } catch {
      interfaces = undefined; // no typechain-types yet
    }
    const url = (hre.network.config as { url?: string }).url;
    const message = describeError(e, { network: hre.network.name, url, interfaces });
    // Run from the command line (`npx hardhat <task>`): one line and a non-zero exit. Hardhat itself would add a stack
    // trace on any Linux machine without a display (it treats those as CI). In-process (hre.run) callers get a throw.
    if (name && process.argv.includes(name) && !process.argv.includes("--show-stack-traces")) {
      console.error(`error: ${message}`);
      process.exitCode = 1;
      return { title: "", lines: [], written: [], gasUsed: 0n, gasCost: 0n, data: { error: message } };
    }
    throw new HardhatPluginError(PLUGIN, message);
  } finally {
    const { releaseSnarkjs } = await import("../prove/groth16");
    await releaseSnarkjs();
  }
}

const ACCOUNT = "Sender: an account index of the network (0, 1, ...) or one of its addresses";

task("model:build", "Builds a bundled model: quantize, circuit, compile, dev powers of tau, Groth16 setup, Solidity verifier")
  .addOptionalParam("model", "Model name (folder under models/)", "iris-mlp")
  .addFlag("noQuantize", "Keep the committed quantized model (skip re-quantizing the float model)")
  .setAction(async (a: { model: string; noQuantize: boolean }, hre) =>
    run(hre, async () => (await import("./lib")).buildModelOp(a.model, !a.noQuantize), "model:build"),
  );

task(
  "deploy",
  "Deploys ModelRegistry + InferenceJobs (and per model its verifier + adapter) with Hardhat Ignition; writes deployments/<network>.json",
)
  .addOptionalParam("models", "Comma list of models whose verifier + adapter to deploy, e.g. iris-mlp", "")
  .addFlag("verify", "Verify the contracts' sources on the network's explorer (hardhat-verify; needs ETHERSCAN_API_KEY)")
  .addFlag("noCompile", "Skip `compile` (the artifacts are up to date)")
  .addOptionalParam("account", ACCOUNT, "")
  .addOptionalParam(
    "ceremony",
    "Finalised + verified phase-2 ceremony folder (setup:verify): build the verifier from its final keys instead of the dev keys (one model)",
    "",
  )
  .setAction(async (a: { models: string; verify: boolean; noCompile: boolean; account: string; ceremony: string }, hre) =>
    run(
      hre,
      async () =>
        (await import("./lib")).deployOp(hre, {
          models: a.models
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          verify: a.verify,
          compile: !a.noCompile,
          account: a.account || undefined,
          ceremony: a.ceremony || undefined,
        }),
      "deploy",
    ),
  );

task("model:register", "Registers a deployed model (ERC-7992 commitment + verifier adapter) and records its model id")
  .addOptionalParam("model", "Model name (deployed with deploy --models)", "iris-mlp")
  .addOptionalParam("proofSystem", "ERC-7992 proof system name; must match the adapter", "groth16-bn254-v1")
  .addOptionalParam("uri", "Metadata URI stored in the commitment (default: zkml:<model>?vk=<vkHash>)", "")
  .addOptionalParam("account", `${ACCOUNT}; becomes the model owner`, "")
  .setAction(async (a: { model: string; proofSystem: string; uri: string; account: string }, hre) =>
    run(
      hre,
      async () =>
        (await import("./lib")).registerOp(hre, {
          model: a.model,
          proofSystem: a.proofSystem,
          uri: a.uri || undefined,
          account: a.account || undefined,
        }),
      "model:register",
    ),
  );

task(
  "job:open",
  "Opens an inference job: commits to a quantized input with a salt, escrows the fee; writes the job input file for the prover",
)
  .addOptionalParam("model", "Registered model name", "iris-mlp")
  .addParam("input", 'Quantized input: a JSON file (array or {"input": [...]}) or a comma list, e.g. -462,404,-653,-681')
  .addOptionalParam("salt", "Commitment salt (decimal or 0x-hex, below the field); random when omitted", "")
  .addOptionalParam("fee", "Fee in ETH, escrowed until the result", "0.01")
  .addOptionalParam("deadlineIn", "Seconds from now until the deadline", 3600, types.int)
  .addOptionalParam("inputUri", "Where provers find the input (emitted in JobOpened, not stored)", "")
  .addOptionalParam("out", "Job input file to write (default deployments/jobs/<network>/job-<id>.input.json)", "")
  .addOptionalParam("account", `${ACCOUNT}; the requester`, "")
  .setAction(
    async (
      a: { model: string; input: string; salt: string; fee: string; deadlineIn: number; inputUri: string; out: string; account: string },
      hre,
    ) =>
      run(
        hre,
        async () =>
          (await import("./lib")).openJobOp(hre, {
            ...a,
            salt: a.salt || undefined,
            inputUri: a.inputUri || undefined,
            out: a.out || undefined,
            account: a.account || undefined,
          }),
        "job:open",
      ),
  );

task("job:prove", "Proves a job's inference (Groth16), bound to this chain, market, job and prover; writes a proof JSON")
  .addParam("job", "Job id")
  .addOptionalParam("inputFile", "Job input file from job:open (default deployments/jobs/<network>/job-<id>.input.json)", "")
  .addOptionalParam("account", `${ACCOUNT}; the prover who will submit`, "")
  .addOptionalParam("prover", "Prover address to bind the proof to (instead of --account; no key needed)", "")
  .addOptionalParam("out", "Proof file to write (default deployments/jobs/<network>/job-<id>.proof.json)", "")
  .addOptionalParam(
    "ceremony",
    "Ceremony folder whose final keys to prove with (default: the keys recorded by deploy, matched to the registered vk hash)",
    "",
  )
  .setAction(async (a: { job: string; inputFile: string; account: string; prover: string; out: string; ceremony: string }, hre) =>
    run(
      hre,
      async () =>
        (await import("./lib")).proveJobOp(hre, {
          job: a.job,
          inputFile: a.inputFile || undefined,
          account: a.account || undefined,
          prover: a.prover || undefined,
          out: a.out || undefined,
          ceremony: a.ceremony || undefined,
        }),
      "job:prove",
    ),
  );

task("job:submit", "Submits a proof; the market verifies it on-chain and credits the fee to the prover")
  .addOptionalParam("job", "Job id (reads deployments/jobs/<network>/job-<id>.proof.json)", "")
  .addOptionalParam("proofFile", "Proof file from job:prove", "")
  .addOptionalParam("account", `${ACCOUNT}; default: the prover named in the proof file`, "")
  .setAction(async (a: { job: string; proofFile: string; account: string }, hre) =>
    run(
      hre,
      async () =>
        (await import("./lib")).submitJobOp(hre, {
          job: a.job || undefined,
          proofFile: a.proofFile || undefined,
          account: a.account || undefined,
        }),
      "job:submit",
    ),
  );

task("job:status", "Shows a job: status, model, deadline, escrow, verified output")
  .addParam("job", "Job id")
  .setAction(async (a: { job: string }, hre) => run(hre, async () => (await import("./lib")).jobStatusOp(hre, a), "job:status"));

task("job:reclaim", "After its deadline, credits an unfulfilled job's fee back to the requester")
  .addParam("job", "Job id")
  .addOptionalParam("account", `${ACCOUNT}; the requester`, "")
  .setAction(async (a: { job: string; account: string }, hre) =>
    run(hre, async () => (await import("./lib")).reclaimJobOp(hre, { job: a.job, account: a.account || undefined }), "job:reclaim"),
  );

task("prover:withdraw", "Withdraws the account's available balance (prover fees, requester refunds) from the market")
  .addOptionalParam("account", ACCOUNT, "")
  .setAction(async (a: { account: string }, hre) =>
    run(hre, async () => (await import("./lib")).withdrawOp(hre, { account: a.account || undefined }), "prover:withdraw"),
  );

// ---- production trusted setup (docs/trusted-setup.md) ----

function ceremonyResult(title: string, lines: [string, string][], written: string[]): TaskResult {
  return { title, lines, written, gasUsed: 0n, gasCost: 0n };
}

task("setup:import-ptau", "Verifies a ceremony powers-of-tau file (snarkjs powersoftau verify) and imports it into the cache")
  .addParam("file", "The .ptau file you downloaded (e.g. powersOfTau28_hez_final_12.ptau)")
  .addOptionalParam("sha256", "Expected SHA-256 of the file, as published by the ceremony", "")
  .setAction(async (a: { file: string; sha256: string }, hre) =>
    run(
      hre,
      async () => {
        const { importCeremonyPtau } = await import("../setup/ceremony");
        const { createLog } = await import("../lib/log");
        const p = await importCeremonyPtau(a.file, { expectedSha256: a.sha256 || undefined, log: createLog("setup:import-ptau").info });
        return ceremonyResult(
          "setup:import-ptau",
          [
            ["power", String(p.power)],
            ["sha256", p.sha256],
            ["verified", "yes (every contribution)"],
          ],
          [p.file],
        );
      },
      "setup:import-ptau",
    ),
  );

task("setup:contribute", "Adds a phase-2 contribution to a model's ceremony (the first call starts it from --ptau)")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addOptionalParam("ptau", "Ceremony ptau (first contribution only; imported and verified first)", "")
  .addOptionalParam("name", "Contributor name recorded in the zkey", "anonymous")
  .addOptionalParam("entropy", "Your secret randomness (random bytes when omitted; never stored)", "")
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", "")
  .setAction(async (a: { model: string; ptau: string; name: string; entropy: string; dir: string }, hre) =>
    run(
      hre,
      async () => {
        const c = await import("../setup/ceremony");
        const { createLog } = await import("../lib/log");
        const log = createLog("setup:contribute");
        const dir = a.dir || c.ceremonyDir(a.model);
        let extra = {};
        const fs = await import("fs");
        const path = await import("path");
        if (!fs.existsSync(path.join(dir, "manifest.json"))) {
          if (!a.ptau)
            throw new (await import("./errors")).UserError(
              "the first contribution needs --ptau <ceremony file> (imported and verified first)",
            );
          const { buildModel } = await import("../model/build");
          const built = await log.stage(`build ${a.model}`, () => buildModel(a.model, { quantize: false }));
          const ptau = await log.stage("import + verify ptau", () => c.importCeremonyPtau(a.ptau, { log: log.info }));
          extra = { r1cs: built.circuit.r1cs, ptau, circuit: a.model };
        }
        const r = await log.stage("contribute", () =>
          c.contribute(dir, { name: a.name, entropy: a.entropy || undefined, log: log.info, ...extra }),
        );
        return ceremonyResult(
          `setup:contribute ${a.model}`,
          [
            ["contribution", `#${r.contribution.index} by ${r.contribution.name}`],
            ["contribution hash", r.contribution.contributionHash ?? "?"],
            ["zkey sha256", r.contribution.zkeySha256],
          ],
          [path.join(dir, r.contribution.zkey), r.file],
        );
      },
      "setup:contribute",
    ),
  );

task("setup:beacon", "Finalises a model's ceremony with a public beacon (e.g. a future block hash fixed in advance)")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addParam("beaconHash", "Beacon value, hex")
  .addOptionalParam("iterations", "Beacon iterations exponent (2^n hash rounds)", 10, types.int)
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", "")
  .setAction(async (a: { model: string; beaconHash: string; iterations: number; dir: string }, hre) =>
    run(
      hre,
      async () => {
        const c = await import("../setup/ceremony");
        const dir = a.dir || c.ceremonyDir(a.model);
        const r = await c.applyBeacon(dir, { beaconHash: a.beaconHash, iterationsExp: a.iterations });
        return ceremonyResult(
          `setup:beacon ${a.model}`,
          [
            ["beacon", a.beaconHash],
            ["final zkey sha256", r.manifest.contributions.at(-1)?.zkeySha256 ?? ""],
          ],
          [r.zkey, r.file],
        );
      },
      "setup:beacon",
    ),
  );

task("setup:verify", "Verifies a model's final zkey against its r1cs and ptau (snarkjs zkey verify); records the vk hash in the manifest")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", "")
  .setAction(async (a: { model: string; dir: string }, hre) =>
    run(
      hre,
      async () => {
        const c = await import("../setup/ceremony");
        const path = await import("path");
        const dir = a.dir || c.ceremonyDir(a.model);
        const r = await c.verifyCeremony(dir);
        const f = r.manifest.final;
        return ceremonyResult(
          `setup:verify ${a.model}`,
          [
            ["verified", "yes (zkey verify against r1cs + ptau)"],
            ["vk hash", f?.vkHash ?? ""],
            ["contributions", String(r.manifest.contributions.length - 2)],
          ],
          [path.join(dir, f?.vkeyFile ?? ""), r.file],
        );
      },
      "setup:verify",
    ),
  );
