#!/usr/bin/env node
/**
 * `zkml`, the operator command line of the package (its `bin`), outside any Hardhat project:
 *
 *   zkml prover                    run a prover node; configuration from PROVER_* variables (docs/prover.md)
 *   zkml models                    the registry's models with their cards
 *   zkml publish --onnx <file> --calibration <inputs> [--name n] [--reference r.json] [--license l] [--uri u]
 *                [--workspace dir]   import, quantize, compile, bundle on IPFS (or at --uri) and register
 *   zkml job open --model <id> (--raw a,b,... | --quantized a,b,...) --fee <ETH> [--version <v>]
 *                 [--deadline-in <s>] [--delivery data|uri|private] [--input-uri <uri>] [--out <job file>]
 *   zkml job status --job <id>     the job's state, and its decoded result once fulfilled
 *   zkml job wait --job <id> [--timeout <s>]
 *   zkml job deliver --job-file <file>    deliver a private job's input to its claimant (encrypted)
 *   zkml job reclaim --job <id>
 *
 * Every command but `prover` takes --rpc <url> (or ZKML_RPC_URL) and --jobs <InferenceJobs address> (or
 * ZKML_JOBS_ADDRESS); commands that send take the account's key from ZKML_PRIVATE_KEY (never an argument: it would
 * land in the shell history). Errors are one line naming the problem and the fix (the Hardhat tasks' messages,
 * scripts/chain/errors.ts), exit code 1. It uses the SDK (scripts/chain/client.ts) like any other client.
 */
import * as path from "path";
import { JsonRpcProvider, Wallet, formatEther, parseEther } from "ethers";
import { UsageError, commandLine, numberOption } from "../../util/args";
import { writablePath, writeFileAtomic } from "../../util/paths";
import { InferenceClient, InferenceClientError, type InferenceResult } from "../../chain/client";
import { deliverInput, readLocalFile } from "../../chain/node";
import { UserError, describeError } from "../../chain/errors";
import { JOB_INPUT_FORMAT, type JobInputFile, parseSalt } from "../../formats/job-input";
import { InferenceJobs__factory, ModelRegistry__factory } from "../../../typechain-types";
import { releaseSnarkjs } from "../../util/snarkjs-threads";

const USAGE = `usage: zkml <command>
  prover                                 run a prover node (PROVER_* variables: docs/prover.md)
  models                                 list the registry's models with their cards
  publish --onnx <file> --calibration <inputs.npy|.json|.csv> [--name n] [--reference outputs.json]
          [--license l] [--uri https://...] [--workspace dir] [--ipfs-dir dir]
                                         import, quantize, compile, bundle on IPFS (or at --uri), register
  job open --model <id> (--raw a,b,.. | --quantized a,b,..) --fee <ETH> [--version v] [--deadline-in s]
           [--delivery data|uri|private] [--input-uri uri] [--out file]
  job status --job <id>                  state, and the decoded result once fulfilled
  job wait --job <id> [--timeout s]      wait for the result
  job deliver --job-file <file>          deliver a private job's input to its claimant
  job reclaim --job <id>                 take back the fee of a job past its deadline
options of every command but prover: --rpc <url> (ZKML_RPC_URL), --jobs <address> (ZKML_JOBS_ADDRESS),
  --ipfs-gateway <url> (ZKML_IPFS_GATEWAY); the sending account's key: ZKML_PRIVATE_KEY`;

const OPTIONS = {
  rpc: { type: "string" },
  jobs: { type: "string" },
  "ipfs-gateway": { type: "string" },
  model: { type: "string" },
  version: { type: "string" },
  raw: { type: "string" },
  quantized: { type: "string" },
  fee: { type: "string" },
  "deadline-in": { type: "string" },
  delivery: { type: "string" },
  "input-uri": { type: "string" },
  out: { type: "string" },
  job: { type: "string" },
  "job-file": { type: "string" },
  timeout: { type: "string" },
  onnx: { type: "string" },
  calibration: { type: "string" },
  name: { type: "string" },
  reference: { type: "string" },
  license: { type: "string" },
  uri: { type: "string" },
  workspace: { type: "string" },
  "ipfs-dir": { type: "string" },
  preprocess: { type: "string" },
  classes: { type: "string" },
  task: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof commandLine<typeof OPTIONS>>["values"];

function need(v: string | undefined, flag: string, env: string | undefined, example: string): string {
  const r = v ?? (env ? process.env[env] : undefined);
  if (!r) throw new UsageError(`${flag} is missing: give ${flag} ${example}${env ? ` or set ${env}` : ""}`);
  return r;
}

function idOption(v: string | undefined, flag: string): bigint {
  if (v === undefined) throw new UsageError(`${flag} is missing: give ${flag} <id>`);
  if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`${flag} ${v}: give a positive whole number`);
  return BigInt(v);
}

function numbers(v: string, flag: string): number[] {
  const parts = v.split(",").map((s) => s.trim());
  return parts.map((p, i) => {
    const n = Number(p);
    if (p === "" || !Number.isFinite(n))
      throw new UsageError(`${flag}: value ${i} ("${p}") is not a number; give comma-separated numbers, e.g. ${flag} 5.1,3.5,1.4,0.2`);
    return n;
  });
}

async function connect(o: Values, sending: boolean): Promise<{ client: InferenceClient; provider: JsonRpcProvider; rpc: string }> {
  const rpc = need(o.rpc, "--rpc", "ZKML_RPC_URL", "http://127.0.0.1:8545");
  const jobs = need(o.jobs, "--jobs", "ZKML_JOBS_ADDRESS", "<the InferenceJobs address of your deployment>");
  const provider = new JsonRpcProvider(rpc, undefined, { cacheTimeout: -1 }); // no cached nonce between the transactions of one command;
  let runner: JsonRpcProvider | Wallet = provider;
  if (sending) {
    const key = process.env.ZKML_PRIVATE_KEY;
    if (!key) throw new UsageError("ZKML_PRIVATE_KEY is not set: export the sending account's private key (0x followed by 64 hex digits)");
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError("ZKML_PRIVATE_KEY must be 0x followed by 64 hex digits");
    runner = new Wallet(key, provider);
  }
  const client = await InferenceClient.connect({
    jobs,
    runner,
    ipfsGateway: o["ipfs-gateway"] ?? process.env.ZKML_IPFS_GATEWAY,
    readFile: readLocalFile,
  });
  return { client, provider, rpc };
}

function resultLine(r: InferenceResult): string {
  if (r.values) return `values ${r.values.join(", ")} (fixed point ${r.fixedPoint!.values.join(", ")} / 2^${r.fixedPoint!.frac})`;
  return `class ${r.class}${r.label ? ` (${r.label})` : ""}`;
}

async function models(o: Values): Promise<void> {
  const { client } = await connect(o, false);
  const list = await client.listModels();
  if (list.length === 0) console.log("no models registered");
  for (const m of list) {
    let card = "";
    try {
      const c = await client.modelCard(m.modelId);
      card = `${c.name}: ${c.task}, ${c.input.size} inputs (${c.input.mode}), outputs ${c.outputs.join("/")}, ${c.constraints} constraints`;
    } catch (e) {
      card = `card unavailable (${(e as Error).message})`;
    }
    console.log(`model ${m.modelId} v${m.currentVersion}${m.deprecated ? " (deprecated)" : ""}, owner ${m.owner}: ${card}`);
  }
}

async function publish(o: Values): Promise<void> {
  const onnx = need(o.onnx, "--onnx", undefined, "<model.onnx>");
  const calibration = need(o.calibration, "--calibration", undefined, "<inputs.npy|.json|.csv>");
  const { client } = await connect(o, true);
  const { publishModel, PublishError } = await import("../../pipelines/sdk-node");
  let p;
  try {
    p = await publishModel(client, {
      onnx,
      calibration,
      name: o.name,
      reference: o.reference,
      preprocess: o.preprocess,
      classes: o.classes,
      task: o.task,
      license: o.license,
      uri: o.uri,
      workspace: o.workspace,
      ipfsDir: o["ipfs-dir"],
    });
  } catch (e) {
    // the pipeline names its options without dashes: say them as this command takes them
    if (e instanceof PublishError) throw new UsageError(e.message.replace(/^(onnx|calibration|reference|name|uri) /, "--$1 "));
    throw e;
  }
  console.log(`model ${p.modelId} v${p.version} (${p.name}) registered: uri ${p.uri}, verifier ${p.verifier}, ${p.gasUsed} gas`);
  console.log(`bundle ${p.bundleDir}${p.cid ? ` (keep it reachable for provers: it is in the local IPFS node)` : ""}`);
  console.log(
    `card: ${p.card.task}, ${p.card.input.size} inputs (${p.card.input.mode}), ${p.card.constraints} constraints, keys ${p.card.trustedSetup}`,
  );
}

async function jobOpen(o: Values): Promise<void> {
  const modelId = idOption(o.model, "--model");
  if ((o.raw === undefined) === (o.quantized === undefined))
    throw new UsageError("give the input as --raw a,b,... (features) or --quantized a,b,... (integers), one of them");
  const input =
    o.raw !== undefined
      ? { raw: numbers(o.raw, "--raw") }
      : {
          quantized: numbers(o.quantized!, "--quantized").map((n) => {
            if (!Number.isInteger(n))
              throw new UsageError(`--quantized: ${n} is not an integer; give the model's integers, or --raw for features`);
            return BigInt(n);
          }),
        };
  const feeText = need(o.fee, "--fee", undefined, "0.01 (ETH)");
  let fee: bigint;
  try {
    fee = parseEther(feeText);
  } catch {
    throw new UsageError(`--fee ${feeText}: give an amount of ETH, e.g. --fee 0.01`);
  }
  const delivery = o.delivery as "data" | "uri" | "private" | undefined;
  if (delivery !== undefined && !["data", "uri", "private"].includes(delivery))
    throw new UsageError(`--delivery ${delivery}: one of data, uri, private`);
  let out: string;
  try {
    out = writablePath(o.out ?? "job.input.json", process.cwd()); // the job file's folder, before any transaction
  } catch (e) {
    throw new UsageError(`${o.out !== undefined ? `--out ${o.out}` : `the current folder ${process.cwd()}`}: ${(e as Error).message}`);
  }
  const { client } = await connect(o, true);
  const job = await client.openJob({
    modelId,
    ...(o.version ? { version: idOption(o.version, "--version") } : {}),
    input,
    fee,
    deadlineIn: numberOption("deadline-in", o["deadline-in"], 60, 2 ** 31, USAGE, true) ?? 3600,
    ...(delivery ? { delivery } : {}),
    ...(o["input-uri"] ? { inputURI: o["input-uri"] } : {}),
  });
  console.log(`job ${job.jobId} opened on model ${job.modelId} v${job.version} (tx ${job.txHash}), fee ${formatEther(fee)} ETH`);
  console.log(`input ${job.x.join(", ")}${job.inputCommitment !== undefined ? `, commitment ${job.inputCommitment}` : " (public)"}`);
  if (job.salt !== undefined) {
    const file: JobInputFile = {
      format: JOB_INPUT_FORMAT,
      x: job.x.map(String),
      salt: job.salt.toString(),
      chainId: Number((await client.jobs.runner!.provider!.getNetwork()).chainId),
      jobs: await client.jobs.getAddress(),
      jobId: job.jobId.toString(),
      modelId: job.modelId.toString(),
      inputCommitment: job.inputCommitment!.toString(),
      openTx: job.txHash,
    };
    const target = o.out !== undefined ? out : path.resolve(`job-${job.jobId}.input.json`);
    writeFileAtomic(target, JSON.stringify(file, null, 2) + "\n", 0o600);
    console.log(
      `wrote ${target} (the input and its salt${delivery === "private" ? ": keep it private; zkml job deliver --job-file reads it" : ""})`,
    );
  }
}

async function jobStatus(o: Values, wait: boolean): Promise<void> {
  const jobId = idOption(o.job, "--job");
  const { client } = await connect(o, false);
  if (wait) {
    const timeout = numberOption("timeout", o.timeout, 1, 2 ** 31, USAGE, true) ?? 600;
    const r = await client.waitForResult(jobId, { timeoutMs: timeout * 1000 });
    console.log(`job ${jobId} fulfilled: ${resultLine(r)}, proven by ${r.prover}`);
    return;
  }
  const state = await client.jobState(jobId);
  const r = state === "fulfilled" ? await client.getResult(jobId) : undefined;
  console.log(`job ${jobId} ${state}${r ? `: ${resultLine(r)}, proven by ${r.prover}` : ""}`);
}

async function jobDeliver(o: Values): Promise<void> {
  const file = need(o["job-file"], "--job-file", undefined, "job-<id>.input.json");
  const fs = await import("fs");
  let j: JobInputFile;
  try {
    j = JSON.parse(fs.readFileSync(file, "utf8")) as JobInputFile;
  } catch (e) {
    throw new UsageError(
      `--job-file ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not JSON"}; give the file zkml job open wrote`,
    );
  }
  if (!j.jobId || !Array.isArray(j.x)) throw new UsageError(`--job-file ${file}: no jobId or x; give the file zkml job open wrote`);
  const { client } = await connect({ ...o, jobs: o.jobs ?? j.jobs }, true);
  const outcome = await deliverInput(client, { jobId: BigInt(j.jobId), x: j.x.map((v) => BigInt(v)), salt: parseSalt(j.salt) });
  console.log(
    outcome.kind === "delivered"
      ? `job ${j.jobId}: input delivered to ${outcome.claimant} (tx ${outcome.txHash}), lease until ${new Date(Number(outcome.leaseEnd) * 1000).toISOString()}`
      : `job ${j.jobId}: not delivered (${outcome.kind}: ${outcome.reason})`,
  );
}

async function jobReclaim(o: Values): Promise<void> {
  const jobId = idOption(o.job, "--job");
  const { client } = await connect(o, true);
  const tx = await client.reclaim(jobId);
  console.log(`job ${jobId} reclaimed (tx ${tx}); the fee is in your market balance (InferenceJobs.withdraw sends it)`);
}

async function main(argv: string[]): Promise<void> {
  const { values: o, positionals } = commandLine(argv, OPTIONS, USAGE);
  const [cmd, sub, ...rest] = positionals;
  if (o.help || !cmd) {
    console.log(USAGE);
    return;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}; ${USAGE.split("\n")[0]}`);
  if (cmd === "prover") {
    process.argv = [process.argv[0], process.argv[1]];
    await import("../prover/main");
    // the node runs until SIGINT / SIGTERM, when it exits by itself (scripts/apps/prover/main.ts)
    return new Promise<void>(() => undefined);
  }
  if (cmd === "models" && !sub) return models(o);
  if (cmd === "publish" && !sub) return publish(o);
  if (cmd === "job" && sub === "open") return jobOpen(o);
  if (cmd === "job" && (sub === "status" || sub === "wait")) return jobStatus(o, sub === "wait");
  if (cmd === "job" && sub === "deliver") return jobDeliver(o);
  if (cmd === "job" && sub === "reclaim") return jobReclaim(o);
  throw new UsageError(`unknown command "${[cmd, sub].filter(Boolean).join(" ")}"; run zkml --help`);
}

main(process.argv.slice(2))
  // snarkjs' curve keeps worker threads (publishing computes keys): end them so the command exits
  .then(releaseSnarkjs)
  .catch((e: unknown) => {
    const message =
      e instanceof UsageError || e instanceof InferenceClientError || e instanceof UserError
        ? e.message
        : describeError(e, {
            network: process.env.ZKML_RPC_URL ? "ZKML_RPC_URL" : "--rpc",
            interfaces: [InferenceJobs__factory.createInterface(), ModelRegistry__factory.createInterface()],
          });
    console.error(`error: ${message.split("\n")[0]}`);
    process.exit(1);
  });
