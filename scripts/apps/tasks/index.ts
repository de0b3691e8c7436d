/**
 * Operator tasks. Each is a thin shell over a function in one module per task group (./model.ts, ./deploy.ts,
 * the job tasks in ./job-open.ts, ./job-deliver.ts, ./job-prove.ts and ./jobs.ts, the subscription tasks in
 * ./subscriptions.ts; the ceremony in scripts/engine/setup/ceremony.ts) that the tests call too. Nothing here imports
 * typechain-types or snarkjs at config-load time, and a task that needs the bindings compiles first when they are
 * missing (a fresh clone), so every task works as the first command.
 * Errors: one line naming the problem and the fix (./errors.ts), non-zero exit; Hardhat's own argument and network
 * errors are turned into one line too (./cli.ts, called from hardhat.config.ts).
 * Size (about 550 lines), kept in one file: the task
 * declarations (names, parameters, help), so `npx hardhat --help` and this file list the same thing.
 */
import * as fs from "fs";
import * as path from "path";
import { extendProvider, task, types } from "hardhat/config";
import { HardhatPluginError, ProviderWrapper } from "hardhat/plugins";
import type { CLIArgumentType, EIP1193Provider, HardhatRuntimeEnvironment, RequestArguments } from "hardhat/types";
import { ROOT } from "../../util/paths";
import { cliTaskName } from "./cli";
import type { TaskResult } from "./common";

const PLUGIN = "zkml-evm";

/**
 * Every network but the in-process one goes through a provider that survives a dropped connection (issue 28 point 4,
 * scripts/chain/rpc.ts `RetryingEip1193`): reads retried with backoff, a transaction never sent twice. Retries are
 * logged on stderr, one line each.
 */
class RetryingProvider extends ProviderWrapper {
  private readonly retrying: { request(args: RequestArguments): Promise<unknown> };
  constructor(wrapped: EIP1193Provider, make: (p: EIP1193Provider) => { request(args: RequestArguments): Promise<unknown> }) {
    super(wrapped);
    this.retrying = make(wrapped);
  }
  request(args: RequestArguments): Promise<unknown> {
    return this.retrying.request(args);
  }
}

extendProvider(async (provider, _config, network) => {
  if (network === "hardhat") return provider;
  const { RetryingEip1193 } = await import("../../chain/rpc");
  return new RetryingProvider(
    provider,
    (p) =>
      new RetryingEip1193(p, {
        // a dropped connection or a restarting node: about 2-4 s of retries, then the one-line error
        attempts: 5,
        maxDelayMs: 2_000,
        onRetry: (r) => console.error(`[rpc] ${r.method}: ${r.error}; retrying in ${r.delayMs} ms (attempt ${r.attempt + 1})`),
      }),
  );
});

/** True when `name` is the task this process was started for (`npx hardhat <name> ...`), not an in-process hre.run. */
function fromCli(name: string): boolean {
  return name !== "" && cliTaskName() === name;
}

interface RunOptions {
  /** The task uses the contracts' typechain bindings (compiled first on a fresh clone). */
  chain?: boolean;
}

/** Runs a task body: prints its result, turns any error into one line, releases snarkjs' workers. */
async function run(hre: HardhatRuntimeEnvironment, name: string, body: () => Promise<TaskResult>, o: RunOptions = {}): Promise<TaskResult> {
  const { describeError, UserError } = await import("../../chain/errors");
  try {
    if (o.chain && hre.network.name === "hardhat" && fromCli(name))
      throw new UserError(
        `--network hardhat is an in-process chain that ends with this command, so nothing could use what ${name} does there: start \`npx hardhat node\` in another terminal and pass --network localhost (port: ZKML_LOCALHOST_PORT, default 8545)`,
      );
    if (o.chain && !fs.existsSync(path.join(ROOT, "typechain-types", "index.ts"))) {
      console.error(`[${name}] first run in this clone: compiling the contracts (typechain bindings)`);
      await hre.run("compile", { quiet: true });
    }
    const r = await body();
    const { formatResult } = await import("./common");
    console.log(formatResult(r));
    return r;
  } catch (e) {
    let interfaces;
    try {
      interfaces = await (await import("./common")).contractInterfaces();
    } catch {
      interfaces = undefined; // no typechain-types yet
    }
    const url = (hre.network.config as { url?: string }).url;
    const message = describeError(e, { network: hre.network.name, url, interfaces });
    // Run from the command line (`npx hardhat <task>`): one line and a non-zero exit. Hardhat itself would add a stack
    // trace on any Linux machine without a display (it treats those as CI). In-process (hre.run) callers get a throw.
    if (fromCli(name) && !process.argv.includes("--show-stack-traces")) {
      console.error(`error: ${message}`);
      process.exitCode = 1;
      return { title: "", lines: [], written: [], gasUsed: 0n, gasCost: 0n, data: { error: message } };
    }
    throw new HardhatPluginError(PLUGIN, message);
  } finally {
    if ((globalThis as { curve_bn128?: unknown }).curve_bn128) {
      const { releaseSnarkjs } = await import("../../util/snarkjs-threads");
      await releaseSnarkjs();
    }
  }
}

/**
 * A job id: parsed like an int on the command line (a non-integer is Hardhat's HH301, reported in one line by
 * ./cli.ts); in-process callers may pass a number or a decimal string. Its range is checked by common.parseJobId.
 */
const jobIdType: CLIArgumentType<number | string> = {
  name: "int",
  parse: (name, value) => types.int.parse(name, value),
  validate: () => undefined,
};

const ACCOUNT = "Sender: an account index of the network (0, 1, ...) or one of its addresses";
const JOB = "Job id (integer, as job:open printed it)";

task("model:build", "Builds a bundled model: quantize, circuit, compile, powers of tau, Groth16 setup, Solidity verifier")
  .addOptionalParam("model", "Model name (folder under models/)", "iris-mlp")
  .addOptionalParam(
    "ptau",
    "A ceremony powers-of-tau file to use instead of the dev one (verified first); default: the dev ptau",
    undefined,
  )
  .addFlag("noQuantize", "Keep the committed quantized model (skip re-quantizing the float model)")
  .setAction(async (a: { model: string; ptau?: string; noQuantize: boolean }, hre) =>
    run(hre, "model:build", async () => (await import("./model")).buildModelOp(a.model, { quantize: !a.noQuantize, ptau: a.ptau })),
  );

task(
  "deploy",
  "Deploys ModelRegistry + InferenceJobs (and per model its verifier + adapter) with Hardhat Ignition; writes deployments/<network>.json",
)
  .addOptionalParam(
    "models",
    "Comma list of models whose verifier + adapter to deploy, e.g. iris-mlp (default: none, the registry and market only)",
    undefined,
  )
  .addFlag("verify", "Verify the contracts' sources on the network's explorer (hardhat-verify; needs ETHERSCAN_API_KEY)")
  .addFlag("noCompile", "Skip `compile` (the artifacts are up to date)")
  .addOptionalParam("account", `${ACCOUNT} (default: 0)`, undefined)
  .addOptionalParam(
    "ceremony",
    "Finalised + verified phase-2 ceremony folder (setup:verify): build the verifier from its final keys (one model); default: the dev keys",
    undefined,
  )
  .setAction(async (a: { models?: string; verify: boolean; noCompile: boolean; account?: string; ceremony?: string }, hre) =>
    run(
      hre,
      "deploy",
      async () =>
        (await import("./deploy")).deployOp(hre, {
          models: (a.models ?? "")
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
          verify: a.verify,
          compile: !a.noCompile,
          account: a.account,
          ceremony: a.ceremony,
        }),
      { chain: true },
    ),
  );

task("model:register", "Registers a deployed model (ERC-7992 commitment + verifier adapter) and records its model id; safe to re-run")
  .addOptionalParam("model", "Model name (deployed with deploy --models)", "iris-mlp")
  .addOptionalParam("proofSystem", "ERC-7992 proof system name; must match the adapter", "groth16-bn254-v1")
  .addOptionalParam("uri", "Metadata URI stored in the commitment (default: zkml:<model>?vk=<vkHash>)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; becomes the model owner (default: 0)`, undefined)
  .addFlag("new", "Register another model id even if this model is registered already (the record keeps the earlier one)")
  .addFlag("update", "The deployed commitment differs from the registered one: add it as a new version of the recorded model id")
  .setAction(async (a: { model: string; proofSystem: string; uri?: string; account?: string; new: boolean; update: boolean }, hre) =>
    run(
      hre,
      "model:register",
      async () =>
        (await import("./model")).registerOp(hre, {
          model: a.model,
          proofSystem: a.proofSystem,
          uri: a.uri,
          account: a.account,
          newId: a.new,
          update: a.update,
        }),
      { chain: true },
    ),
  );

task(
  "model:publish",
  "Publishes a model to the open network: a built one (--model), or an ONNX file with calibration inputs (--onnx, imported, calibrated, built, evaluated with --reference): bundle, IPFS (local Helia node), verifier + adapter, registry version with uri ipfs://<cid>",
)
  .addOptionalParam(
    "model",
    "Model name (folder under models/); with --onnx, the name to import under (default: the file's base name)",
    undefined,
  )
  .addOptionalParam(
    "onnx",
    "An ONNX file to import, calibrate and build first (docs/bring-your-own-model.md); needs --calibration",
    undefined,
  )
  .addOptionalParam("calibration", "With --onnx: raw calibration inputs (.npy, .json or .csv)", undefined)
  .addOptionalParam(
    "reference",
    'With --onnx: your framework\'s outputs on some inputs ({"inputs": [...], "outputs": [...]}); the model must meet npm run evaluate\'s targets, and the card records the agreement',
    undefined,
  )
  .addOptionalParam("preprocess", 'With --onnx: {"mean": [...], "std": [...]} (inline JSON or a file), as onnx import takes it', undefined)
  .addOptionalParam("classes", "With --onnx: class (output) names, comma-separated or a JSON array file", undefined)
  .addOptionalParam("task", "With --onnx: classification or regression", undefined)
  .addOptionalParam("ipfs", "local (add the bundle to the local Helia node) or none (only write the bundle folder)", "local")
  .addOptionalParam("uri", "With --ipfs none: the https:// (or file://) base where you host the bundle folder", undefined)
  .addOptionalParam("license", "License recorded in the model card", "unspecified")
  .addOptionalParam("ipfsDir", "Blockstore folder of the local IPFS node (default ~/.cache/zkml-evm/ipfs)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; deploys and becomes the model owner (default: 0)`, undefined)
  .addFlag("noCompile", "Skip `compile` (the artifacts are up to date)")
  .setAction(
    async (
      a: {
        model?: string;
        onnx?: string;
        calibration?: string;
        reference?: string;
        preprocess?: string;
        classes?: string;
        task?: string;
        ipfs: string;
        uri?: string;
        license: string;
        ipfsDir?: string;
        account?: string;
        noCompile: boolean;
      },
      hre,
    ) =>
      run(hre, "model:publish", async () => (await import("./publish")).publishOp(hre, { ...a, compile: !a.noCompile }), { chain: true }),
  );

task("job:open", "Opens an inference job: commits to an input with a salt, escrows the fee; writes the job input file for the prover")
  .addOptionalParam("model", "Registered model name", "iris-mlp")
  .addOptionalParam(
    "input",
    "Required. The input: a comma list, quantized (-462,404,-653,-681) or raw features with a decimal point (5.1,3.4,1.5,0.2, quantized with the model's preprocessing), or a JSON file (array, or a job input file)",
    undefined,
  )
  .addOptionalParam("inputKind", "auto (raw when a value has a decimal point), raw or quantized", "auto")
  .addOptionalParam("salt", "Commitment salt (decimal or 0x-hex, below the field); default: random", undefined)
  .addOptionalParam(
    "fee",
    "Fee in ETH, escrowed until the result (with --fee-token: in whole tokens, or in its smallest units for a token without decimals())",
    "0.01",
  )
  .addOptionalParam(
    "feeToken",
    "Pay the fee in this ERC-20 token (its address): the balance is checked, the market approved for the fee when its allowance is short, and both simulated before anything is sent; fee-on-transfer tokens are refused",
    undefined,
  )
  .addFlag("noApprove", "With --fee-token: send no approval; refuse when the market's allowance is below the fee")
  .addOptionalParam("deadlineIn", "Seconds until the deadline, from the later of this machine's clock and the chain's", 3600, types.int)
  .addOptionalParam("inputUri", "Where provers find the input (emitted in JobOpened, not stored); implies --delivery uri", undefined)
  .addOptionalParam(
    "delivery",
    "Committed inputs: private (encrypted to the claimant by job:deliver), data (data: URI, public), uri (--input-uri), none (hand over the job file); default private, or uri with --input-uri",
    undefined,
  )
  .addOptionalParam("out", "Job input file to write (default: deployments/jobs/<network>/job-<id>.input.json)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; the requester (default: 0)`, undefined)
  .addOptionalParam(
    "modelVersion",
    "The model version the job pins (the market refuses the job if the model's current version is another); default: the current version, which must be the one this deployment record registered",
    undefined,
  )
  .setAction(
    async (
      a: {
        model: string;
        modelVersion?: string;
        input?: string;
        inputKind: string;
        salt?: string;
        fee: string;
        deadlineIn: number;
        inputUri?: string;
        delivery?: string;
        out?: string;
        account?: string;
        feeToken?: string;
        noApprove: boolean;
      },
      hre,
    ) =>
      run(
        hre,
        "job:open",
        async () => {
          const { UserError } = await import("../../chain/errors");
          if (!["auto", "raw", "quantized"].includes(a.inputKind))
            throw new UserError(`--input-kind ${a.inputKind}: give auto, raw or quantized`);
          return (await import("./job-open")).openJobOp(hre, { ...a, inputKind: a.inputKind as "auto" | "raw" | "quantized" });
        },
        { chain: true },
      ),
  );

task(
  "job:deliver",
  "Requester's delivery agent for a private job: encrypts the job file's input to each prover that claims the job (deliverInput)",
)
  .addParam("job", JOB, undefined, jobIdType)
  .addOptionalParam("inputFile", "The job input file (default: deployments/jobs/<network>/job-<id>.input.json)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; the requester (default: 0)`, undefined)
  .addFlag("once", "Stop after the first delivery")
  .addOptionalParam(
    "designate",
    "First let only this prover address claim the job (designateClaimant: the answer to a griefer claiming from many addresses); any: anyone again",
    undefined,
  )
  .addOptionalParam("timeout", "Stop after this many seconds (default: when the job is settled or past its deadline)", undefined)
  .setAction(
    async (a: { job: number | string; inputFile?: string; account?: string; once: boolean; timeout?: string; designate?: string }, hre) =>
      run(hre, "job:deliver", async () => (await import("./job-deliver")).deliverJobOp(hre, a), { chain: true }),
  );

task("job:prove", "Proves a job's inference (Groth16), bound to this chain, market, job and prover; writes a proof JSON")
  .addParam("job", JOB, undefined, jobIdType)
  .addOptionalParam(
    "inputFile",
    "Job input file (default: deployments/jobs/<network>/job-<id>.input.json, as job:open wrote it)",
    undefined,
  )
  .addOptionalParam("account", `${ACCOUNT}; the prover who will submit (default: 0)`, undefined)
  .addOptionalParam("prover", "Prover address to bind the proof to (instead of --account; no key needed)", undefined)
  .addOptionalParam("out", "Proof file to write (default: deployments/jobs/<network>/job-<id>.proof.json)", undefined)
  .addOptionalParam(
    "ceremony",
    "Ceremony folder whose final keys to prove with (default: the keys recorded by deploy, matched to the registered vk hash)",
    undefined,
  )
  .setAction(
    async (a: { job: number | string; inputFile?: string; account?: string; prover?: string; out?: string; ceremony?: string }, hre) =>
      run(hre, "job:prove", async () => (await import("./job-prove")).proveJobOp(hre, a), { chain: true }),
  );

task("job:submit", "Submits a proof; the market verifies it on-chain and credits the fee to the prover")
  .addOptionalParam(
    "job",
    `${JOB}; reads deployments/jobs/<network>/job-<id>.proof.json (required unless --proof-file)`,
    undefined,
    jobIdType,
  )
  .addOptionalParam("proofFile", "Proof file from job:prove (default: the one of --job)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; default: the prover named in the proof file`, undefined)
  .setAction(async (a: { job?: number | string; proofFile?: string; account?: string }, hre) =>
    run(hre, "job:submit", async () => (await import("./job-prove")).submitJobOp(hre, a), { chain: true }),
  );

task("job:status", "Shows a job: status, model, deadline, escrow, verified output")
  .addParam("job", JOB, undefined, jobIdType)
  .setAction(async (a: { job: number }, hre) =>
    run(hre, "job:status", async () => (await import("./jobs")).jobStatusOp(hre, a), { chain: true }),
  );

task("job:reclaim", "After its deadline, credits an unfulfilled job's fee back to the requester (then market:withdraw)")
  .addParam("job", JOB, undefined, jobIdType)
  .addOptionalParam("account", `${ACCOUNT}; the requester (default: 0)`, undefined)
  .setAction(async (a: { job: number | string; account?: string }, hre) =>
    run(hre, "job:reclaim", async () => (await import("./jobs")).reclaimJobOp(hre, a), { chain: true }),
  );

task("market:withdraw", "Withdraws the account's available balance from the market: prover fees, released bonds, requester refunds")
  .addOptionalParam("account", `${ACCOUNT} (default: 0)`, undefined)
  .addOptionalParam("token", "Withdraw the account's balance in this ERC-20 token instead (token fees, refunds of token jobs)", undefined)
  .setAction(async (a: { account?: string; token?: string }, hre) =>
    run(hre, "market:withdraw", async () => (await import("./jobs")).withdrawOp(hre, a), { chain: true }),
  );

// ---- subscriptions (docs/market-rules.md, "Subscriptions"; ./subscriptions.ts) ----

const SUBSCRIPTION = "Subscription id (as subscription:create or subscription:status --owner printed it)";

task(
  "subscription:create",
  "Starts a subscription through its consumer contract (the owner whose view gives each run's inputs): calls the consumer's start(interval, runs, feePerRun, tipPerRun, runDeadline) with the exact escrow, as contracts/examples/ScheduledForecaster.sol exposes it",
)
  .addOptionalParam(
    "consumer",
    "Required. The consumer contract (built on SubscriptionConsumer for this deployment's InferenceSubscriptions)",
    undefined,
  )
  .addOptionalParam("interval", "Seconds between runs (at least 60)", "3600")
  .addOptionalParam("runs", "Runs paid up front", "24")
  .addOptionalParam("fee", "Fee per run in ETH (each run's job fee)", "0.01")
  .addOptionalParam(
    "tip",
    "Tip per run in ETH, paid to whoever opens the run (a prover node opens runs whose tip covers the opening's gas)",
    "0.001",
  )
  .addOptionalParam("runDeadline", "Seconds each run's job stays open (default: the interval)", undefined)
  .addOptionalParam("account", `${ACCOUNT}; the consumer's owner (default: 0)`, undefined)
  .setAction(
    async (
      a: { consumer?: string; interval: string; runs: string; fee: string; tip: string; runDeadline?: string; account?: string },
      hre,
    ) => run(hre, "subscription:create", async () => (await import("./subscriptions")).createSubscriptionOp(hre, a), { chain: true }),
  );

task("subscription:status", "Shows a subscription (runs used and left, escrow, the next run, results delivered), or lists a consumer's")
  .addOptionalParam("subscription", `${SUBSCRIPTION}; or --owner`, undefined, jobIdType)
  .addOptionalParam("owner", "List the subscriptions of this consumer contract instead", undefined)
  .setAction(async (a: { subscription?: number | string; owner?: string }, hre) =>
    run(hre, "subscription:status", async () => (await import("./subscriptions")).subscriptionStatusOp(hre, a), { chain: true }),
  );

task("subscription:top-up", "Pays for more runs of a subscription (anyone may), in ETH or the subscription's token, the exact escrow")
  .addParam("subscription", SUBSCRIPTION, undefined, jobIdType)
  .addOptionalParam("runs", "Runs to add", "1")
  .addOptionalParam("account", `${ACCOUNT} (default: 0)`, undefined)
  .addFlag("noApprove", "A token subscription: send no approval; refuse when the subscriptions contract's allowance is short")
  .setAction(async (a: { subscription: number | string; runs: string; account?: string; noApprove: boolean }, hre) =>
    run(hre, "subscription:top-up", async () => (await import("./subscriptions")).topUpSubscriptionOp(hre, a), { chain: true }),
  );

task(
  "subscription:open-run",
  "Opens a subscription's due run (anyone may; the tip is credited to the sender); says when the next opens if none is due",
)
  .addParam("subscription", SUBSCRIPTION, undefined, jobIdType)
  .addOptionalParam("account", `${ACCOUNT}; the opener, credited the tip (default: 0)`, undefined)
  .setAction(async (a: { subscription: number | string; account?: string }, hre) =>
    run(hre, "subscription:open-run", async () => (await import("./subscriptions")).openRunOp(hre, a), { chain: true }),
  );

task(
  "subscription:cancel",
  "Cancels a subscription through its owner: runs not yet opened are refunded, opened runs still deliver (a ScheduledForecaster-style consumer's stop(), by its owner)",
)
  .addParam("subscription", SUBSCRIPTION, undefined, jobIdType)
  .addOptionalParam("account", `${ACCOUNT}; the consumer's owner (default: 0)`, undefined)
  .setAction(async (a: { subscription: number | string; account?: string }, hre) =>
    run(hre, "subscription:cancel", async () => (await import("./subscriptions")).cancelSubscriptionOp(hre, a), { chain: true }),
  );

task(
  "subscription:withdraw",
  "Withdraws the account's credits in the subscriptions contract: tips earned opening runs (and an account owner's refunds)",
)
  .addOptionalParam("account", `${ACCOUNT} (default: 0)`, undefined)
  .addOptionalParam("token", "Withdraw the credits in this ERC-20 token instead (tips of token subscriptions)", undefined)
  .setAction(async (a: { account?: string; token?: string }, hre) =>
    run(hre, "subscription:withdraw", async () => (await import("./subscriptions")).withdrawSubscriptionCreditsOp(hre, a), { chain: true }),
  );

// ---- production trusted setup (docs/trusted-setup.md) ----

function ceremonyResult(title: string, lines: [string, string][], written: string[]): TaskResult {
  return { title, lines, written, gasUsed: 0n, gasCost: 0n };
}

task("setup:import-ptau", "Verifies a ceremony powers-of-tau file (snarkjs powersoftau verify) and imports it into the cache")
  .addParam("file", "The .ptau file you downloaded (e.g. powersOfTau28_hez_final_12.ptau)")
  .addOptionalParam("sha256", "Expected SHA-256 of the file, as published by the ceremony", undefined)
  .setAction(async (a: { file: string; sha256: string }, hre) =>
    run(hre, "setup:import-ptau", async () => {
      const { importCeremonyPtau } = await import("../../engine/setup/ceremony");
      const { createLog } = await import("../../util/stage-log");
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
    }),
  );

task("setup:contribute", "Adds a phase-2 contribution to a model's ceremony (the first call starts it from --ptau)")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addOptionalParam("ptau", "Ceremony ptau (first contribution only; imported and verified first)", undefined)
  .addOptionalParam("name", "Contributor name recorded in the zkey", "anonymous")
  .addOptionalParam("entropy", "Your secret randomness (random bytes when omitted; never stored)", undefined)
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", undefined)
  .setAction(async (a: { model: string; ptau: string; name: string; entropy: string; dir: string }, hre) =>
    run(hre, "setup:contribute", async () => {
      const c = await import("../../engine/setup/ceremony");
      const { createLog } = await import("../../util/stage-log");
      const log = createLog("setup:contribute");
      const dir = a.dir || c.ceremonyDir(a.model);
      let extra = {};
      const fs = await import("fs");
      const path = await import("path");
      if (!fs.existsSync(path.join(dir, "manifest.json"))) {
        if (!a.ptau)
          throw new (await import("../../chain/errors")).UserError(
            "the first contribution needs --ptau <ceremony file> (imported and verified first)",
          );
        const { buildModel } = await import("../../pipelines/build");
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
    }),
  );

task("setup:beacon", "Finalises a model's ceremony with a public beacon (e.g. a future block hash fixed in advance)")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addParam("beaconHash", "Beacon value, hex")
  .addOptionalParam("iterations", "Beacon iterations exponent (2^n hash rounds)", 10, types.int)
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", undefined)
  .setAction(async (a: { model: string; beaconHash: string; iterations: number; dir: string }, hre) =>
    run(hre, "setup:beacon", async () => {
      const c = await import("../../engine/setup/ceremony");
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
    }),
  );

task("setup:verify", "Verifies a model's final zkey against its r1cs and ptau (snarkjs zkey verify); records the vk hash in the manifest")
  .addOptionalParam("model", "Model name", "iris-mlp")
  .addOptionalParam("dir", "Ceremony folder (default build/ceremony/<model>)", undefined)
  .setAction(async (a: { model: string; dir: string }, hre) =>
    run(hre, "setup:verify", async () => {
      const c = await import("../../engine/setup/ceremony");
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
    }),
  );
