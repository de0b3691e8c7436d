import { expect } from "chai";
import fc from "fast-check";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { fromField, toField } from "../../scripts/util/field";
import { type InputMode, type OutputHead, type QuantizedModel, inferQuantized, validateModel } from "../../scripts/formats/quantized-model";
import { describeOutput, inputSignals, layoutOf, circuitModelCommitment, numPublicSignals, publicSignalNames } from "../../scripts/formats/model-layout";
import { circuitInput } from "../../scripts/engine/prove/inference";
import { packSigned, unpackSigned } from "../../scripts/formats/commitments";
import { type Circuit, circuitFromSource, precompile } from "../helpers/circuit";

/** Deterministic small integers in [-lim, lim]. */
function ints(n: number, seed: number, lim: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s % (2 * lim + 1)) - lim;
  });
}
function chunk<T>(a: T[], n: number): T[][] {
  return Array.from({ length: a.length / n }, (_, i) => a.slice(i * n, i * n + n));
}

/** 6-5-4 MLP (as test/circuits/model.test.ts' tiny-mlp) in a given input mode and head. */
function tinyMlp(mode: InputMode, head: OutputHead, weights: "open" | "private" = "open"): QuantizedModel {
  const m: QuantizedModel = {
    format: "zkml-quantized-v1",
    name: `layout-mlp-${mode}-${head}-${weights}`,
    input: { size: 6, bits: 8, frac: 6 },
    weights,
    layers: [
      { type: "dense", nIn: 6, nOut: 5, W: chunk(ints(30, 3, 127), 6), B: [100, -100, 0, 5, -5], wBits: 8, wFrac: 6, bBits: 16, shift: 7, outBits: 8, outFrac: 6, relu: true },
      { type: "dense", nIn: 5, nOut: 4, W: chunk(ints(20, 5, 127), 5), B: [1, 2, 3, 4], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 10, outFrac: 6, relu: false },
    ],
    head,
  };
  if (mode === "public") m.input.mode = "public";
  return m;
}

/** 40 public 8-bit inputs: two packed input words (31 + 9 values), values head with 2 outputs. */
function wideRegression(): QuantizedModel {
  return {
    format: "zkml-quantized-v1",
    name: "layout-wide-public-values",
    input: { size: 40, bits: 8, frac: 6, mode: "public" },
    weights: "open",
    layers: [{ type: "dense", nIn: 40, nOut: 2, W: chunk(ints(80, 9, 60), 40), B: [300, -300], wBits: 8, wFrac: 6, bBits: 16, shift: 8, outBits: 12, outFrac: 4, relu: false }],
    head: "values",
  };
}

const COMBOS: [InputMode, OutputHead][] = [
  ["committed", "argmax"],
  ["committed", "values"],
  ["public", "argmax"],
  ["public", "values"],
];

const i8 = fc.bigInt({ min: -128n, max: 127n });

/** The public signals of a witness: snarkjs takes witness[1 .. nPublic] (outputs, then public inputs in order). */
function publicOf(m: QuantizedModel, w: bigint[]): bigint[] {
  return w.slice(1, 1 + numPublicSignals(m));
}

async function expectedSignals(m: QuantizedModel, x: bigint[], salt: bigint, binding: bigint): Promise<bigint[]> {
  return [inferQuantized(m, x).output, await circuitModelCommitment(m), ...(await inputSignals(m, x, salt)), binding];
}

async function noWitness(c: Circuit, input: Record<string, unknown>): Promise<string> {
  let error: unknown;
  try {
    await c.witness(input);
  } catch (e) {
    error = e;
  }
  expect(error, "the witness calculator accepted the input").to.not.equal(undefined);
  return String(error);
}

describe("input modes and output heads (docs/public-signals.md)", function () {
  const models = [...COMBOS.map(([mode, head]) => tinyMlp(mode, head)), tinyMlp("public", "values", "private"), wideRegression()];
  const circuits = new Map<string, Circuit>();
  const circuit = async (m: QuantizedModel): Promise<Circuit> => {
    let c = circuits.get(m.name);
    if (!c) {
      c = await circuitFromSource(m.name, await generateMainCircuit(m));
      circuits.set(m.name, c);
    }
    return c;
  };

  for (const m of models) {
    describe(m.name, function () {
      it("the witness's public signals equal the TS reference bit for bit, in the documented order", async function () {
        const c = await circuit(m);
        const n = m.input.size;
        const vectors = [Array(n).fill(0n), Array(n).fill(127n), Array(n).fill(-128n), ...[1, 2, 3].map((s) => ints(n, s * 11, 127).map(BigInt))];
        for (const [vi, x] of vectors.entries()) {
          const salt = 1000n + BigInt(vi);
          const w = await c.witness(circuitInput(x, salt, 5n + BigInt(vi), m));
          expect(publicOf(m, w), `vector ${vi}`).to.deep.equal(await expectedSignals(m, x, salt, 5n + BigInt(vi)));
          await c.expectSatisfied(w);
        }
        const isPublic = m.input.mode === "public";
        expect(c.compiled.outputs).to.equal(isPublic ? 2 : 3);
        expect(c.compiled.publicInputs).to.equal(isPublic ? numPublicSignals(m) - 2 : 1);
      });

      it("matches the reference on random inputs (fast-check)", async function () {
        const c = await circuit(m);
        await fc.assert(
          fc.asyncProperty(fc.array(i8, { minLength: m.input.size, maxLength: m.input.size }), fc.bigInt({ min: 0n, max: 1n << 200n }), async (x, salt) => {
            const w = await c.witness(circuitInput(x, salt, 9n, m));
            expect(publicOf(m, w)).to.deep.equal(await expectedSignals(m, x, salt, 9n));
          }),
          { numRuns: 15 },
        );
      });

      if (m.input.mode === "public") {
        it("public mode: a private input that differs from the public packed words has no witness and fails the constraints", async function () {
          const c = await circuit(m);
          const x = ints(m.input.size, 4, 100).map(BigInt);
          const packed = packSigned(x, m.input.bits);
          // witness calculator: the packed words are checked against x
          const bad = { ...circuitInput(x, undefined, 1n, m), inputPacked: packed.map((p, i) => (i === 0 ? p + 1n : p).toString()) };
          expect(await noWitness(c, bad)).to.match(/Assert Failed|Error in template/);
          // constraints: a valid witness with x[0] moved (or the public word moved) is rejected
          const w = await c.witness(circuitInput(x, undefined, 1n, m));
          await c.expectRejected(w, { "x[0]": x[0] + 1n });
          await c.expectRejected(w, { "inputPacked[0]": packed[0] + 1n });
        });

        it("public mode: an input outside input.bits has no witness, even when its packing aliases a valid input", async function () {
          const c = await circuit(m);
          const x = ints(m.input.size, 6, 100).map(BigInt);
          // x[0] = 128 (offset 256) packs like x[0] = -128 with x[1] + 1: the range check is what makes packing injective
          const aliased = [128n, x[1] - 1n, ...x.slice(2)];
          const same = packSigned([-128n, ...x.slice(1)], m.input.bits);
          const input = {
            ...circuitInput(x, undefined, 1n, m),
            x: aliased.map((v) => toField(v).toString()),
            inputPacked: same.map(String),
          };
          expect(await noWitness(c, input)).to.match(/Assert Failed|Error in template/);
        });
      }

      if (m.head === "values") {
        it("values head: a changed packed output (one value + 1, or - 1) fails the constraints", async function () {
          const c = await circuit(m);
          const x = ints(m.input.size, 8, 100).map(BigInt);
          const ref = inferQuantized(m, x);
          const last = m.layers[m.layers.length - 1];
          if (last.type !== "dense" || !ref.values) throw new Error("values head expected");
          const w = await c.witness(circuitInput(x, 3n, 1n, m));
          expect(c.get(w, "result")).to.equal(ref.output);
          for (let i = 0; i < ref.values.length; i++) {
            const step = 1n << BigInt(i * last.outBits);
            await c.expectRejected(w, { result: ref.output + step });
            await c.expectRejected(w, { result: ref.output - step });
          }
          // the packed word decodes to the last layer's outputs (the reference's values)
          const per = BigInt(last.outBits);
          const decoded = ref.values.map((_, i) => ((fromField(c.get(w, "result")) >> (BigInt(i) * per)) & ((1n << per) - 1n)) - (1n << (per - 1n)));
          expect(decoded).to.deep.equal(ref.values);
          expect(ref.values).to.deep.equal(inferQuantized(m, x).logits);
        });
      }
    });
  }

  it("pins the constraint counts of the layout test circuits", async function () {
    // compiled two at a time; the tests above and below read the same cached builds
    const counts = await precompile(await Promise.all(models.map(async (m) => [m.name, await generateMainCircuit(m)] as const)));
    expect(counts).to.deep.equal(EXPECTED_COUNTS);
  });

  describe("TS layout helpers", function () {
    it("layoutOf returns the registry's Layout fields", function () {
      expect(layoutOf(tinyMlp("committed", "argmax"))).to.deep.equal({
        inputMode: 0,
        outputHead: 0,
        inputCount: 6,
        inputBits: 8,
        outputCount: 4,
        outputBits: 0,
        outputFrac: 0,
      });
      expect(layoutOf(tinyMlp("public", "values"))).to.deep.equal({
        inputMode: 1,
        outputHead: 1,
        inputCount: 6,
        inputBits: 8,
        outputCount: 4,
        outputBits: 10,
        outputFrac: 6,
      });
    });
    it("numPublicSignals is 3 + m; publicSignalNames lists them", function () {
      expect(numPublicSignals(tinyMlp("committed", "values"))).to.equal(4);
      expect(numPublicSignals(tinyMlp("public", "argmax"))).to.equal(4);
      expect(numPublicSignals(wideRegression())).to.equal(5);
      expect(publicSignalNames(wideRegression())).to.deep.equal(["result", "modelCommitment", "inputPacked[0]", "inputPacked[1]", "jobBinding"]);
      expect(publicSignalNames(tinyMlp("committed", "argmax"))).to.deep.equal(["result", "modelCommitment", "inputCommitment", "jobBinding"]);
    });
    it("unpackSigned inverts packSigned; describeOutput names a class or decodes and scales values", function () {
      fc.assert(
        fc.property(fc.integer({ min: 2, max: 64 }), fc.array(fc.bigInt(), { minLength: 1, maxLength: 124 }), (bits, raw) => {
          const n = Math.min(raw.length, Math.floor(248 / bits));
          const half = 1n << BigInt(bits - 1);
          const v = raw.slice(0, n).map((x) => (((x % (2n * half)) + 2n * half) % (2n * half)) - half);
          expect(unpackSigned(packSigned(v, bits)[0], n, bits)).to.deep.equal(v);
        }),
      );
      const cls = { ...tinyMlp("committed", "argmax"), classes: ["a", "b", "c", "d"] };
      expect(describeOutput(cls, 2n)).to.equal("2 (c)");
      expect(describeOutput(tinyMlp("committed", "argmax"), 2n)).to.equal("2");
      const vals = tinyMlp("public", "values"); // 4 outputs, 10 bits, 6 fractional
      expect(describeOutput(vals, packSigned([96n, -32n, 0n, 1n], 10)[0])).to.equal("1.5 (96 / 2^6), -0.5 (-32 / 2^6), 0 (0 / 2^6), 0.015625 (1 / 2^6)");
      expect(describeOutput({ ...vals, classes: ["w", "x", "y", "z"] }, packSigned([96n, 0n, 0n, 0n], 10)[0])).to.match(/^w 1\.5 \(96 \/ 2\^6\), x 0/);
    });
    it("inputSignals: public mode packs, committed mode needs the salt", async function () {
      const x = [1n, -2n, 3n, -4n, 5n, -128n];
      expect(await inputSignals(tinyMlp("public", "argmax"), x)).to.deep.equal(packSigned(x, 8));
      await inputSignals(tinyMlp("committed", "argmax"), x).then(
        () => expect.fail("accepted a committed model without a salt"),
        (e: Error) => expect(e.message).to.match(/pass the salt/),
      );
      await inputSignals(tinyMlp("public", "argmax"), [...x.slice(0, 5), 128n]).then(
        () => expect.fail("accepted an out-of-range input"),
        (e: Error) => expect(e.message).to.match(/input\[5\] = 128 is outside the 8-bit signed range/),
      );
    });
  });

  describe("validateModel names the field and the fix", function () {
    const cases: [string, (m: QuantizedModel) => void, RegExp][] = [
      ["unknown head", (m) => ((m as { head: string }).head = "softmax"), /head must be "argmax" \(classification\) or "values"/],
      ["unknown input mode", (m) => ((m.input as { mode: string }).mode = "open"), /input\.mode must be "committed" or "public"/],
      ["values head with a ReLU last layer", (m) => ((m.layers[1] as { relu: boolean }).relu = true), /layers\[1\] must be a dense layer without ReLU, a tree ensemble, an activation, a softmax or a logsoftmax: the values head/],
      [
        "values head with more outputs than one word holds",
        (m) => ((m.layers[1] as { outBits: number }).outBits = 32),
        /layers\[1\]\.nOut = 8 does not fit the values head: at outBits = 32 one packed output word holds floor\(248 \/ 32\) = 7/,
      ],
    ];
    for (const [what, mutate, re] of cases) {
      it(`throws on ${what}`, function () {
        const m = tinyMlp("public", "values");
        if (what.includes("more outputs")) {
          const l = m.layers[1];
          if (l.type !== "dense") throw new Error("dense");
          l.nOut = 8;
          l.W = [...l.W, ...l.W];
          l.B = [...l.B, ...l.B];
        }
        mutate(m);
        expect(() => validateModel(m)).to.throw(re);
      });
    }
    it("throws on a public input needing more than 16 signals", function () {
      const m = tinyMlp("public", "argmax");
      m.input.size = 17 * 31;
      const l = m.layers[0];
      if (l.type !== "dense") throw new Error("dense");
      l.nIn = m.input.size;
      l.W = l.W.map(() => new Array<number>(m.input.size).fill(1));
      expect(() => validateModel(m)).to.throw(/input\.mode "public" with input\.size = 527 at input\.bits = 8 needs 17 input signals/);
    });
  });
});

/** circom2 2.2.3 --O2. Public mode drops the input Poseidon (6 inputs: 240); a values head replaces Argmax by PackSigned. */
const EXPECTED_COUNTS: Record<string, number> = {
  "layout-mlp-committed-argmax-open": 533,
  "layout-mlp-committed-values-open": 525,
  "layout-mlp-public-argmax-open": 293,
  "layout-mlp-public-values-open": 285,
  "layout-mlp-public-values-private": 1454,
  "layout-wide-public-values": 394,
};
