/**
 * The fast dev setup (docs/trusted-setup.md, "Dev setup"): the dev ptau and the dev Groth16 keys computed directly
 * from the public dev secrets are byte for byte what snarkjs' own dev recipe writes, and snarkjs' own commands
 * accept them (powersoftau verify, zkey verify, groth16 prove / verify, vkey and Solidity export).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { expect } from "chai";
import * as snarkjs from "snarkjs";
import { type CompiledCircuit, compileCircuit, requiredPower } from "../../scripts/circuit/compile";
import { ROOT } from "../../scripts/lib/paths";
import { writeDevPtauDirect } from "../../scripts/setup/direct-ptau";
import { circuitPower, writeDevZkeyDirect } from "../../scripts/setup/direct-zkey";
import { FixedBasePool } from "../../scripts/setup/fixed-base";
import { setupGroth16Dev, snarkjsDevZkey } from "../../scripts/setup/groth16";
import { devPtau, snarkjsDevPtau } from "../../scripts/setup/ptau";

const TOY = path.join(__dirname, "..", "contracts", "fixtures", "toy");
const SNARKJS_CLI = path.join(ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const run = promisify(execFile);

function same(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

describe("fast dev setup: direct keys equal snarkjs' and snarkjs accepts them", function () {
  let dir: string;
  let toy: CompiledCircuit;
  let pool: FixedBasePool;
  /** Direct dev ptaus of the toy circuit's power (3) and one above (4). */
  const ptau = (p: number): string => path.join(dir, `direct-${p}.ptau`);
  const zkey = (p: number): string => path.join(dir, `direct-for-${p}.zkey`);

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-fast-keys-"));
    toy = await compileCircuit(path.join(TOY, "toy.circom"));
    pool = FixedBasePool.start();
    for (const p of [3, 4]) {
      await writeDevPtauDirect(p, ptau(p), { pool });
      await writeDevZkeyDirect(toy.r1cs, zkey(p), { pool, ptauPower: p });
    }
  });
  after(async function () {
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the direct dev ptau is snarkjs' new + beacon + prepare phase2, byte for byte, and powersoftau verify passes", async function () {
    const ref = path.join(dir, "snarkjs-4.ptau");
    await snarkjsDevPtau(4, ref);
    expect(same(ptau(4), ref)).to.equal(true);
    expect(await snarkjs.powersOfTau.verify(ptau(3))).to.equal(true);
  });

  it("the direct zkey is snarkjs' zkey new + dev beacon on the dev ptau, for an exact and a larger ptau", async function () {
    expect(circuitPower(toy.constraints, toy.publicInputs + toy.outputs)).to.equal(3);
    for (const p of [3, 4]) {
      const ref = path.join(dir, `snarkjs-for-${p}.zkey`);
      await snarkjsDevZkey(toy.r1cs, ptau(p), ref);
      expect(same(zkey(p), ref), `ptau 2^${p}`).to.equal(true);
    }
    // The two differ (snarkjs' H section depends on whether the ptau is exactly the circuit's power), same vk.
    expect(same(zkey(3), zkey(4))).to.equal(false);
    expect(await snarkjs.zKey.exportVerificationKey(zkey(3))).to.deep.equal(await snarkjs.zKey.exportVerificationKey(zkey(4)));
  });

  it("snarkjs zkey verify accepts the direct zkey against the R1CS and the dev ptau, not keys of other secrets", async function () {
    expect(await snarkjs.zKey.verifyFromR1cs(toy.r1cs, ptau(3), zkey(3))).to.equal(true);
    // The committed toy.zkey comes from another (equally public) ptau: not derivable from the dev one.
    expect(await snarkjs.zKey.verifyFromR1cs(toy.r1cs, ptau(4), path.join(TOY, "toy.zkey"))).to.equal(false);
  });

  it("snarkjs' CLI proves and verifies with the direct keys; a wrong public input does not verify", async function () {
    const wtns = path.join(dir, "toy.wtns");
    await snarkjs.wtns.calculate({ modelCommitment: "7", inputCommitment: "11", jobBinding: "13", x: "5" }, toy.wasm, wtns);
    const [proof, pub, vk] = ["proof.json", "public.json", "vk.json"].map((f) => path.join(dir, f));
    await run(process.execPath, [SNARKJS_CLI, "zkey", "export", "verificationkey", zkey(3), vk]);
    await run(process.execPath, [SNARKJS_CLI, "groth16", "prove", zkey(3), wtns, proof, pub]);
    const ok = await run(process.execPath, [SNARKJS_CLI, "groth16", "verify", vk, pub, proof]);
    expect(ok.stdout).to.match(/OK!/);
    const signals = JSON.parse(fs.readFileSync(pub, "utf8")) as string[];
    expect(signals).to.deep.equal(["82", "7", "11", "13"]);
    const vkey = JSON.parse(fs.readFileSync(vk, "utf8")) as snarkjs.VerificationKey;
    const p = JSON.parse(fs.readFileSync(proof, "utf8")) as snarkjs.Groth16Proof;
    expect(await snarkjs.groth16.verify(vkey, signals, p)).to.equal(true);
    expect(await snarkjs.groth16.verify(vkey, ["83", "7", "11", "13"], p)).to.equal(false);
    expect(await snarkjs.groth16.verify(vkey, ["82", "7", "12", "13"], p)).to.equal(false);
  });

  it("snarkjs exports the Solidity verifier of the direct keys", async function () {
    const template = fs.readFileSync(path.join(ROOT, "node_modules", "snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
    const sol = await snarkjs.zKey.exportSolidityVerifier(zkey(3), { groth16: template });
    const vk = await snarkjs.zKey.exportVerificationKey(zkey(3));
    expect(sol).to.match(/contract Groth16Verifier\b/);
    expect(sol).to.include(String((vk.vk_delta_2 as string[][])[0][0]));
  });

  it("setupGroth16Dev makes direct keys named and marked INSECURE, without a ptau; devPtau reuses a larger cached one", async function () {
    const saved = process.env.ZKML_CACHE_DIR;
    process.env.ZKML_CACHE_DIR = path.join(dir, "cache");
    try {
      const keys = await setupGroth16Dev(toy);
      expect(path.basename(keys.zkey)).to.equal("toy.dev-INSECURE.zkey");
      expect(keys.insecure).to.equal(true);
      expect(keys.ptau).to.deep.equal({ power: requiredPower(toy), source: "dev" });
      expect((await setupGroth16Dev(toy)).cached).to.equal(true);
      const p9 = await devPtau(9, () => {}, { exact: true });
      expect(path.basename(p9.file)).to.equal("dev-v1-INSECURE-pot9.ptau");
      const p8 = await devPtau(8);
      expect(p8.power).to.equal(9);
      expect(p8.sha256).to.equal(p9.sha256);
    } finally {
      if (saved === undefined) delete process.env.ZKML_CACHE_DIR;
      else process.env.ZKML_CACHE_DIR = saved;
    }
  });
});
