import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { denseOpen, densePrivate, requantizeConstraints } from "../../scripts/formats/fixed-point";
import { type Circuit, templateCircuit } from "../helpers/circuit";

const W = [
  [1n, -2n, 3n],
  [-4n, 5n, -6n],
];
const B = [7n, -8n];
const lit = (a: bigint[][]): string => "[" + a.map((r) => "[" + r.join(",") + "]").join(",") + "]";
const i8 = fc.bigInt({ min: -128n, max: 127n });

describe("circuits/lib/dense.circom", function () {
  describe("DenseOpen(3, 2, W, B, A=12, k=4, outBits=8, relu=1)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("dense.circom", "DenseOpen", [3, 2, lit(W), "[" + B.join(",") + "]", 12, 4, 8, 1]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = denseOpen(x, W, B, 4, 8, true);
      expect([0, 1].map((j) => fromField(c.get(w, `out[${j}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    for (const x of [[0n, 0n, 0n], [127n, 127n, 127n], [-128n, -128n, -128n], [127n, -128n, 127n], [-128n, 127n, -128n], [8n, -8n, 1n]]) {
      it(`equals the TS twin at x = [${x.join(", ")}]`, async function () {
        await check(x);
      });
    }
    it("equals the TS twin on random int8 inputs (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 3, maxLength: 3 }), async (x) => void (await check(x))), { numRuns: 40 });
    });
    it("costs nOut * Requantize constraints, independent of nIn (pinned)", function () {
      expect(c.compiled.constraints).to.equal(36);
      expect(c.compiled.constraints).to.equal(2 * requantizeConstraints(12, 4, 8, true));
    });
    it("rejects a changed output", async function () {
      const w = await check([100n, -3n, 50n]);
      await c.expectRejected(w, { "out[0]": fromField(c.get(w, "out[0]")) + 1n });
    });
    it("rejects a requantization remainder bit flipped with the quotient moved to keep the weighted sum", async function () {
      const w = await check([100n, -3n, 50n]);
      // acc0 = 100 + 6 + 150 + 7 = 263, T = 263 + 8 + 2^13*16 ... quotient lsb is bit 4; move 16 between bit 4 and bit 0.
      const q0 = c.get(w, "rq[0].bits[4]");
      const b0 = fromField(c.get(w, "rq[0].bits[0]"));
      await c.expectRejected(w, { "rq[0].bits[4]": 1n - q0, "rq[0].bits[0]": b0 + (q0 === 1n ? 16n : -16n) });
    });
  });

  describe("DensePrivate(3, 2, A=16, k=4, outBits=8, relu=1)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("dense.circom", "DensePrivate", [3, 2, 16, 4, 8, 1]);
    });
    const check = async (x: bigint[], Wm: bigint[][], Bv: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField), W: Wm.map((r) => r.map(toField)), B: Bv.map(toField) });
      expect([0, 1].map((j) => fromField(c.get(w, `out[${j}]`)))).to.deep.equal(densePrivate(x, Wm, Bv, 4, 8, true));
      await c.expectSatisfied(w);
      return w;
    };
    it("equals the TS twin at the extremes (zero, max, min weights and inputs)", async function () {
      await check([0n, 0n, 0n], W, B);
      await check([-128n, -128n, -128n], [[-128n, -128n, -128n], [127n, 127n, 127n]], [127n, -128n]);
      await check([127n, 127n, 127n], [[127n, 127n, 127n], [-128n, -128n, -128n]], [-128n, 127n]);
    });
    it("equals the TS twin on random int8 weights and inputs (fast-check)", async function () {
      const row = fc.array(i8, { minLength: 3, maxLength: 3 });
      await fc.assert(
        fc.asyncProperty(row, fc.array(row, { minLength: 2, maxLength: 2 }), fc.array(i8, { minLength: 2, maxLength: 2 }), async (x, Wm, Bv) => void (await check(x, Wm, Bv))),
        { numRuns: 30 },
      );
    });
    it("costs one constraint per multiply plus nOut * Requantize (pinned)", function () {
      expect(c.compiled.constraints).to.equal(50);
      expect(c.compiled.constraints).to.equal(6 + 2 * requantizeConstraints(16, 4, 8, true));
    });
    it("rejects a changed product", async function () {
      const w = await check([3n, 4n, 5n], W, B);
      await c.expectRejected(w, { "prod[0][1]": fromField(c.get(w, "prod[0][1]")) + 1n });
    });
  });
});
