import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { circuitWeightInputs, generateMainCircuit, poolFusions } from "../../scripts/engine/circuit/generate";
import { toField } from "../../scripts/util/field";
import { type QuantizedModel, inferQuantized, inputCommitment, layerAccumulatorBits, validateModel } from "../../scripts/formats/quantized-model";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { ROOT } from "../../scripts/util/paths";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { circuitFromSource, precompile } from "../helpers/circuit";

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

/** input [1,6,6] -> conv 2x3x3 pad 1 ReLU -> maxpool 2 -> [2,3,3] -> avgpool 2 stride 1 -> [2,2,2] -> flatten -> dense 8->3 */
function smallCnn(weights: "open" | "private"): QuantizedModel {
  return {
    format: "zkml-quantized-v1",
    name: `tiny-cnn-${weights}`,
    input: { size: 36, bits: 8, frac: 6, shape: [1, 6, 6] },
    weights,
    layers: [
      { type: "conv2d", inShape: [1, 6, 6], outChannels: 2, kernel: 3, stride: 1, padding: 1, W: chunk(chunk(chunk(ints(18, 1, 60), 3), 3), 1), B: [40, -70], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: true },
      { type: "maxpool", inShape: [2, 6, 6], kernel: 2, stride: 2 },
      { type: "avgpool", inShape: [2, 3, 3], kernel: 2, stride: 1, shift: 2, outBits: 8, outFrac: 6 },
      { type: "flatten", inShape: [2, 2, 2] },
      { type: "dense", nIn: 8, nOut: 3, W: chunk(ints(24, 7, 100), 8), B: [10, -20, 30], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
    ],
    head: "argmax",
  };
}
/**
 * input [2,5,5] -> conv 4 x 3x3 in 2 groups, stride 2, pad 1, ReLU -> [4,3,3] -> maxpool 2 stride 2 pad 1 -> [4,2,2]
 * -> depthwise conv 4 x 1x1 (groups 4) -> flatten -> dense 16->3
 */
function groupedCnn(weights: "open" | "private"): QuantizedModel {
  return {
    format: "zkml-quantized-v1",
    name: `tiny-grouped-${weights}`,
    input: { size: 50, bits: 8, frac: 6, shape: [2, 5, 5] },
    weights,
    layers: [
      { type: "conv2d", inShape: [2, 5, 5], outChannels: 4, kernel: 3, stride: 2, padding: 1, groups: 2, W: chunk(chunk(chunk(ints(36, 2, 60), 3), 3), 1), B: [40, -70, 0, 9], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: true },
      { type: "maxpool", inShape: [4, 3, 3], kernel: 2, stride: 2, padding: 1 },
      { type: "conv2d", inShape: [4, 2, 2], outChannels: 4, kernel: 1, stride: 1, padding: 0, groups: 4, W: [[[[50]]], [[[-64]]], [[[127]]], [[[-3]]]], B: [0, 5, -5, 64], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
      { type: "flatten", inShape: [4, 2, 2] },
      { type: "dense", nIn: 16, nOut: 3, W: chunk(ints(48, 9, 100), 16), B: [10, -20, 30], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
    ],
    head: "argmax",
  };
}
/**
 * A residual block: input [1,4,4] -> conv 2x3x3 pad 1 ReLU (layer 0) -> conv 2x3x3 pad 1 (layer 1) -> add layer 0's
 * output (current << 1, saved << 0, shift 1), ReLU (layer 2) -> add layer 0's output again (no shifts, signed;
 * layer 3) -> maxpool 2 -> flatten -> dense 8->3.
 */
function residualCnn(weights: "open" | "private"): QuantizedModel {
  const conv = (seed: number, relu: boolean, inC: number): QuantizedModel["layers"][number] => ({ type: "conv2d", inShape: [inC, 4, 4], outChannels: 2, kernel: 3, stride: 1, padding: 1, W: chunk(chunk(chunk(ints(18 * inC, seed, 60), 3), 3), inC), B: [20, -30], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu });
  return {
    format: "zkml-quantized-v1",
    name: `tiny-residual-${weights}`,
    input: { size: 16, bits: 8, frac: 6, shape: [1, 4, 4] },
    weights,
    layers: [
      conv(4, true, 1),
      conv(5, false, 2),
      { type: "add", from: 0, alignCur: 1, alignFrom: 0, shift: 1, outBits: 8, outFrac: 6, relu: true },
      { type: "add", from: 0, alignCur: 0, alignFrom: 0, shift: 0, outBits: 8, outFrac: 6, relu: false },
      { type: "maxpool", inShape: [2, 4, 4], kernel: 2, stride: 2 },
      { type: "flatten", inShape: [2, 2, 2] },
      { type: "dense", nIn: 8, nOut: 3, W: chunk(ints(24, 6, 100), 8), B: [10, -20, 30], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
    ],
    head: "argmax",
  };
}
/** input 6 -> dense 6->6 ReLU -> add the input itself (from -1; the input at a coarser scale: << 2) -> dense 6->3. */
function residualMlp(): QuantizedModel {
  return {
    format: "zkml-quantized-v1",
    name: "tiny-residual-mlp-open",
    input: { size: 6, bits: 8, frac: 4 },
    weights: "open",
    layers: [
      { type: "dense", nIn: 6, nOut: 6, W: chunk(ints(36, 8, 127), 6), B: [100, -100, 0, 5, -5, 7], wBits: 8, wFrac: 6, bBits: 16, shift: 4, outBits: 8, outFrac: 6, relu: true },
      { type: "add", from: -1, alignCur: 0, alignFrom: 2, shift: 1, outBits: 8, outFrac: 5, relu: false },
      { type: "dense", nIn: 6, nOut: 3, W: chunk(ints(18, 9, 127), 6), B: [1, 2, 3], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 5, relu: false },
    ],
    head: "argmax",
  };
}
function smallMlp(weights: "open" | "private"): QuantizedModel {
  return {
    format: "zkml-quantized-v1",
    name: `tiny-mlp-${weights}`,
    input: { size: 6, bits: 8, frac: 6 },
    weights,
    layers: [
      { type: "dense", nIn: 6, nOut: 5, W: chunk(ints(30, 3, 127), 6), B: [100, -100, 0, 5, -5], wBits: 8, wFrac: 6, bBits: 16, shift: 7, outBits: 8, outFrac: 6, relu: true },
      { type: "dense", nIn: 5, nOut: 4, W: chunk(ints(20, 5, 127), 5), B: [1, 2, 3, 4], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
    ],
    head: "argmax",
  };
}

describe("generated model circuits (scripts/engine/circuit/generate.ts)", function () {
  const inputs: bigint[][] = [];
  for (const m of [smallMlp("open"), smallCnn("open"), smallCnn("private"), smallMlp("private"), groupedCnn("open"), groupedCnn("private"), residualCnn("open"), residualCnn("private"), residualMlp()]) {
    describe(`${m.name}`, function () {
      it("witness outputs equal inferQuantized, modelCommitment and inputCommitment", async function () {
        const c = await circuitFromSource(m.name, await generateMainCircuit(m));
        const mc = await circuitModelCommitment(m);
        const vectors = [Array(m.input.size).fill(0n), Array(m.input.size).fill(127n), Array(m.input.size).fill(-128n), ...[1, 2, 3].map((s) => ints(m.input.size, s * 11, 128).map((v) => BigInt(Math.min(v, 127))))];
        inputs.push(...vectors);
        for (const [vi, x] of vectors.entries()) {
          const salt = 1000n + BigInt(vi);
          const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: salt.toString(), jobBinding: "5", ...circuitWeightInputs(m) });
          expect(c.get(w, "result")).to.equal(inferQuantized(m, x).output);
          expect(c.get(w, "modelCommitment")).to.equal(mc);
          expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(m, x, salt));
          await c.expectSatisfied(w);
        }
        // public signals: 3 outputs then jobBinding
        expect(c.compiled.outputs).to.equal(3);
        expect(c.compiled.publicInputs).to.equal(1);
        if (m.weights === "private") {
          const w = await c.witness({ x: vectors[3].map((v) => toField(v).toString()), salt: "1", jobBinding: "5", ...circuitWeightInputs(m) });
          await c.expectRejected(w, { modelCommitment: mc + 1n });
        }
      });
    });
  }

  it("pins the constraint counts of the generated test models", async function () {
    // compiled two at a time; the witness tests below read the same cached builds
    const models = [smallMlp("open"), smallCnn("open"), smallCnn("private"), smallMlp("private"), groupedCnn("open"), groupedCnn("private"), residualCnn("open"), residualCnn("private"), residualMlp()];
    const counts = await precompile(await Promise.all(models.map(async (m) => [m.name, await generateMainCircuit(m)] as const)));
    expect(counts).to.deep.equal(EXPECTED_COUNTS);
  });

  it("estimateConstraints predicts the compiled --O2 counts of the generated test models exactly", function () {
    const est: Record<string, number> = {};
    for (const m of [smallMlp("open"), smallCnn("open"), smallCnn("private"), smallMlp("private"), groupedCnn("open"), groupedCnn("private"), residualCnn("open"), residualCnn("private"), residualMlp()]) {
      est[m.name] = estimateConstraints(m).constraints;
    }
    expect(est).to.deep.equal(EXPECTED_COUNTS);
    // the bundled models (a committed-input argmax and a public-input values head) against their manifests
    for (const name of ["iris-mlp", "temp-forecast"]) {
      const dir = path.join(ROOT, "models", name);
      const qm = JSON.parse(fs.readFileSync(path.join(dir, `${name}.qmodel.json`), "utf8")) as QuantizedModel;
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, `${name}.manifest.json`), "utf8")) as { constraints: number };
      expect(estimateConstraints(qm).constraints, name).to.equal(manifest.constraints);
    }
  });

  it("a grouped model uses the grouped templates and the padded max pool; groups 1 keeps the ungrouped ones", async function () {
    const src = await generateMainCircuit(groupedCnn("private"), { poolFusion: false });
    expect(src).to.match(/Conv2dGroupedPrivate\(2, 5, 5, 4, 3, 2, 1, 2, /);
    expect(src).to.match(/signal input w0\[4\]\[1\]\[3\]\[3\];/);
    expect(src).to.match(/MaxPool2dPadded\(4, 3, 3, 2, 2, 1, /);
    const m = smallCnn("open");
    const before = await generateMainCircuit(m, { poolFusion: false });
    (m.layers[0] as { groups?: number }).groups = 1;
    expect(await generateMainCircuit(m, { poolFusion: false })).to.equal(before);
    expect(before).to.not.match(/Grouped|MaxPool2dPadded/);
  });

  describe("max pooling before requantization (poolFusions)", function () {
    // open + ungrouped in npm test; private + grouped + padded pool with npm run test:slow (the fused circuits of all
    // four are pinned above and match inferQuantized; the template costs are pinned in pool.test.ts)
    const slow = process.env.ZKML_SLOW_TESTS === "1";
    for (const m of slow ? [smallCnn("open"), groupedCnn("private")] : [smallCnn("open")]) {
      it(`${m.name}: pools the conv accumulators, the same outputs, exactly the predicted saving in constraints`, async function () {
        const f = poolFusions(m).get(1);
        expect(f, "the conv + maxpool of layers 0, 1 fuse").to.not.equal(undefined);
        expect(f!.fused).to.be.lessThan(f!.unfused);
        const fusedSrc = await generateMainCircuit(m);
        expect(fusedSrc).to.match(m.weights === "open" ? /component l0 = Conv2dAccOpen\(/ : /component l0 = Conv2dAccPrivate\(/);
        expect(fusedSrc).to.match(new RegExp(`component l1 = MaxPoolRequantize\\(\\d+, \\d+, \\d+, 2, 2, \\d, ${f!.D}, `));
        // the fused circuit is the model's own (compiled by the pin test above, cached)
        const fused = await circuitFromSource(m.name, fusedSrc);
        const plain = await circuitFromSource(`${m.name}-unfused`, await generateMainCircuit(m, { poolFusion: false }));
        expect(plain.compiled.constraints - fused.compiled.constraints).to.equal(f!.unfused - f!.fused);
        for (const s of [1, 2, 3, 4]) {
          const x = ints(m.input.size, s * 13, 128).map((v) => BigInt(Math.min(v, 127)));
          const input = { x: x.map((v) => toField(v).toString()), salt: "7", jobBinding: "5", ...circuitWeightInputs(m) };
          const wf = await fused.witness(input);
          const wp = await plain.witness(input);
          const r = inferQuantized(m, x);
          expect(fused.get(wf, "result")).to.equal(r.output);
          expect(plain.get(wp, "result")).to.equal(r.output);
          // the pooled layer's values themselves, not only the argmax (each a Requantize output in the fused circuit)
          r.layers[1].forEach((v, i) => expect(fused.get(wf, `l1.out[${i}]`)).to.equal(toField(v)));
          await fused.expectSatisfied(wf);
        }
      });
    }
    it("keeps requantize-then-pool where pooling the accumulators would cost more (overlapping 3x3 windows, stride 1)", function () {
      const m = smallCnn("open");
      m.layers[1] = { type: "maxpool", inShape: [2, 6, 6], kernel: 3, stride: 1 };
      m.layers[2] = { type: "avgpool", inShape: [2, 4, 4], kernel: 2, stride: 2, shift: 2, outBits: 8, outFrac: 6 };
      validateModel(m);
      expect(poolFusions(m).size).to.equal(0);
    });
    it("does not fuse a conv whose requantized output a residual add reads", function () {
      const m = residualCnn("open");
      // conv 0 -> maxpool -> conv 3x3 pad 2 back to [2,4,4] -> add layer 0's output
      m.layers = [
        m.layers[0],
        { type: "maxpool", inShape: [2, 4, 4], kernel: 2, stride: 2 },
        { type: "conv2d", inShape: [2, 2, 2], outChannels: 2, kernel: 3, stride: 1, padding: 2, W: chunk(chunk(chunk(ints(36, 3, 60), 3), 3), 2), B: [0, 0], wBits: 8, wFrac: 6, bBits: 16, shift: 6, outBits: 8, outFrac: 6, relu: false },
        { type: "add", from: 0, alignCur: 0, alignFrom: 0, shift: 0, outBits: 8, outFrac: 6, relu: false },
        ...m.layers.slice(4),
      ];
      validateModel(m);
      expect(poolFusions(m).size).to.equal(0);
      const unread = { ...m, layers: m.layers.map((l) => (l.type === "add" ? { ...l, from: 2 } : l)) };
      expect([...poolFusions(unread).keys()]).to.deep.equal([1]);
    });
  });

  it("an add layer reads the saved output of its from layer", async function () {
    expect(await generateMainCircuit(residualMlp())).to.match(/l1\.b <== x;/);
    const src = await generateMainCircuit(residualCnn("open"));
    expect(src).to.match(/component l2 = AddRescaled\(32, 1, 0, \d+, 1, 8, 1\);\n {4}l2\.a <== l1\.out;\n {4}l2\.b <== l0\.out;/);
    expect(src).to.match(/component l3 = AddRescaled\(32, 0, 0, \d+, 0, 8, 0\);\n {4}l3\.a <== l2\.out;\n {4}l3\.b <== l0\.out;/);
    // the TS twin: layer 2 = relu(round((2 * conv1 + conv0) / 2)), element by element
    const m = residualCnn("open");
    const r = inferQuantized(m, ints(16, 3, 128).map((v) => BigInt(Math.min(v, 127))));
    r.layers[2].forEach((v, i) => {
      const s = 2n * r.layers[1][i] + r.layers[0][i];
      const q = (s + 1n) >> 1n;
      expect(v).to.equal(q < 0n ? 0n : q > 127n ? 127n : q);
    });
  });

  it("a private-weights circuit does not embed the weights", async function () {
    const src = await generateMainCircuit(smallMlp("private"));
    expect(src).to.not.match(/function L\d+_W/);
    expect(src).to.match(/DensePrivate\(6, 5, /);
  });

  it("the bundled iris model (12-bit) generates, with its pinned weights commitment and public model commitment", async function () {
    const m = validateModel(JSON.parse(fs.readFileSync(path.join(ROOT, "models/iris-mlp/iris-mlp.qmodel.json"), "utf8")) as QuantizedModel);
    const src = await generateMainCircuit(m);
    expect(src).to.contain("6407463855870185368206349179650660157945827335800707329125860974426778522233");
    // Poseidon(weights commitment, layoutWord(layoutOf(m))): the constant signal [1] binds the layout too
    expect(src).to.contain("modelCommitment <== 1262238397165089900163773889395945652010453391499060299792252526058164547601;");
    expect(layerAccumulatorBits(m).every((a) => a > 0 && a < 250)).to.equal(true);
  });

  describe("validateModel names the bad field", function () {
    const cases: [string, (m: QuantizedModel) => void, RegExp][] = [
      ["conv inShape mismatch", (m) => ((m.layers[0] as { inShape: number[] }).inShape = [1, 5, 6]), /layers\[0\]\.inShape/],
      ["conv padding >= kernel", (m) => ((m.layers[0] as { padding: number }).padding = 3), /layers\[0\]\.padding/],
      ["conv weight out of range", (m) => ((m.layers[0] as { W: number[][][][] }).W[1][0][2][2] = 300), /layers\[0\]\.W\[1\]\[0\]\[2\]\[2\]/],
      ["maxpool kernel 1", (m) => ((m.layers[1] as { kernel: number }).kernel = 1), /layers\[1\]\.kernel/],
      ["pool inShape", (m) => ((m.layers[2] as { inShape: number[] }).inShape = [2, 2, 3]), /layers\[2\]\.inShape/],
      ["dense nIn", (m) => ((m.layers[4] as { nIn: number }).nIn = 9), /layers\[4\]\.nIn/],
      ["unknown type", (m) => ((m.layers[3] as { type: string }).type = "lstm"), /layers\[3\]\.type "lstm" is not supported/],
      ["maxpool padding >= kernel", (m) => ((m.layers[1] as { padding?: number }).padding = 2), /layers\[1\]\.padding must be an integer in 0\.\.1, got 2/],
      ["maxpool padding negative", (m) => ((m.layers[1] as { padding?: number }).padding = -1), /layers\[1\]\.padding must be an integer in 0\.\.1/],
    ];
    for (const [what, mutate, re] of cases) {
      it(`throws on ${what}`, function () {
        const m = smallCnn("open");
        mutate(m);
        expect(() => validateModel(m)).to.throw(re);
      });
    }
    const groupCases: [string, (m: QuantizedModel) => void, RegExp][] = [
      ["groups not dividing the input channels", (m) => ((m.layers[0] as { groups?: number }).groups = 3), /layers\[0\]\.groups must be an integer in 1\.\.2, got 3/],
      ["groups not dividing outChannels", (m) => ((m.layers[2] as { groups?: number }).groups = 3), /layers\[2\]\.groups = 3 must divide both inShape\[0\] = 4 and outChannels = 4; use a common divisor/],
      ["groups 0", (m) => ((m.layers[0] as { groups?: number }).groups = 0), /layers\[0\]\.groups must be an integer in 1\.\.2, got 0/],
      ["groups not an integer", (m) => ((m.layers[0] as { groups?: number }).groups = 1.5), /layers\[0\]\.groups must be an integer/],
      ["W shaped for groups 1", (m) => ((m.layers[2] as { groups?: number }).groups = 2), /layers\[2\]\.W\[0\] must have inShape\[0\] \/ groups = 2 channels/],
      ["W shaped for groups when groups is absent", (m) => delete (m.layers[0] as { groups?: number }).groups, /layers\[0\]\.W\[0\] must have inShape\[0\] = 2 channels/],
    ];
    const addCases: [string, (m: QuantizedModel) => void, RegExp][] = [
      ["add from a later layer", (m) => ((m.layers[2] as { from: number }).from = 2), /layers\[2\]\.from must be an integer in -1\.\.1, got 2/],
      ["add from the input of another size", (m) => ((m.layers[2] as { from: number }).from = -1), /layers\[2\]\.from = -1: the model input outputs 16 values but the previous layer outputs 32; add two tensors of one size/],
      ["add alignCur negative", (m) => ((m.layers[2] as { alignCur: number }).alignCur = -1), /layers\[2\]\.alignCur must be an integer in 0\.\.64/],
      ["add relu missing", (m) => delete (m.layers[3] as { relu?: boolean }).relu, /layers\[3\]\.relu must be true or false/],
    ];
    for (const [what, mutate, re] of addCases) {
      it(`throws on ${what}`, function () {
        const m = residualCnn("open");
        validateModel(m);
        mutate(m);
        expect(() => validateModel(m)).to.throw(re);
      });
    }
    for (const [what, mutate, re] of groupCases) {
      it(`throws on ${what}`, function () {
        const m = groupedCnn("open");
        validateModel(m);
        mutate(m);
        expect(() => validateModel(m)).to.throw(re);
      });
    }
  });
});

// the CNN counts dropped when conv + maxpool began pooling the accumulators (poolFusions): tiny-cnn 2,901 -> 2,199,
// tiny-grouped 2,106 -> 1,846 (open weights)
const EXPECTED_COUNTS: Record<string, number> = {
  "tiny-mlp-open": 533,
  "tiny-cnn-open": 2199,
  "tiny-cnn-private": 3858,
  "tiny-mlp-private": 1694,
  "tiny-grouped-open": 1846,
  "tiny-grouped-private": 3749,
  "tiny-residual-open": 3149,
  "tiny-residual-private": 5310,
  "tiny-residual-mlp-open": 629,
};
