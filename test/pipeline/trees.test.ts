import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { ROOT } from "../../scripts/util/paths";
import { readInputs, readReference } from "../../scripts/formats/calibration";
import { evaluateAgainstReference, missedTargets, quantizeWith } from "../../scripts/pipelines/evaluate";
import { type FloatModel, forwardFloat, preprocess } from "../../scripts/formats/float-model";
import { importOnnx } from "../../scripts/engine/onnx/import";
import { importXgboostJson } from "../../scripts/engine/import-xgboost";
import { OnnxImportError } from "../../scripts/engine/onnx/import-errors";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { onnx } from "../../scripts/engine/onnx/proto";

/**
 * Tree ensembles and linear models from scikit-learn and XGBoost (test/fixtures/onnx/make_tree_fixtures.py, whose
 * converter writes the standard ONNX-ML nodes): imported, checked against the framework's outputs and onnxruntime-node,
 * quantized on their own calibration file and held to the targets of `npm run evaluate`; the XGBoost JSON files too.
 */
const DIR = path.join(ROOT, "test", "fixtures", "onnx");

interface Fixture {
  name: string;
  onnx: string;
  pattern: string;
  task: "classification" | "regression" | "probability";
  ops: string[];
  reference: string;
  calibration: string;
  xgboost?: string;
}
const FIXTURES = (JSON.parse(fs.readFileSync(path.join(DIR, "trees.json"), "utf8")) as { fixtures: Fixture[] }).fixtures;

const EXPECTED: Record<string, string> = {
  "dtree-3class": "trees(1 trees, 3 outputs)",
  "forest-3class-zipmap": "trees(10 trees, 3 outputs)",
  "gbdt-binary": "trees(20 trees, 1 outputs) -> sigmoid",
  "scaler-logistic": "dense -> sigmoid",
  "normalizer-logistic": "layernorm -> dense -> sigmoid",
  "xgb-binary": "trees(20 trees, 1 outputs) -> sigmoid",
  "xgb-3class": "trees(24 trees, 3 outputs) -> softmax",
  "gbdt-regression": "trees(20 trees, 1 outputs)",
  "linear-regression": "dense",
};

const summary = (fm: FloatModel) =>
  fm.layers
    .map((l) => (l.type === "trees" ? `trees(${l.trees.length} trees, ${l.nOutputs} outputs)` : l.type === "activation" ? l.fn : l.type))
    .join(" -> ");

function check(f: Fixture, fm: FloatModel, label: string) {
  const ref = readReference(path.join(DIR, f.reference), fm.inputSize, fm.classes.length);
  const cal = readInputs(path.join(DIR, f.calibration), fm.inputSize).map((r) => preprocess(fm, r));
  const { model } = quantizeWith(fm, cal, {});
  const r = evaluateAgainstReference(fm, model, ref);
  const q =
    r.task === "classification"
      ? `top-1 ${(100 * (r.quantizedTop1Agreement as number)).toFixed(0)}%`
      : `MAE ${(100 * (r.quantizedMaeOfRange as number)).toFixed(2)}% of range`;
  console.log(
    `      ${label}: float max |diff| ${r.floatMaxAbsDiff.toExponential(2)}, ${r.bits}-bit quantized ${q} (n = ${r.n}), ${estimateConstraints(model).constraints} constraints`,
  );
  expect(r.floatMaxAbsDiff).to.be.at.most(1e-4);
  expect(missedTargets(r)).to.deep.equal([]);
}

describe("bring your own model: scikit-learn and XGBoost (ONNX-ML and XGBoost JSON)", function () {
  this.timeout(300_000);

  it("every fixture has an expectation here and holds the operators its pattern names", function () {
    expect(FIXTURES.map((f) => f.name).sort()).to.deep.equal(Object.keys(EXPECTED).sort());
  });

  for (const f of FIXTURES) {
    describe(`${f.name}: ${f.pattern}`, function () {
      let fm: FloatModel;
      before(function () {
        fm = importOnnx(fs.readFileSync(path.join(DIR, f.onnx)), { name: f.name });
      });
      it(`imports as ${EXPECTED[f.name]}`, function () {
        expect(summary(fm)).to.equal(EXPECTED[f.name]);
      });
      it("float outputs match the framework within 1e-4, and the quantized model (calibrated on its own file) meets the target", function () {
        check(f, fm, f.name);
      });
      if (!f.ops.includes("ZipMap"))
        it("the importer computes what onnxruntime-node computes (a binary classifier: its second column)", async function () {
          const session = await ort.InferenceSession.create(path.join(DIR, f.onnx));
          const ref = readReference(path.join(DIR, f.reference), fm.inputSize, fm.classes.length);
          let maxDiff = 0;
          for (const raw of ref.inputs.slice(0, 40)) {
            const out = await session.run({ input: new ort.Tensor("float32", Float32Array.from(raw), [1, raw.length]) });
            const v = Array.from((out.probabilities ?? out.variable).data as Float32Array);
            const mine = forwardFloat(fm, preprocess(fm, raw)).at(-1) as number[];
            const theirs = v.slice(v.length - mine.length);
            mine.forEach((m, k) => (maxDiff = Math.max(maxDiff, Math.abs(m - theirs[k]))));
          }
          expect(maxDiff).to.be.below(1e-5);
        });
      if (f.xgboost)
        it("its XGBoost JSON file (save_model) imports to the same outputs", function () {
          const fx = importXgboostJson(fs.readFileSync(path.join(DIR, f.xgboost as string), "utf8"), { name: `${f.name}-json` });
          expect(summary(fx)).to.equal(EXPECTED[f.name]);
          check(f, fx, `${f.name} (XGBoost JSON)`);
        });
    });
  }

  describe("refusals: one line naming the node and what is supported", function () {
    const edit = (
      name: string,
      change: (n: { opType?: string | null; attribute?: { name?: string | null; s?: Uint8Array | null }[] | null }) => void,
    ) => {
      const m = onnx.ModelProto.decode(fs.readFileSync(path.join(DIR, `${name}.onnx`)));
      change(m.graph?.node?.find((n) => n.domain === "ai.onnx.ml" && n.opType !== "ZipMap") as never);
      return onnx.ModelProto.encode(m).finish();
    };
    const setAttr = (n: { attribute?: { name?: string | null; s?: Uint8Array | null }[] | null }, k: string, v: string) => {
      const a = (n.attribute ?? []).find((x) => x.name === k);
      if (a) a.s = new TextEncoder().encode(v);
    };
    it("a post transform other than NONE, LOGISTIC, SOFTMAX; a binary score without LOGISTIC; a Normalizer other than L2, or before trees", function () {
      expect(() => importOnnx(edit("xgb-3class", (n) => setAttr(n, "post_transform", "PROBIT")))).to.throw(
        OnnxImportError,
        /\(TreeEnsembleClassifier\): post_transform PROBIT is not supported; supported: NONE, LOGISTIC, SOFTMAX/,
      );
      expect(() => importOnnx(edit("gbdt-binary", (n) => setAttr(n, "post_transform", "NONE")))).to.throw(
        /a binary classifier with one score needs post_transform LOGISTIC \(the probability of "1"\), got NONE/,
      );
      expect(() =>
        importOnnx(
          edit("scaler-logistic", (n) => {
            n.opType = "Normalizer";
          }),
        ),
      ).to.throw(/\(Normalizer\): norm MAX is not supported; supported: L2 \(x \/ \|\|x\|\|, scikit-learn's default Normalizer\)/);
      const m = onnx.ModelProto.decode(fs.readFileSync(path.join(DIR, "gbdt-binary.onnx")));
      const g = m.graph as onnx.GraphProto;
      const trees = g.node[0];
      g.node.unshift(
        onnx.NodeProto.create({
          name: "nz",
          opType: "Normalizer",
          domain: "ai.onnx.ml",
          input: [(trees.input ?? [])[0]],
          output: ["normalized"],
          attribute: [
            onnx.AttributeProto.create({ name: "norm", type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode("L2") }),
          ],
        }),
      );
      trees.input = ["normalized"];
      expect(() => importOnnx(onnx.ModelProto.encode(m).finish())).to.throw(
        /\(TreeEnsembleClassifier\): a tree ensemble after the Normalizer "nz" is not supported; supported: a linear model after a Normalizer/,
      );
    });
    it("an XGBoost objective it does not know, and a file that is not an XGBoost model", function () {
      const doc = JSON.parse(fs.readFileSync(path.join(DIR, "xgb-binary.xgb.json"), "utf8")) as {
        learner: { objective: { name: string } };
      };
      doc.learner.objective.name = "rank:pairwise";
      expect(() => importXgboostJson(JSON.stringify(doc))).to.throw(
        /learner\.objective\.name "rank:pairwise" is not supported; supported: binary:logistic/,
      );
      expect(() => importXgboostJson("{}")).to.throw(/learner is missing: this is not an XGBoost JSON model/);
    });
  });
});
