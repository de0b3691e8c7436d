/**
 * Verifier layout, measured both ways (docs/design-decisions.md, "Verifier layout"): today's generated per-model
 * contracts (snarkjs' verifier, and the same export plus `verifyBatch`) against one shared verifier
 * (bench/verifier-layout/SharedGroth16Verifier.sol) with each key as a data contract and a per-model forwarder.
 * For each bundled model with committed verifiers: deployment gas of each layout, and the gas of a transaction that
 * calls `verifyProof` and `verifyBatch` (1, 4, 16 proofs) on each, with the same real proofs. Both layouts must accept
 * every proof and reject the same tampered one, or the run fails.
 * Run: npm run bench:verifier-layout (npx hardhat run scripts/apps/bench/verifier-layout.ts).
 * Prints a table and one line `BENCH_VERIFIER_LAYOUT {json}`.
 */
import * as fs from "fs";
import * as path from "path";
import hre from "hardhat";
import { AbiCoder, type Signer, type TransactionRequest, id } from "ethers";
import { ROOT } from "../../util/paths";
import { compileSolidity } from "../../engine/solc";
import { transcriptVkWords } from "../../engine/setup/groth16-batch";
import { proveInference } from "../../engine/prove/inference";
import { inputModeOf } from "../../formats/quantized-model";
import { quantizeInput } from "../../formats/quantized-input";
import { loadFloatModel } from "../../pipelines/build";
import { sampleInput } from "../../pipelines/held-out";
import { benchBuild } from "./build";
import { runMain } from "../main";

const MODELS = ["iris-mlp", "temp-forecast"];
const BATCH_SIZES = [1, 4, 16];
const SOURCE = path.join(ROOT, "bench", "verifier-layout", "SharedGroth16Verifier.sol");

/** Deploys raw creation code; returns the address and the gas of the deployment transaction. */
async function deployCode(signer: Signer, data: string): Promise<{ address: string; gas: number }> {
  const tx = await signer.sendTransaction({ data });
  const rc = await tx.wait();
  if (!rc?.contractAddress || rc.status !== 1) throw new Error("deployment failed");
  return { address: rc.contractAddress, gas: Number(rc.gasUsed) };
}

/** Creation code of a data contract whose runtime code is 0x00 ++ `words` (each 32 bytes). */
function dataContractCode(words: bigint[]): string {
  const body = "00" + words.map((w) => w.toString(16).padStart(64, "0")).join("");
  const len = body.length / 2;
  if (len > 0xffff) throw new Error("key data too large");
  // PUSH2 len, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: returns the 12-byte prefix's tail as runtime code
  return `0x61${len.toString(16).padStart(4, "0")}80600c6000396000f3${body}`;
}

/** Gas of a transaction sending `data` to `to`, after checking what the call returns. */
async function callGas(to: string, data: string, expect: boolean): Promise<number> {
  const req: TransactionRequest = { to, data };
  const out = await hre.ethers.provider.call(req);
  const ok = out.length === 66 && BigInt(out) === 1n;
  if (ok !== expect) throw new Error(`call to ${to} returned ${out}, expected ${expect}`);
  return Number(await hre.ethers.provider.estimateGas(req));
}

interface ModelFigures {
  model: string;
  publicSignals: number;
  deploy: { generatedVerifier: number; generatedBatchVerifier: number; keyData: number; forwarder: number };
  runtimeBytes: { generatedBatchVerifier: number; keyData: number; forwarder: number };
  verifyProof: { generated: number; shared: number };
  verifyBatch: { size: number; generated: number; shared: number }[];
}

async function main(): Promise<void> {
  const [deployer] = await hre.ethers.getSigners();
  const coder = AbiCoder.defaultAbiCoder();
  const src = fs.readFileSync(SOURCE, "utf8");
  const sharedC = compileSolidity(src, "SharedGroth16Verifier", "SharedGroth16Verifier.sol");
  const fwdC = compileSolidity(src, "KeyedGroth16Verifier", "SharedGroth16Verifier.sol");
  const shared = await deployCode(deployer, sharedC.bytecode);
  const figures: ModelFigures[] = [];
  for (const name of MODELS) {
    const { built, verifier, batchVerifier } = await benchBuild(name);
    const model = built.model;
    const gen = await deployCode(deployer, verifier.bytecode);
    const genBatch = await deployCode(deployer, batchVerifier.bytecode);
    const vkWords = transcriptVkWords(JSON.parse(fs.readFileSync(built.keys.vkeyFile, "utf8")));
    const N = vkWords.length / 2 - 8;
    const selector = BigInt(id(`verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${N}])`).slice(0, 10));
    const keyData = await deployCode(deployer, dataContractCode([selector, BigInt(N), ...vkWords]));
    const fwd = await deployCode(deployer, fwdC.bytecode + coder.encode(["address", "address"], [shared.address, keyData.address]).slice(2));

    // real proofs: the held-out sample with distinct bindings (a verifier call checks any consistent statement)
    const x = quantizeInput(model, loadFloatModel(name), sampleInput(name));
    const publicMode = inputModeOf(model) === "public";
    const maxN = Math.max(...BATCH_SIZES);
    const proofs: { words: bigint[]; signals: bigint[] }[] = [];
    for (let i = 0; i < maxN; i++) {
      const p = await proveInference(model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, publicMode ? undefined : 1000n + BigInt(i), 77n + BigInt(i));
      proofs.push({ words: [...p.packed.a, ...p.packed.b.flat(), ...p.packed.c], signals: p.publicSignals });
    }
    if (proofs[0].signals.length !== N) throw new Error(`${name}: ${proofs[0].signals.length} signals, key has ${N}`);
    const single = (w: bigint[], s: bigint[]) =>
      id(`verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[${N}])`).slice(0, 10) +
      coder.encode([`uint256[${8 + N}]`], [[...w, ...s]]).slice(2);
    const batch = (ps: typeof proofs) =>
      id("verifyBatch(uint256[],uint256[])").slice(0, 10) +
      coder.encode(["uint256[]", "uint256[]"], [ps.flatMap((p) => p.words), ps.flatMap((p) => p.signals)]).slice(2);

    const verifyProof = {
      generated: await callGas(gen.address, single(proofs[0].words, proofs[0].signals), true),
      shared: await callGas(fwd.address, single(proofs[0].words, proofs[0].signals), true),
    };
    const verifyBatch = [];
    for (const size of BATCH_SIZES) {
      const data = batch(proofs.slice(0, size));
      verifyBatch.push({ size, generated: await callGas(genBatch.address, data, true), shared: await callGas(fwd.address, data, true) });
    }
    // a tampered statement (the last signal of the last proof) is refused by both, single and batched
    const bad = proofs.slice(0, 4).map((p) => ({ ...p, signals: [...p.signals] }));
    bad[3].signals[N - 1] = (bad[3].signals[N - 1] + 1n) % (1n << 250n);
    for (const [to, data] of [
      [gen.address, single(bad[3].words, bad[3].signals)],
      [fwd.address, single(bad[3].words, bad[3].signals)],
      [genBatch.address, batch(bad)],
      [fwd.address, batch(bad)],
    ]) await callGas(to, data, false);

    const codeSize = async (a: string) => ((await hre.ethers.provider.getCode(a)).length - 2) / 2;
    figures.push({
      model: name,
      publicSignals: N,
      deploy: { generatedVerifier: gen.gas, generatedBatchVerifier: genBatch.gas, keyData: keyData.gas, forwarder: fwd.gas },
      runtimeBytes: { generatedBatchVerifier: await codeSize(genBatch.address), keyData: await codeSize(keyData.address), forwarder: await codeSize(fwd.address) },
      verifyProof,
      verifyBatch,
    });
  }

  const sharedBytes = ((await hre.ethers.provider.getCode(shared.address)).length - 2) / 2;
  console.log(`shared verifier: deployed once, ${shared.gas} gas, ${sharedBytes} bytes of code`);
  for (const f of figures) {
    console.log(`\n${f.model} (${f.publicSignals} public signals)`);
    console.log(`  deploy per model   generated: verifier ${f.deploy.generatedVerifier} + batch verifier ${f.deploy.generatedBatchVerifier} (${f.runtimeBytes.generatedBatchVerifier} B)`);
    console.log(`                     shared:    key data ${f.deploy.keyData} (${f.runtimeBytes.keyData} B) + forwarder ${f.deploy.forwarder} (${f.runtimeBytes.forwarder} B)`);
    console.log(`  verifyProof        generated ${f.verifyProof.generated}  shared ${f.verifyProof.shared}  (+${f.verifyProof.shared - f.verifyProof.generated})`);
    for (const b of f.verifyBatch) console.log(`  verifyBatch x${String(b.size).padEnd(3)}    generated ${b.generated}  shared ${b.shared}  (${b.shared - b.generated >= 0 ? "+" : ""}${b.shared - b.generated})`);
  }
  console.log(`BENCH_VERIFIER_LAYOUT ${JSON.stringify({ shared: { deploy: shared.gas, runtimeBytes: sharedBytes }, models: figures })}`);
}

runMain(main);
