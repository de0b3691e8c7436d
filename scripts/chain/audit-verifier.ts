/**
 * Auditing what a registry version is verified against: is the snarkjs verifier recorded for `(modelId, version)` the
 * verifier generated from a given zkey, byte for byte (up to solc's metadata hash), with the code hash the registry
 * recorded? This is the one thing a requester or prover still has to check off-chain (docs/market-rules.md, "What a job
 * is verified against"): the chain pins the code, but only regenerating it shows the code is a plain snarkjs verifier
 * (no storage reads, no calls but the pairing precompiles), so it cannot switch its answer.
 *
 * CLI: `npm run audit:verifier -- --rpc <url> --registry <address> --model <id> [--version <v>] --zkey <file>`.
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { JsonRpcProvider, keccak256, type Provider } from "ethers";
import { ModelRegistry__factory, type ModelRegistry } from "../../typechain-types";
import { sha256File } from "../lib/hash";
import { NODE_MODULES, ensureDir, userCacheDir } from "../lib/paths";
import { compileSolidity } from "../lib/solc";
import { GROTH16_BN254_V1 } from "./binding";
import { addBatchFunction } from "../setup/groth16-batch";

/** What an audit found. `ok` is true only if every check passed; otherwise `reason` says which failed and what to do. */
export interface VerifierAudit {
  ok: boolean;
  reason?: string;
  verifier: string;
  recordedCodeHash: string;
  actualCodeHash: string;
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
 * settings (`scripts/lib/solc.ts`, the same as `hardhat.config.ts`). Cached on disk by the zkey's SHA-256, since
 * solc-js takes seconds.
 * @throws When snarkjs' template or solc fails.
 */
export async function expectedGroth16Runtime(zkeyFile: string): Promise<string> {
  const key = await sha256File(zkeyFile);
  const cacheFile = path.join(ensureDir(path.join(userCacheDir(), "verifier-code")), `groth16-${key}.json`);
  if (fs.existsSync(cacheFile)) return (JSON.parse(fs.readFileSync(cacheFile, "utf8")) as { runtime: string }).runtime;
  const template = fs.readFileSync(path.join(NODE_MODULES, "snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
  const source = await snarkjs.zKey.exportSolidityVerifier(zkeyFile, { groth16: template });
  const { runtime } = compileSolidity(source, "Groth16Verifier", `the snarkjs verifier of ${zkeyFile}`);
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ zkeySha256: key, runtime }));
  fs.renameSync(tmp, cacheFile);
  return runtime;
}

/**
 * The runtime bytecode of the generated batch verifier of `zkeyFile` (the snarkjs verifier plus `verifyBatch`,
 * `scripts/setup/groth16-batch.ts`), compiled like `expectedGroth16Runtime` and cached the same way.
 * @throws When snarkjs' template or solc fails.
 */
export async function expectedGroth16BatchRuntime(zkeyFile: string): Promise<string> {
  const key = await sha256File(zkeyFile);
  const cacheFile = path.join(ensureDir(path.join(userCacheDir(), "verifier-code")), `groth16-batch-${key}.json`);
  if (fs.existsSync(cacheFile)) return (JSON.parse(fs.readFileSync(cacheFile, "utf8")) as { runtime: string }).runtime;
  const template = fs.readFileSync(path.join(NODE_MODULES, "snarkjs", "templates", "verifier_groth16.sol.ejs"), "utf8");
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
 * code hash is still the recorded one and whose code is `expectedRuntime` (up to metadata), or one of them.
 * @param expectedRuntime From `expectedGroth16Runtime(zkey)`, or `expectedGroth16Runtimes(zkey)` to also accept the
 *   generated batch verifier of the same keys.
 */
export async function auditVersion(
  registry: ModelRegistry,
  provider: Provider,
  modelId: bigint,
  version: bigint,
  expectedRuntime: string | string[],
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
  return { ok: true, ...base };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function cli(argv: string[]): Promise<number> {
  const rpc = arg(argv, "rpc") ?? process.env.ZKML_RPC_URL;
  const registryAddr = arg(argv, "registry");
  const model = arg(argv, "model");
  const zkey = arg(argv, "zkey");
  const usage = "usage: npm run audit:verifier -- --rpc <url> --registry <address> --model <id> [--version <v>] --zkey <file>";
  if (!rpc || !registryAddr || !model || !zkey) {
    console.error(
      `audit:verifier: missing ${[!rpc && "--rpc", !registryAddr && "--registry", !model && "--model", !zkey && "--zkey"].filter(Boolean).join(", ")}; ${usage}`,
    );
    return 2;
  }
  if (!fs.existsSync(zkey)) {
    console.error(`audit:verifier: --zkey ${zkey} does not exist; pass the model's proving key (the .zkey the manifest lists)`);
    return 2;
  }
  const provider = new JsonRpcProvider(rpc);
  const registry = ModelRegistry__factory.connect(registryAddr, provider);
  const version = arg(argv, "version") ? BigInt(arg(argv, "version")!) : BigInt((await registry.modelInfo(BigInt(model))).latestVersion);
  const audit = await auditVersion(registry, provider, BigInt(model), version, await expectedGroth16Runtime(zkey));
  console.log(`model ${model} v${version}: verifier ${audit.verifier}, code hash ${audit.actualCodeHash}`);
  console.log(
    audit.ok ? "OK: the verifier is the snarkjs verifier of the given keys, and its code is the registered code" : `FAIL: ${audit.reason}`,
  );
  return audit.ok ? 0 : 1;
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
