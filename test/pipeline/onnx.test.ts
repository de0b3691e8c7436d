import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { modelPaths, loadFloatModel } from "../../scripts/model/build";
import { loadIris, loadMnist, loadSeattleTempMax } from "../../scripts/model/datasets";
import type { FloatModel } from "../../scripts/model/float";
import { forwardFloat, preprocess } from "../../scripts/model/float";
import { exportOnnx } from "../../scripts/onnx/export";
import { OnnxImportError, importOnnx, importOnnxFile } from "../../scripts/onnx/import";
import { onnx } from "../../scripts/onnx/proto";

const BUNDLED = ["iris-mlp", "mnist-mlp", "mnist-cnn", "temp-forecast"];

/** The float model with every weight rounded to float32, as an ONNX file stores it. */
function fround(fm: FloatModel): FloatModel {
  const r = (v: unknown): unknown => (Array.isArray(v) ? v.map(r) : typeof v === "number" ? Math.fround(v) : v);
  return { ...fm, layers: fm.layers.map((l) => ("W" in l ? { ...l, W: r(l.W), B: r(l.B) } : l)) as FloatModel["layers"] };
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
    it("drops a final Softmax", () => {
      const fm = loadFloatModel("iris-mlp");
      expect(importOnnx(exportOnnx(fm, { softmax: true }))).to.deep.equal(fround(fm));
    });
  });

  describe("importer vs onnxruntime-node", () => {
    for (const name of BUNDLED) {
      it(`agrees on held-out inputs of ${name}`, async () => {
        const fm = loadFloatModel(name);
        const bytes = fs.readFileSync(onnxFile(name));
        const imported = importOnnx(bytes);
        const session = await ort.InferenceSession.create(bytes);
        const dims = fm.inputShape ? [1, ...fm.inputShape] : [1, fm.inputSize];
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
      expect(fm.layers.map((l) => l.type)).to.deep.equal(["conv2d", "flatten", "dense"]);
      for (const x of [
        [1, -2, 3, 0.5],
        [-1, -1, 2, 4],
      ]) {
        const probs = await runOrt(bytes, x, [1, 4]);
        const acts = forwardFloat(fm, x);
        const logits = acts[acts.length - 1];
        const ex = logits.map((v) => Math.exp(v - Math.max(...logits)));
        const soft = ex.map((e) => e / ex.reduce((s, v) => s + v, 0));
        soft.forEach((p, k) => expect(Math.abs(p - probs[k])).to.be.lessThan(1e-6));
      }
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
        [gemm({ output: ["h"] }), { name: "act", opType: "Sigmoid", input: ["h"], output: ["y"] }],
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
        expect(err.node).to.equal("act");
        expect(err.op).to.equal("Sigmoid");
        expect(err.message).to.match(
          /node "act" \(Sigmoid\): operator Sigmoid is not supported; supported: Gemm, MatMul, .*Conv, MaxPool, AveragePool, .*Flatten, Reshape, .*Softmax.*; supported activations: ReLU/,
        );
      }
    });
    it("names the node of a weight whose shape does not fit the input", () => {
      const bytes = encode([gemm()], inits, vi("x", [1, 4]), "y");
      expect(() => importOnnx(bytes)).to.throw(
        OnnxImportError,
        /node "fc1" \(Gemm\): weight w \[2,3\] \(transB 1\) takes 3 inputs but the previous output has 4/,
      );
    });
    it("rejects an image op on a vector, padded pooling, non-square kernels and a mid-graph Softmax", () => {
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
            { name: "pads", type: 7, ints: [1, 1, 1, 1] },
          ]),
        ),
      ).to.throw(/node "p" \(MaxPool\): pads \[1,1,1,1\] are not supported for MaxPool; supported: no padding/);
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
      expect(() => importOnnx(lone)).to.throw(/node "r" \(Relu\): Relu is supported only right after Gemm, MatMul or Conv/);
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
