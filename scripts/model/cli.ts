/**
 * Builds a bundled model's proving artifacts: quantize -> circuit -> compile -> dev ptau -> Groth16 setup -> verifier.
 * Usage: npm run build:model -- <name> [--no-quantize]
 * Every stage is skipped when its inputs are unchanged; prints what it wrote and where.
 */
import { buildModel } from "./build";
import { rel } from "../lib/paths";
import { releaseSnarkjs } from "../prove/groth16";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const name = args.find((a) => !a.startsWith("--"));
  if (!name) throw new Error("usage: npm run build:model -- <model name> [--no-quantize]   (e.g. iris-mlp)");
  const b = await buildModel(name, { quantize: !args.includes("--no-quantize") });
  console.log(
    JSON.stringify(
      {
        model: name,
        quantizedModel: rel(b.paths.qmodelFile),
        circuit: rel(b.paths.circuitFile),
        constraints: b.circuit.constraints,
        r1cs: rel(b.circuit.r1cs),
        r1csSha256: b.circuit.r1csHash,
        ptau: b.ptau.file,
        zkey: rel(b.keys.zkey),
        vkHash: b.keys.vkHash,
        verifier: rel(b.paths.verifierFile),
        modelCommitment: b.modelCommitment.toString(),
      },
      null,
      2,
    ),
  );
}

main()
  .then(releaseSnarkjs)
  .catch(async (e: unknown) => {
    console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
    await releaseSnarkjs();
    process.exitCode = 1;
  });
