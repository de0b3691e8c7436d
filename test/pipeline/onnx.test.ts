import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { modelPaths, loadFloatModel } from "../../scripts/pipelines/build";
import { loadIris, loadMnist, loadSeattleTempMax, loadSeattleWeatherSeries } from "../../scripts/pipelines/datasets";
import type { FloatActivation, FloatModel } from "../../scripts/formats/float-model";
import { forwardFloat, preprocess } from "../../scripts/formats/float-model";
import { quantizeModel } from "../../scripts/engine/quantize";
import { exportOnnx } from "../../scripts/engine/onnx/export";
import { importOnnx, importOnnxFile } from "../../scripts/engine/onnx/import";
import { OnnxImportError } from "../../scripts/engine/onnx/import-errors";
import { onnx } from "../../scripts/engine/onnx/proto";
import { ROOT } from "../../scripts/util/paths";
import { tinyTransformer } from "../helpers/transformer";

const BUNDLED = ["iris-mlp", "mnist-mlp", "mnist-cnn", "mnist-lenet5", "temp-forecast", "weather-cnn"];

/** The float model with every weight rounded to float32, as an ONNX file stores it. */
function fround(fm: FloatModel): FloatModel {
  const r = (v: unknown): unknown => (Array.isArray(v) ? v.map(r) : typeof v === "number" ? Math.fround(v) : v);
  const act = (l: FloatActivation) =>
    Object.fromEntries(Object.entries(l).map(([k, v]) => [k, typeof v === "number" ? Math.fround(v) : v])) as FloatActivation;
  return {
    ...fm,
    layers: fm.layers.map((l) =>
      "W" in l ? { ...l, W: r(l.W), B: r(l.B) } : l.type === "activation" ? act(l) : l,
    ) as FloatModel["layers"],
  };
}

/** JSON with sorted keys: a fast exact comparison of big models (chai's deep equal is slow on 44k weights). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === "object" && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : val,
  );
}

let mnistTest: number[][] | undefined;

function onnxFile(name: string): string {
  return path.join(path.dirname(modelPaths(name).floatFile), `${name}.onnx`);
}

/** Preprocessed held-out inputs of a bundled model (a fixed subset for MNIST, to keep the test fast). */
function heldOut(fm: FloatModel, n: number): number[][] {
  const raw = fm.name.startsWith("iris")
    ? loadIris().test.x
    : fm.name.startsWith("temp-")
      ? loadSeattleTempMax().test.x
      : fm.name.startsWith("weather-")
        ? loadSeattleWeatherSeries().test.x
        : (mnistTest ??= loadMnist().test.x);
  return raw
    .filter((_, i) => i % Math.max(1, Math.floor(raw.length / n)) === 0)
    .slice(0, n)
    .map((r) => preprocess(fm, r));
}

const F = onnx.TensorProto.DataType.FLOAT;
const vi = (name: string, dims: number[]): onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});
const ft = (name: string, dims: number[], data: number[]): onnx.ITensorProto => ({ name, dims, dataType: F, floatData: data });
function encode(nodes: onnx.INodeProto[], inits: onnx.ITensorProto[], input: onnx.IValueInfoProto, output: string): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.fromObject({
      irVersion: 7,
      opsetImport: [{ domain: "", version: 13 }],
      graph: { name: "t", node: nodes, initializer: inits, input: [input], output: [vi(output, [1, 2])] },
    }),
  ).finish();
}

async function runOrt(bytes: Uint8Array, x: number[], dims: number[]): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(x), dims) });
  return Array.from(out[s.outputNames[0]].data as Float32Array);
}

describe("ONNX", () => {
  describe("exportOnnx -> importOnnx", () => {
    for (const name of BUNDLED) {
      it(`round-trips ${name} (weights rounded to float32, metadata kept)`, () => {
        const fm = loadFloatModel(name);
        const back = importOnnx(exportOnnx(fm));
        expect(canon(back)).to.equal(canon(fround(fm)));
      });
      it(`the committed ${name}.onnx is what the exporter writes today`, () => {
        expect(Buffer.from(exportOnnx(loadFloatModel(name))).equals(fs.readFileSync(onnxFile(name)))).to.equal(true);
      });
    }
    it("keeps a final Softmax as the last layer (probabilities); an argmax head skips it, so the quantized model is unchanged", () => {
      const fm = loadFloatModel("iris-mlp");
      const back = importOnnx(exportOnnx(fm, { softmax: true }));
      expect(back).to.deep.equal({ ...fround(fm), layers: [...fround(fm).layers, { type: "softmax" }] });
      const cal = heldOut(fm, 40);
      expect(quantizeModel(back, cal, { bits: 12 })).to.deep.equal(quantizeModel(fround(fm), cal, { bits: 12 }));
      expect(quantizeModel(back, cal, { bits: 12, head: "values" }).layers.at(-1)?.type).to.equal("softmax");
    });
  });

  describe("importer vs onnxruntime-node", () => {
    for (const name of BUNDLED) {
      it(`agrees on held-out inputs of ${name}`, async () => {
        const fm = loadFloatModel(name);
        const bytes = fs.readFileSync(onnxFile(name));
        const imported = importOnnx(bytes);
        const session = await ort.InferenceSession.create(bytes);
        // a sequence model ([C, 1, L]) takes [1, C, L], as PyTorch's Conv1d
        const seq = fm.inputShape?.[1] === 1 && fm.layers[0].type === "conv1d";
        const dims = fm.inputShape ? (seq ? [1, fm.inputShape[0], fm.inputShape[2]] : [1, ...fm.inputShape]) : [1, fm.inputSize];
        let maxDiff = 0;
        let maxLogit = 0;
        const xs = heldOut(fm, 100);
        for (const x of xs) {
          const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), dims) });
          const ref = Array.from(out.logits.data as Float32Array);
          const acts = forwardFloat(imported, x.map(Math.fround));
          const mine = acts[acts.length - 1];
          ref.forEach((v, k) => {
            maxDiff = Math.max(maxDiff, Math.abs(v - mine[k]));
            maxLogit = Math.max(maxLogit, Math.abs(v));
          });
        }
        console.log(
          `      ${name}: max |importer - onnxruntime| = ${maxDiff.toExponential(2)} over ${xs.length} inputs (max |logit| ${maxLogit.toFixed(2)})`,
        );
        expect(maxDiff).to.be.lessThan(1e-4 * Math.max(1, maxLogit));
      });
    }
    it("agrees on a hand-built MatMul + Add + Relu graph with a Reshape and raw_data weights", async () => {
      // input [1, 4] -> Reshape [1, 1, 2, 2] -> Conv 1x1 (2 channels, raw_data) -> Relu -> Flatten -> MatMul [8, 2] + Add -> Softmax
      const raw = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
      const shape = { name: "shape", dims: [4], dataType: onnx.TensorProto.DataType.INT64, int64Data: [1, 1, 2, 2] };
      const bytes = encode(
        [
          { name: "reshape", opType: "Reshape", input: ["x", "shape"], output: ["r"] },
          {
            name: "conv",
            opType: "Conv",
            input: ["r", "cw", "cb"],
            output: ["c"],
            attribute: [{ name: "kernel_shape", type: 7, ints: [1, 1] }],
          },
          { name: "relu", opType: "Relu", input: ["c"], output: ["cr"] },
          { name: "flat", opType: "Flatten", input: ["cr"], output: ["f"] },
          { name: "mm", opType: "MatMul", input: ["f", "mw"], output: ["m"] },
          { name: "add", opType: "Add", input: ["m", "mb"], output: ["a"] },
          { name: "sm", opType: "Softmax", input: ["a"], output: ["y"], attribute: [{ name: "axis", type: 2, i: -1 }] },
        ],
        [
          shape,
          { name: "cw", dims: [2, 1, 1, 1], dataType: F, rawData: raw([0.5, -1.5]) },
          { name: "cb", dims: [2], dataType: F, rawData: raw([0.25, 0.75]) },
          ft("mw", [8, 2], [1, -1, 2, 0.5, -0.5, 1, 0, 3, 1, 1, -2, 0, 0.5, 0.5, 1, -1]),
          ft("mb", [2], [0.1, -0.2]),
        ],
        vi("x", [1, 4]),
        "y",
      );
      const fm = importOnnx(bytes);
      expect(fm.inputShape).to.deep.equal([1, 2, 2]);
      expect(fm.layers.map((l) => l.type)).to.deep.equal(["conv2d", "flatten", "dense", "softmax"]);
      for (const x of [
        [1, -2, 3, 0.5],
        [-1, -1, 2, 4],
      ]) {
        const probs = await runOrt(bytes, x, [1, 4]);
        const soft = forwardFloat(fm, x).at(-1) as number[]; // the float softmax layer
        soft.forEach((p, k) => expect(Math.abs(p - probs[k])).to.be.lessThan(1e-6));
      }
    });
  });

  describe("grouped (depthwise) Conv and padded MaxPool", () => {
    // [2,4,4] -> Conv 4 x 3x3, group 2, stride 2, pad 1, Relu -> [4,2,2] -> MaxPool 2, stride 2, pad 1 -> [4,2,2]
    // -> depthwise Conv 1x1 (group 4), no Relu: a negative map the padded MaxPool taps must not win -> Flatten -> Gemm
    const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) / 2);
    const cube = (flat: number[], o: number, c: number, k: number): number[][][][] =>
      Array.from({ length: o }, (_, a) =>
        Array.from({ length: c }, (_, b) =>
          Array.from({ length: k }, (_, y) => flat.slice(((a * c + b) * k + y) * k, ((a * c + b) * k + y) * k + k)),
        ),
      );
    const fm: FloatModel = {
      format: "zkml-float-v1",
      name: "grouped",
      inputSize: 32,
      inputShape: [2, 4, 4],
      preprocess: { mean: new Array<number>(32).fill(0), std: new Array<number>(32).fill(1) },
      classes: ["a", "b"],
      layers: [
        {
          type: "conv2d",
          inShape: [2, 4, 4],
          groups: 2,
          W: cube(vals(36, 1), 4, 1, 3),
          B: [0.1, -0.2, 0.3, 0],
          kernel: 3,
          stride: 2,
          padding: 1,
          relu: true,
        },
        {
          type: "conv2d",
          inShape: [4, 2, 2],
          groups: 4,
          W: cube([1, -1, 0.5, -2], 4, 1, 1),
          B: [-1, -1, -1, -1],
          kernel: 1,
          stride: 1,
          padding: 0,
          relu: false,
        },
        { type: "maxpool", inShape: [4, 2, 2], kernel: 2, stride: 2, padding: 1 },
        { type: "flatten", inShape: [4, 2, 2] },
        { type: "dense", W: [vals(16, 2), vals(16, 3)], B: [0, 0.5], relu: false },
      ],
    };
    it("export -> onnxruntime agrees with forwardFloat, and the import round-trips (groups, maxpool padding)", async () => {
      const bytes = exportOnnx(fm);
      const back = importOnnx(bytes);
      expect(canon(back.layers)).to.equal(canon(fround(fm).layers));
      for (let s = 0; s < 5; s++) {
        const x = vals(32, 10 + s).map((v) => Math.fround(v * 4));
        const ref = await runOrt(bytes, x, [1, 2, 4, 4]);
        const acts = forwardFloat(back, x);
        const mine = acts[acts.length - 1];
        ref.forEach((v, k) => expect(Math.abs(v - mine[k])).to.be.lessThan(1e-5));
        // the padded max pool reads the negative maps: a 0 pad winning would show as outputs of 0
        expect(acts[2].some((v) => v < 0)).to.equal(true);
      }
    });
  });

  describe("residual add (export and import)", () => {
    it("exports a sequence model (conv1d, maxpool1d, avgpool1d) as onnxruntime computes forwardFloat, and the import reads it back", async () => {
      const src = importOnnx(fs.readFileSync(path.join(ROOT, "test", "fixtures", "onnx", "conv1d-seq.onnx")));
      const bytes = exportOnnx(src);
      expect(importOnnx(bytes).layers).to.deep.equal(fround(src).layers);
      const session = await ort.InferenceSession.create(bytes);
      for (let i = 0; i < 10; i++) {
        const x = Array.from({ length: 32 }, (_, j) => Math.fround(Math.sin(i * 7 + j) * 1.5));
        const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [1, 2, 16]) });
        const want = forwardFloat(src, x).at(-1) as number[];
        Array.from(out.logits.data as Float32Array).forEach((v, k) =>
          expect(Math.abs(v - want[k])).to.be.below(1e-5 * (1 + Math.abs(want[k]))),
        );
      }
    });
    it("exports a final logsoftmax as LogSoftmax (output log_probabilities) as onnxruntime computes forwardFloat, and reads it back", async () => {
      const src = importOnnx(fs.readFileSync(path.join(ROOT, "test", "fixtures", "onnx", "logsoftmax-mlp.onnx")));
      const bytes = exportOnnx(src);
      expect(importOnnx(bytes).layers).to.deep.equal(fround(src).layers);
      const session = await ort.InferenceSession.create(bytes);
      expect(session.outputNames).to.deep.equal(["log_probabilities"]);
      for (let i = 0; i < 5; i++) {
        const x = Array.from({ length: 4 }, (_, j) => Math.fround(Math.sin(i * 5 + j) * 2));
        const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [1, 4]) });
        const want = forwardFloat(src, x).at(-1) as number[];
        Array.from(out.log_probabilities.data as Float32Array).forEach((v, k) =>
          expect(Math.abs(v - want[k])).to.be.below(1e-5 * (1 + Math.abs(want[k]))),
        );
      }
    });
    it("exports transformer encoders (attention, layernorm, kernel-1 conv1d) as onnxruntime computes forwardFloat, and the import reads them back", async () => {
      const models = [
        tinyTransformer("tiny-transformer", 4, 8, 2, 16, 11),
        importOnnx(fs.readFileSync(path.join(ROOT, "test", "fixtures", "onnx", "transformer-prenorm-gelu.onnx"))),
      ];
      for (const src of models) {
        const bytes = exportOnnx(src);
        const back = importOnnx(bytes);
        expect(
          back.layers.map((l) => l.type),
          src.name,
        ).to.deep.equal(src.layers.map((l) => l.type));
        const L = src.inputSize;
        const session = await ort.InferenceSession.create(bytes);
        for (let i = 0; i < 5; i++) {
          const x = Array.from({ length: L }, (_, j) => Math.fround(Math.sin(i * 7 + j) * 1.5));
          const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [1, 1, L]) });
          const want = forwardFloat(src, x).at(-1) as number[];
          const again = forwardFloat(back, x).at(-1) as number[];
          Array.from(out.logits.data as Float32Array).forEach((v, k) => {
            expect(Math.abs(v - want[k]), src.name).to.be.below(1e-4 * (1 + Math.abs(want[k])));
            expect(Math.abs(again[k] - want[k]), src.name).to.be.below(1e-4 * (1 + Math.abs(want[k])));
          });
        }
      }
    });
    it("exports token-id models (embedding, then a mean or a conv1d) with an INT64 input as onnxruntime computes them, and reads them back", async () => {
      for (const name of ["embedding-bag", "embedding-conv1d"]) {
        const src = importOnnx(fs.readFileSync(path.join(ROOT, "test", "fixtures", "onnx", `${name}.onnx`)));
        const bytes = exportOnnx(src);
        expect(importOnnx(bytes).layers, name).to.deep.equal(fround(src).layers);
        const session = await ort.InferenceSession.create(bytes);
        for (let i = 0; i < 10; i++) {
          const ids = Array.from({ length: 8 }, (_, j) => (i * 7 + j * 3) % 20);
          const out = await session.run({ input: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, 8]) });
          const want = forwardFloat(src, ids).at(-1) as number[];
          Array.from(out.logits.data as Float32Array).forEach((v, k) =>
            expect(Math.abs(v - want[k]), name).to.be.below(1e-5 * (1 + Math.abs(want[k]))),
          );
        }
      }
    });
    it("exports every activation as onnxruntime computes forwardFloat (1e-5), and the import reads each back", async () => {
      const r = (() => {
        let s = 3;
        return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
      })();
      const specs: FloatActivation[] = [
        { type: "activation", fn: "sigmoid" },
        { type: "activation", fn: "tanh" },
        { type: "activation", fn: "gelu" },
        { type: "activation", fn: "gelu_tanh" },
        { type: "activation", fn: "silu" },
        { type: "activation", fn: "hardsigmoid", alpha: 0.2, beta: 0.4 },
        { type: "activation", fn: "hardswish" },
        { type: "activation", fn: "leakyrelu", alpha: 0.25 },
        { type: "activation", fn: "elu", alpha: 0.5 },
        { type: "activation", fn: "clip", min: -0.5, max: 2 },
        { type: "activation", fn: "clip", max: 1.5 },
        { type: "activation", fn: "softplus" },
        { type: "activation", fn: "mish" },
      ];
      for (const act of specs) {
        const fm: FloatModel = {
          format: "zkml-float-v1",
          name: `act-${act.fn}`,
          inputSize: 6,
          preprocess: { mean: Array(6).fill(0), std: Array(6).fill(1) },
          classes: ["a", "b", "c"],
          layers: [
            {
              type: "dense",
              W: Array.from({ length: 8 }, () => Array.from({ length: 6 }, () => Math.fround(r() * 3))),
              B: Array.from({ length: 8 }, () => Math.fround(r())),
              relu: false,
            },
            act,
            {
              type: "dense",
              W: Array.from({ length: 3 }, () => Array.from({ length: 8 }, () => Math.fround(r()))),
              B: [0, 0.5, -0.5],
              relu: false,
            },
          ],
        };
        const bytes = exportOnnx(fm);
        const back = importOnnx(bytes);
        expect(back.layers[1], act.fn).to.deep.equal(fround(fm).layers[1]);
        const session = await ort.InferenceSession.create(bytes);
        for (let i = 0; i < 20; i++) {
          const x = Array.from({ length: 6 }, () => Math.fround(r() * 2));
          const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x), [1, 6]) });
          const want = forwardFloat(fm, x).at(-1) as number[];
          Array.from(out.logits.data as Float32Array).forEach((v, k) =>
            expect(Math.abs(v - want[k]), `${act.fn} output ${k}`).to.be.below(1e-5 * (1 + Math.abs(want[k]))),
          );
        }
      }
    });
    it("the exporter writes an add layer as ONNX Add, which onnxruntime computes as forwardFloat does, and the importer reads it back", async () => {
      const vals = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.1 + seed));
      const fm: FloatModel = {
        format: "zkml-float-v1",
        name: "residual",
        inputSize: 4,
        preprocess: { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] },
        classes: ["a", "b"],
        layers: [
          { type: "dense", W: [vals(4, 1), vals(4, 2), vals(4, 3), vals(4, 4)], B: vals(4, 5), relu: true },
          { type: "dense", W: [vals(4, 6), vals(4, 7), vals(4, 8), vals(4, 9)], B: vals(4, 10), relu: false },
          { type: "add", from: 0, relu: true },
          { type: "add", from: -1, relu: false },
          { type: "dense", W: [vals(4, 11), vals(4, 12)], B: [0, 0], relu: false },
        ],
      };
      const bytes = exportOnnx(fround(fm));
      for (let s = 0; s < 5; s++) {
        const x = vals(4, 20 + s).map(Math.fround);
        const ref = await runOrt(bytes, x, [1, 4]);
        const acts = forwardFloat(fround(fm), x);
        ref.forEach((v, k) => expect(Math.abs(v - acts[4][k])).to.be.lessThan(1e-5));
      }
      // read back: the same layers (both residual adds, the ReLU fused into the first), weights as float32
      expect(canon(importOnnx(bytes).layers)).to.equal(canon(fround(fm).layers));
    });
  });

  describe("importOnnx errors", () => {
    const gemm = (over: Partial<onnx.INodeProto> = {}): onnx.INodeProto => ({
      name: "fc1",
      opType: "Gemm",
      input: ["x", "w", "b"],
      output: ["y"],
      attribute: [{ name: "transB", type: 2, i: 1 }],
      ...over,
    });
    const inits = [ft("w", [2, 3], [1, 2, 3, 4, 5, 6]), ft("b", [2], [0, 0])];

    it("rejects malformed bytes", () => {
      expect(() => importOnnx(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]))).to.throw(OnnxImportError, /malformed model/);
      expect(() => importOnnx(Buffer.from("definitely not a protobuf"))).to.throw(OnnxImportError, /malformed model/);
      expect(() => importOnnx(new Uint8Array())).to.throw(OnnxImportError, /malformed model: .*no graph/);
    });
    it("names the node and operator of an unsupported operator and lists what is supported", () => {
      const bytes = encode(
        [gemm({ output: ["h"] }), { name: "rnn", opType: "GRU", input: ["h"], output: ["y"] }],
        inits,
        vi("x", [1, 3]),
        "y",
      );
      try {
        importOnnx(bytes);
        expect.fail("no error");
      } catch (e) {
        expect(e).to.be.instanceOf(OnnxImportError);
        const err = e as OnnxImportError;
        expect(err.node).to.equal("rnn");
        expect(err.op).to.equal("GRU");
        expect(err.message).to.match(
          /node "rnn" \(GRU\): operator GRU is not supported; supported: Gemm, MatMul, .*Sigmoid, Tanh, .*Conv, Gather, MaxPool, AveragePool, .*Flatten, Reshape, .*Softmax.*; recurrent layers \(GRU, LSTM, RNN\) are not supported/,
        );
        expect(err.message).to.not.include("\n");
      }
    });
    it("a final Sigmoid is an activation layer (a probability), a Tanh between layers too, and a ReLU on the raw input is clip(0, inf)", () => {
      const sig = importOnnx(
        encode([gemm({ output: ["h"] }), { name: "act", opType: "Sigmoid", input: ["h"], output: ["y"] }], inits, vi("x", [1, 3]), "y"),
      );
      expect(sig.layers.map((l) => l.type)).to.deep.equal(["dense", "activation"]);
      expect(sig.layers[1]).to.deep.include({ fn: "sigmoid" });
      const lone = importOnnx(
        encode([{ name: "r", opType: "Relu", input: ["x"], output: ["h"] }, gemm({ input: ["h", "w", "b"] })], inits, vi("x", [1, 3]), "y"),
      );
      expect(lone.layers[0]).to.deep.equal({ type: "activation", fn: "clip", min: 0 });
    });
    it("reads the opset-20 Gelu node (both forms) and recognizes x * sigmoid(x) whichever operand comes first", () => {
      const g = (approximate?: string) =>
        importOnnx(
          encode(
            [
              gemm({ output: ["h"] }),
              {
                name: "g",
                opType: "Gelu",
                input: ["h"],
                output: ["a"],
                attribute: approximate ? [{ name: "approximate", type: 3, s: new TextEncoder().encode(approximate) }] : [],
              },
              gemm({ name: "fc2", input: ["a", "w2", "b2"], output: ["y"] }),
            ],
            [...inits, ft("w2", [2, 2], [1, 0, 0, 1]), ft("b2", [2], [0, 0])],
            vi("x", [1, 3]),
            "y",
          ),
        ).layers[1];
      expect(g()).to.deep.equal({ type: "activation", fn: "gelu" });
      expect(g("tanh")).to.deep.equal({ type: "activation", fn: "gelu_tanh" });
      const silu = importOnnx(
        encode(
          [
            gemm({ output: ["h"] }),
            { name: "s", opType: "Sigmoid", input: ["h"], output: ["s"] },
            { name: "m", opType: "Mul", input: ["s", "h"], output: ["y"] },
          ],
          inits,
          vi("x", [1, 3]),
          "y",
        ),
      );
      expect(silu.layers[1]).to.deep.equal({ type: "activation", fn: "silu" });
    });
    it("names the node of a weight whose shape does not fit the input", () => {
      const bytes = encode([gemm()], inits, vi("x", [1, 4]), "y");
      expect(() => importOnnx(bytes)).to.throw(
        OnnxImportError,
        /node "fc1" \(Gemm\): weight w \[2,3\] \(transB 1\) takes 3 inputs but the previous output has 4/,
      );
    });
    it("rejects an image op on a vector, unequal MaxPool pads, non-square kernels and a mid-graph Softmax", () => {
      const pool = (attribute: onnx.IAttributeProto[]) =>
        encode(
          [
            { name: "p", opType: "MaxPool", input: ["x"], output: ["q"], attribute },
            { name: "f", opType: "Flatten", input: ["q"], output: ["f"] },
            gemm({ input: ["f", "w", "b"] }),
          ],
          inits,
          vi("x", [1, 3, 2, 2]),
          "y",
        );
      expect(() =>
        importOnnx(
          encode(
            [{ name: "p", opType: "MaxPool", input: ["x"], output: ["y"], attribute: [{ name: "kernel_shape", type: 7, ints: [2, 2] }] }],
            [],
            vi("x", [1, 3]),
            "y",
          ),
        ),
      ).to.throw(/node "p" \(MaxPool\): needs an image tensor \[1, C, H, W\], got shape \[1,3\]/);
      expect(() =>
        importOnnx(
          pool([
            { name: "kernel_shape", type: 7, ints: [2, 2] },
            { name: "pads", type: 7, ints: [1, 0, 1, 1] },
          ]),
        ),
      ).to.throw(
        /node "p" \(MaxPool\): padding \[top, left, bottom, right\] = \[1,0,1,1\] is not supported; supported: equal padding on all sides/,
      );
      expect(() => importOnnx(pool([{ name: "kernel_shape", type: 7, ints: [2, 1] }]))).to.throw(
        /node "p" \(MaxPool\): kernel_shape \[2,1\] is not supported; supported: square/,
      );
      const mid = encode(
        [{ name: "sm", opType: "Softmax", input: ["x"], output: ["s"] }, gemm({ input: ["s", "w", "b"] })],
        inits,
        vi("x", [1, 3]),
        "y",
      );
      expect(() => importOnnx(mid)).to.throw(/node "sm" \(Softmax\): Softmax is supported only as the last node/);
    });
    it("imports a residual Add of a layer's output or of the input; refuses one of an intermediate value", () => {
      // x [1,3] -> fc1 (3->3) -> relu = h -> fc2 (3->3) -> Add(h) -> relu -> fc3 (3->2)
      const sq = [
        ft("w1", [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
        ft("b1", [3], [0.5, -1, 0]),
        ft("w2", [3, 3], [0, 1, 0, 1, 0, 0, 0, 0, -1]),
        ft("b2", [3], [0, 0, 0]),
        ft("w3", [2, 3], [1, 1, 1, -1, 0, 1]),
        ft("b3", [2], [0, 0]),
      ];
      const fc = (name: string, i: string, o: string, w: string, b: string): onnx.INodeProto => ({
        name,
        opType: "Gemm",
        input: [i, w, b],
        output: [o],
        attribute: [{ name: "transB", type: 2, i: 1 }],
      });
      const graph = (skip: string, w3 = "w3") =>
        encode(
          [
            fc("fc1", "x", "a", "w1", "b1"),
            { name: "r1", opType: "Relu", input: ["a"], output: ["h"] },
            fc("fc2", "h", "c", "w2", "b2"),
            { name: "add", opType: "Add", input: ["c", skip], output: ["s"] },
            { name: "r2", opType: "Relu", input: ["s"], output: ["t"] },
            fc("fc3", "t", "y", w3, "b3"),
          ],
          sq,
          vi("x", [1, 3]),
          "y",
        );
      const fm = importOnnx(graph("h"));
      expect(fm.layers.map((l) => l.type)).to.deep.equal(["dense", "dense", "add", "dense"]);
      expect(fm.layers[2]).to.deep.equal({ type: "add", from: 0, relu: true });
      // forwardFloat: relu(fc2(h) + h) with h = relu(fc1(x)); x = [1, 2, 3]: h = [1.5, 1, 3], fc2(h) = [1, 1.5, -3]
      const out = forwardFloat(fm, [1, 2, 3]);
      expect(out[2]).to.deep.equal([2.5, 2.5, 0]);
      expect(out[3]).to.deep.equal([5, -2.5]);
      // the graph input as the skip source: from -1
      expect(importOnnx(graph("x")).layers[2]).to.deep.equal({ type: "add", from: -1, relu: true });
      // "a" is fc1's output before its ReLU: not a layer output of the float model
      expect(() => importOnnx(graph("a"))).to.throw(
        OnnxImportError,
        /node "add" \(Add\): adds "a", an intermediate value of layer 0 \(a bias, scale, BatchNorm or ReLU came after it\); supported: the chain's output plus the output of an earlier layer/,
      );
    });
    it("rejects a graph that is not a single chain and a Relu that follows no layer", () => {
      const branch = encode(
        [gemm({ output: ["h"] }), { name: "relu2", opType: "Relu", input: ["x"], output: ["y"] }],
        inits,
        vi("x", [1, 3]),
        "y",
      );
      expect(() => importOnnx(branch)).to.throw(
        /node "fc1" \(Gemm\): its input "x" also feeds "relu2" \(Relu\): the graph must be a single chain of layers \(no branches\)/,
      );
      const lone = encode(
        [{ name: "r", opType: "Relu", input: ["x"], output: ["h"] }, gemm({ input: ["h", "w", "b"] })],
        inits,
        vi("x", [1, 3]),
        "y",
      );
      expect(importOnnx(lone).layers[0]).to.deep.include({ type: "activation", fn: "clip", min: 0 }); // a ReLU of the raw input
    });
  });

  describe("importOnnx: patterns it cannot fold, each refused in one line naming the node and the fix", () => {
    const I64 = onnx.TensorProto.DataType.INT64;
    const i64 = (name: string, v: number[]): onnx.ITensorProto => ({ name, dims: [v.length], dataType: I64, int64Data: v });
    const attrInts = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: 7, ints: v });
    const attrInt = (name: string, v: number): onnx.IAttributeProto => ({ name, type: 2, i: v });
    const fc = (input: string, out = "y", w = "w", b = "b"): onnx.INodeProto => ({
      name: "fc",
      opType: "Gemm",
      input: [input, w, b],
      output: [out],
      attribute: [attrInt("transB", 1)],
    });
    const vec = [ft("w", [2, 3], [1, 2, 3, 4, 5, 6]), ft("b", [2], [0, 0])];
    // conv 1 -> 2 channels, 2x2 kernel on a 1x3x3 image -> [2, 2, 2] -> flatten (8) -> fc [2, 8]
    const conv = (input: string, attribute: onnx.IAttributeProto[] = [attrInts("kernel_shape", [2, 2])]): onnx.INodeProto => ({
      name: "conv",
      opType: "Conv",
      input: [input, "cw", "cb"],
      output: ["c"],
      attribute,
    });
    const img = [
      ft("cw", [2, 1, 2, 2], [1, 0, 0, 1, 0, 1, 1, 0]),
      ft("cb", [2], [0, 0]),
      ft("w8", [2, 8], new Array<number>(16).fill(0.5)),
      ft("b", [2], [0, 0]),
    ];
    const tail = (from: string): onnx.INodeProto[] => [
      { name: "flat", opType: "Flatten", input: [from], output: ["f"] },
      fc("f", "y", "w8"),
    ];
    const cases: { what: string; nodes: onnx.INodeProto[]; inits: onnx.ITensorProto[]; dims: number[]; msg: RegExp }[] = [
      {
        what: "a negative scale before the first layer",
        nodes: [{ name: "neg", opType: "Mul", input: ["x", "k"], output: ["m"] }, fc("m")],
        inits: [...vec, ft("k", [], [-1])],
        dims: [1, 3],
        msg: /node "neg" \(Mul\): scales input feature 0 by -1; before the first layer only positive scales are supported/,
      },
      {
        what: "an Add after a Relu",
        nodes: [
          fc("x", "h"),
          { name: "r", opType: "Relu", input: ["h"], output: ["hr"] },
          { name: "shift", opType: "Add", input: ["hr", "k"], output: ["y"] },
        ],
        inits: [...vec, ft("k", [2], [1, 2])],
        dims: [1, 3],
        msg: /node "shift" \(Add\): Add by a constant is supported before the first layer .* here it follows a dense \+ ReLU layer/,
      },
      {
        what: "a per-pixel constant after a conv",
        nodes: [conv("x"), { name: "bias", opType: "Add", input: ["c", "k"], output: ["cb2"] }, ...tail("cb2")],
        inits: [...img, ft("k", [1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])],
        dims: [1, 1, 3, 3],
        msg: /node "bias" \(Add\): the constant differs within output channel 0 of the conv; supported: one value per channel/,
      },
      {
        what: "Pad before MaxPool",
        nodes: [
          { name: "pad", opType: "Pad", input: ["x", "pads"], output: ["p"] },
          { name: "mp", opType: "MaxPool", input: ["p"], output: ["q"], attribute: [attrInts("kernel_shape", [2, 2])] },
          ...tail("q"),
        ],
        inits: [...img, i64("pads", [0, 0, 1, 1, 0, 0, 1, 1])],
        dims: [1, 1, 3, 3],
        msg: /node "pad" \(Pad\): Pad before MaxPool "mp" is not supported: its zeros could win the maximum; supported: MaxPool's own pads/,
      },
      {
        what: "Pad before something else",
        nodes: [
          { name: "pad", opType: "Pad", input: ["x", "pads"], output: ["p"] },
          { name: "flat", opType: "Flatten", input: ["p"], output: ["f"] },
          fc("f", "y", "w8"),
        ],
        inits: [...img, i64("pads", [0, 0, 0, 0, 0, 0, 0, 0])],
        dims: [1, 1, 3, 3],
        msg: /node "pad" \(Pad\): Pad of zeros is supported only right before a Conv or an AveragePool .* followed by Flatten "flat"/,
      },
      {
        what: "uneven padding",
        nodes: [{ name: "pad", opType: "Pad", input: ["x", "pads"], output: ["p"] }, conv("p"), ...tail("c")],
        inits: [...img, i64("pads", [0, 0, 1, 0, 0, 0, 1, 0])],
        dims: [1, 1, 3, 3],
        msg: /node "conv" \(Conv\): padding \[top, left, bottom, right\] = \[1,0,1,0\] \(with Pad "pad"\) is not supported; supported: equal padding on all sides/,
      },
      {
        what: "AveragePool padding without count_include_pad",
        nodes: [
          conv("x"),
          {
            name: "ap",
            opType: "AveragePool",
            input: ["c"],
            output: ["q"],
            attribute: [attrInts("kernel_shape", [2, 2]), attrInts("pads", [1, 1, 1, 1])],
          },
          ...tail("q"),
        ],
        inits: img,
        dims: [1, 1, 3, 3],
        msg: /node "ap" \(AveragePool\): pads \[1,1,1,1\] with count_include_pad 0 average fewer values at the borders; supported: count_include_pad 1/,
      },
      {
        what: "ReduceMean over the channels",
        nodes: [
          conv("x"),
          { name: "rm", opType: "ReduceMean", input: ["c"], output: ["q"], attribute: [attrInts("axes", [1])] },
          ...tail("q"),
        ],
        inits: img,
        dims: [1, 1, 3, 3],
        msg: /node "rm" \(ReduceMean\): ReduceMean over axes \[1\] is not supported; supported: the spatial axes \[2, 3\]/,
      },
      {
        what: "global average pooling of a non-square image",
        nodes: [{ name: "gap", opType: "GlobalAveragePool", input: ["x"], output: ["q"] }, ...tail("q")],
        inits: img,
        dims: [1, 1, 2, 4],
        msg: /node "gap" \(GlobalAveragePool\): global average pooling of a 2x4 image is not supported; supported: square images/,
      },
      {
        what: "BatchNormalization in training mode",
        nodes: [
          fc("x", "h"),
          {
            name: "bn",
            opType: "BatchNormalization",
            input: ["h", "s", "bb", "mu", "var"],
            output: ["y"],
            attribute: [attrInt("training_mode", 1)],
          },
        ],
        inits: [...vec, ft("s", [2], [1, 1]), ft("bb", [2], [0, 0]), ft("mu", [2], [0, 0]), ft("var", [2], [1, 1])],
        dims: [1, 3],
        msg: /node "bn" \(BatchNormalization\): training_mode 1 uses the batch's statistics; call model\.eval\(\) before torch\.onnx\.export/,
      },
      {
        what: "a used Dropout mask",
        nodes: [
          { name: "drop", opType: "Dropout", input: ["x"], output: ["d", "mask"] },
          { name: "use", opType: "Mul", input: ["mask", "k"], output: ["mm"] },
          fc("d"),
        ],
        inits: [...vec, ft("k", [], [1])],
        dims: [1, 3],
        msg: /node "drop" \(Dropout\): the mask output "mask" is used; supported: only the first output/,
      },
      {
        what: "an elementwise function that is no known activation (exp)",
        nodes: [fc("x", "h"), { name: "e", opType: "Exp", input: ["h"], output: ["y"] }],
        inits: vec,
        dims: [1, 3],
        msg: /node "e" \(Exp\): the nodes "e" \(Exp\) compute an elementwise function of "h" that is not a supported activation; supported: gelu, gelu_tanh, silu/,
      },
      {
        what: "a Transpose of an NHWC input before a Conv",
        nodes: [
          { name: "nchw", opType: "Transpose", input: ["x"], output: ["t"], attribute: [attrInts("perm", [0, 3, 1, 2])] },
          conv("t"),
          ...tail("c"),
        ],
        inits: [
          ft("cw", [2, 2, 2, 2], [1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0]),
          ft("cb", [2], [0, 0]),
          ft("w8", [2, 8], new Array<number>(16).fill(0.5)),
          ft("b", [2], [0, 0]),
        ],
        dims: [1, 3, 3, 2], // NHWC, 2 channels (with one channel NHWC and NCHW are the same order: that imports)
        msg: /node "conv" \(Conv\): reads a transposed tensor .* export the model with an NCHW input \(tf2onnx: --inputs-as-nchw <input>\)/,
      },
      {
        what: "a constant subgraph of an operator the importer cannot evaluate",
        nodes: [
          { name: "nz", opType: "NonZero", input: ["k"], output: ["z"] },
          { name: "rs", opType: "Reshape", input: ["x", "z"], output: ["r"] },
          fc("r"),
        ],
        inits: [...vec, i64("k", [1, 1])],
        dims: [1, 3],
        msg: /node "nz" \(NonZero\): computes a constant from constants, but NonZero cannot be evaluated at import time; export with do_constant_folding=True/,
      },
      {
        what: "a constant divided by the data",
        nodes: [{ name: "inv", opType: "Div", input: ["k", "x"], output: ["d"] }, fc("d")],
        inits: [...vec, ft("k", [], [1])],
        dims: [1, 3],
        msg: /node "inv" \(Div\): divides a constant by the data \(c \/ x\)/,
      },
      {
        what: "a group that does not divide the channels",
        nodes: [conv("x", [attrInts("kernel_shape", [2, 2]), attrInt("group", 2)]), ...tail("c")],
        inits: img,
        dims: [1, 1, 3, 3],
        msg: /node "conv" \(Conv\): group 2 does not divide the 1 input and 2 output channels; supported: a group dividing both/,
      },
      {
        what: "a dilated convolution",
        nodes: [conv("x", [attrInts("kernel_shape", [2, 2]), attrInts("dilations", [2, 2])]), ...tail("c")],
        inits: img,
        dims: [1, 1, 3, 3],
        msg: /node "conv" \(Conv\): dilations \[2,2\] are not supported; supported: 1/,
      },
      {
        what: "a dense output reshaped into an image",
        nodes: [fc("x", "h"), { name: "img", opType: "Reshape", input: ["h", "s4"], output: ["i"] }, conv("i"), ...tail("c")],
        inits: [...vec, ...img.slice(0, 3), i64("s4", [1, 1, 1, 2])],
        dims: [1, 3],
        msg: /node "conv" \(Conv\): needs an image tensor|reshapes the output of a dense layer/,
      },
      {
        what: "the data combined with itself",
        nodes: [{ name: "sq", opType: "Mul", input: ["x", "x"], output: ["m"] }, fc("m")],
        inits: vec,
        dims: [1, 3],
        msg: /node "sq" \(Mul\): the nodes "sq" \(Mul\) compute an elementwise function of "x" that is not a supported activation/,
      },
    ];
    for (const c of cases)
      it(`refuses ${c.what}`, () => {
        const bytes = encode(c.nodes, c.inits, vi("x", c.dims), "y");
        expect(() => importOnnx(bytes)).to.throw(OnnxImportError, c.msg);
      });

    it("names a tensor's data type (BOOL, FLOAT16) and a Constant's output when the tensor has no name", () => {
      const f16: onnx.INodeProto = {
        name: "k",
        opType: "Constant",
        output: ["k_out"],
        attribute: [{ name: "value", type: 4, t: { dims: [1], dataType: onnx.TensorProto.DataType.FLOAT16, int32Data: [0] } }],
      };
      const bytes = encode([f16, { name: "m", opType: "Mul", input: ["x", "k_out"], output: ["xm"] }, fc("xm")], vec, vi("x", [1, 3]), "y");
      expect(() => importOnnx(bytes)).to.throw(/node "k" \(Constant\): tensor k_out: data type FLOAT16 is not supported/);
      const boolIn: onnx.IValueInfoProto = {
        name: "x",
        type: { tensorType: { elemType: onnx.TensorProto.DataType.BOOL, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }] } } },
      };
      expect(() => importOnnx(encode([fc("x")], vec, boolIn, "y"))).to.throw(/graph input x is BOOL; supported: FLOAT or DOUBLE inputs/);
      // a BOOL constant (Dropout's training_mode) is read, not refused
      const flag: onnx.INodeProto = {
        name: "t",
        opType: "Constant",
        output: ["t_out"],
        attribute: [{ name: "value", type: 4, t: { dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [1] } }],
      };
      const drop = encode(
        [flag, { name: "d", opType: "Dropout", input: ["x", "", "t_out"], output: ["dx"] }, fc("dx")],
        vec,
        vi("x", [1, 3]),
        "y",
      );
      expect(importOnnx(drop).layers.map((l) => l.type)).to.deep.equal(["dense"]);
    });

    it("refuses a symbolic dimension other than the batch axis, and takes a symbolic batch as 1", () => {
      const sym: onnx.IValueInfoProto = {
        name: "x",
        type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: "batch" }, { dimParam: "features" }] } } },
      };
      expect(() => importOnnx(encode([fc("x")], vec, sym, "y"))).to.throw(
        /graph input x has a symbolic dimension 1 \("features"\); only the batch axis \(0\) may be dynamic: export with a fixed input size/,
      );
      const batch: onnx.IValueInfoProto = {
        name: "x",
        type: { tensorType: { elemType: F, shape: { dim: [{ dimParam: "batch" }, { dimValue: 3 }] } } },
      };
      expect(importOnnx(encode([fc("x")], vec, batch, "y")).inputSize).to.equal(3);
    });
  });

  describe("importOnnxFile", () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-onnx-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("writes the float model only on success, and leaves nothing behind on failure", () => {
      const good = path.join(dir, "m.onnx");
      fs.writeFileSync(good, exportOnnx(loadFloatModel("iris-mlp")));
      const out = path.join(dir, "out", "m.float.json");
      const fm = importOnnxFile(good, out, { name: "iris-copy" });
      expect(fm.name).to.equal("iris-copy");
      expect(JSON.parse(fs.readFileSync(out, "utf8"))).to.deep.equal(fm);
      const bad = path.join(dir, "bad.onnx");
      fs.writeFileSync(bad, Buffer.from("garbage"));
      const out2 = path.join(dir, "out", "bad.float.json");
      expect(() => importOnnxFile(bad, out2)).to.throw(OnnxImportError);
      expect(fs.readdirSync(path.join(dir, "out"))).to.deep.equal(["m.float.json"]);
    });
  });
});
