/**
 * The commitments' Poseidon (poseidon-lite, scripts/formats/commitments.ts, what the SDK runs in browsers too) is
 * circomlibjs' Poseidon, the reference of the circuits' `Poseidon(n)`, for every width the chain uses (1..16 inputs),
 * on random field elements and the edges 0 and r - 1.
 */
import "../../scripts/util/pure-blake";
import { expect } from "chai";
import fc from "fast-check";
import { buildPoseidon, type Poseidon } from "circomlibjs";
import { poseidonHash } from "../../scripts/formats/commitments";
import { SNARK_FIELD } from "../../scripts/util/field";

describe("Poseidon (commitments): poseidon-lite equals circomlibjs", function () {
  let ref: Poseidon;
  before(async () => {
    ref = await buildPoseidon();
  });

  it("for 1..16 inputs, random and at the field's edges", () => {
    const elem = fc.oneof(fc.constantFrom(0n, 1n, SNARK_FIELD - 1n), fc.bigInt({ min: 0n, max: SNARK_FIELD - 1n }));
    fc.assert(
      fc.property(fc.array(elem, { minLength: 1, maxLength: 16 }), (xs) => {
        expect(poseidonHash(xs)).to.equal(ref.F.toObject(ref(xs)));
      }),
      { numRuns: 200 },
    );
  });

  it("refuses 0 or 17 inputs and non-field elements", () => {
    expect(() => poseidonHash([])).to.throw(RangeError, "poseidonHash takes 1..16 inputs, got 0");
    expect(() => poseidonHash(Array(17).fill(1n))).to.throw(RangeError, "poseidonHash takes 1..16 inputs, got 17");
    expect(() => poseidonHash([1n, SNARK_FIELD])).to.throw(RangeError, "poseidonHash input[1]");
    expect(() => poseidonHash([-1n])).to.throw(RangeError, "poseidonHash input[0] = -1 is not a field element");
  });
});
