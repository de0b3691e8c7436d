import { expect } from "chai";
import { activationFloat, activationSpecError, describeActivation, erf } from "../../scripts/formats/activations";

describe("formats/activations: the float functions", function () {
  it("erf is within 1e-13 of reference values on both branches (Taylor below 3, continued fraction above)", function () {
    // erf(x) to double precision (the C library's erf, as Python's math.erf prints it)
    const ref: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2, 0.9953222650189527],
      [2.99, 0.9999764743969194],
      [3, 0.9999779095030014],
      [3.5, 0.9999992569016276],
      [4, 0.9999999845827421],
      [6, 1],
    ];
    for (const [x, y] of ref) {
      expect(Math.abs(erf(x) - y), `erf(${x})`).to.be.below(1e-13);
      expect(Math.abs(erf(-x) + y), `erf(-${x})`).to.be.below(1e-13);
    }
  });

  it("the activations are PyTorch's at a few points (GELU both forms, SiLU, HardSwish, ELU, clip)", function () {
    const close = (a: number, b: number) => expect(Math.abs(a - b)).to.be.below(1e-12);
    close(activationFloat({ fn: "gelu" }, 1), 0.8413447460685429);
    close(activationFloat({ fn: "gelu_tanh" }, 1), 0.8411919906082768);
    close(activationFloat({ fn: "silu" }, 2), 2 / (1 + Math.exp(-2)));
    close(activationFloat({ fn: "hardswish" }, 1), (1 * 4) / 6);
    close(activationFloat({ fn: "hardsigmoid" }, 4), 1);
    close(activationFloat({ fn: "elu", alpha: 0.5 }, -1), 0.5 * (Math.exp(-1) - 1));
    close(activationFloat({ fn: "clip", min: 0, max: 6 }, 7), 6);
    close(activationFloat({ fn: "sigmoid" }, -800), 0); // no overflow on the negative side
    expect(describeActivation({ fn: "hardsigmoid", alpha: 1 / 6, beta: 0.5 })).to.equal("hardsigmoid(alpha=0.166667, beta=0.5)");
  });

  it("a spec error names the field: unknown function, a parameter the function does not take, clip min above max", function () {
    expect(activationSpecError("layers[1]", { fn: "swish" as "silu" })).to.match(
      /^layers\[1\]\.fn "swish" is not supported; supported: sigmoid, tanh/,
    );
    expect(activationSpecError("layers[1]", { fn: "tanh", alpha: 2 })).to.equal("layers[1].alpha: tanh takes no alpha");
    expect(activationSpecError("layers[1]", { fn: "clip", min: 3, max: 1 })).to.equal("layers[1]: clip min 3 is above max 1");
  });
});
