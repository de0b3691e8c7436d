import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import hre from "hardhat";
import { bindingFor } from "../../scripts/chain/system";
import { type BuiltModel, buildModel, modelPaths } from "../../scripts/pipelines/build";
import { verifyGroth16 } from "../../scripts/engine/prove/groth16";
import { proveInference } from "../../scripts/engine/prove/inference";
import { requiredPower } from "../../scripts/engine/circuit/compile";
import { type CeremonyManifest, applyBeacon, contribute, importCeremonyPtau, verifyCeremony } from "../../scripts/engine/setup/ceremony";
import { devPtau } from "../../scripts/engine/setup/ptau";
import type { DeploymentRecord } from "../../scripts/apps/tasks/records";
import type { JobInputFile } from "../../scripts/formats/job-input";
import { InferenceJobs__factory, ModelRegistry__factory } from "../../typechain-types";
import { rejectionMessage } from "../helpers/errors";

const MODEL = "iris-mlp";
const INPUT = "-462,404,-653,-681"; // iris held-out sample 7 (setosa), quantized at 12 bits
const BEACON = "ab".repeat(32);

/**
 * docs/trusted-setup.md "Deploying with ceremony keys": a small phase-2 ceremony on the iris circuit (the cached dev
 * ptau stands in for a ceremony file), then `deploy --ceremony`, `model:register`, `job:open`, `job:prove`,
 * `job:submit` in-process on the Hardhat network. The dev keys' proofs are refused by the ceremony verifier.
 */
describe("trusted setup: deploy and prove with ceremony keys", function () {
  let dev: BuiltModel;
  let dir: string;
  let otherDir: string;
  let deployDir: string;
  let savedDeployDir: string | undefined;
  let notFinalised: string;
  let ceremony: CeremonyManifest;
  const devVerifier = modelPaths(MODEL).verifierFile;
  const devManifest = modelPaths(MODEL).manifestFile;
  const ceremonyVerifier = modelPaths(MODEL, { ceremonyDir: "." }).verifierFile;
  let devVerifierText: string;
  let devManifestText: string;

  before(async function () {
    dev = await buildModel(MODEL, { quantize: false });
    devVerifierText = fs.readFileSync(devVerifier, "utf8");
    devManifestText = fs.readFileSync(devManifest, "utf8");
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-ceremony-deploy-"));
    otherDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-ceremony-other-"));
    deployDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-deployments-"));
    savedDeployDir = process.env.ZKML_DEPLOYMENTS_DIR;
    process.env.ZKML_DEPLOYMENTS_DIR = deployDir;

    const ptau = await importCeremonyPtau((await devPtau(requiredPower(dev.circuit))).file);
    await contribute(dir, { name: "alice", entropy: "alice's dice", r1cs: dev.circuit.r1cs, ptau, circuit: MODEL });
    await contribute(dir, { name: "bob", entropy: "bob's entropy" });
    // Two contributions but no beacon yet: the keys are not usable.
    notFinalised = await rejectionMessage(buildModel(MODEL, { quantize: false, keys: { ceremonyDir: dir } }));
    await applyBeacon(dir, { beaconHash: BEACON, iterationsExp: 10 });
    ({ manifest: ceremony } = await verifyCeremony(dir));
  });

  after(function () {
    if (savedDeployDir === undefined) delete process.env.ZKML_DEPLOYMENTS_DIR;
    else process.env.ZKML_DEPLOYMENTS_DIR = savedDeployDir;
    for (const d of [dir, otherDir, deployDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
    // contracts/verifiers/ceremony/ is git-ignored per-operator output: the verifier stays. Deleting a source this
    // process compiled makes the next in-process compile drop its artifact while later tests (operator.test.ts)
    // still resolve it (HH700); the next run of this test overwrites it.
  });

  it("refuses a ceremony that is not finalised, and one run on another circuit", async function () {
    expect(notFinalised).to.match(/^ceremony in .*zkml-ceremony-deploy-\w+ not finalised: run setup:beacon and setup:verify$/);
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as CeremonyManifest;
    m.r1csSha256 = "00".repeat(32);
    fs.writeFileSync(path.join(otherDir, "manifest.json"), JSON.stringify(m));
    expect(await rejectionMessage(buildModel(MODEL, { quantize: false, keys: { ceremonyDir: otherDir } }))).to.match(
      /^ceremony in .*zkml-ceremony-other-\w+ was for another circuit \(r1cs 0{16}\.\.\., this build [0-9a-f]{16}\.\.\.\); run the ceremony for this build$/,
    );
    expect(await rejectionMessage(hre.run("deploy", { models: `${MODEL},mnist-cnn`, ceremony: dir, noCompile: true }))).to.match(
      /holds the keys of one circuit: deploy exactly one model with it/,
    );
  });

  it("deploy --ceremony, register, open, prove (ceremony keys), submit: fulfilled; dev verifier + manifest untouched", async function () {
    const vk = ceremony.final?.vkHash ?? "";
    expect(vk)
      .to.match(/^[0-9a-f]{64}$/)
      .and.not.equal(dev.keys.vkHash);

    await hre.run("deploy", { models: MODEL, ceremony: dir });
    const rec = JSON.parse(fs.readFileSync(path.join(deployDir, "hardhat.json"), "utf8")) as DeploymentRecord;
    const m = rec.models[MODEL];
    expect(m.verifierContract).to.equal("IrisMlpCeremonyGroth16Verifier");
    expect(m.ceremonyDir).to.equal(dir);
    expect(m.manifest.vkHash).to.equal(vk);
    expect(m.manifest.r1csSha256).to.equal(dev.circuit.r1csHash);
    expect(m.manifest.zkeySha256).to.equal(ceremony.final?.zkeySha256);

    // Generated files: the ceremony verifier and model manifest elsewhere; the committed dev ones unchanged.
    const sol = fs.readFileSync(ceremonyVerifier, "utf8");
    expect(sol)
      .to.match(/contract IrisMlpCeremonyGroth16Verifier\b/)
      .and.match(/trusted setup: +phase-2 ceremony .* \(2 contribution\(s\) \+ beacon\)/)
      .and.include(`vkey sha256:       ${vk}`)
      .and.not.match(/DEV trusted setup/);
    expect(fs.readFileSync(devVerifier, "utf8")).to.equal(devVerifierText);
    expect(fs.readFileSync(devManifest, "utf8")).to.equal(devManifestText);
    const mm = JSON.parse(fs.readFileSync(path.join(dir, "model-manifest.json"), "utf8")) as {
      vkHash: string;
      trustedSetup: { insecure: boolean; phase2: string; zkeySha256: string; ptau: { sha256: string } };
    };
    expect(mm.vkHash).to.equal(vk);
    expect(mm.trustedSetup.phase2).to.match(
      new RegExp(`^ceremony: 2 contribution\\(s\\) \\(alice, bob\\); beacon ${BEACON} \\(2\\^10 iterations\\)`),
    );
    expect(mm.trustedSetup.zkeySha256).to.equal(ceremony.final?.zkeySha256);
    expect(mm.trustedSetup.ptau.sha256).to.equal(ceremony.ptau.sha256);
    expect(mm.trustedSetup.insecure).to.equal(false);

    const r = (await hre.run("model:register", { model: MODEL })) as { data: { modelId: bigint } };
    const registry = ModelRegistry__factory.connect(rec.contracts.ModelRegistry.address, hre.ethers.provider);
    const [commitment] = await registry.getModel(r.data.modelId);
    expect(BigInt(commitment.vkHash)).to.equal(BigInt("0x" + vk));
    expect(BigInt(commitment.circuitHash)).to.equal(BigInt("0x" + dev.circuit.r1csHash));

    const o = (await hre.run("job:open", { model: MODEL, input: INPUT, fee: "0.05", account: "1" })) as { data: { jobId: bigint } };
    const job = o.data.jobId.toString();
    const p = (await hre.run("job:prove", { job, account: "2" })) as { data: { vkHash: string; ceremonyDir?: string; output: bigint } };
    expect(p.data.vkHash).to.equal(vk);
    expect(p.data.ceremonyDir).to.equal(dir);
    expect(p.data.output).to.equal(0n);
    const s = (await hre.run("job:submit", { job })) as { data: { fulfilled: boolean; output: bigint } };
    expect(s.data.fulfilled).to.equal(true);
    expect(s.data.output).to.equal(0n);
  });

  it("a dev-key proof is refused on-chain (InvalidProof); job:prove names the vk mismatch and takes --ceremony", async function () {
    const file = path.join(deployDir, "hardhat.json");
    const rec = JSON.parse(fs.readFileSync(file, "utf8")) as DeploymentRecord;
    const [, , prover] = await hre.ethers.getSigners();
    const jobs = InferenceJobs__factory.connect(rec.contracts.InferenceJobs.address, prover);
    const o = (await hre.run("job:open", { model: MODEL, input: INPUT, account: "1" })) as { data: { jobId: bigint; file: string } };
    const jobId = o.data.jobId;
    const input = JSON.parse(fs.readFileSync(o.data.file, "utf8")) as JobInputFile;
    const binding = await bindingFor(jobs, hre.ethers.provider, jobId, prover.address);
    const x = input.x.map(BigInt);
    const devProof = await proveInference(dev.model, { wasm: dev.circuit.wasm, zkey: dev.keys.zkey }, x, BigInt(input.salt), binding);
    // A valid proof under the dev keys, for the right job and prover: still refused, because the keys differ.
    expect(await verifyGroth16(dev.keys.vkey, devProof.publicSignals, devProof.proof)).to.equal(true);
    await expect(jobs.submitResult(jobId, devProof.output, devProof.packed.bytes))
      .to.be.revertedWithCustomError(jobs, "InvalidProof")
      .withArgs(jobId);

    // Without the recorded ceremony folder job:prove falls back to the dev keys and refuses to prove.
    const saved = fs.readFileSync(file, "utf8");
    const edited = JSON.parse(saved) as DeploymentRecord;
    delete edited.models[MODEL].ceremonyDir;
    fs.writeFileSync(file, JSON.stringify(edited));
    try {
      expect(await rejectionMessage(hre.run("job:prove", { job: jobId.toString(), account: "2" }))).to.equal(
        `the registered model uses vk ${ceremony.final?.vkHash}; local keys give ${dev.keys.vkHash} (dev keys): pass --ceremony <dir> or rebuild`,
      );
      const p = (await hre.run("job:prove", { job: jobId.toString(), account: "2", ceremony: dir })) as { data: { vkHash: string } };
      expect(p.data.vkHash).to.equal(ceremony.final?.vkHash);
    } finally {
      fs.writeFileSync(file, saved);
    }
    const s = (await hre.run("job:submit", { job: jobId.toString() })) as { data: { fulfilled: boolean } };
    expect(s.data.fulfilled).to.equal(true);
  });
});
