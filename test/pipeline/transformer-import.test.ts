import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { importOnnx } from "../../scripts/engine/onnx/import";
import { OnnxImportError } from "../../scripts/engine/onnx/import-errors";
import { onnx } from "../../scripts/engine/onnx/proto";
import { ROOT } from "../../scripts/util/paths";

/**
 * What the transformer importer refuses, each in one line naming the node (scripts/engine/onnx/import-transformer.ts):
 * real PyTorch exports (test/fixtures/onnx) edited the way other models differ from nn.TransformerEncoderLayer.
 */
const DIR = path.join(ROOT, "test", "fixtures", "onnx");

function load(name: string): onnx.ModelProto {
  return onnx.ModelProto.decode(fs.readFileSync(path.join(DIR, `${name}.onnx`)));
}

function refusal(m: onnx.ModelProto): OnnxImportError {
  try {
    importOnnx(onnx.ModelProto.encode(m).finish(), { name: "edited" });
  } catch (e) {
    if (e instanceof OnnxImportError) return e;
    throw e;
  }
  throw new Error("imported: expected a refusal");
}

function floatTensor(name: string, dims: number[], data: number[]): onnx.TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: data });
}

const node = (g: onnx.IGraphProto, op: string, nth = 0) => (g.node ?? []).filter((n) => n.opType === op)[nth];

describe("ONNX import of transformer encoders: the refusals", function () {
  it("an attention mask (a constant added to the scores, e.g. a causal mask) is refused naming the Softmax", function () {
    const m = load("transformer-postnorm");
    const g = m.graph as onnx.GraphProto;
    const sm = node(g, "Softmax");
    const scores = (sm.input ?? [])[0];
    const mask = Array.from({ length: 64 }, (_, e) => (e % 8 > Math.floor(e / 8) ? -1e9 : 0));
    g.initializer.push(floatTensor("causal_mask", [8, 8], mask));
    const i = (g.node ?? []).indexOf(sm);
    g.node.splice(i, 0, onnx.NodeProto.create({ name: "mask_add", opType: "Add", input: [scores, "causal_mask"], output: ["masked"] }));
    sm.input = ["masked"];
    const e = refusal(m);
    expect(e.op).to.equal("Softmax");
    expect(e.message).to.match(/an additive attention mask \("mask_add"\) is not supported; supported: self-attention without a mask$/);
  });

  it("the attention weights read by another node (returned beside the output) are refused naming the Softmax", function () {
    const m = load("transformer-postnorm");
    const g = m.graph as onnx.GraphProto;
    const sm = node(g, "Softmax");
    g.node.push(
      onnx.NodeProto.create({ name: "weights_out", opType: "Identity", input: [(sm.output ?? [])[0]], output: ["attn_weights"] }),
    );
    const e = refusal(m);
    expect(e.op).to.equal("Softmax");
    expect(e.message).to.match(/must feed exactly one MatMul|is also used outside it/);
  });

  it("a projection that differs between positions (q scaled differently at each position) is refused naming the Softmax", function () {
    const m = load("transformer-postnorm");
    const g = m.graph as onnx.GraphProto;
    // the Div that scales q: divide each position by a different number
    const div = (g.node ?? []).find((n) => n.opType === "Div" && (n.name ?? "").includes("self_attn/Div_1")) as onnx.NodeProto;
    const [, c] = div.input ?? [];
    g.initializer.push(floatTensor("pos_scale", [1, 8, 1], [1, 2, 3, 4, 5, 6, 7, 8]));
    div.input = [(div.input ?? [])[0], "pos_scale"];
    expect(c).to.be.a("string");
    const e = refusal(m);
    expect(e.op).to.equal("Softmax");
    expect(e.message).to.match(/the q projection differs between positions/);
  });

  it("a LayerNorm decomposition that computes something else (the cube of the deviation) is refused, naming its nodes", function () {
    const m = load("transformer-prenorm-gelu");
    const g = m.graph as onnx.GraphProto;
    const pow = node(g, "Pow");
    const exp = (pow.input ?? [])[1];
    g.initializer.push(floatTensor("three", [], [3]));
    pow.input = [(pow.input ?? [])[0], "three"];
    expect(exp).to.be.a("string");
    const e = refusal(m);
    expect(e.op).to.equal("ReduceMean");
    expect(e.message).to.match(
      /looks like LayerNorm .* but does not compute it .*supported: \(x - mean\) \/ sqrt\(var \+ eps\) \* gamma \+ beta over the last axis$/,
    );
  });

  it("LayerNormalization over another axis than the last is refused naming the node", function () {
    const m = load("transformer-postnorm");
    const g = m.graph as onnx.GraphProto;
    const ln = node(g, "LayerNormalization");
    ln.attribute = [
      ...(ln.attribute ?? []).filter((a) => a.name !== "axis"),
      onnx.AttributeProto.create({ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
    ];
    const e = refusal(m);
    expect(e.op).to.equal("LayerNormalization");
    expect(e.message).to.match(/axis 1 of \[1,8,16\] is not supported; supported: the last axis \(-1\)$/);
  });
});
