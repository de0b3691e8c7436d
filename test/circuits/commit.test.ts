import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { commitSigned, packSigned, poseidonChain } from "../../scripts/formats/commitments";
import { type Circuit, templateCircuit } from "../helpers/circuit";

const i8 = fc.bigInt({ min: -128n, max: 127n });

describe("circuits/lib/commit.circom and range.circom", function () {
  describe("SignedRangeBits(8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("range.circom", "SignedRangeBits", [8]);
    });
    it("accepts the range ends and outputs the offset bits", async function () {
      for (const v of [-128n, -1n, 0n, 127n]) {
        const w = await c.witness({ in: toField(v) });
        const bits = Array.from({ length: 8 }, (_, i) => c.get(w, `out[${i}]`));
        expect(bits.reduce((s, b, i) => s + (b << BigInt(i)), 0n)).to.equal(v + 128n);
        await c.expectSatisfied(w);
      }
    });
    it("has no witness just outside the range (128, -129)", async function () {
      for (const v of [128n, -129n]) {
        let threw = false;
        await c.witness({ in: toField(v) }).catch(() => (threw = true));
        expect(threw, `accepted ${v}`).to.equal(true);
      }
    });
    it("rejects a bit hint moved while the weighted sum is kept (bit 7 off, bit 0 += 128)", async function () {
      const w = await c.witness({ in: toField(5n) }); // 133 = 0b10000101
      await c.expectRejected(w, { "out[7]": 0n, "out[0]": 1n + 128n });
    });
    it("costs bits constraints (pinned)", function () {
      expect(c.compiled.constraints).to.equal(8);
    });
  });

  describe("PackSigned(40, 8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("commit.circom", "PackSigned", [40, 8]);
    });
    it("equals the TS twin on edge and random values (fast-check)", async function () {
      const run = async (v: bigint[]): Promise<void> => {
        const w = await c.witness({ in: v.map(toField) });
        expect([0, 1].map((i) => c.get(w, `out[${i}]`))).to.deep.equal(packSigned(v, 8));
      };
      await run(Array(40).fill(0n));
      await run(Array(40).fill(-128n));
      await run(Array(40).fill(127n));
      await fc.assert(fc.asyncProperty(fc.array(i8, { minLength: 40, maxLength: 40 }), run), { numRuns: 25 });
    });
    it("has no witness for a value outside the 8-bit range (so packing stays injective)", async function () {
      const v = Array(40).fill(0n);
      v[17] = 128n;
      let threw = false;
      await c.witness({ in: v.map(toField) }).catch(() => (threw = true));
      expect(threw).to.equal(true);
    });
    it("rejects a range-check bit hint moved while the value's weighted sum is kept", async function () {
      const w = await c.witness({ in: Array(40).fill(toField(5n)) });
      // --O2 substitutes bit 7 through the weighted sum: raising bit 0 by 128 lowers the implicit bit 7 to 0.
      await c.expectRejected(w, { "rb[3].out[0]": 129n });
    });
    it("costs 8 constraints per value (pinned)", function () {
      expect(c.compiled.constraints).to.equal(320);
    });
  });

  describe("PoseidonChain(16) and CommitSigned(40, 8)", function () {
    let chain: Circuit;
    let commit: Circuit;
    before(async function () {
      chain = await templateCircuit("commit.circom", "PoseidonChain", [16]);
      commit = await templateCircuit("commit.circom", "CommitSigned", [40, 8]);
    });
    it("PoseidonChain equals the TS twin (two Poseidon steps: 15 + 1 elements)", async function () {
      const elems = Array.from({ length: 16 }, (_, i) => BigInt(i) * 1234567891011n);
      const w = await chain.witness({ init: 42n, in: elems });
      expect(chain.get(w, "out")).to.equal(await poseidonChain(42n, elems));
      await chain.expectSatisfied(w);
      expect(chain.compiled.constraints).to.equal(849);
    });
    it("CommitSigned equals the TS twin on random values and salts (fast-check)", async function () {
      await fc.assert(
        fc.asyncProperty(fc.array(i8, { minLength: 40, maxLength: 40 }), fc.bigInt({ min: 0n, max: (1n << 250n) - 1n }), async (v, salt) => {
          const w = await commit.witness({ in: v.map(toField), salt });
          expect(commit.get(w, "out")).to.equal(await commitSigned(v, 8, salt));
        }),
        { numRuns: 10 },
      );
      expect(commit.compiled.constraints).to.equal(581);
    });
    it("rejects a changed commitment", async function () {
      const w = await commit.witness({ in: Array(40).fill(toField(-3n)), salt: 7n });
      await commit.expectRejected(w, { out: fromField(commit.get(w, "out")) + 1n });
    });
  });
});
