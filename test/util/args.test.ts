import { expect } from "chai";
import { UsageError, commandLine, numberOption } from "../../scripts/util/args";

const USAGE = "usage: tool <name> [--out <file>] [--json]";
const OPTIONS = { out: { type: "string" }, json: { type: "boolean" } } as const;

describe("command lines (scripts/util/args.ts)", () => {
  it("parses options and positionals", () => {
    const r = commandLine(["iris-mlp", "--out", "x.json", "--json"], OPTIONS, USAGE);
    expect(r.positionals).to.deep.equal(["iris-mlp"]);
    expect(r.values).to.deep.equal({ out: "x.json", json: true });
  });

  it("refuses an unknown option in one line that ends with the usage", () => {
    expect(() => commandLine(["--outt", "x"], OPTIONS, USAGE)).to.throw(UsageError, `unknown option --outt; ${USAGE}`);
  });

  it("refuses an option without its value, and an option where its value should be", () => {
    expect(() => commandLine(["--out"], OPTIONS, USAGE)).to.throw(UsageError, /^Option '--out <value>' argument missing; usage: tool/);
    expect(() => commandLine(["--out", "--json"], OPTIONS, USAGE)).to.throw(UsageError, /--out.*; usage: tool/);
    expect(() => commandLine(["--json=yes"], OPTIONS, USAGE)).to.throw(UsageError, /--json.*; usage: tool/);
  });

  it("checks number options against their range", () => {
    expect(numberOption("runs", undefined, 1, 9, USAGE)).to.equal(undefined);
    expect(numberOption("runs", "3", 1, 9, USAGE, true)).to.equal(3);
    expect(numberOption("max-mae", "0.5", 0, 1, USAGE)).to.equal(0.5);
    for (const bad of ["0", "10", "2.5", "", "x"])
      expect(() => numberOption("runs", bad, 1, 9, USAGE, true)).to.throw(
        UsageError,
        `--runs needs an integer in 1..9, got "${bad}"; ${USAGE}`,
      );
  });
});
