/**
 * The Solidity a consumer compiles (the package's contracts/interfaces, contracts/libraries and contracts/consumer)
 * compiles on every supported solc: the lowest (0.8.24), the project's own and the newest tested, each with that
 * compiler's default settings, as a consumer's Hardhat project would. The supported range is written in
 * docs/consumers.md; the core contracts stay pinned to the project's solc.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../scripts/util/paths";
import { CONSUMER_SOLIDITY_DIRS } from "../../scripts/apps/package/contents";

interface Solc {
  version(): string;
  compile(input: string, callbacks: { import: (p: string) => { contents: string } | { error: string } }): string;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const COMPILERS: [string, () => Solc][] = [
  ["0.8.24 (lowest supported)", () => require("solc-0.8.24") as Solc],
  ["project", () => require("solc") as Solc],
  ["0.8.37 (newest tested)", () => require("solc-0.8.37") as Solc],
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** A consumer as a user writes it: the base contract, one request, one override. */
const CONSUMER = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
import {InferenceConsumer, IInferenceJobs} from "zkml-evm/contracts/consumer/InferenceConsumer.sol";
contract Gate is InferenceConsumer {
    uint256 public lastClass;
    constructor(IInferenceJobs jobs, uint256 modelId, uint256 version) InferenceConsumer(jobs, modelId, version) {}
    function ask(uint256 commitment, string calldata uri) external payable returns (uint256) {
        return _requestInference(commitment, uri, msg.value, uint64(block.timestamp + 1 hours));
    }
    function _onInferenceResult(uint256, uint256 output, bool isLatest) internal override {
        if (isLatest) lastClass = output;
    }
}
`;

function shippedSources(): Record<string, { content: string }> {
  const out: Record<string, { content: string }> = {};
  for (const dir of CONSUMER_SOLIDITY_DIRS)
    for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((n) => n.endsWith(".sol")))
      out[`zkml-evm/${dir}/${f}`] = { content: fs.readFileSync(path.join(ROOT, dir, f), "utf8") };
  return out;
}

describe("package Solidity: supported compilers", function () {
  this.timeout(300_000);

  it("every shipped source has a floating pragma from 0.8.24 up", () => {
    const sources = shippedSources();
    expect(Object.keys(sources).length).to.be.greaterThan(10);
    for (const [name, { content }] of Object.entries(sources)) expect(content, name).to.match(/^pragma solidity \^0\.8\.24;$/m);
  });

  for (const [label, load] of COMPILERS) {
    it(`compiles every shipped source and a consumer with solc ${label}`, () => {
      const solc = load();
      const sources = { ...shippedSources(), "Gate.sol": { content: CONSUMER } };
      const input = { language: "Solidity", sources, settings: { outputSelection: { "Gate.sol": { Gate: ["abi"] } } } };
      const out = JSON.parse(solc.compile(JSON.stringify(input), { import: (p) => ({ error: `not found: ${p}` }) })) as {
        errors?: { severity: string; formattedMessage: string }[];
        contracts?: Record<string, Record<string, unknown>>;
      };
      const errors = (out.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
      expect(errors, solc.version()).to.deep.equal([]);
      expect(out.contracts?.["Gate.sol"]?.Gate, solc.version()).to.not.equal(undefined);
    });
  }
});
