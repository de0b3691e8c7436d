/**
 * `npm run build:package`: writes `dist/`, what the npm package ships besides the Solidity sources
 * (docs/consumers.md, "What the package holds"):
 *   dist/index.{js,mjs,d.ts}    the SDK (scripts/chain/sdk.ts; no Node module: browsers too)
 *   dist/node.*                 its Node-side part (scripts/pipelines/sdk-node.ts: file:// bundles, private delivery, publishing)
 *   dist/testing.*              the test kit (scripts/apps/testkit)
 *   dist/hardhat.*              the Hardhat plugin (scripts/apps/testkit/plugin.ts)
 *   dist/cli.js                 the `zkml` operator command (scripts/apps/cli/zkml.ts), dist/proof-worker.js its prover's worker
 *   dist/abi/<Name>.json        ABIs of the deployable contracts and their interfaces
 *   dist/bundles/<model>/       the bundled models' bundles (the format of scripts/formats/bundle.ts), and
 *   dist/bundles/<model>.verifier.json  their generated Groth16 (batch) verifier: ABI and creation bytecode
 * Run with Hardhat (it reads the compiled artifacts): npx hardhat run scripts/apps/package/build.ts.
 * The TypeScript is built with tsup (esbuild + declaration bundling); package dependencies stay external.
 */
import * as fs from "fs";
import * as path from "path";
import hre from "hardhat";
import { ROOT, ensureDir, rel } from "../../util/paths";
import { runMain } from "../main";
import { ABI_CONTRACTS, BUNDLED_MODELS } from "./contents";
import { writeKitBundles } from "./bundles";

const DIST = path.join(ROOT, "dist");

/** The TypeScript entry points, by output name. */
export const ENTRIES = {
  index: "scripts/chain/sdk.ts",
  node: "scripts/pipelines/sdk-node.ts",
  testing: "scripts/apps/testkit/index.ts",
  hardhat: "scripts/apps/testkit/plugin.ts",
  cli: "scripts/apps/cli/zkml.ts",
  // worker threads, started next to the code that spawns them (scripts/util/worker.ts): the prover's, and the dev
  // key setup's (publishing)
  "proof-worker": "scripts/apps/prover/proof-worker.ts",
  "fixed-base-worker": "scripts/engine/setup/fixed-base-worker.ts",
} as const;
const IMPORTED = ["index", "node", "testing"] as const;
const RUN = ["hardhat", "cli", "proof-worker", "fixed-base-worker"] as const;

async function main(): Promise<void> {
  fs.rmSync(DIST, { recursive: true, force: true });
  await hre.run("compile", { quiet: true });

  const abiDir = path.join(DIST, "abi");
  ensureDir(abiDir);
  for (const name of ABI_CONTRACTS) {
    const a = await hre.artifacts.readArtifact(name);
    fs.writeFileSync(path.join(abiDir, `${name}.json`), JSON.stringify(a.abi, null, 2) + "\n");
  }

  await writeKitBundles(hre, path.join(DIST, "bundles"));

  const { build } = await import("tsup");
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const abs = (names: readonly (keyof typeof ENTRIES)[]) => Object.fromEntries(names.map((k) => [k, path.join(ROOT, ENTRIES[k])]));
  const common = {
    outDir: DIST,
    shims: true,
    target: "node20",
    platform: "node",
    sourcemap: false,
    clean: false,
    silent: true,
    tsconfig: path.join(ROOT, "tsconfig.json"),
    // no npm package is bundled in: runtime ones are dependencies; a dev-only one reached at run time (the bundled
    // models' datasets, for their cards' accuracy) fails to load where it is optional, and package:check catches the rest
    external: [pkg.dependencies, pkg.devDependencies, pkg.peerDependencies].flatMap((d) => Object.keys(d ?? {})),
  } as const;
  // what projects import: ESM and CommonJS, with declarations
  await build({ ...common, entry: abs(IMPORTED), format: ["cjs", "esm"], minifyWhitespace: true, dts: { entry: abs(IMPORTED) } });
  // what runs as is (Hardhat 2 loads its plugins as CommonJS; the bin; the worker threads): CommonJS only
  // (both builds whitespace-minified, names and messages unchanged: the tarball stays within its 3 MiB budget)
  await build({ ...common, entry: abs(RUN), format: ["cjs"], minifyWhitespace: true, dts: { entry: abs(["hardhat"]) } });
  const files = fs.readdirSync(DIST).filter((f) => /\.(m?js|d\.m?ts)$/.test(f));
  console.log(`wrote ${rel(DIST)}: ${files.join(", ")}, abi/ (${ABI_CONTRACTS.length}), bundles/ (${BUNDLED_MODELS.join(", ")})`);
}

runMain(main);
