import { expect } from "chai";
import {
  type CircomSource,
  type TestSource,
  checkCircuits,
  formatReport,
  loadCircuitSources,
  loadPinned,
  loadTestSources,
  stripCircomComments,
} from "../../scripts/apps/audit/check-circuits";

/** A one-file circuit source for the synthetic cases. */
const circ = (text: string, file = "circuits/lib/synthetic.circom"): CircomSource[] => [{ file, text }];

/** A test file whose it() tampers `key` of a template named in the file (`templateCircuit(..., "<template>")`). */
const tamperTest = (template: string, key: string, title = "rejects a tampered hint"): TestSource => ({
  file: "test/circuits/synthetic.test.ts",
  text: `describe("x", function () {\n  before(async () => { c = await templateCircuit("synthetic.circom", "${template}", []); });\n  it("${title}", async function () {\n    await c.expectRejected(w, { "${key}": 2n });\n  });\n});\n`,
});

const kinds = (r: ReturnType<typeof checkCircuits>): string[] => r.findings.map((f) => `${f.kind}@${f.line}`);

describe("scripts/apps/audit/check-circuits.ts", function () {
  describe("on the project's circuits", function () {
    it("finds no unconstrained or untested `<--` and no assert() in circuits/", function () {
      const report = checkCircuits(loadCircuitSources(), loadTestSources(), loadPinned());
      console.log(formatReport(report).replace(/^/gm, "      "));
      expect(report.files.length, "circom files found").to.be.greaterThan(0);
      expect(report.findings, formatReport(report)).to.deep.equal([]);
    });

    it("sees the Argmax selection hint and the circomlib templates it leaves out of scope", function () {
      const report = checkCircuits(loadCircuitSources(), loadTestSources(), loadPinned());
      expect(report.hints.map((h) => `${h.file}:${h.template}.${h.signal}`)).to.include("circuits/lib/argmax.circom:Argmax.sel");
      expect(report.externalTemplates).to.include("Num2Bits");
    });
  });

  describe("on synthetic sources", function () {
    const unpinned = `pragma circom 2.1.9;
template Bad() {
    signal input a;
    signal output b;
    signal h;
    h <-- a * 2;
    b <== a + 1;
}
`;

    it("flags a `<--` that no later constraint uses, and that no test tampers", function () {
      const r = checkCircuits(circ(unpinned), []);
      expect(r.hints).to.have.length(1);
      expect(r.hints[0]).to.include({ file: "circuits/lib/synthetic.circom", line: 6, template: "Bad", signal: "h" });
      expect(kinds(r)).to.deep.equal(["unconstrained-hint@6", "untested-hint@6"]);
    });

    it("flags an unconstrained `<--` even when a test tampers it (a tamper test is not a constraint)", function () {
      const r = checkCircuits(circ(unpinned), [tamperTest("Bad", "h")]);
      expect(r.hints[0].tests).to.have.length(1);
      expect(kinds(r)).to.deep.equal(["unconstrained-hint@6"]);
    });

    it("flags a constraint that comes only BEFORE the `<--` (the check is 'afterwards')", function () {
      const src = `template Early() {\n    signal input a;\n    signal h;\n    a === h;\n    h <-- a;\n}\n`;
      expect(kinds(checkCircuits(circ(src), [tamperTest("Early", "h")]))).to.deep.equal(["unconstrained-hint@5"]);
    });

    it("flags assert(), in templates and functions, with its line", function () {
      const src = `template A(n) {\n    signal input x;\n    assert(n < 10);\n    x * x === x;\n}\nfunction f(a) {\n    assert (a > 0);\n    return a;\n}\n`;
      const r = checkCircuits(circ(src), []);
      expect(kinds(r)).to.deep.equal(["assert@3", "assert@7"]);
      expect(r.findings[0].message).to.match(/no constraint/);
    });

    it("flags a `<--` that is constrained but has no tamper test", function () {
      const src = `template Bit() {\n    signal input a;\n    signal b;\n    b <-- a & 1;\n    b * (b - 1) === 0;\n}\n`;
      expect(kinds(checkCircuits(circ(src), []))).to.deep.equal(["untested-hint@4"]);
    });

    it("ignores `<--` and assert( inside comments", function () {
      const src = `// h <-- a; assert(0);\n/* assert(1);\n x <-- y; */\ntemplate C() {\n    signal input a;\n    signal output b <== a;\n}\n`;
      expect(stripCircomComments(src).split("\n")).to.have.length(src.split("\n").length);
      const r = checkCircuits(circ(src), []);
      expect(r.hints).to.deep.equal([]);
      expect(r.findings).to.deep.equal([]);
    });

    describe("accepts", function () {
      it("a hint constrained through a var that accumulates it, tampered by a test of the template", function () {
        const src = `template OneHot(n) {\n    signal input in;\n    signal sel[n];\n    for (var i = 0; i < n; i++) {\n        sel[i] <-- i == in ? 1 : 0;\n    }\n    var total = 0;\n    for (var i = 0; i < n; i++) {\n        total += sel[i];\n    }\n    total === 1;\n}\n`;
        const r = checkCircuits(circ(src), [tamperTest("OneHot", "sel[1]")]);
        expect(r.findings).to.deep.equal([]);
        expect(r.hints[0].constrainedAt).to.deep.equal([11]);
        expect(r.hints[0].tests).to.deep.equal([{ file: "test/circuits/synthetic.test.ts", test: "rejects a tampered hint", via: "grep" }]);
      });

      it("a hint tampered through a component instance path (`head.sel[0]`) in a model test", function () {
        const lib = `template Pick() {\n    signal input a;\n    signal output s;\n    s <-- a;\n    s === a;\n}\n`;
        const main = `template M() {\n    signal input x;\n    component head = Pick();\n    head.a <== x;\n}\n`;
        const t: TestSource = {
          file: "test/e2e/m.test.ts",
          text: `it("rejects a changed pick", async () => { await c.expectRejected(w, { "head.s": 1n }); });\n`,
        };
        const r = checkCircuits([...circ(lib), ...circ(main, "circuits/models/m.circom")], [t]);
        expect(r.findings).to.deep.equal([]);
        expect(r.hints[0].tests[0]).to.include({ file: "test/e2e/m.test.ts", test: "rejects a changed pick" });
      });

      it("a hint mapped in the pinned map, but flags a pinned test that does not exist", function () {
        const src = `template Bit() {\n    signal input a;\n    signal b;\n    b <-- a & 1;\n    b * (b - 1) === 0;\n}\n`;
        const t: TestSource = {
          file: "test/x.test.ts",
          text: `it("flips the bit", async () => { await c.expectRejected(w, changes); });\n`,
        };
        const ok = checkCircuits(
          circ(src),
          [t],
          [
            {
              file: "circuits/lib/synthetic.circom",
              template: "Bit",
              signal: "b",
              tests: [{ file: "test/x.test.ts", test: "flips the bit" }],
            },
          ],
        );
        expect(ok.findings).to.deep.equal([]);
        expect(ok.hints[0].tests).to.deep.equal([{ file: "test/x.test.ts", test: "flips the bit", via: "pinned" }]);
        const stale = checkCircuits(
          circ(src),
          [t],
          [{ file: "circuits/lib/synthetic.circom", template: "Bit", signal: "b", tests: [{ file: "test/x.test.ts", test: "renamed" }] }],
        );
        expect(kinds(stale)).to.deep.equal(["stale-pin@4", "untested-hint@4"]);
      });
    });

    it("does not count a test that names the signal without calling expectRejected, nor one of another template", function () {
      const src = `template Bit() {\n    signal input a;\n    signal b;\n    b <-- a & 1;\n    b * (b - 1) === 0;\n}\n`;
      const noReject: TestSource = {
        file: "test/y.test.ts",
        text: `it("reads b", async () => { templateCircuit("s", "Bit", []); expect(c.get(w, "b")).to.equal(1n); });\n`,
      };
      expect(kinds(checkCircuits(circ(src), [noReject]))).to.deep.equal(["untested-hint@4"]);
      expect(kinds(checkCircuits(circ(src), [tamperTest("Other", "b")]))).to.deep.equal(["untested-hint@4"]);
    });
  });
});
