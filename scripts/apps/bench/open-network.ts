/**
 * `npm run bench:open-network`: how long a prover node that has never seen a model takes from a job being opened
 * to the model's bundle verified against the chain (and to the job fulfilled). A `hardhat node`, the owner's Helia
 * node with the published bundle, and for each run a cold prover node (empty state, empty bundle cache, empty
 * blockstore) that fetches the bundle from the owner's node over libp2p on loopback. Writes `openNetwork` into
 * bench/results.json and re-renders bench/REPORT.md.
 *   --models a,b   bundled models to publish (default iris-mlp,temp-forecast)
 *   --runs N       cold nodes per model (default 3), then one more node with the first one's bundle verdicts (a second
 *                  node of the same machine: the file-only checks are not run again, docs/prover.md "Open network")
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { HDNodeWallet, Wallet } from "ethers";
import { ResilientRpcProvider } from "../../chain/rpc";
import { DEFAULT_MARKET, deployGroth16Verifier, deploySystem, openJob, openJobWithInputs, registerModel } from "../../chain/system";
import { startHardhatNode } from "../../chain/local-node";
import { startIpfsNode } from "../../engine/ipfs";
import { SNARK_FIELD } from "../../util/field";
import { ROOT, writeFileAtomic } from "../../util/paths";
import { runMain } from "../main";
import { buildModel } from "../../pipelines/build";
import { writeBundle } from "../../formats/bundle-files";
import { inputCommitment } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { DEFAULT_POLICY } from "../prover/bundles";
import { dataUri } from "../../formats/job-input";
import { ProverNode } from "../prover/node";
import { releaseSnarkjs } from "../../util/snarkjs-threads";
import { bundleSources, modelCard } from "../../pipelines/bundle-sources";
import { type BenchResults, type OpenNetworkResult, renderReport, renderSvg } from "./report";
import { UsageError, commandLine, numberOption } from "../../util/args";

const key = (i: number): string =>
  HDNodeWallet.fromPhrase("test test test test test test test test test test test junk", undefined, `m/44'/60'/0'/0/${i}`).privateKey;

const USAGE = "usage: npm run bench:open-network -- [--models a,b] [--runs N]";

async function main(): Promise<void> {
  const { values: o, positionals } = commandLine(process.argv.slice(2), { models: { type: "string" }, runs: { type: "string" } }, USAGE);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}; ${USAGE}`);
  const models = (o.models ?? "iris-mlp,temp-forecast").split(",").filter(Boolean);
  const runs = numberOption("runs", o.runs, 1, 1000, USAGE, true) ?? 3;
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-bench-open-"));
  const chain = await startHardhatNode();
  // a loaded machine (a LeNet-5 proof on both cores) makes the local node drop connections: retried, like a node's
  const provider = new ResilientRpcProvider(chain.url, { cacheTimeout: -1, pollingInterval: 200 });
  const owner = await startIpfsNode({ dir: path.join(tmp, "owner-ipfs"), listen: ["/ip4/127.0.0.1/tcp/0"] });
  const rows: OpenNetworkResult["rows"] = [];
  try {
    const wallet = (i: number): Wallet => new Wallet(key(i), provider);
    const sys = await deploySystem(wallet(0), DEFAULT_MARKET);
    const jobsAddress = await sys.jobs.getAddress();
    for (const name of models) {
      const b = await buildModel(name, { quantize: false });
      const { files } = writeBundle(bundleSources(b, await modelCard(name, "MIT")), path.join(tmp, `${name}-bundle`));
      const bytes = [...files.values()].reduce((s, f) => s + f.length, 0);
      const cid = await owner.addDirectory(files);
      const v = await deployGroth16Verifier(wallet(1), await hre.artifacts.readArtifact(b.paths.verifierContract), sys.factory);
      const reg = { modelCommitment: b.modelCommitment, circuitHash: b.circuit.r1csHash, vkHash: b.keys.vkHash, uri: `ipfs://${cid}` };
      const { modelId } = await registerModel(sys.registry, wallet(1), reg, await v.adapter.getAddress(), layoutOf(b.model));
      for (let r = 0; r <= runs; r++) {
        // runs 0..runs-1: cold (an empty verdict folder each); the last: a second node sharing run 0's verdicts
        const second = r === runs;
        const events: { event: string; at: number; rec: Record<string, unknown> }[] = [];
        const node = new ProverNode({
          rpcUrl: chain.url,
          privateKey: key(8),
          jobsAddress,
          stateDir: path.join(tmp, `${name}-node-${r}`),
          concurrency: 1,
          minFeeWei: 0n,
          pollMs: 200,
          claimJitterMs: 0,
          metricsEveryMs: 0,
          policy: { ...DEFAULT_POLICY, serve: "all" },
          ipfs: { peers: owner.multiaddrs(), dir: path.join(tmp, `${name}-node-${r}-ipfs`) },
          verdictDir: path.join(tmp, `${name}-verdicts-${second ? 0 : r}`),
          logSink: (line, rec) => events.push({ event: String(rec.event ?? rec.msg), at: Date.now(), rec: rec as Record<string, unknown> }),
        });
        await node.start();
        const x = Array.from({ length: b.model.input.size }, (_, i) => BigInt(((r * 37 + i * 53) % 200) - 100));
        const now = (await provider.getBlock("latest"))!.timestamp;
        const deadline = BigInt(now + 3600);
        const opened = Date.now();
        const { jobId } =
          layoutOf(b.model).inputMode === 1
            ? await openJobWithInputs(sys.jobs, wallet(2), { modelId, modelVersion: 1n, inputs: x, fee: 10n ** 16n, deadline })
            : await (async () => {
                const salt = (BigInt(r) * 982451653n + 7n) % SNARK_FIELD;
                return openJob(sys.jobs, wallet(2), {
                  modelId,
                  modelVersion: 1n, // published above: its first version
                  inputCommitment: await inputCommitment(b.model, x, salt),
                  inputURI: dataUri({ x, salt }),
                  fee: 10n ** 16n,
                  deadline,
                });
              })();
        const deadlineMs = Date.now() + 300_000;
        while (!(await sys.jobs.resultOf(jobId))[0]) {
          if (Date.now() > deadlineMs) throw new Error(`${name}: job ${jobId} not fulfilled within 300 s on a cold node`);
          await new Promise((res) => setTimeout(res, 100));
        }
        const fulfilled = Date.now();
        await node.stop();
        // every run measures a cold node: nothing of the last node's proving state (snarkjs' curve) is kept
        await releaseSnarkjs();
        const verified = events.find((e) => e.event === "bundle_verified");
        if (!verified) throw new Error(`${name}: the cold node fulfilled job ${jobId} without logging bundle_verified`);
        rows.push({
          model: name,
          constraints: b.circuit.constraints,
          bundleBytes: bytes,
          openedToVerifiedMs: verified.at - opened,
          fetchMs: Number(verified.rec.fetchMs),
          verifyMs: Number(verified.rec.verifyMs),
          openedToFulfilledMs: fulfilled - opened,
          verdictCached: second,
        });
        console.log(
          `${name} run ${second ? "second node (cached verdict)" : `${r + 1}/${runs}`}: opened -> bundle verified ${verified.at - opened} ms ` +
            `(fetch ${String(verified.rec.fetchMs)} ms, verify ${String(verified.rec.verifyMs)} ms), opened -> fulfilled ${fulfilled - opened} ms`,
        );
      }
    }
  } finally {
    await owner.stop();
    provider.destroy();
    await chain.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const file = path.join(ROOT, "bench", "results.json");
  const results = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  results.openNetwork = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench:open-network -- --models ${models.join(",")} --runs ${runs}`,
    transport: "libp2p TCP on loopback (bitswap), one publisher peer",
    rows,
    totalSeconds: (Date.now() - t0) / 1000,
  };
  writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  writeFileAtomic(path.join(ROOT, "bench", "REPORT.md"), renderReport(results));
  writeFileAtomic(path.join(ROOT, "bench", "proving-time.svg"), renderSvg(results));
  console.log("bench/results.json (openNetwork) and bench/REPORT.md written");
}

runMain(main);
