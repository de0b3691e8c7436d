import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { accumulatorBits, addRescaled, requantizeConstraints } from "../../scripts/formats/fixed-point";
import { type Circuit, templateCircuit } from "../helpers/circuit";

const i8 = fc.bigInt({ min: -128n, max: 127n });

describe("circuits/lib/add.circom", function () {
  for (const relu of [0, 1]) {
    // a at scale 2^-f, b at scale 2^-(f-2): b is left-shifted by 2 to a's scale, then the sum is shifted right by 1
    describe(`AddRescaled(n=6, sa=0, sb=2, A=11, k=1, outBits=8, relu=${relu})`, function () {
      let c: Circuit;
      before(async function () {
        c = await templateCircuit("add.circom", "AddRescaled", [6, 0, 2, 11, 1, 8, relu]);
      });
      const check = async (a: bigint[], b: bigint[]): Promise<bigint[]> => {
        const w = await c.witness({ a: a.map(toField), b: b.map(toField) });
        const want = addRescaled(a, b, 0, 2, 1, 8, relu === 1);
        expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
        await c.expectSatisfied(w);
        return w;
      };
      it("A = 11 covers every int8 pair (TS check of the test's parameter)", function () {
        expect(accumulatorBits({ lo: -128n - 128n * 4n, hi: 127n + 127n * 4n })).to.equal(11);
      });
      it("equals the TS twin on edge values (extremes, clamping, half-way rounding, signs)", async function () {
        await check([0n, 127n, -128n, 127n, -128n, 1n], [0n, 127n, -128n, -128n, 127n, 0n]);
        await check([1n, -1n, 3n, -3n, 5n, -5n], [0n, 0n, 0n, 0n, -1n, 1n]);
        const w = await check([100n, -100n, 0n, 0n, 0n, 0n], [100n, -100n, 0n, 0n, 0n, 0n]);
        // (100 + 400) / 2 = 250 saturates to 127; (-100 - 400) / 2 saturates to -128 (or 0 with ReLU)
        expect(fromField(c.get(w, "out[0]"))).to.equal(127n);
        expect(fromField(c.get(w, "out[1]"))).to.equal(relu ? 0n : -128n);
      });
      it("equals the TS twin on random int8 operands (fast-check)", async function () {
        await fc.assert(
          fc.asyncProperty(fc.array(i8, { minLength: 6, maxLength: 6 }), fc.array(i8, { minLength: 6, maxLength: 6 }), async (a, b) => void (await check(a, b))),
          { numRuns: 30 },
        );
      });
      it("costs n * Requantize(A, k, outBits, relu): the rescaled sum is free (pinned)", function () {
        expect(c.compiled.constraints).to.equal(6 * requantizeConstraints(11, 1, 8, relu === 1));
        expect(c.compiled.constraints).to.equal(102);
      });
      it("rejects a changed output", async function () {
        const w = await check([10n, 20n, 30n, -40n, 50n, -60n], [1n, 2n, 3n, 4n, 5n, 6n]);
        await c.expectRejected(w, { "out[2]": fromField(c.get(w, "out[2]")) + 1n });
        await c.expectRejected(w, { "out[5]": fromField(c.get(w, "out[5]")) - 1n });
      });
    });
  }
});
