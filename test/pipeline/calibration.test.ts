import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "../../scripts/util/paths";
import { quantizeBundled } from "../../scripts/pipelines/bundled";
import { loadStoredCalibration, parseNpy, readInputs, readReference, storeCalibration } from "../../scripts/formats/calibration";
import { bundledCalibration } from "../../scripts/pipelines/datasets";
import { evaluateAgainstReference, missedTargets } from "../../scripts/pipelines/evaluate";
import { type FloatModel, preprocess } from "../../scripts/formats/float-model";
import { AUTO_BITS, chooseBits, quantizeModel } from "../../scripts/engine/quantize";
import { importOnnx } from "../../scripts/engine/onnx/import";

const FIX = path.join(ROOT, "test", "fixtures", "onnx");

/** A .npy file as numpy.save writes it (format 1.0). */
function npy(descr: string, shape: number[], data: Buffer, fortran = false): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const h = Buffer.alloc(10);
  h.write("\x93NUMPY", 0, "latin1");
  h[6] = 1;
  h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, "latin1"), data]);
}

describe("calibration and reference files (scripts/formats/calibration.ts)", function () {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-cal-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };

  it("reads .npy (float32, float64 big-endian, int64, images flattened), .csv (with or without header) and .json the same", function () {
    const f32 = Buffer.alloc(16);
    [1.5, -2, 3.25, 4].forEach((v, i) => f32.writeFloatLE(v, i * 4));
    expect(parseNpy(npy("<f4", [2, 2], f32), "a")).to.deep.equal([
      [1.5, -2],
      [3.25, 4],
    ]);
    const f64 = Buffer.alloc(16);
    [0.1, 7].forEach((v, i) => f64.writeDoubleBE(v, i * 8));
    expect(parseNpy(npy(">f8", [1, 2], f64), "b")).to.deep.equal([[0.1, 7]]);
    const i64 = Buffer.alloc(32);
    [1n, -2n, 3n, 4n].forEach((v, i) => i64.writeBigInt64LE(v, i * 8));
    expect(parseNpy(npy("<i8", [1, 1, 2, 2], i64), "c")).to.deep.equal([[1, -2, 3, 4]]); // [N, C, H, W] -> rows of C*H*W
    expect(parseNpy(npy("<i8", [4], i64), "d")).to.deep.equal([[1, -2, 3, 4]]); // 1-D: one sample
    expect(readInputs(write("a.csv", "f0,f1\n1.5,-2\n3.25,4\n"), 2)).to.deep.equal([
      [1.5, -2],
      [3.25, 4],
    ]);
    expect(readInputs(write("b.csv", "1.5,-2\r\n3.25,4\r\n"), 2)).to.deep.equal([
      [1.5, -2],
      [3.25, 4],
    ]);
    expect(readInputs(write("c.json", JSON.stringify({ inputs: [[[1.5, -2]], [[3.25, 4]]] })), 2)).to.deep.equal([
      [1.5, -2],
      [3.25, 4],
    ]);
  });

  it("names the file and the row, line or field of bad data, in one line", function () {
    const one = (f: () => unknown, re: RegExp) => {
      expect(f).to.throw(re);
      try {
        f();
      } catch (e) {
        expect((e as Error).message).to.not.include("\n");
      }
    };
    one(() => readInputs(path.join(dir, "missing.npy")), /missing\.npy not found/);
    one(() => readInputs(write("x.txt", "1,2")), /x\.txt: unknown extension "\.txt"; supported: \.npy, \.json, \.csv/);
    one(() => readInputs(write("bad.csv", "a,b\n1,2\n3,oops\n"), 2), /bad\.csv: line 3, column 2 is "oops"; every value must be a number/);
    one(() => readInputs(write("short.csv", "1,2\n3\n"), 2), /short\.csv: row 1 has 1 values, the model takes 2/);
    one(() => readInputs(write("wide.json", "[[1, 2, 3]]"), 2), /wide\.json: row 0 has 3 values, the model takes 2/);
    one(() => readInputs(write("nan.json", '[[1, "x"]]'), 2), /nan\.json: row 0\[1\] is "x"; every value must be a finite number/);
    one(() => readInputs(write("obj.json", '{"rows": []}')), /obj\.json: expected an array of input rows, or an object with "inputs"/);
    one(() => readInputs(write("empty.json", "[]")), /empty\.json has no rows/);
    one(() => readInputs(write("notjson.json", "{")), /notjson\.json is not valid JSON/);
    one(() => readInputs(write("magic.npy", "not numpy at all")), /magic\.npy is not a \.npy file/);
    one(
      () => readInputs(write("f.npy", npy("<f4", [1, 2], Buffer.alloc(8), true))),
      /Fortran-order arrays are not supported; save numpy\.ascontiguousarray/,
    );
    one(() => readInputs(write("c.npy", npy("<c16", [1, 1], Buffer.alloc(16)))), /dtype <c16 is not supported/);
    one(() => readInputs(write("t.npy", npy("<f4", [2, 2], Buffer.alloc(8)))), /t\.npy: holds 8 data bytes, shape \(2,2\) of <f4 needs 16/);
    one(
      () => readReference(write("r1.json", '{"inputs": [[1, 2]]}'), 2),
      /r1\.json: expected \{"inputs": \[\[\.\.\.\], \.\.\.\], "outputs"/,
    );
    one(
      () => readReference(write("r2.json", '{"inputs": [[1, 2], [3, 4]], "outputs": [[1]]}'), 2, 1),
      /r2\.json: has 2 inputs but 1 outputs/,
    );
    one(
      () => readReference(write("r3.json", '{"inputs": [[1, 2]], "outputs": [[1, 2]]}'), 2, 3),
      /r3\.json: outputs: row 0 has 2 values, the model takes 3/,
    );
  });

  it("storeCalibration copies the set with its source's name and sha256; a malformed stored set is named", function () {
    const model = path.join(dir, "models", "m");
    const s = storeCalibration(write("cal.csv", "1,2\n3,4\n"), model, 2);
    expect(s.source).to.equal("cal.csv");
    expect(loadStoredCalibration(model, 2)?.inputs).to.deep.equal([
      [1, 2],
      [3, 4],
    ]);
    expect(() => loadStoredCalibration(model, 3)).to.throw(/calibration\.json: row 0 has 2 values, the model takes 3/);
    expect(loadStoredCalibration(path.join(dir, "models", "none"), 2)).to.equal(undefined);
    expect(() => storeCalibration(write("bad2.csv", "1,2\n3\n"), path.join(dir, "models", "n"), 2)).to.throw(/row 1/);
    expect(fs.existsSync(path.join(dir, "models", "n", "calibration.json"))).to.equal(false);
  });

  it("a model without a bundled dataset or a stored set is told how to give one", function () {
    const fm = importOnnx(fs.readFileSync(path.join(FIX, "norm-mlp.onnx")), { name: "my-own-model" });
    expect(() => bundledCalibration(fm)).to.throw(
      /no calibration set is known for model my-own-model: give your own inputs with --calibration <file\.npy\|\.json\|\.csv>/,
    );
    expect(() => quantizeBundled(fm, {}, dir)).to.throw(/--calibration/);
  });

  describe("bit width from calibration (chooseBits)", function () {
    let fm: FloatModel;
    let cal: number[][];
    before(() => {
      fm = importOnnx(fs.readFileSync(path.join(FIX, "norm-regression.onnx")), { name: "r", task: "regression" });
      cal = readInputs(path.join(FIX, "norm-regression.calib.csv"), 4).map((r) => preprocess(fm, r));
    });
    it("takes the narrowest width that meets the target on the calibration set, and stops there", function () {
      const { model, trials } = chooseBits(fm, cal, { head: "values" });
      // 8 bits miss 0.5% of the range on this regression, 10 bits meet it (measured on the calibration set)
      expect(trials.map((t) => t.bits)).to.deep.equal([8, 10]);
      expect(trials.map((t) => t.ok)).to.deep.equal([false, true]);
      expect(trials[1].maeOfRange).to.be.at.most(0.005);
      expect(model.input.bits).to.equal(10);
      expect(model).to.deep.equal(quantizeModel(fm, cal, { head: "values", bits: 10 }));
    });
    it("returns the widest when none meets the target, and the caller sees the miss", function () {
      const { model, trials } = chooseBits(fm, cal, { head: "values" }, { maxMaeOfRange: 0 });
      expect(trials.map((t) => t.bits)).to.deep.equal([...AUTO_BITS]);
      expect(model.input.bits).to.equal(16);
      const ref = readReference(path.join(FIX, "norm-regression.json"), 4, 2);
      const r = evaluateAgainstReference(fm, model, ref);
      expect(missedTargets(r, { maxMaeOfRange: 0 })[0]).to.match(
        /quantized mean absolute error .* of the output range > 0\.00%: pin more bits/,
      );
    });
  });
});
