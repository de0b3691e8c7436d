/**
 * The proving pool's worker recycling: a worker that proved with a proving key at or above `recycleAboveBytes` is
 * ended and replaced (the native memory a large proof leaves in its thread goes back to the system; docs/prover.md,
 * "Known limits"). Here with iris and a threshold below its key, so every proof recycles.
 */
import * as fs from "fs";
import { expect } from "chai";
import { type BuiltModel, buildModel } from "../../scripts/pipelines/build";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { ProofPool } from "../../scripts/apps/prover/pool";

describe("prover nodes: the proving pool recycles a worker after a large proof", function () {
  this.timeout(120_000);
  let b: BuiltModel;
  const x = (n: number): bigint[] => Array.from({ length: 4 }, (_, i) => BigInt(((n * 37 + i * 53) % 200) - 100));
  const task = (n: number) => ({ model: b.model, wasm: b.circuit.wasm, zkey: b.keys.zkey, x: x(n), salt: BigInt(n + 1), binding: 7n });

  before(async () => {
    b = await buildModel("iris-mlp", { quantize: false });
  });

  it("replaces the worker after each proof at or above the threshold, hands the fresh one to a waiting proof, and proves right", async function () {
    const zkeyBytes = fs.statSync(b.keys.zkey).size;
    const pool = new ProofPool(1, zkeyBytes); // iris' own key is "large" here
    try {
      // two proofs for one worker: the second waits, and is given the fresh worker of the first's slot
      const [r1, r2] = await Promise.all([pool.prove(task(1)), pool.prove(task(2))]);
      expect([r1.output, r2.output]).to.deep.equal([inferQuantized(b.model, x(1)).output, inferQuantized(b.model, x(2)).output]);
      expect(pool.recycled).to.equal(2);
      const r3 = await pool.prove(task(3));
      expect(r3.output).to.equal(inferQuantized(b.model, x(3)).output);
      expect(pool.recycled).to.equal(3);
    } finally {
      await pool.stop();
    }
  });

  it("keeps its worker below the threshold (the default: never recycles)", async function () {
    const zkeyBytes = fs.statSync(b.keys.zkey).size;
    for (const pool of [new ProofPool(1, zkeyBytes + 1), new ProofPool(1)]) {
      try {
        await pool.prove(task(4));
        await pool.prove(task(5));
        expect(pool.recycled).to.equal(0);
      } finally {
        await pool.stop();
      }
    }
    expect(() => new ProofPool(1, 0)).to.throw("ProofPool: recycleAboveBytes must be positive, got 0");
  });
});
