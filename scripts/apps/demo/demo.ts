/**
 * The end-to-end demo on the in-process Hardhat network: a trained iris model goes through quantization, circuit
 * generation, compilation, a (dev) trusted setup and verifier export; the contracts are deployed, the model
 * published (its bundle added to the owner's IPFS node, the CID registered as the version's uri), a job opened with
 * an escrowed fee; the prover fetches the bundle from the owner's IPFS node over libp2p, checks it against the chain,
 * proves from it, the proof is verified on-chain and the prover paid.
 * Run: npm run demo
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { formatEther } from "ethers";
import { loadIris } from "../../pipelines/datasets";
import { buildModel, loadFloatModel } from "../../pipelines/build";
import { SNARK_FIELD } from "../../util/field";
import { createLog, secondsSince } from "../../util/stage-log";
import { BUILD_DIR, writeFileAtomic } from "../../util/paths";
import { inferQuantized, inputCommitment } from "../../formats/quantized-model";
import { argmaxFloat, forwardFloat, preprocess } from "../../formats/float-model";
import { quantizeInput } from "../../formats/quantized-input";
import { verifyGroth16 } from "../../engine/prove/groth16";
import { runMain } from "../main";
import { proveInference } from "../../engine/prove/inference";
import { bindingFor, deployGroth16Verifier, deploySystem, openJob, registerModel } from "../../chain/system";
import { startIpfsNode } from "../../engine/ipfs";
import { writeBundle } from "../../formats/bundle-files";
import { layoutOf } from "../../formats/model-layout";
import { DEFAULT_POLICY } from "../prover/bundles";
import { BundleCache } from "../prover/bundle-cache";
import { verifyBundle } from "../prover/bundle-check";
import { bundleSources, modelCard } from "../../pipelines/bundle-sources";

const MODEL = "iris-mlp";

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = createLog("demo");
  const built = await buildModel(MODEL);
  const { model } = built;

  // Accuracy of the quantized model against the float model on the held-out set.
  const fm = loadFloatModel(MODEL);
  const iris = loadIris();
  let agree = 0;
  let correct = 0;
  iris.test.x.forEach((raw, i) => {
    const f = argmaxFloat(forwardFloat(fm, preprocess(fm, raw)).at(-1) ?? []);
    const q = Number(inferQuantized(model, quantizeInput(model, fm, raw)).output);
    if (f === q) agree++;
    if (q === iris.test.y[i]) correct++;
  });
  log.info(`held-out: quantized accuracy ${correct}/${iris.test.x.length}, agreement with float ${agree}/${iris.test.x.length}`);

  if (built.verifierChanged) await log.stage("compile contracts (verifier changed)", () => hre.run("compile", { quiet: true }));

  const [deployer, modelOwner, requester, prover] = await hre.ethers.getSigners();
  const sys = await log.stage(
    "deploy registry + jobs market",
    () => deploySystem(deployer),
    (s) => `registry ${s.receipts.registry.contractAddress}, jobs ${s.receipts.jobs.contractAddress}`,
  );
  const artifact = await hre.artifacts.readArtifact(built.paths.verifierContract);
  const ver = await log.stage(
    `deploy ${artifact.contractName} + adapter`,
    () => deployGroth16Verifier(deployer, artifact, sys.factory),
    (v) => `${v.gasUsed} gas`,
  );
  // The owner publishes: the bundle (everything a prover needs, every hash in bundle.json) on its IPFS node, whose
  // CID (computed offline by the UnixFS importer) is the registry version's uri.
  const demoDir = path.join(BUILD_DIR, "demo");
  const proverDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-demo-prover-")); // the prover starts empty
  const owner = await startIpfsNode({ dir: path.join(demoDir, "owner-ipfs"), listen: ["/ip4/127.0.0.1/tcp/0"] });
  const proverIpfs = await startIpfsNode({ dir: path.join(proverDir, "ipfs"), listen: [], peers: owner.multiaddrs() });
  try {
    await demoMarket();
  } finally {
    await proverIpfs.stop();
    await owner.stop();
    fs.rmSync(proverDir, { recursive: true, force: true });
  }

  async function demoMarket(): Promise<void> {
    const cid = await log.stage(
      "publish the bundle (owner's IPFS node)",
      async () => owner.addDirectory(writeBundle(bundleSources(built, await modelCard(MODEL, "MIT")), path.join(demoDir, "bundle")).files),
      (c) => `ipfs://${c}`,
    );
    const { modelId } = await log.stage(
      "register model (ERC-7992)",
      () =>
        registerModel(
          sys.registry,
          modelOwner,
          { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: `ipfs://${cid}` },
          ver.adapter.target as string,
          layoutOf(model),
        ),
      (r) => `model id ${r.modelId}, ${r.receipt.gasUsed} gas`,
    );
    // The requester: one held-out flower, quantized and committed with a random salt.
    const sample = 7;
    const raw = iris.test.x[sample];
    const x = quantizeInput(model, fm, raw);
    const salt = BigInt("0x" + randomBytes(31).toString("hex")) % SNARK_FIELD;
    const commitment = await inputCommitment(model, x, salt);
    const fee = hre.ethers.parseEther("0.05");
    const latest = await hre.ethers.provider.getBlock("latest");
    const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600);
    const { jobId, receipt: openReceipt } = await log.stage(
      "open job (fee escrowed)",
      () =>
        openJob(sys.jobs, requester, {
          modelId,
          modelVersion: 1n,
          inputCommitment: commitment,
          inputURI: "demo:iris-test-7",
          fee,
          deadline,
        }),
      (r) => `job ${r.jobId}, ${r.receipt.gasUsed} gas`,
    );

    // The prover stakes once, then claims the job: an exclusive lease backed by a bond it loses if it does not deliver.
    const bond = await sys.jobs.claimBond();
    await log.stage(
      "prover: deposit stake + claim the job",
      async () => {
        await (await sys.jobs.connect(prover).deposit({ value: bond })).wait();
        const r = await (await sys.jobs.connect(prover).claim(jobId)).wait();
        return r;
      },
      (r) => `bond ${formatEther(bond)} ETH locked, claim ${r?.gasUsed} gas`,
    );

    // The prover has never seen the model: it fetches the bundle by the version's uri (every block checked against the
    // CID) and checks it against everything the chain records before it proves anything with it.
    const served = await log.stage(
      "prover: fetch the bundle over libp2p + check it against the chain",
      async () => {
        const [version] = await sys.registry.getModelVersion(modelId, 1);
        const cache = new BundleCache(path.join(proverDir, "bundles"), 2 ** 30, proverIpfs);
        const dir = await cache.fetch(version.uri, modelId, 1, { totalBytes: 2 ** 30, zkeyBytes: 2 ** 29 });
        return verifyBundle(dir, sys.registry, hre.ethers.provider, modelId, 1, DEFAULT_POLICY);
      },
      (m) => `${m.name}: files, weights commitment, circuit, keys, layout and verifier match`,
    );
    // The prover: runs the model and proves it from the bundle, bound to this job and to its own address.
    const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
    const proof = await log.stage(
      "prove (witness + Groth16)",
      () => proveInference(served.model, { wasm: served.wasm, zkey: served.zkey }, x, salt, binding),
      (p) => `${p.witnessAndProveSeconds.toFixed(2)} s, output ${p.output}`,
    );
    const offchain = await verifyGroth16(built.keys.vkey, proof.publicSignals, proof.proof);
    log.info(`off-chain verification: ${offchain ? "valid" : "INVALID"}`);

    const submit = await log.stage(
      "submit result (on-chain Groth16 verification)",
      async () => {
        const tx = await sys.jobs.connect(prover).submitResult(jobId, proof.output, proof.packed.bytes);
        const r = await tx.wait();
        if (!r) throw new Error("submitResult: no receipt");
        return r;
      },
      (r) => `${r.gasUsed} gas`,
    );
    const [fulfilled, onchainOutput] = await sys.jobs.resultOf(jobId);
    const before = await hre.ethers.provider.getBalance(prover.address);
    const w = await (await sys.jobs.connect(prover).withdraw()).wait();
    const after = await hre.ethers.provider.getBalance(prover.address);
    const paid = after - before + (w ? w.gasUsed * w.gasPrice : 0n) - bond; // the released bond is withdrawn too

    const classes = model.classes ?? [];
    const answer = classes[Number(onchainOutput)] ?? String(onchainOutput);
    // The summary the README quotes: printed, and written to build/demo-output.json for scripts/apps/audit/docs-check.ts.
    const summary = [
      `Verified inference on chain ${(await hre.ethers.provider.getNetwork()).chainId} (in-process Hardhat network)`,
      `  model        ${MODEL}: ${built.circuit.constraints} constraints, model commitment ${built.modelCommitment.toString().slice(0, 18)}...`,
      `  input        iris held-out sample ${sample}: ${raw.join(", ")} (quantized ${x.join(", ")})`,
      `  answer       ${answer} (class ${onchainOutput}); true label ${classes[iris.test.y[sample]]}; fulfilled=${fulfilled}`,
      `  bundle       ipfs://${cid.slice(0, 16)}... published by the owner, fetched by the prover over libp2p, checked against the chain`,
      `  gas          open job ${openReceipt.gasUsed} (first job on this model version), submit + verify ${submit.gasUsed}`,
      `  prover paid  ${formatEther(paid)} ETH (pull payment withdrawn)`,
    ];
    console.log("");
    for (const l of summary) console.log(l);
    console.log(`  total time   ${secondsSince(t0)} s`);
    writeFileAtomic(path.join(BUILD_DIR, "demo-output.json"), JSON.stringify({ summary }, null, 2) + "\n");
    if (!fulfilled || onchainOutput !== proof.output || !offchain) throw new Error("demo: the result was not verified as expected");
  }
}

runMain(main);
