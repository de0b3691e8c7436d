import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import * as snarkjs from "snarkjs";
import { type BuiltModel, buildModel } from "../../scripts/pipelines/build";
import { applyBeacon, contribute, importCeremonyPtau, verifyCeremony } from "../../scripts/engine/setup/ceremony";
import { type PtauFile, devPtau, importPtau } from "../../scripts/engine/setup/ptau";
import { requiredPower } from "../../scripts/engine/circuit/compile";
import { proveGroth16, verifyGroth16 } from "../../scripts/engine/prove/groth16";
import { circuitInput } from "../../scripts/engine/prove/inference";
import { rejectionMessage } from "../helpers/errors";

/**
 * The production path of docs/trusted-setup.md on the iris circuit: import and verify a ptau (here the cached dev
 * file stands in for a ceremony file), two phase-2 contributions, a beacon, verification against the R1CS, and
 * proofs under the resulting keys.
 */
describe("trusted setup: ceremony commands", function () {
  let built: BuiltModel;
  /** The dev ptau of the circuit's power stands in for a ceremony file. */
  let ptauFile: PtauFile;
  let dir: string;

  before(async function () {
    built = await buildModel("iris-mlp", { quantize: false });
    ptauFile = await devPtau(requiredPower(built.circuit), () => {}, { exact: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-ceremony-"));
  });
  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("imports a ptau only after snarkjs verifies it, and checks an expected hash", async function () {
    const p = await importCeremonyPtau(ptauFile.file, { expectedSha256: ptauFile.sha256 });
    expect(p.sha256).to.equal(ptauFile.sha256);
    expect(p.source).to.equal("imported");
    expect(await rejectionMessage(importCeremonyPtau(ptauFile.file, { expectedSha256: "00".repeat(32) }))).to.match(
      /expected 0+: download it again/,
    );
  });

  it("refuses a corrupted ptau file", async function () {
    const bad = path.join(dir, "bad.ptau");
    const bytes = fs.readFileSync(ptauFile.file);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(bad, bytes);
    const msg = await rejectionMessage(importPtau(bad));
    expect(msg).to.match(/bad\.ptau failed verification: do not use it/);
  });

  it("two contributions and a beacon give keys that verify against the R1CS and prove the model", async function () {
    const ptau = await importCeremonyPtau(ptauFile.file);
    await contribute(dir, { name: "alice", entropy: "alice's secret dice rolls", r1cs: built.circuit.r1cs, ptau, circuit: "iris-mlp" });
    const { manifest: m2 } = await contribute(dir, { name: "bob", entropy: "bob's independent entropy" });
    expect(m2.contributions.map((c) => c.kind)).to.deep.equal(["initial", "contribution", "contribution"]);
    const { zkey } = await applyBeacon(dir, { beaconHash: "0x" + "ab".repeat(32), iterationsExp: 10 });
    const { manifest } = await verifyCeremony(dir);
    expect(manifest.final?.verified).to.equal(true);
    expect(manifest.r1csSha256).to.equal(built.circuit.r1csHash);
    expect(manifest.ptau.sha256).to.equal(ptauFile.sha256);
    // The ceremony's keys differ from the dev keys, and each only accepts its own proofs.
    expect(manifest.final?.vkHash).to.not.equal(built.keys.vkHash);
    const vkey = JSON.parse(fs.readFileSync(path.join(dir, "verification_key.json"), "utf8")) as snarkjs.VerificationKey;
    const x = [-29n, 25n, -41n, -43n];
    const p = await proveGroth16(built.circuit.wasm, zkey, circuitInput(x, 5n, 6n, built.model));
    expect(await verifyGroth16(vkey, p.publicSignals, p.proof)).to.equal(true);
    expect(await verifyGroth16(built.keys.vkey, p.publicSignals, p.proof)).to.equal(false);
  });

  it("refuses to verify when a recorded zkey changed on disk", async function () {
    const z = path.join(dir, "circuit_0001.zkey");
    const bytes = fs.readFileSync(z);
    bytes[bytes.length - 1] ^= 0x01;
    fs.writeFileSync(z, bytes);
    expect(await rejectionMessage(verifyCeremony(dir))).to.match(/circuit_0001\.zkey does not match its recorded sha256/);
  });

  it("refuses a second beacon and a contribution after the beacon", async function () {
    expect(await rejectionMessage(applyBeacon(dir, { beaconHash: "cd".repeat(32) }))).to.match(/already has a beacon/);
    expect(await rejectionMessage(contribute(dir, { name: "mallory" }))).to.match(/finalised by a beacon/);
  });
});
