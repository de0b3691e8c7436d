import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { avgPool2d, max2, maxPool2d, maxPoolRequantize, requantize, requantizeConstraints } from "../../scripts/formats/fixed-point";
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
      // bit 8 is the rest of the weighted sum (not a signal), so raising bit 0 by 256 makes bit 8 0.
      await c.expectRejected(w, { "bit[0]": fromField(c.get(w, "bit[0]")) + 256n, out: -5n });
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

describe("circuits/lib/pool.circom (padded max pooling)", function () {
  describe("MaxPool2dPadded(C=2, H=3, W=3, K=2, S=2, P=1, D=8)", function () {
    // PyTorch's MaxPool2d(2, stride=2, padding=1) on 3x3: a 2x2 output whose windows hold 1, 2, 2 and 4 real taps
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("pool.circom", "MaxPool2dPadded", [2, 3, 3, 2, 2, 1, 8]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = maxPool2d(x, [2, 3, 3], 2, 2, 1);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("padded taps never win: an all-negative tensor pools to its own values, not to a padded 0", async function () {
      const w = await check(Array(18).fill(-100n));
      for (let i = 0; i < 8; i++) expect(fromField(c.get(w, `out[${i}]`))).to.equal(-100n);
      const x = Array.from({ length: 18 }, (_, i) => -BigInt(i) - 1n);
      const w2 = await check(x);
      // corner window: only in[0] = -1; bottom-right window: max(in[4], in[5], in[7], in[8]) = -5
      expect(fromField(c.get(w2, "out[0]"))).to.equal(-1n);
      expect(fromField(c.get(w2, "out[3]"))).to.equal(-5n);
    });
    it("equals the TS twin on edge tensors (zeros, max, min, alternating signs)", async function () {
      await check(Array(18).fill(0n));
      await check(Array(18).fill(127n));
      await check(Array(18).fill(-128n));
      await check(Array.from({ length: 18 }, (_, i) => (i % 2 ? 127n : -128n)));
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 18, maxLength: 18 }), async (x) => void (await check(x))), { numRuns: 25 });
    });
    it("costs (in-range taps - 1) * (D + 2) per output (pinned)", function () {
      // per channel: windows of 1, 2, 2 and 4 in-range taps -> 0 + 1 + 1 + 3 Max2
      expect(c.compiled.constraints).to.equal(2 * 5 * 10);
    });
    it("rejects a window maximum replaced by a smaller in-range value", async function () {
      const x = Array.from({ length: 18 }, (_, i) => BigInt(i) - 9n);
      const w = await check(x);
      // bottom-right window of channel 0: in[4], in[5], in[7], in[8] = -5, -4, -2, -1
      await c.expectRejected(w, { "out[3]": -5n });
    });
    it("rejects a padded 0 claimed as the maximum of a negative window", async function () {
      const w = await check(Array(18).fill(-100n));
      await c.expectRejected(w, { "out[1]": 0n });
      await c.expectRejected(w, { "out[3]": 0n });
    });
    it("a one-tap window is a wire, not a choice: --O2 merges in[0] into out[0]", function () {
      // out[0] <== in[0] is linear, so the optimizer substitutes in[0] by out[0]: changing out[0] is changing the
      // input itself (a different, equally valid input), which is why no tamper test applies to it
      expect(() => c.index("in[0]")).to.throw(/optimized away/);
      expect(() => c.index("in[9]")).to.throw(/optimized away/);
      expect(c.index("in[1]")).to.be.greaterThan(0);
    });
  });

  describe("MaxPool2dPadded(C=2, H=4, W=4, K=2, S=2, P=0, D=8)", function () {
    it("costs what MaxPool2d costs with padding 0 (240 constraints, same chain)", async function () {
      const c = await templateCircuit("pool.circom", "MaxPool2dPadded", [2, 4, 4, 2, 2, 0, 8]);
      expect(c.compiled.constraints).to.equal(240);
      const x = Array.from({ length: 32 }, (_, i) => BigInt((i * 37) % 256) - 128n);
      const w = await c.witness({ in: x.map(toField) });
      const want = maxPool2d(x, [2, 4, 4], 2, 2);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
    });
  });
});

describe("circuits/lib/pool.circom (max pooling before requantization)", function () {
  const acc16 = fc.bigInt({ min: -(1n << 15n), max: (1n << 15n) - 1n });
  it("requantize commutes with the window maximum (TS property: max(rq(a)) = rq(max(a)), both clamps, any shift)", function () {
    fc.assert(
      fc.property(fc.array(acc16, { minLength: 1, maxLength: 9 }), fc.integer({ min: 0, max: 12 }), fc.boolean(), (a, k, relu) => {
        expect(a.map((v) => requantize(v, k, 8, relu)).reduce(max2)).to.equal(requantize(a.reduce(max2), k, 8, relu));
      }),
      { numRuns: 500 },
    );
  });
  for (const [P, relu] of [[0, 1], [1, 0]] as const) {
    describe(`MaxPoolRequantize(C=2, H=4, W=4, K=2, S=2, P=${P}, D=16, A=16, k=4, outBits=8, relu=${relu})`, function () {
      let c: Circuit;
      before(async function () {
        c = await templateCircuit("pool.circom", "MaxPoolRequantize", [2, 4, 4, 2, 2, P, 16, 16, 4, 8, relu]);
      });
      const nOut = P ? 18 : 8;
      const check = async (a: bigint[]): Promise<bigint[]> => {
        const w = await c.witness({ in: a.map(toField) });
        const want = maxPoolRequantize(a, [2, 4, 4], 2, 2, P, 4, 8, relu === 1);
        expect(want).to.have.length(nOut);
        // the same values as requantizing first and pooling after (the unfused circuit)
        expect(want).to.deep.equal(maxPool2d(a.map((v) => requantize(v, 4, 8, relu === 1)), [2, 4, 4], 2, 2, P));
        expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
        await c.expectSatisfied(w);
        return w;
      };
      it("equals the TS twin and requantize-then-pool on edge accumulators (extremes, clamping, rounding ties)", async function () {
        await check(Array(32).fill(0n));
        await check(Array(32).fill((1n << 15n) - 1n));
        await check(Array(32).fill(-(1n << 15n)));
        await check(Array.from({ length: 32 }, (_, i) => (i % 2 ? (1n << 15n) - 1n : -(1n << 15n))));
        await check(Array.from({ length: 32 }, (_, i) => BigInt(i * 16 - 8)));
      });
      it("equals the TS twin on random 16-bit accumulators (fast-check)", async function () {
        await fc.assert(fc.asyncProperty(fc.array(acc16, { minLength: 32, maxLength: 32 }), async (a) => void (await check(a))), { numRuns: 25 });
      });
      it("costs Max2s * (D + 2) + pooled values * Requantize (pinned)", function () {
        // P = 1: a 3x3 output per channel whose windows hold 1, 2, 1 / 2, 4, 2 / 1, 2, 1 in-range taps
        const max2s = P ? 2 * (0 + 1 + 0 + 1 + 3 + 1 + 0 + 1 + 0) : 8 * 3;
        expect(c.compiled.constraints).to.equal(max2s * 18 + nOut * requantizeConstraints(16, 4, 8, relu === 1));
      });
      it("rejects an output requantized from a smaller accumulator of the window", async function () {
        const a = Array.from({ length: 32 }, (_, i) => BigInt(i) * 200n + 100n);
        const w = await check(a);
        // P = 0: out[0] pools a[0], a[1], a[4], a[5]; P = 1: out[4] pools a[5], a[6], a[9], a[10]
        const [o, low] = P ? [4, 5] : [0, 0];
        const smaller = requantize(a[low], 4, 8, relu === 1);
        expect(smaller).to.be.lessThan(fromField(c.get(w, `out[${o}]`)));
        await c.expectRejected(w, { [`out[${o}]`]: smaller });
      });
      it("rejects a Max2 comparison bit flipped inside the pool (the hinted `bit[..]` of mp.mx[0])", async function () {
        const w = await check(Array.from({ length: 32 }, (_, i) => BigInt((i * 2654435761) % 60000) - 30000n));
        const name = "mp.mx[0].bit[3]";
        await c.expectRejected(w, { [name]: 1n - fromField(c.get(w, name)) });
      });
    });
  }
});
