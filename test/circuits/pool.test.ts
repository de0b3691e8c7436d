import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/lib/field";
import { avgPool2d, max2, maxPool2d, requantizeConstraints } from "../../scripts/quant/ops";
import { type Circuit, templateCircuit } from "../helpers/circuit";

const i8 = fc.bigInt({ min: -128n, max: 127n });

describe("circuits/lib/pool.circom", function () {
  describe("Max2(D=8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("pool.circom", "Max2", [8]);
    });
    const pairs: [bigint, bigint][] = [[0n, 0n], [127n, -128n], [-128n, 127n], [-128n, -128n], [127n, 127n], [-1n, 0n], [5n, 5n], [-7n, -3n]];
    for (const [a, b] of pairs) {
      it(`equals the TS twin at (${a}, ${b})`, async function () {
        const w = await c.witness({ a: toField(a), b: toField(b) });
        expect(fromField(c.get(w, "out"))).to.equal(max2(a, b));
        await c.expectSatisfied(w);
      });
    }
    it("equals the TS twin on random int8 pairs (fast-check)", async function () {
      await fc.assert(
        fc.asyncProperty(i8, i8, async (a, b) => {
          const w = await c.witness({ a: toField(a), b: toField(b) });
          expect(fromField(c.get(w, "out"))).to.equal(max2(a, b));
        }),
        { numRuns: 60 },
      );
    });
    it("costs D + 2 constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(10);
    });
    it("rejects a flipped comparison bit with the output switched to the smaller value", async function () {
      // a = 20, b = -5: d = 25 + 256 has bit 8 set. Claim b is the max: bit 8 -> 0, keep d's weighted sum by adding
      // 256 to bit 0 (not a bit any more), out -> b.
      const w = await c.witness({ a: 20n, b: toField(-5n) });
      // --O2 substitutes bit 8 through the weighted sum, so raise the surviving bit 0 by 256: bit 8 becomes 0.
      await c.expectRejected(w, { "d.out[0]": fromField(c.get(w, "d.out[0]")) + 256n, out: -5n });
    });
    it("rejects a changed output", async function () {
      const w = await c.witness({ a: 20n, b: toField(-5n) });
      await c.expectRejected(w, { out: 21n });
    });
  });

  describe("MaxPool2d(C=2, H=4, W=4, K=2, S=2, D=8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("pool.circom", "MaxPool2d", [2, 4, 4, 2, 2, 8]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = maxPool2d(x, [2, 4, 4], 2, 2);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("equals the TS twin on edge tensors (zeros, all max, all min, ties, alternating signs)", async function () {
      await check(Array(32).fill(0n));
      await check(Array(32).fill(127n));
      await check(Array(32).fill(-128n));
      await check(Array.from({ length: 32 }, (_, i) => (i % 2 ? 127n : -128n)));
      await check(Array.from({ length: 32 }, (_, i) => BigInt(i % 5) - 2n));
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 32, maxLength: 32 }), async (x) => void (await check(x))), { numRuns: 25 });
    });
    it("costs C*OH*OW*(K*K-1)*(D+2) constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(240);
      expect(c.compiled.constraints).to.equal(2 * 2 * 2 * 3 * 10);
    });
    it("rejects a window maximum replaced by a smaller window value", async function () {
      const x = Array.from({ length: 32 }, (_, i) => BigInt(i) - 16n);
      const w = await check(x);
      await c.expectRejected(w, { "out[0]": x[0] });
    });
  });

  describe("AvgPool2d(C=2, H=4, W=4, K=2, S=2, A=10, k=2, outBits=8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("pool.circom", "AvgPool2d", [2, 4, 4, 2, 2, 10, 2, 8]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = avgPool2d(x, [2, 4, 4], 2, 2, 2, 8);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("equals the TS twin on edge tensors (zeros, max, min, half-way rounding)", async function () {
      await check(Array(32).fill(0n));
      await check(Array(32).fill(127n));
      await check(Array(32).fill(-128n));
      await check(Array.from({ length: 32 }, (_, i) => (i % 4 === 0 ? 2n : 0n))); // sums of 2 -> 0.5 rounds up
      await check(Array.from({ length: 32 }, (_, i) => (i % 4 === 0 ? -2n : 0n))); // -0.5 rounds up to 0
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 32, maxLength: 32 }), async (x) => void (await check(x))), { numRuns: 25 });
    });
    it("costs C*OH*OW*Requantize(A, k, outBits, 0) constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(112);
      expect(c.compiled.constraints).to.equal(8 * requantizeConstraints(10, 2, 8, false));
    });
    it("rejects a changed average", async function () {
      const w = await check(Array(32).fill(9n));
      await c.expectRejected(w, { "out[3]": 10n });
    });
  });

  describe("AvgPool2dPadded(C=2, H=3, W=3, K=2, S=2, P=1, A=10, k=2, outBits=8)", function () {
    // PyTorch's AvgPool2d(2, stride=2, padding=1) on 3x3: a 2x2 output whose windows each hold 1, 2 or 4 real taps;
    // the padded zeros count in the average (divisor 4 everywhere).
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("pool.circom", "AvgPool2dPadded", [2, 3, 3, 2, 2, 1, 10, 2, 8]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = avgPool2d(x, [2, 3, 3], 2, 2, 2, 8, 1);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("equals the TS twin on edge tensors and counts the padded zeros", async function () {
      await check(Array(18).fill(0n));
      await check(Array(18).fill(-128n));
      const w = await check(Array(18).fill(127n));
      // corner window: one real tap 127 and three zeros -> round(127 / 4) = 32; centre-bottom-right window: 4 taps
      expect(fromField(c.get(w, "out[0]"))).to.equal(32n);
      expect(fromField(c.get(w, "out[3]"))).to.equal(127n);
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 18, maxLength: 18 }), async (x) => void (await check(x))), { numRuns: 25 });
    });
    it("costs C*OH*OW*Requantize(A, k, outBits, 0) constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(8 * requantizeConstraints(10, 2, 8, false));
    });
    it("rejects a changed average (padded border window)", async function () {
      const w = await check(Array(18).fill(9n));
      await c.expectRejected(w, { "out[0]": 3n });
    });
  });
});
