import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { type ConvGeometry, conv2d, convOutShape, forEachConvTap, requantizeConstraints } from "../../scripts/formats/fixed-point";
import { type Circuit, templateCircuit } from "../helpers/circuit";

const i8 = fc.bigInt({ min: -128n, max: 127n });
const i4 = fc.bigInt({ min: -8n, max: 7n });
const g: ConvGeometry = { inShape: [2, 4, 4], outChannels: 3, kernel: 3, stride: 1, padding: 1 };
const nOut = 3 * 4 * 4;
const reshape = (flat: bigint[]): bigint[][][][] =>
  Array.from({ length: 3 }, (_, o) => Array.from({ length: 2 }, (_, c) => Array.from({ length: 3 }, (_, y) => flat.slice(((o * 2 + c) * 3 + y) * 3, ((o * 2 + c) * 3 + y) * 3 + 3))));
const lit4 = (W: bigint[][][][]): string => JSON.stringify(W, (_k, v) => (typeof v === "bigint" ? Number(v) : v)).replace(/"/g, "");

describe("circuits/lib/conv.circom", function () {
  const Wfix = reshape(Array.from({ length: 54 }, (_, i) => BigInt(((i * 7) % 15) - 7)));
  const Bfix = [5n, -300n, 0n];

  describe("Conv2dOpen([2,4,4] -> [3,4,4], K=3, S=1, P=1, A=16, k=4, outBits=8, relu=0)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("conv.circom", "Conv2dOpen", [2, 4, 4, 3, 3, 1, 1, lit4(Wfix), "[5,-300,0]", 16, 4, 8, 0]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = conv2d(x, g, Wfix, Bfix, 4, 8, false);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("the accumulator bound A = 16 covers every int8 input (TS check of the test's parameter)", function () {
      let worst = 0n;
      const acc = Array(nOut).fill(0n);
      forEachConvTap(g, (o, ci, ky, kx, _ii, oi) => {
        const wv = Wfix[o][ci][ky][kx];
        acc[oi] += wv < 0n ? -wv * 128n : wv * 128n;
      });
      acc.forEach((a, i) => {
        const b = a + (Bfix[Math.floor(i / 16)] < 0n ? -Bfix[Math.floor(i / 16)] : Bfix[Math.floor(i / 16)]);
        if (b > worst) worst = b;
      });
      expect(worst < 1n << 15n).to.equal(true);
    });
    it("equals the TS twin on edge tensors (zeros, max, min, checkerboard)", async function () {
      await check(Array(32).fill(0n));
      await check(Array(32).fill(127n));
      await check(Array(32).fill(-128n));
      await check(Array.from({ length: 32 }, (_, i) => (i % 2 ? 127n : -128n)));
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 32, maxLength: 32 }), async (x) => void (await check(x))), { numRuns: 20 });
    });
    it("costs OC*OH*OW*Requantize constraints, the MACs are free (pinned)", function () {
      expect(convOutShape(g)).to.deep.equal([3, 4, 4]);
      expect(c.compiled.constraints).to.equal(nOut * requantizeConstraints(16, 4, 8, false));
      expect(c.compiled.constraints).to.equal(1056);
    });
    it("rejects a changed output", async function () {
      const w = await check(Array(32).fill(3n));
      await c.expectRejected(w, { "out[5]": fromField(c.get(w, "out[5]")) - 1n });
    });
  });

  describe("Conv2dPrivate([2,4,4] -> [3,4,4], K=3, S=1, P=1, A=16, k=4, outBits=8, relu=1)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("conv.circom", "Conv2dPrivate", [2, 4, 4, 3, 3, 1, 1, 16, 4, 8, 1]);
    });
    const check = async (x: bigint[], Wm: bigint[][][][], Bv: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField), Wt: Wm.map((o) => o.map((ch) => ch.map((r) => r.map(toField)))), B: Bv.map(toField) });
      const want = conv2d(x, g, Wm, Bv, 4, 8, true);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("equals the TS twin on edge tensors and weights", async function () {
      await check(Array(32).fill(0n), Wfix, Bfix);
      await check(Array(32).fill(-128n), reshape(Array(54).fill(-8n)), [127n, -128n, 0n]);
      await check(Array(32).fill(127n), reshape(Array(54).fill(7n)), [-128n, 127n, 0n]);
    });
    it("equals the TS twin on random inputs and int4 weights (fast-check)", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(i8, { minLength: 32, maxLength: 32 }), fc.array(i4, { minLength: 54, maxLength: 54 }), fc.array(i8, { minLength: 3, maxLength: 3 }), async (x, wf, b) =>
          void (await check(x, reshape(wf), b)),
        ),
        { numRuns: 15 },
      );
    });
    it("costs one constraint per in-range tap plus OC*OH*OW*Requantize (pinned)", function () {
      let taps = 0;
      forEachConvTap(g, () => taps++);
      expect(taps).to.equal(600);
      expect(c.compiled.constraints).to.equal(taps + nOut * requantizeConstraints(16, 4, 8, true));
      expect(c.compiled.constraints).to.equal(1656);
    });
    it("rejects a changed product", async function () {
      const w = await check(Array(32).fill(3n), Wfix, Bfix);
      await c.expectRejected(w, { "cv.prod[5][1][1][1]": fromField(c.get(w, "cv.prod[5][1][1][1]")) + 1n });
    });
  });
});

describe("circuits/lib/conv.circom (grouped)", function () {
  // [4,4,4] -> 2 groups of 2 input channels -> [4,2,2] with a 3x3 kernel, stride 2, padding 1: border windows hold 4
  // or 6 in-range taps per input channel, so the stride, the padding and the group offset are all exercised.
  const gg: ConvGeometry = { inShape: [4, 4, 4], outChannels: 4, kernel: 3, stride: 2, padding: 1, groups: 2 };
  const nOutG = 4 * 2 * 2;
  const CG = 2;
  const reshapeG = (flat: bigint[], OC: number, cg: number): bigint[][][][] =>
    Array.from({ length: OC }, (_, o) => Array.from({ length: cg }, (_, c) => Array.from({ length: 3 }, (_, y) => flat.slice(((o * cg + c) * 3 + y) * 3, ((o * cg + c) * 3 + y) * 3 + 3))));
  const WG = reshapeG(Array.from({ length: 4 * CG * 9 }, (_, i) => BigInt(((i * 5) % 15) - 7)), 4, CG);
  const BG = [3n, -100n, 0n, 50n];

  /** The same convolution without groups: the weights of the other groups' input channels are zero. */
  const ungrouped = (W: bigint[][][][], g: ConvGeometry): bigint[][][][] => {
    const G = g.groups ?? 1;
    const C = g.inShape[0];
    return W.map((f, o) => Array.from({ length: C }, (_, c) => (Math.floor(c / (C / G)) === Math.floor(o / (g.outChannels / G)) ? f[c % (C / G)] : f[0].map((r) => r.map(() => 0n)))));
  };

  it("the grouped TS twin equals an ungrouped convolution whose cross-group weights are zero (random tensors)", function () {
    fc.assert(
      fc.property(fc.array(i8, { minLength: 64, maxLength: 64 }), fc.array(i4, { minLength: 72, maxLength: 72 }), (x, wf) => {
        const W = reshapeG(wf, 4, CG);
        const full = { ...gg, groups: undefined };
        expect(conv2d(x, gg, W, BG, 4, 8, false)).to.deep.equal(conv2d(x, full, ungrouped(W, gg), BG, 4, 8, false));
      }),
      { numRuns: 50 },
    );
  });

  describe("Conv2dGroupedOpen([4,4,4] -> [4,2,2], K=3, S=2, P=1, G=2, A=16, k=3, outBits=8, relu=0)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("conv.circom", "Conv2dGroupedOpen", [4, 4, 4, 4, 3, 2, 1, 2, lit4(WG), "[3,-100,0,50]", 16, 3, 8, 0]);
    });
    const check = async (x: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField) });
      const want = conv2d(x, gg, WG, BG, 3, 8, false);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    it("the accumulator bound A = 16 covers every int8 input (TS check of the test's parameter)", function () {
      const acc = Array(nOutG).fill(0n);
      forEachConvTap(gg, (o, ci, ky, kx, _ii, oi) => {
        const wv = WG[o][ci][ky][kx];
        acc[oi] += (wv < 0n ? -wv : wv) * 128n;
      });
      const absB = BG.map((v) => (v < 0n ? -v : v));
      expect(acc.every((a, i) => a + absB[Math.floor(i / 4)] < 1n << 15n)).to.equal(true);
    });
    it("equals the TS twin on edge tensors (zeros, max, min, checkerboard, one channel set)", async function () {
      await check(Array(64).fill(0n));
      await check(Array(64).fill(127n));
      await check(Array(64).fill(-128n));
      await check(Array.from({ length: 64 }, (_, i) => (i % 2 ? 127n : -128n)));
      // only input channel 3 (group 1) is non-zero: outputs of group 0 (channels 0, 1) see only their bias
      const w = await check(Array.from({ length: 64 }, (_, i) => (Math.floor(i / 16) === 3 ? 127n : 0n)));
      expect(fromField(c.get(w, "out[0]"))).to.equal(0n); // round(3 / 8)
      expect(fromField(c.get(w, "out[4]"))).to.equal(-12n); // round(-100 / 8)
    });
    it("equals the TS twin on random int8 tensors (fast-check)", async function () {
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 64, maxLength: 64 }), async (x) => void (await check(x))), { numRuns: 20 });
    });
    it("costs OC*OH*OW*Requantize constraints, independent of the groups (pinned)", function () {
      expect(convOutShape(gg)).to.deep.equal([4, 2, 2]);
      expect(c.compiled.constraints).to.equal(nOutG * requantizeConstraints(16, 3, 8, false));
      expect(c.compiled.constraints).to.equal(352);
    });
    it("rejects a changed output", async function () {
      const w = await check(Array(64).fill(3n));
      await c.expectRejected(w, { "out[7]": fromField(c.get(w, "out[7]")) + 1n });
    });
  });

  describe("Conv2dGroupedPrivate depthwise ([2,4,4] -> [4,2,2], G=2 = C, K=3, S=2, P=1, A=16, k=4, outBits=8, relu=1)", function () {
    // depthwise with channel multiplier 2: output channels 0, 1 read input channel 0; 2, 3 read input channel 1
    const gd: ConvGeometry = { inShape: [2, 4, 4], outChannels: 4, kernel: 3, stride: 2, padding: 1, groups: 2 };
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("conv.circom", "Conv2dGroupedPrivate", [2, 4, 4, 4, 3, 2, 1, 2, 16, 4, 8, 1]);
    });
    const check = async (x: bigint[], Wm: bigint[][][][], Bv: bigint[]): Promise<bigint[]> => {
      const w = await c.witness({ in: x.map(toField), Wt: Wm.map((o) => o.map((ch) => ch.map((r) => r.map(toField)))), B: Bv.map(toField) });
      const want = conv2d(x, gd, Wm, Bv, 4, 8, true);
      expect(want.map((_, i) => fromField(c.get(w, `out[${i}]`)))).to.deep.equal(want);
      await c.expectSatisfied(w);
      return w;
    };
    const Wd = reshapeG(Array.from({ length: 36 }, (_, i) => BigInt(((i * 7) % 15) - 7)), 4, 1);
    it("equals the TS twin on edge tensors and weights", async function () {
      await check(Array(32).fill(0n), Wd, [1n, 2n, 3n, 4n]);
      await check(Array(32).fill(-128n), reshapeG(Array(36).fill(-8n), 4, 1), [127n, -128n, 0n, 5n]);
      await check(Array(32).fill(127n), reshapeG(Array(36).fill(7n), 4, 1), [-128n, 127n, 0n, -5n]);
      // channel 1 only: the outputs of channel 0's filters (0, 1) see only their bias
      const w = await check(Array.from({ length: 32 }, (_, i) => (i >= 16 ? 100n : 0n)), reshapeG(Array(36).fill(7n), 4, 1), [16n, 32n, 0n, 0n]);
      expect(fromField(c.get(w, "out[0]"))).to.equal(1n);
      expect(fromField(c.get(w, "out[4]"))).to.equal(2n);
    });
    it("equals the TS twin on random inputs and int4 weights (fast-check)", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(i8, { minLength: 32, maxLength: 32 }), fc.array(i4, { minLength: 36, maxLength: 36 }), fc.array(i8, { minLength: 4, maxLength: 4 }), async (x, wf, b) =>
          void (await check(x, reshapeG(wf, 4, 1), b)),
        ),
        { numRuns: 15 },
      );
    });
    it("costs one constraint per in-range tap plus OC*OH*OW*Requantize (pinned)", function () {
      let taps = 0;
      forEachConvTap(gd, () => taps++);
      // per output channel: the 2x2 output windows hold 4, 6, 6 and 9 in-range taps of one input channel
      expect(taps).to.equal(4 * (4 + 6 + 6 + 9));
      expect(c.compiled.constraints).to.equal(taps + 16 * requantizeConstraints(16, 4, 8, true));
      expect(c.compiled.constraints).to.equal(452);
    });
    it("rejects a changed product", async function () {
      const w = await check(Array(32).fill(3n), Wd, [1n, 2n, 3n, 4n]);
      await c.expectRejected(w, { "cv.prod[15][0][1][1]": fromField(c.get(w, "cv.prod[15][0][1][1]")) + 1n });
    });
    it("rejects a changed output", async function () {
      const w = await check(Array(32).fill(3n), Wd, [1n, 2n, 3n, 4n]);
      await c.expectRejected(w, { "out[9]": fromField(c.get(w, "out[9]")) + 1n });
    });
  });
});
