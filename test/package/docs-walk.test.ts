/**
 * The quick start of docs/consumers.md is what `npm run package:check` runs in a fresh project: the same install
 * line, config, consumer contract and test, character for character (indented as list items in the doc).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/util/paths";
import { CONSUMER_CONTRACT, CONSUMER_DEV_DEPENDENCIES, CONSUMER_TEST, codeLines } from "../../scripts/apps/package/consumer-check";

const DOC = fs.readFileSync(path.join(ROOT, "docs", "consumers.md"), "utf8");
const indented = (src: string) =>
  src
    .trimEnd()
    .split("\n")
    .map((l) => (l ? `   ${l}` : ""))
    .join("\n");

describe("docs/consumers.md quick start = the package check", function () {
  it("shows the consumer contract and its test the check compiles and runs", function () {
    expect(DOC).to.include(indented(CONSUMER_CONTRACT));
    expect(DOC).to.include(indented(CONSUMER_TEST));
    expect([codeLines(CONSUMER_CONTRACT), codeLines(CONSUMER_TEST)]).to.deep.equal([12, 12]);
  });

  it("installs the versions the check installs", function () {
    const line = `npm install --save-dev zkml-evm ${Object.entries(CONSUMER_DEV_DEPENDENCIES)
      .filter(([n]) => n !== "solc" && n !== "typescript")
      .map(([n, v]) => `${n}@${v}`)
      .join(" ")} typescript@${CONSUMER_DEV_DEPENDENCIES.typescript} solc@${CONSUMER_DEV_DEPENDENCIES.solc}`;
    expect(DOC).to.include(line);
  });
});
