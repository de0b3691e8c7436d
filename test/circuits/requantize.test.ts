import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/lib/field";
import { requantize } from "../../scripts/quant/ops";
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
          expect(c.get(w, `bits.out[${k}]`)).to.equal(0n);
          const b0 = c.get(w, "bits.out[0]");
          await c.expectRejected(w, { [`bits.out[${k}]`]: 1n, "bits.out[0]": fromField(b0) - 16n });
        });

        it("rejects a changed output", async function () {
          const w = await c.witness({ in: toField(37n) });
          await c.expectRejected(w, { out: fromField(c.get(w, "out")) + 1n });
        });

        it("rejects a changed sign bit (the quotient's sign is pinned)", async function () {
          const w = await c.witness({ in: toField(-37n) });
          const sign = c.get(w, `bits.out[${k + 9}]`);
          await c.expectRejected(w, { [`bits.out[${k + 9}]`]: 1n - sign });
        });
      });
    }
  });
});
