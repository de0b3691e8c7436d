// solidity-coverage: generated verifiers and test-only mocks are not our code to cover.
module.exports = {
  skipFiles: ["verifiers/", "mocks/", "generated/"],
  istanbulReporter: ["text-summary", "json-summary", "lcov"],
  configureYulOptimizer: true,
};
