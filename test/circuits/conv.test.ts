import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/lib/field";
import { type ConvGeometry, conv2d, convOutShape, forEachConvTap, requantizeConstraints } from "../../scripts/quant/ops";
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
      await c.expectRejected(w, { "prod[5][1][1][1]": fromField(c.get(w, "prod[5][1][1][1]")) + 1n });
    });
  });
});
