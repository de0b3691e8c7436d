import { expect } from "chai";
import type { FloatModel } from "../../scripts/formats/float-model";
import { forwardFloat, validateFloatModel } from "../../scripts/formats/float-model";

const id = (n: number) => ({ mean: new Array<number>(n).fill(0), std: new Array<number>(n).fill(1) });

/** 1x3x3 input -> conv 2x2 (padding 1, stride 2) -> maxpool 2 / avgpool 2 -> flatten -> dense. */
function model(pool: "maxpool" | "avgpool"): FloatModel {
  return {
    format: "zkml-float-v1",
    name: "hand",
    inputSize: 9,
    inputShape: [1, 3, 3],
    preprocess: id(9),
    classes: ["a", "b"],
    layers: [
      {
        type: "conv2d",
        inShape: [1, 3, 3],
        W: [
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
          [
            [
              [-1, 0],
              [0, 1],
            ],
          ],
        ],
        B: [0.5, -1],
        kernel: 2,
        stride: 2,
        padding: 1,
        relu: true,
      },
      { type: pool, inShape: [2, 2, 2], kernel: 2, stride: 2 },
      { type: "flatten", inShape: [2, 1, 1] },
      {
        type: "dense",
        W: [
          [1, 1],
          [1, -1],
        ],
        B: [0, 0],
        relu: false,
      },
    ],
  };
}

describe("forwardFloat", () => {
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  it("computes conv2d (CHW, zero padding, stride), ReLU, pooling and flatten", () => {
    // Padded input has a zero border; output (y, x) sees rows/cols 2y-1..2y, 2x-1..2x of the input.
    // channel 0 (w 1 2 / 3 4, b .5): (0,0) = 4*1 + .5 = 4.5; (0,1) = 3*2 + 4*3 + .5 = 18.5; (1,0) = 2*4 + 4*7 + .5 = 36.5;
    //   (1,1) = 1*5 + 2*6 + 3*8 + 4*9 + .5 = 77.5
    // channel 1 (w -1 0 / 0 1, b -1): (0,0) = 1 - 1 = 0; (0,1) = 3 - 1 = 2; (1,0) = 7 - 1 = 6; (1,1) = -5 + 9 - 1 = 3
    const acts = forwardFloat(model("maxpool"), x);
    expect(acts[0]).to.deep.equal([4.5, 18.5, 36.5, 77.5, 0, 2, 6, 3]);
    expect(acts[1]).to.deep.equal([77.5, 6]);
    expect(acts[2]).to.deep.equal([77.5, 6]);
    expect(acts[3]).to.deep.equal([83.5, 71.5]);
    expect(forwardFloat(model("avgpool"), x)[1]).to.deep.equal([(4.5 + 18.5 + 36.5 + 77.5) / 4, 11 / 4]);
  });
});

describe("validateFloatModel", () => {
  it("returns the shape after every layer", () => {
    expect(validateFloatModel(model("maxpool"))).to.deep.equal([[2, 2, 2], [2, 1, 1], [2], [2]]);
  });
  it("names the layer whose input shape does not match", () => {
    const m = model("maxpool");
    m.layers[1] = { type: "maxpool", inShape: [2, 3, 3], kernel: 2, stride: 2 };
    expect(() => validateFloatModel(m)).to.throw(/layers\[1\]\.inShape is \[2,3,3\] but the previous layer outputs shape \[2,2,2\]/);
  });
  it("names a dense layer fed an image and an unknown layer type", () => {
    const m = model("maxpool");
    m.layers.splice(2, 1);
    expect(() => validateFloatModel(m)).to.throw(/layers\[2\] dense needs a vector input but gets shape \[2,1,1\]; add a flatten layer/);
    const u = model("maxpool");
    (u.layers[1] as { type: string }).type = "lrn";
    expect(() => validateFloatModel(u)).to.throw(
      /layers\[1\]\.type "lrn" is not supported; supported: embedding, dense, conv2d, conv1d, maxpool, maxpool1d, avgpool, avgpool1d, flatten, add, activation, layernorm, attention, softmax, logsoftmax, trees/,
    );
  });
});

describe("grouped convolution and padded max pooling (float)", () => {
  /** 2x3x3 input -> depthwise conv 2 x 2x2 (groups 2, padding 1, stride 2), no ReLU -> maxpool 2 stride 2 padding 1. */
  function grouped(): FloatModel {
    return {
      format: "zkml-float-v1",
      name: "hand-grouped",
      inputSize: 18,
      inputShape: [2, 3, 3],
      preprocess: id(18),
      classes: ["a"],
      layers: [
        {
          type: "conv2d",
          inShape: [2, 3, 3],
          groups: 2,
          W: [
            [
              [
                [1, 2],
                [3, 4],
              ],
            ],
            [
              [
                [-1, 0],
                [0, 1],
              ],
            ],
          ],
          B: [0.5, -100],
          kernel: 2,
          stride: 2,
          padding: 1,
          relu: false,
        },
        { type: "maxpool", inShape: [2, 2, 2], kernel: 2, stride: 2, padding: 1 },
        { type: "flatten", inShape: [2, 2, 2] },
        { type: "dense", W: [[1, 1, 1, 1, 1, 1, 1, 1]], B: [0], relu: false },
      ],
    };
  }
  const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  it("a depthwise conv reads only its own input channel; padded max-pool taps never win", () => {
    const acts = forwardFloat(grouped(), x);
    // channel 0 reads input channel 0 (the conv of the hand model above); channel 1 reads input channel 1 only:
    // (0,0) = 10 - 100 = -90; (0,1) = 30 - 100 = -70; (1,0) = 70 - 100 = -30; (1,1) = -50 + 90 - 100 = -60
    expect(acts[0]).to.deep.equal([4.5, 18.5, 36.5, 77.5, -90, -70, -30, -60]);
    // padding 1 on a 2x2 map, kernel 2 stride 2: each window holds one real tap; a 0 pad would win on channel 1
    expect(acts[1]).to.deep.equal([4.5, 18.5, 36.5, 77.5, -90, -70, -30, -60]);
  });
  it("names a groups value that does not divide the channels, a W shaped without groups and a maxpool padding >= kernel", () => {
    const m = grouped();
    (m.layers[0] as { groups?: number }).groups = 3;
    expect(() => validateFloatModel(m)).to.throw(
      /layers\[0\]\.groups = 3 must be a positive integer dividing the 2 input and 2 output channels; omit it for an ungrouped conv/,
    );
    delete (m.layers[0] as { groups?: number }).groups;
    expect(() => validateFloatModel(m)).to.throw(/layers\[0\]\.W\[0\] must have 2 input channels/);
    const p = grouped();
    (p.layers[1] as { padding?: number }).padding = 2;
    expect(() => validateFloatModel(p)).to.throw(/layers\[1\]\.padding must be less than the kernel \(2\)/);
  });
});

describe("residual add (float)", () => {
  /** input 4 -> dense 4->4 (identity * 2) -> add the input, ReLU -> dense 4->1 (sum). */
  function residual(): FloatModel {
    const eye = (k: number) => [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((i) => (i === j ? k : 0)));
    return {
      format: "zkml-float-v1",
      name: "hand-residual",
      inputSize: 4,
      preprocess: id(4),
      classes: ["a"],
      layers: [
        { type: "dense", W: eye(2), B: [0, 0, 0, 0], relu: false },
        { type: "add", from: -1, relu: true },
        { type: "dense", W: [[1, 1, 1, 1]], B: [0], relu: false },
      ],
    };
  }
  it("adds the saved tensor (here the input) to the previous output, then ReLU", () => {
    const acts = forwardFloat(residual(), [1, -2, 3, -4]);
    expect(acts[1]).to.deep.equal([3, 0, 9, 0]);
    expect(acts[2]).to.deep.equal([12]);
  });
  it("names an add whose from is not an earlier layer, or whose operand has another shape", () => {
    const m = residual();
    (m.layers[1] as { from: number }).from = 1;
    expect(() => validateFloatModel(m)).to.throw(
      /layers\[1\]\.from must be the index of an earlier layer \(0\.\.0\) or -1 \(the input\), got 1/,
    );
    const n = residual();
    n.layers[0] = { type: "dense", W: [[1, 0, 0, 0]], B: [0], relu: false };
    expect(() => validateFloatModel(n)).to.throw(
      /layers\[1\]\.from = -1 outputs shape \[4\] but the previous layer outputs \[1\]; add two tensors of one shape/,
    );
  });
});
