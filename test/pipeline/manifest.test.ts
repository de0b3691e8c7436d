import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import * as snarkjs from "snarkjs";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { sha256File } from "../../scripts/util/hash";
import { BUILD_DIR, ensureDir } from "../../scripts/util/paths";
import {
  type CircuitArtifacts,
  type ModelManifest,
  buildArtifacts,
  buildModel,
  createManifest,
  loadQuantizedModel,
} from "../../scripts/pipelines/build";
import { type QuantizedModel, modelCommitment } from "../../scripts/formats/quantized-model";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { verificationKeyHash } from "../../scripts/engine/setup/groth16";

/** Builds a model's circuit and keys under build/manifest-test/ (never in the source tree) and its manifest. */
async function manifestOf(
  m: QuantizedModel,
  tag: string,
): Promise<{ manifest: ModelManifest; artifacts: CircuitArtifacts; circuitFile: string }> {
  const dir = ensureDir(path.join(BUILD_DIR, "manifest-test"));
  const circuitFile = path.join(dir, `${tag}.circom`);
  fs.writeFileSync(circuitFile, await generateMainCircuit(m));
  const artifacts = await buildArtifacts(circuitFile);
  return {
    manifest: createManifest(m, await modelCommitment(m), await circuitModelCommitment(m), artifacts, { circuit: circuitFile }),
    artifacts,
    circuitFile,
  };
}

describe("model manifest", function () {
  let base: QuantizedModel;
  let m0: ModelManifest;
  let a0: CircuitArtifacts;

  before(async function () {
    base = loadQuantizedModel("iris-mlp");
    ({ manifest: m0, artifacts: a0 } = await manifestOf(base, "iris"));
  });

  it("the committed manifest is what the build produces (every hash, byte for byte)", async function () {
    const b = await buildModel("iris-mlp", { quantize: false });
    expect(b.manifestChanged).to.equal(false);
    expect(fs.readFileSync(b.paths.manifestFile, "utf8")).to.equal(JSON.stringify(b.manifest, null, 2) + "\n");
    expect(b.manifest.circuitHash).to.equal(b.circuit.r1csHash);
    expect(b.manifest.vkHash).to.equal(b.keys.vkHash);
    expect(BigInt(b.manifest.modelHash)).to.equal(BigInt(b.manifest.modelCommitment));
    for (const f of Object.values(b.manifest.files)) expect(await sha256File(f.path)).to.equal(f.sha256);
  });

  it("unchanged inputs give an identical manifest", async function () {
    const again = await manifestOf(base, "iris");
    expect(again.manifest).to.deep.equal(m0);
  });

  it("a changed weight changes the model commitment, the circuit and the keys", async function () {
    const changed = JSON.parse(JSON.stringify(base)) as QuantizedModel;
    const l0 = changed.layers[0];
    if (l0.type !== "dense") throw new Error("iris layer 0 is dense");
    l0.W[0][0] += l0.W[0][0] < 0 ? 1 : -1;
    const { manifest: m1 } = await manifestOf(changed, "iris-changed");
    expect(m1.modelCommitment).to.not.equal(m0.modelCommitment);
    expect(m1.modelHash).to.not.equal(m0.modelHash);
    expect(m1.circuitHash).to.not.equal(m0.circuitHash);
    expect(m1.vkHash).to.not.equal(m0.vkHash);
    expect(m1.files.circuit.sha256).to.not.equal(m0.files.circuit.sha256);
    // what did not change stays equal
    expect(m1.scales).to.deep.equal(m0.scales);
    expect(m1.trustedSetup.ptau).to.deep.equal(m0.trustedSetup.ptau);
  });

  it("new keys for the same circuit change only the key hashes", async function () {
    const zkey = path.join(BUILD_DIR, "manifest-test", "contributed.zkey");
    await snarkjs.zKey.contribute(a0.keys.zkey, zkey, "another party", "independent entropy for this test");
    const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
    const keys = { ...a0.keys, zkey, vkey, vkHash: verificationKeyHash(vkey), zkeySha256: await sha256File(zkey) };
    const m2 = createManifest(
      base,
      BigInt(m0.modelCommitment),
      BigInt(m0.publicModelCommitment),
      { ...a0, keys },
      { circuit: path.join(BUILD_DIR, "manifest-test", "iris.circom") },
    );
    expect(m2.vkHash).to.not.equal(m0.vkHash);
    expect(m2.trustedSetup.zkeySha256).to.not.equal(m0.trustedSetup.zkeySha256);
    const { vkHash: _v, trustedSetup: t2, ...rest2 } = m2;
    const { vkHash: _v0, trustedSetup: t0, ...rest0 } = m0;
    expect(rest2).to.deep.equal(rest0);
    expect(t2.ptau).to.deep.equal(t0.ptau);
  });
});
