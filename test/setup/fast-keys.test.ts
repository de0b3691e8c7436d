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
import { phaseOf, profileGroth16, sumPhases } from "../../scripts/engine/prove/phases";
import { type CompiledCircuit, compileCircuit, requiredPower } from "../../scripts/engine/circuit/compile";
import { phaseReporter, progressReporter } from "../../scripts/util/stage-log";
import { ROOT } from "../../scripts/util/paths";
import { writeDevPtauDirect } from "../../scripts/engine/setup/direct-ptau";
import { circuitPower, writeDevZkeyDirect } from "../../scripts/engine/setup/direct-zkey";
import { buildBn128 } from "ffjavascript";
import { SNARK_FIELD } from "../../scripts/util/field";
import { readSections } from "../../scripts/engine/setup/binfile";
import { FixedBasePool } from "../../scripts/engine/setup/fixed-base";
import { setupGroth16Dev, snarkjsDevZkey } from "../../scripts/engine/setup/groth16";
import { devPtau, snarkjsDevPtau } from "../../scripts/engine/setup/ptau";

const TOY = path.join(__dirname, "..", "contracts", "fixtures", "toy");
const SNARKJS_CLI = path.join(ROOT, "node_modules", "snarkjs", "build", "cli.cjs");
const run = promisify(execFile);

function same(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

/** Runs snarkjs' CLI; resolves with its exit code (0 or not) and output, never rejects on a non-zero exit. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [SNARKJS_CLI, ...args]);
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

/** A copy of `file` with one byte flipped `at` bytes into section `section` (of container type `type`). */
function corrupt(file: string, type: string, section: number, at: number, out: string): string {
  const s = readSections(file, type).get(section)?.[0];
  if (!s) throw new Error(`${file} has no section ${section}`);
  const b = fs.readFileSync(file);
  b[s.offset + at] ^= 0x01;
  fs.writeFileSync(out, b);
  return out;
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
    for (const p of [3, 4]) {
      const ok = await cli("powersoftau", "verify", ptau(p));
      expect(ok.code, ok.out).to.equal(0);
    }
    // One flipped bit in a tau*G1 point (section 2, second point) and the CLI refuses the file.
    const bad = await cli("powersoftau", "verify", corrupt(ptau(3), "ptau", 2, 64 + 5, path.join(dir, "bad.ptau")));
    expect(bad.code, bad.out).to.not.equal(0);
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
    const ok = await cli("zkey", "verify", toy.r1cs, ptau(3), zkey(3));
    expect(ok.code, ok.out).to.equal(0);
    // One flipped bit in an L point (section 6) and the CLI refuses the zkey.
    const bad = await cli("zkey", "verify", toy.r1cs, ptau(3), corrupt(zkey(3), "zkey", 6, 3, path.join(dir, "bad.zkey")));
    expect(bad.code, bad.out).to.not.equal(0);
    // The committed toy.zkey comes from another (equally public) ptau: not derivable from the dev one.
    expect(await snarkjs.zKey.verifyFromR1cs(toy.r1cs, ptau(4), path.join(TOY, "toy.zkey"))).to.equal(false);
  });

  it("snarkjs' CLI proves and verifies with the direct keys; a wrong public input does not verify", async function () {
    const wtns = path.join(dir, "toy.wtns");
    await snarkjs.wtns.calculate({ modelCommitment: "7", inputCommitment: "11", jobBinding: "13", x: "5" }, toy.wasm, wtns);
    const [proof, pub, vk] = ["proof.json", "public.json", "vk.json"].map((f) => path.join(dir, f));
    await run(process.execPath, [SNARKJS_CLI, "zkey", "export", "verificationkey", zkey(3), vk]);
    await run(process.execPath, [SNARKJS_CLI, "groth16", "prove", zkey(3), wtns, proof, pub]);
    const ok = await cli("groth16", "verify", vk, pub, proof);
    expect(ok.code, ok.out).to.equal(0);
    expect(ok.out).to.match(/OK!/);
    // A public signal changed in public.json: the CLI says no (exit code and message).
    const pubBad = path.join(dir, "public-bad.json");
    fs.writeFileSync(pubBad, JSON.stringify(["83", "7", "11", "13"]));
    const bad = await cli("groth16", "verify", vk, pubBad, proof);
    expect(bad.code, bad.out).to.not.equal(0);
    expect(bad.out).to.match(/Invalid proof/);
    const signals = JSON.parse(fs.readFileSync(pub, "utf8")) as string[];
    expect(signals).to.deep.equal(["82", "7", "11", "13"]);
    const vkey = JSON.parse(fs.readFileSync(vk, "utf8")) as snarkjs.VerificationKey;
    const p = JSON.parse(fs.readFileSync(proof, "utf8")) as snarkjs.Groth16Proof;
    expect(await snarkjs.groth16.verify(vkey, signals, p)).to.equal(true);
    expect(await snarkjs.groth16.verify(vkey, ["83", "7", "11", "13"], p)).to.equal(false);
    expect(await snarkjs.groth16.verify(vkey, ["82", "7", "12", "13"], p)).to.equal(false);
  });

  it("profileGroth16 (the benchmark's breakdown) splits a proof into reading, QAP, FFT and MSM phases adding up to its total", async function () {
    const wtns = path.join(dir, "toy-profile.wtns");
    await snarkjs.wtns.calculate({ modelCommitment: "7", inputCommitment: "11", jobBinding: "13", x: "5" }, toy.wasm, wtns);
    const ph = await profileGroth16(zkey(3), wtns);
    for (const k of ["read", "qap", "fft", "msm"] as const) expect(ph[k], k).to.be.greaterThan(0);
    expect(ph.read + ph.qap + ph.fft + ph.msm).to.be.closeTo(ph.total, 1e-9);
    expect(phaseOf("Reading Wtns")).to.equal("read");
    expect(phaseOf("IFFT_A: fft 3 mix start: 0/1")).to.equal("fft");
    expect(phaseOf("multiexp H: processing")).to.equal("msm");
    expect(
      sumPhases(
        [
          [1, "qap"],
          [2, "fft"],
          [4, "msm"],
        ],
        7,
      ),
    ).to.deep.equal({ read: 1, qap: 1, fft: 2, msm: 3, total: 7 });
  });

  it("snarkjs' CLI exports the Solidity verifier of the direct keys", async function () {
    const out = path.join(dir, "verifier.sol");
    const r = await cli("zkey", "export", "solidityverifier", zkey(3), out);
    expect(r.code, r.out).to.equal(0);
    const sol = fs.readFileSync(out, "utf8");
    const vk = await snarkjs.zKey.exportVerificationKey(zkey(3));
    expect(sol).to.match(/contract Groth16Verifier\b/);
    expect(sol).to.include(String((vk.vk_delta_2 as string[][])[0][0]));
  });

  it("the worker pool's fixed-base products equal ffjavascript's, across chunk boundaries and for edge scalars", async function () {
    const curve = await buildBn128(true);
    const n = 9000; // three chunks of 4096 over two workers
    const scalar = (i: number): bigint =>
      i === 0 ? 0n : i === 1 ? 1n : i === n - 1 ? SNARK_FIELD - 1n : (BigInt(i) * 0x9e3779b97f4a7c15f39cc0605cedc834n) % SNARK_FIELD;
    const bytes = (start: number, k: number): Uint8Array => {
      const b = Buffer.alloc(k * 32);
      for (let j = 0; j < k; j++) {
        let v = scalar(start + j);
        for (let t = 0; t < 32; t++, v >>= 8n) b[j * 32 + t] = Number(v & 0xffn);
      }
      return b;
    };
    const two = FixedBasePool.start(2);
    try {
      await two.prepare({ G1: n, G2: 300 });
      const g1 = Buffer.alloc(n * 64);
      await two.mul("G1", n, bytes, ["u"], (o, start) => void g1.set(o.u as Uint8Array, start * 64));
      const g2 = Buffer.alloc(300 * 128);
      await two.mul("G2", 300, bytes, ["u"], (o, start) => void g2.set(o.u as Uint8Array, start * 128));
      for (const i of [0, 1, 2, 3, 4095, 4096, 4097, 8191, 8192, 8193, 8998, n - 1]) {
        const ref = Buffer.from(curve.G1.toUncompressed(curve.G1.toAffine(curve.G1.timesScalar(curve.G1.g, scalar(i)))));
        expect(g1.subarray(i * 64, (i + 1) * 64).equals(ref), `G1 point ${i}`).to.equal(true);
      }
      for (const i of [0, 1, 2, 150, 299]) {
        const ref = Buffer.from(curve.G2.toUncompressed(curve.G2.toAffine(curve.G2.timesScalar(curve.G2.g, scalar(i)))));
        expect(g2.subarray(i * 128, (i + 1) * 128).equals(ref), `G2 point ${i}`).to.equal(true);
      }
    } finally {
      await two.close();
      await curve.terminate();
    }
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

describe("progress lines of long setup steps", function () {
  it("rewrites one line on a TTY, prints plain lines at most every 10 s otherwise, and always ends at 100%", function () {
    const saved = process.env.ZKML_QUIET;
    delete process.env.ZKML_QUIET;
    try {
      let t = 0;
      const tty: string[] = [];
      const p = progressReporter("keys", { tty: true, write: (s) => tty.push(s), now: () => t });
      for (const [time, done] of [
        [0, 0],
        [100, 10],
        [300, 50],
        [350, 60],
        [900, 100],
      ] as const) {
        t = time;
        p(done, 100);
      }
      expect(tty).to.deep.equal(["\rkeys: 50% (0.3 s)\x1b[K", "\rkeys: 100% (0.9 s)\x1b[K\n"]);
      t = 0;
      const plain: string[] = [];
      const q = progressReporter("keys", { tty: false, write: (s) => plain.push(s), now: () => t });
      for (const [time, done] of [
        [0, 0],
        [5000, 30],
        [10_000, 40],
        [15_000, 70],
        [20_500, 100],
        [21_000, 100],
      ] as const) {
        t = time;
        q(done, 100);
      }
      expect(plain).to.deep.equal(["keys: 40% (10.0 s)\n", "keys: 100% (20.5 s)\n"]);
    } finally {
      if (saved === undefined) delete process.env.ZKML_QUIET;
      else process.env.ZKML_QUIET = saved;
    }
  });

  it("phaseReporter: a proof's phases after 2 s, a TTY line rewritten or plain lines, nothing for a quick proof", function () {
    const saved = process.env.ZKML_QUIET;
    delete process.env.ZKML_QUIET;
    try {
      const run = (tty: boolean, steps: [number, string][], end: number): string[] => {
        let t = 0;
        const out: string[] = [];
        const r = phaseReporter("proving", { tty, write: (s) => out.push(s), now: () => t });
        for (const [time, name] of steps) {
          t = time;
          r.phase(name);
        }
        t = end;
        r.done();
        return out;
      };
      const steps: [number, string][] = [
        [0, "witness"],
        [1500, "FFTs"],
        [2500, "multi-scalar multiplications"],
      ];
      expect(run(false, steps, 4000)).to.deep.equal([
        "proving: multi-scalar multiplications (2.5 s)\n",
        "proving: done after multi-scalar multiplications (4.0 s)\n",
      ]);
      expect(run(true, steps, 4000)).to.deep.equal([
        "\rproving: multi-scalar multiplications (2.5 s)\x1b[K",
        "\rproving: done after multi-scalar multiplications (4.0 s)\x1b[K\n",
      ]);
      expect(
        run(
          false,
          [
            [0, "witness"],
            [300, "FFTs"],
          ],
          600,
        ),
      ).to.deep.equal([]);
    } finally {
      if (saved === undefined) delete process.env.ZKML_QUIET;
      else process.env.ZKML_QUIET = saved;
    }
  });
});
