import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { argmax } from "../../scripts/formats/fixed-point";
import { type Circuit, templateCircuit } from "../helpers/circuit";

describe("circuits/lib/argmax.circom", function () {
  describe("Argmax(n=5, bits=8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("argmax.circom", "Argmax", [5, 8]);
    });
    const check = async (v: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: v.map(toField) });
      expect(Number(c.get(w, "out"))).to.equal(argmax(v));
      expect(fromField(c.get(w, "max"))).to.equal(v[argmax(v)]);
      await c.expectSatisfied(w);
      return w;
    };
    const edges = [
      [0n, 0n, 0n, 0n, 0n],
      [-128n, -128n, -128n, -128n, -128n],
      [127n, -128n, 127n, -128n, 127n],
      [-128n, -128n, -128n, -128n, 127n],
      [-5n, -3n, -3n, -9n, -4n],
      [1n, 2n, 3n, 4n, 5n],
    ];
    for (const v of edges) {
      it(`equals the TS twin at [${v.join(", ")}] (ties: lowest index)`, async function () {
        await check(v);
      });
    }
    it("equals the TS twin on random int8 vectors with many ties (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(fc.constantFrom(-128n, -1n, 0n, 3n, 127n), { minLength: 5, maxLength: 5 }), async (v) => void (await check(v))), { numRuns: 40 });
      await fc.assert(fc.asyncProperty(fc.array(fc.bigInt({ min: -128n, max: 127n }), { minLength: 5, maxLength: 5 }), async (v) => void (await check(v))), { numRuns: 40 });
    });
    it("costs 2n + n*bits constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(50);
    });
    it("rejects the selection (`<--`) moved to a later index of a tie", async function () {
      // [7, 9, 9, 1, 9]: honest t = 1. Claim t = 2 (also a maximum): sel one-hot at 2, out = 2, max stays 9, prod moves.
      const v = [7n, 9n, 9n, 1n, 9n];
      const w = await check(v);
      await c.expectRejected(w, { "sel[1]": 0n, "sel[2]": 1n, "prod[1]": 0n, "prod[2]": 9n, out: 2n });
    });
    it("rejects the selection moved to a smaller value", async function () {
      const v = [7n, 9n, 9n, 1n, 9n];
      const w = await check(v);
      await c.expectRejected(w, { "sel[1]": 0n, "sel[0]": 1n, "prod[1]": 0n, "prod[0]": 7n, out: 0n, max: 7n });
    });
    it("rejects a non-boolean selection that keeps sum and index linear equations", async function () {
      // sel = (0, 2, -1, 0, 0): sum 1, index 2*1 - 2 = 0... any non-boolean entry breaks sel*(sel-1) = 0.
      const w = await check([7n, 9n, 9n, 1n, 9n]);
      await c.expectRejected(w, { "sel[1]": 2n, "sel[2]": -1n, "prod[1]": 18n, "prod[2]": -9n, out: 0n });
    });
  });
});
