import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { requantize, requantizeConstraints } from "../../scripts/formats/fixed-point";
import { type Circuit, templateCircuit } from "../helpers/circuit";

describe("circuits/lib/requantize.circom", function () {
  describe("Requantize(A=16, k=4, outBits=8)", function () {
    const A = 16;
    const k = 4;
    const accMin = -(1n << BigInt(A - 1));
    const accMax = (1n << BigInt(A - 1)) - 1n;
    for (const relu of [0, 1] as const) {
      describe(relu ? "fused with ReLU" : "signed clamp", function () {
        let c: Circuit;
        before(async function () {
          c = await templateCircuit("requantize.circom", "Requantize", [A, k, 8, relu]);
        });

        const edges = [0n, 1n, -1n, 7n, 8n, -8n, -9n, 2031n, 2032n, -2048n, -2049n, -2056n, -2057n, accMin, accMax, 1000n, -1000n];
        for (const acc of edges) {
          it(`equals the TS twin at acc = ${acc}`, async function () {
            const w = await c.witness({ in: toField(acc) });
            expect(fromField(c.get(w, "out"))).to.equal(requantize(acc, k, 8, relu === 1));
            await c.expectSatisfied(w);
          });
        }

        it("equals the TS twin on random accumulators (fast-check)", async function () {
          await fc.assert(
            fc.asyncProperty(fc.bigInt({ min: accMin, max: accMax }), async (acc) => {
              const w = await c.witness({ in: toField(acc) });
              expect(fromField(c.get(w, "out"))).to.equal(requantize(acc, k, 8, relu === 1));
            }),
            { numRuns: 60 },
          );
        });

        it("rejects a witness claiming quotient + 1 with the remainder lowered by 2^k to keep the sum", async function () {
          // acc = 37: T's low k bits are the remainder (r = 37 + 8 = 45 = 2*16 + 13 -> r = 13, q = 2).
          // Claim q + 1: set quotient bit k (q's lsb, 0 -> 1) and move 2^k out of the remainder through bit 0,
          // so the weighted sum (the linear equation) still holds; bit 0 becomes 1 - 16, not a bit.
          const w = await c.witness({ in: toField(37n) });
          expect(c.get(w, `bits[${k}]`)).to.equal(0n);
          const b0 = c.get(w, "bits[0]");
          await c.expectRejected(w, { [`bits[${k}]`]: 1n, "bits[0]": fromField(b0) - 16n });
        });

        it("rejects a changed output", async function () {
          const w = await c.witness({ in: toField(37n) });
          await c.expectRejected(w, { out: fromField(c.get(w, "out")) + 1n });
        });

        it("rejects a changed sign bit (the quotient's sign is pinned)", async function () {
          const w = await c.witness({ in: toField(-37n) });
          const sign = c.get(w, `bits[${k + 9}]`);
          await c.expectRejected(w, { [`bits[${k + 9}]`]: 1n - sign });
        });
      });
    }
  });
});

describe("circuits/lib/requantize.circom constraint counts", function () {
  // k + Z + 5, Z = max(A - k, m) + 1; k + Z + 3 when a single overflow bit needs no IsZero.
  const cases: [number, number, number, number, number][] = [
    [16, 4, 8, 0, 22],
    [16, 4, 8, 1, 22],
    [12, 4, 8, 1, 18],
    [11, 4, 8, 1, 15],
  ];
  for (const [A, k, outBits, relu, n] of cases) {
    it(`Requantize(${A}, ${k}, ${outBits}, ${relu}) costs ${n} constraints (pinned) and matches the TS twin at the clamp edges`, async function () {
      const c = await templateCircuit("requantize.circom", "Requantize", [A, k, outBits, relu]);
      expect(c.compiled.constraints).to.equal(n);
      expect(requantizeConstraints(A, k, outBits, relu === 1)).to.equal(n);
      const lim = 1n << BigInt(A - 1);
      for (const acc of [-lim, lim - 1n, 0n, -9n, 2031n, 2032n, 2047n]) {
        const w = await c.witness({ in: toField(acc) });
        expect(fromField(c.get(w, "out"))).to.equal(requantize(acc, k, outBits, relu === 1));
      }
    });
  }
  it("rejects the IsZero hint (`<--` inv) changed to claim no overflow on an overflowing accumulator", async function () {
    const c = await templateCircuit("requantize.circom", "Requantize", [16, 4, 8, 1]);
    const w = await c.witness({ in: toField(5000n) }); // q = 313 > 127: saturates
    expect(fromField(c.get(w, "out"))).to.equal(127n);
    // claim "no overflow" via inv = 0 (noHigh = 1 - highSum*0 = 1, so high = 0), so out = zlow = 313 mod 128 = 57
    await c.expectRejected(w, { inv: 0n, noHigh: 1n, zc: 57n, out: 57n });
  });
});
