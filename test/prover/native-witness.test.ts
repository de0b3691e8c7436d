import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { buildArtifacts } from "../../scripts/pipelines/build";
import { buildNativeWitness, computeWitness, nativeWitnessBinary } from "../../scripts/engine/prove/witness-native";
import { proveGroth16 } from "../../scripts/engine/prove/groth16";
import { zkeyVerificationKey } from "../../scripts/engine/prove/native";
import { SNARK_FIELD } from "../../scripts/util/field";
import { BUILD_DIR, ensureDir } from "../../scripts/util/paths";

/**
 * circom's C++ witness generator (scripts/engine/prove/witness-native.ts, issue 32 item 3): built for a circuit with
 * the hints our templates use (a bit decomposition, an inverse), it writes the WASM's witness byte for byte on
 * random and edge inputs, proofs made from it verify, an input the circuit rejects falls back to the WASM and its
 * message, and `ZKML_WITNESS=wasm` turns it off.
 */
const DIR = ensureDir(path.join(BUILD_DIR, "test-native-witness"));
const SOURCE = `pragma circom 2.1.9;
include "circomlib/circuits/bitify.circom";
template W() {
    signal input x[3];
    signal output y;
    component bits = Num2Bits(16);
    bits.in <== x[0];
    signal inv;
    inv <-- x[1] != 0 ? 1 / x[1] : 0;
    inv * x[1] === 1;
    signal sq <== x[2] * x[2];
    y <== bits.out[3] * inv + sq;
}
component main {public [x]} = W();
`;

describe("the native witness generator (circom --c, g++) against circom's WASM", function () {
  this.timeout(600_000);
  let a: Awaited<ReturnType<typeof buildArtifacts>>;
  let file: string;
  before(async function () {
    file = path.join(DIR, "hints.circom");
    if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== SOURCE) fs.writeFileSync(file, SOURCE);
    a = await buildArtifacts(file, {});
  });

  it("is built only once its sample witness is the WASM's, then writes the WASM's witness on random and edge inputs, and proofs from it verify", async function () {
    const built = await buildNativeWitness(file, a.circuit, { x: ["5", "7", "11"] });
    expect(await nativeWitnessBinary(a.circuit.wasm)).to.equal(built.binary);
    const inputs = [
      ["0", "1", "0"],
      ["65535", (SNARK_FIELD - 1n).toString(), (SNARK_FIELD - 1n).toString()],
      ["12345", "98765432109876543210", "3"],
      ["8", "2", (SNARK_FIELD / 2n).toString()],
    ];
    for (const [k, x] of inputs.entries()) {
      const native = path.join(DIR, `native-${k}.wtns`);
      const wasm = path.join(DIR, `wasm-${k}.wtns`);
      expect(await computeWitness({ x }, a.circuit.wasm, native)).to.equal("native");
      await snarkjs.wtns.calculate({ x }, a.circuit.wasm, wasm);
      expect(fs.readFileSync(native).equals(fs.readFileSync(wasm)), `input ${k}`).to.equal(true);
    }
    const r = await proveGroth16(a.circuit.wasm, a.keys.zkey, { x: inputs[2] });
    const ref = await snarkjs.groth16.fullProve({ x: inputs[2] }, a.circuit.wasm, a.keys.zkey);
    expect(r.publicSignals.map(String)).to.deep.equal(ref.publicSignals);
    expect(await snarkjs.groth16.verify(await zkeyVerificationKey(a.keys.zkey), ref.publicSignals, r.proof)).to.equal(true);
    // a second build request finds it
    expect((await buildNativeWitness(file, a.circuit, { x: ["5", "7", "11"] })).cached).to.equal(true);
  });

  it("an input the circuit rejects falls back to the WASM, whose message names the template; ZKML_WITNESS=wasm turns it off", async function () {
    const wtns = path.join(DIR, "rejected.wtns");
    for (const x of [
      ["65536", "1", "0"], // outside Num2Bits(16)
      ["1", "0", "0"], // no inverse of 0
    ]) {
      let msg = "";
      try {
        await computeWitness({ x }, a.circuit.wasm, wtns);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg, x.join(",")).to.match(/Assert Failed|Error in template/);
    }
    process.env.ZKML_WITNESS = "wasm";
    try {
      expect(await nativeWitnessBinary(a.circuit.wasm)).to.equal(undefined);
      expect(await computeWitness({ x: ["1", "1", "1"] }, a.circuit.wasm, wtns)).to.equal("wasm");
    } finally {
      delete process.env.ZKML_WITNESS;
    }
  });
});
