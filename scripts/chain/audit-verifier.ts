/**
 * Auditing what a registry version is verified against: is the snarkjs verifier recorded for `(modelId, version)` the
 * verifier generated from a given zkey, byte for byte (up to solc's metadata hash), with the code hash the registry
 * recorded? This is the one thing a requester or prover still has to check off-chain (docs/market-rules.md, "What a job
 * is verified against"): the chain pins the code, but only regenerating it shows the code is a plain snarkjs verifier
 * (no storage reads, no calls but the pairing precompiles), so it cannot switch its answer.
 *
 * It also checks that the version's registered layout is the circuit's (docs/public-signals.md, "Layout binding"): a
 * version registered with another layout verifies no proof of the circuit, since the registry's public model
 * commitment Poseidon(modelHash, L) is then not the one the circuit outputs; the audit says which field differs.
 *
 * CLI: `npm run audit:verifier -- --rpc <url> --registry <address> --model <id> [--version <v>] --zkey <file>
 * --manifest <models/<name>/<name>.manifest.json>`, or `--bundle <folder>` (a published bundle: its bundle.json and
 * proving.zkey) instead of --zkey and --manifest; `--json` prints the verdict as one JSON line (the explorer's indexer
 * runs it so, explorer/indexer/src/audit.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { JsonRpcProvider, keccak256, type Provider } from "ethers";
import { ModelRegistry__factory, type ModelRegistry } from "../../typechain-types";
import { BUNDLE_FILES, BUNDLE_MANIFEST, type BundleManifest, parseBundleManifest } from "../formats/bundle";
import { sha256File } from "../util/hash";
import { ensureDir, packageDir, userCacheDir } from "../util/paths";
import { compileSolidity } from "../engine/solc";
import { GROTH16_BN254_V1 } from "../formats/public-signals";
import { LAYOUT_KEYS, type ModelLayout, publicModelCommitment } from "../formats/model-layout";
import { addBatchFunction } from "../engine/setup/groth16-batch";
import { UsageError, commandLine } from "../util/args";

/** What an audit found. `ok` is true only if every check passed; otherwise `reason` says which failed and what to do. */
export interface VerifierAudit {
  ok: boolean;
  reason?: string;
  verifier: string;
  recordedCodeHash: string;
  actualCodeHash: string;
}

/** A layout as the registry returns it (`layoutOf`, `verificationTarget(...).layout`), as numbers. */
export function layoutFromChain(l: { [K in keyof ModelLayout]: bigint | number }): ModelLayout {
  return Object.fromEntries(LAYOUT_KEYS.map((k) => [k, Number(l[k])])) as unknown as ModelLayout;
}

/** The first field (in struct order) where two layouts differ; undefined when they are equal. */
export function layoutDiffField(a: ModelLayout, b: ModelLayout): keyof ModelLayout | undefined {
  return LAYOUT_KEYS.find((f) => a[f] !== b[f]);
}

/**
 * One line naming the first field where a version's registered layout differs from the circuit's, e.g.
 * "layout.inputBits: registered 11, circuit 12; re-register the version with the circuit's layout"; undefined when
 * they are equal.
 */
export function layoutMismatch(registered: ModelLayout, circuit: ModelLayout): string | undefined {
  const k = layoutDiffField(registered, circuit);
  if (k === undefined) return undefined;
  return `layout.${k}: registered ${registered[k]}, circuit ${circuit[k]}; re-register the version with the circuit's layout`;
}

/** What the circuit of a version is, to check the registered version against (from the model's manifest). */
export interface CircuitIdentity {
  /** The circuit's layout (`layoutOf(model)`, the manifest's `layout`). */
  layout: ModelLayout;
  /** The weights commitment (the manifest's `modelCommitment`, the registry's `modelHash`). */
  weightsCommitment: bigint;
}

/**
 * Removes solc's CBOR metadata from runtime bytecode: its length is the last two bytes. The metadata hashes the
 * source text and file name, which differ between two honest builds of the same verifier.
 * @throws When the code is too short to carry the metadata it announces.
 */
export function stripMetadata(code: string): string {
  const hex = code.startsWith("0x") ? code.slice(2) : code;
  if (hex.length < 4) throw new Error("stripMetadata: code is shorter than its metadata length field");
  const len = parseInt(hex.slice(-4), 16);
  const cut = hex.length - 4 - 2 * len;
  if (cut < 0) throw new Error(`stripMetadata: code of ${hex.length / 2} bytes cannot carry ${len} bytes of metadata`);
  return `0x${hex.slice(0, cut)}`.toLowerCase();
}

/**
 * The runtime bytecode of the snarkjs Groth16 verifier of `zkeyFile`, compiled with the project's compiler and
 * settings (`scripts/engine/solc.ts`, the same as `hardhat.config.ts`). Cached on disk by the zkey's SHA-256, since
 * solc-js takes seconds.
 * @throws When snarkjs' template or solc fails.
 */
export async function expectedGroth16Runtime(zkeyFile: string): Promise<string> {
  const key = await sha256File(zkeyFile);
  const cacheFile = path.join(ensureDir(path.join(userCacheDir(), "verifier-code")), `groth16-${key}.json`);
  if (fs.existsSync(cacheFile)) return (JSON.parse(fs.readFileSync(cacheFile, "utf8")) as { runtime: string }).runtime;
  const template = fs.readFileSync(path.join(packageDir("snarkjs"), "templates", "verifier_groth16.sol.ejs"), "utf8");
  const source = await snarkjs.zKey.exportSolidityVerifier(zkeyFile, { groth16: template });
  const { runtime } = compileSolidity(source, "Groth16Verifier", `the snarkjs verifier of ${zkeyFile}`);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ zkeySha256: key, runtime }));
  fs.renameSync(tmp, cacheFile);
  return runtime;
}

/**
 * The runtime bytecode of the generated batch verifier of `zkeyFile` (the snarkjs verifier plus `verifyBatch`,
 * `scripts/engine/setup/groth16-batch.ts`), compiled like `expectedGroth16Runtime` and cached the same way.
 * @throws When snarkjs' template or solc fails.
 */
export async function expectedGroth16BatchRuntime(zkeyFile: string): Promise<string> {
  const key = await sha256File(zkeyFile);
  const cacheFile = path.join(ensureDir(path.join(userCacheDir(), "verifier-code")), `groth16-batch-${key}.json`);
  if (fs.existsSync(cacheFile)) return (JSON.parse(fs.readFileSync(cacheFile, "utf8")) as { runtime: string }).runtime;
  const template = fs.readFileSync(path.join(packageDir("snarkjs"), "templates", "verifier_groth16.sol.ejs"), "utf8");
  const source = addBatchFunction(await snarkjs.zKey.exportSolidityVerifier(zkeyFile, { groth16: template }));
  const { runtime } = compileSolidity(source, "Groth16Verifier", `the batch verifier of ${zkeyFile}`);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ zkeySha256: key, runtime }));
  fs.renameSync(tmp, cacheFile);
  return runtime;
}

/** Both verifiers a Groth16 version of `zkeyFile` may be registered with: the snarkjs one and the batch one. */
export async function expectedGroth16Runtimes(zkeyFile: string): Promise<string[]> {
  return [await expectedGroth16Runtime(zkeyFile), await expectedGroth16BatchRuntime(zkeyFile)];
}

/**
 * Audits the verification target of `(modelId, version)`: a Groth16 version with 4 public signals whose verifier's
 * code hash is still the recorded one and whose code is `expectedRuntime` (up to metadata), or one of them; and, given
 * the circuit's identity, whose registered layout and modelHash are the circuit's and whose public model commitment
 * (the registry's `verificationTarget(...).modelCommitment`) is Poseidon(weights commitment, layoutWord(layout)).
 * @param expectedRuntime From `expectedGroth16Runtime(zkey)`, or `expectedGroth16Runtimes(zkey)` to also accept the
 *   generated batch verifier of the same keys.
 * @param circuit The circuit's layout and weights commitment (the model's manifest, or `layoutOf` of the model).
 */
export async function auditVersion(
  registry: ModelRegistry,
  provider: Provider,
  modelId: bigint,
  version: bigint,
  expectedRuntime: string | string[],
  circuit?: CircuitIdentity,
): Promise<VerifierAudit> {
  const [c] = await registry.getModelVersion(modelId, version);
  const t = await registry.verificationTarget(modelId, version);
  const code = await provider.getCode(t.verifier);
  const actualCodeHash = code === "0x" ? "0x" + "00".repeat(32) : keccak256(code);
  const base = { verifier: t.verifier, recordedCodeHash: t.verifierCodeHash, actualCodeHash };
  const fail = (reason: string): VerifierAudit => ({ ok: false, reason, ...base });
  if (c.proofSystemId.toLowerCase() !== GROTH16_BN254_V1)
    return fail(`model ${modelId} v${version} is not a Groth16 model (${c.proofSystemId})`);
  if (t.numPublicSignals !== 4n || t.proofLength !== 256n) {
    return fail(
      `model ${modelId} v${version} has ${t.numPublicSignals} public signals and ${t.proofLength}-byte proofs; expected 4 and 256`,
    );
  }
  if (actualCodeHash !== t.verifierCodeHash) {
    return fail(
      `the verifier ${t.verifier} of model ${modelId} v${version} changed code since registration (recorded ${t.verifierCodeHash}, now ${actualCodeHash}); do not use this version`,
    );
  }
  const expected = (Array.isArray(expectedRuntime) ? expectedRuntime : [expectedRuntime]).map(stripMetadata);
  if (!expected.includes(stripMetadata(code))) {
    return fail(
      `the verifier ${t.verifier} of model ${modelId} v${version} is not the snarkjs verifier of these keys; do not trust this version's results`,
    );
  }
  if (circuit) {
    const what = `model ${modelId} v${version}`;
    const layoutDiff = layoutMismatch(layoutFromChain(t.layout), circuit.layout);
    if (layoutDiff) return fail(`${what}: ${layoutDiff}`);
    if (BigInt(c.modelHash) !== circuit.weightsCommitment)
      return fail(`${what}: modelHash ${BigInt(c.modelHash)} is not the circuit's weights commitment ${circuit.weightsCommitment}`);
    const expected = await publicModelCommitment(circuit.weightsCommitment, circuit.layout);
    if (t.modelCommitment !== expected)
      return fail(`${what}: the registry's public model commitment ${t.modelCommitment} is not the circuit's ${expected}`);
  }
  return { ok: true, ...base };
}

/** The circuit of a bundle as the audit needs it: its layout and weights commitment, from bundle.json's `registry`. */
export function circuitOfBundle(manifest: BundleManifest): CircuitIdentity {
  return { layout: manifest.registry.layout, weightsCommitment: BigInt(manifest.registry.modelHash) };
}

/**
 * {@link auditVersion} with what a published bundle has: its bundle.json and its proving key (checked to be the
 * one bundle.json lists). Accepts the generated snarkjs verifier and the batch verifier of those keys.
 * @throws Error naming the zkey file when it is not the bundle's.
 */
export async function auditBundleVersion(
  registry: ModelRegistry,
  provider: Provider,
  modelId: bigint,
  version: bigint,
  bundle: { manifest: BundleManifest; zkeyFile: string },
): Promise<VerifierAudit> {
  const sha = await sha256File(bundle.zkeyFile);
  if (sha !== bundle.manifest.files.zkey.sha256)
    throw new Error(
      `${bundle.zkeyFile} (sha256 ${sha}) is not the proving key bundle.json lists (${bundle.manifest.files.zkey.sha256}); fetch the bundle's ${BUNDLE_FILES.zkey} again`,
    );
  return auditVersion(
    registry,
    provider,
    modelId,
    version,
    await expectedGroth16Runtimes(bundle.zkeyFile),
    circuitOfBundle(bundle.manifest),
  );
}

async function cli(argv: string[]): Promise<number> {
  const usage =
    "usage: npm run audit:verifier -- --rpc <url> --registry <address> --model <id> [--version <v>] (--zkey <file> --manifest <models/<name>/<name>.manifest.json> | --bundle <folder>) [--json]";
  let o;
  try {
    o = commandLine(
      argv,
      {
        rpc: { type: "string" },
        registry: { type: "string" },
        model: { type: "string" },
        version: { type: "string" },
        zkey: { type: "string" },
        manifest: { type: "string" },
        bundle: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    ).values;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`audit:verifier: ${e.message}`);
    return 2;
  }
  const rpc = o.rpc ?? process.env.ZKML_RPC_URL;
  const { registry: registryAddr, model, zkey, manifest: manifestFile, bundle } = o;
  if (bundle && (zkey || manifestFile)) {
    console.error(`audit:verifier: --bundle takes the zkey and manifest from the bundle; drop --zkey and --manifest; ${usage}`);
    return 2;
  }
  if (!rpc || !registryAddr || !model || (!bundle && (!zkey || !manifestFile))) {
    console.error(
      `audit:verifier: missing ${[!rpc && "--rpc", !registryAddr && "--registry", !model && "--model", !bundle && !zkey && "--zkey (or --bundle)", !bundle && !manifestFile && "--manifest (or --bundle)"].filter(Boolean).join(", ")}; ${usage}`,
    );
    return 2;
  }
  for (const [flag, v] of [
    ["--model", model],
    ["--version", o.version],
  ] as const)
    if (v !== undefined && !/^\d+$/.test(v)) {
      console.error(`audit:verifier: ${flag} needs a decimal number, got "${v}"; ${usage}`);
      return 2;
    }
  const provider = new JsonRpcProvider(rpc);
  const registry = ModelRegistry__factory.connect(registryAddr, provider);
  const version = o.version ? BigInt(o.version) : BigInt((await registry.modelInfo(BigInt(model))).latestVersion);
  const report = (audit: VerifierAudit) => {
    if (o.json) console.log(JSON.stringify({ model, version: version.toString(), ...audit }));
    else {
      console.log(`model ${model} v${version}: verifier ${audit.verifier}, code hash ${audit.actualCodeHash}`);
      console.log(
        audit.ok
          ? "OK: the verifier is the snarkjs verifier of the given keys, its code is the registered code, and the registered layout and model commitment are the circuit's"
          : `FAIL: ${audit.reason}`,
      );
    }
    return audit.ok ? 0 : 1;
  };
  if (bundle) {
    const manifestPath = path.join(bundle, BUNDLE_MANIFEST);
    if (!fs.existsSync(manifestPath)) {
      console.error(
        `audit:verifier: --bundle ${bundle} has no ${BUNDLE_MANIFEST}; pass a bundle folder (npm run build:package writes them)`,
      );
      return 2;
    }
    const manifest = parseBundleManifest(JSON.parse(fs.readFileSync(manifestPath, "utf8")));
    const zkeyFile = path.join(bundle, manifest.files.zkey.name);
    if (!fs.existsSync(zkeyFile)) {
      console.error(`audit:verifier: --bundle ${bundle} has no ${manifest.files.zkey.name}; fetch the whole bundle`);
      return 2;
    }
    return report(await auditBundleVersion(registry, provider, BigInt(model), version, { manifest, zkeyFile }));
  }
  if (!zkey || !manifestFile) return 2; // checked above
  if (!fs.existsSync(zkey)) {
    console.error(`audit:verifier: --zkey ${zkey} does not exist; pass the model's proving key (the .zkey the manifest lists)`);
    return 2;
  }
  if (!fs.existsSync(manifestFile)) {
    console.error(`audit:verifier: --manifest ${manifestFile} does not exist; pass the model's manifest (npm run build:model writes it)`);
    return 2;
  }
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8")) as {
    modelCommitment?: string;
    layout?: ModelLayout;
    trustedSetup?: { zkeySha256?: string };
  };
  if (!manifest.layout || !manifest.modelCommitment) {
    console.error(`audit:verifier: ${manifestFile} records no layout or modelCommitment; rebuild it with npm run build:model`);
    return 2;
  }
  const zkeySha = await sha256File(zkey);
  if (manifest.trustedSetup?.zkeySha256 !== zkeySha) {
    console.error(
      `audit:verifier: --zkey ${zkey} (sha256 ${zkeySha}) is not the proving key of ${manifestFile} (${manifest.trustedSetup?.zkeySha256})`,
    );
    return 2;
  }
  return report(
    await auditVersion(registry, provider, BigInt(model), version, await expectedGroth16Runtime(zkey), {
      layout: manifest.layout,
      weightsCommitment: BigInt(manifest.modelCommitment),
    }),
  );
}

if (require.main === module) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`audit:verifier: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
