// solidity-coverage: generated verifiers, test-only mocks and tools that only ever run inside an eth_call (never
// deployed) are not our code to cover.
module.exports = {
  skipFiles: ["verifiers/", "mocks/", "generated/", "tools/"],
  istanbulReporter: ["text-summary", "json-summary", "lcov"],
  configureYulOptimizer: true,
};
