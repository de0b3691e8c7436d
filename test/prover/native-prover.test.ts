import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { buildArtifacts } from "../../scripts/pipelines/build";
import { nativeProverBinary, nativeUnavailable, proveNativeFiles, zkeyVerificationKey } from "../../scripts/engine/prove/native";
import { SNARK_FIELD } from "../../scripts/util/field";
import { rng as rand } from "../../scripts/engine/train";
import { BUILD_DIR, ensureDir } from "../../scripts/util/paths";

/**
 * The native Groth16 prover (native/groth16/prover.cpp, issue 32) against snarkjs on the same keys and witnesses:
 * its proofs verify, its public signals are snarkjs', on random circuits (random field coefficients, products and
 * sums) and on edge witnesses (all zeros, values next to the field's size), with one thread and with two.
 */
const DIR = ensureDir(path.join(BUILD_DIR, "test-native"));

/** A random circuit: each signal the product of two random linear combinations of the earlier ones (field constants). */
function randomCircuit(seed: number, nIn: number, nSteps: number, nPub: number): string {
  const r = rand(seed);
  const big = () =>
    (BigInt(Math.floor(r() * 2 ** 48)) * BigInt(Math.floor(r() * 2 ** 48)) * BigInt(Math.floor(r() * 2 ** 48))) % SNARK_FIELD;
  const lines: string[] = [];
  const sig = (i: number) => (i < nIn ? `x[${i}]` : `s[${i - nIn}]`);
  for (let k = 0; k < nSteps; k++) {
    const n = nIn + k;
    const lin = () =>
      Array.from({ length: 3 }, () => `${big()} * ${sig(Math.floor(r() * n))}`)
        .concat([big().toString()])
        .join(" + ");
    lines.push(`    s[${k}] <== (${lin()}) * (${lin()});`);
  }
  return `pragma circom 2.1.9;
template R() {
    signal input x[${nIn}];
    signal output y[${nPub}];
    signal s[${nSteps}];
${lines.join("\n")}
    for (var i = 0; i < ${nPub}; i++) { y[i] <== s[${nSteps} - 1 - i] + x[i]; }
}
component main {public [x]} = R();
`;
}

async function artifacts(name: string, source: string) {
  const file = path.join(DIR, `${name}.circom`);
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== source) fs.writeFileSync(file, source);
  return buildArtifacts(file, {});
}

describe("the native Groth16 prover (issue 32) against snarkjs, on the same keys and witnesses", function () {
  this.timeout(600_000);
  let binary: string;
  before(async function () {
    const b = await nativeProverBinary();
    if (!b) throw new Error(`the native prover must build on this machine: ${nativeUnavailable}`);
    binary = b;
  });

  for (const [seed, nIn, nSteps, nPub] of [
    [1, 4, 40, 2],
    [2, 6, 600, 3],
  ] as const)
    it(`a random circuit (${nIn} public inputs, ${nSteps} products of random field combinations): proofs verify with the key, public signals equal snarkjs', on random, zero and field-size inputs, with 1 and 2 threads`, async function () {
      const a = await artifacts(`random-${seed}-${nSteps}`, randomCircuit(seed, nIn, nSteps, nPub));
      const vk = await zkeyVerificationKey(a.keys.zkey);
      const r = rand(seed * 7);
      const inputs = [
        Array.from({ length: nIn }, () => BigInt(Math.floor(r() * 2 ** 40))),
        Array.from({ length: nIn }, () => 0n),
        Array.from({ length: nIn }, (_, i) => SNARK_FIELD - 1n - BigInt(i)),
        Array.from({ length: nIn }, (_, i) => (i % 2 ? 1n : SNARK_FIELD - 1n)),
      ];
      for (const [k, x] of inputs.entries()) {
        const wtns = path.join(DIR, `random-${seed}-${k}.wtns`);
        await snarkjs.wtns.calculate({ x: x.map(String) }, a.circuit.wasm, wtns);
        const ref = await snarkjs.groth16.prove(a.keys.zkey, wtns);
        for (const threads of [1, 2]) {
          const p = await proveNativeFiles(binary, a.keys.zkey, wtns, threads);
          expect(p.publicSignals, `input ${k}, ${threads} threads`).to.deep.equal(ref.publicSignals);
          expect(await snarkjs.groth16.verify(vk, p.publicSignals, p.proof), `input ${k}, ${threads} threads`).to.equal(true);
          // a proof of other public signals does not verify: the check is not vacuous
          const forged = [...p.publicSignals];
          forged[0] = ((BigInt(forged[0]) + 1n) % SNARK_FIELD).toString();
          expect(await snarkjs.groth16.verify(vk, forged, p.proof)).to.equal(false);
        }
      }
    });

  it("refuses a witness of another circuit and a file that is not a zkey, in one line, without writing a proof", async function () {
    const a = await artifacts("random-1-40", randomCircuit(1, 4, 40, 2));
    const b = await artifacts("random-2-600", randomCircuit(2, 6, 600, 3));
    const wtns = path.join(DIR, "random-2-0.wtns");
    await snarkjs.wtns.calculate({ x: ["1", "2", "3", "4", "5", "6"] }, b.circuit.wasm, wtns);
    let msg = "";
    try {
      await proveNativeFiles(binary, a.keys.zkey, wtns);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).to.match(/groth16-prover: the witness has \d+ values, the circuit \d+/);
    try {
      await proveNativeFiles(binary, wtns, wtns);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).to.match(/groth16-prover: .*not a zkey file/);
  });
});
