import type { RootHookObject } from "mocha";
import { releaseSnarkjs } from "../../scripts/util/snarkjs-threads";

/**
 * Mocha's root hooks, as a root hook plugin: `npm test` runs the files in two worker processes (test/run-all.sh), and
 * mocha's workers take root hooks only from a `require`d plugin (hardhat.config.ts `mocha.require`); a serial run gets
 * the same object through `mocha.rootHooks`. In a worker they run around every file.
 */
export const mochaHooks: RootHookObject = {
  beforeAll(): void {
    // Pipeline stages print progress; tests keep it quiet unless ZKML_QUIET=0.
    process.env.ZKML_QUIET ??= "1";
  },
  async afterAll(): Promise<void> {
    // snarkjs keeps worker threads alive; end them or mocha never exits (docs/design-decisions.md, "snarkjs").
    await releaseSnarkjs();
  },
};
