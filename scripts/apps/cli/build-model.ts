/**
 * Builds a bundled model's proving artifacts: quantize -> circuit -> compile -> powers of tau -> Groth16 setup ->
 * verifier -> manifest.
 * Usage: npm run build:model -- <name> [--calibration <inputs.npy|.json|.csv>] [--no-quantize] [--ptau <ceremony.ptau>] [--O0|--O1|--O2]
 * --calibration copies the owner's raw inputs to models/<name>/calibration.json and quantizes with them (later
 * builds reuse that copy); without it the stored copy, or the bundled dataset of iris-*, mnist-*, temp-*, is used.
 * --O0/--O1/--O2 is circom's optimization level (default --O2: the fewest constraints). Before compiling it prints a
 * size estimate (constraints, key domain). Every stage is skipped when its inputs are unchanged; prints what it
 * wrote and where.
 */
import { buildModel } from "../../pipelines/build";
import { rel } from "../../util/paths";
import { runMain } from "../main";

const USAGE =
  "usage: npm run build:model -- <model name> [--calibration <inputs.npy|.json|.csv>] [--no-quantize] [--ptau <ceremony.ptau>] [--O0|--O1|--O2]   (e.g. iris-mlp)";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let name: string | undefined;
  let ptauFile: string | undefined;
  let calibration: string | undefined;
  let quantize = true;
  let optimization: 0 | 1 | 2 | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--no-quantize") quantize = false;
    else if (/^--O[012]$/.test(a)) optimization = Number(a[3]) as 0 | 1 | 2;
    else if (a === "--ptau") {
      ptauFile = args[++i];
      if (!ptauFile) throw new Error(`--ptau needs a file; ${USAGE}`);
    } else if (a === "--calibration") {
      calibration = args[++i];
      if (!calibration || calibration.startsWith("--"))
        throw new Error(`--calibration needs a file of raw inputs (.npy, .json or .csv); ${USAGE}`);
    } else if (a.startsWith("--")) throw new Error(`unknown option ${a}; ${USAGE}`);
    else if (name) throw new Error(`one model name only (got ${name} and ${a}); ${USAGE}`);
    else name = a;
  }
  if (!name) throw new Error(USAGE);
  const b = await buildModel(name, { quantize, ptauFile, calibration, optimization });
  console.log(
    JSON.stringify(
      {
        model: name,
        quantizedModel: rel(b.paths.qmodelFile),
        bits: b.model.input.bits,
        circuit: rel(b.paths.circuitFile),
        constraints: b.circuit.constraints,
        r1cs: rel(b.circuit.r1cs),
        ptau: b.ptau?.file ?? null,
        insecure: b.keys.insecure,
        zkey: rel(b.keys.zkey),
        verifier: rel(b.paths.verifierFile),
        manifest: rel(b.paths.manifestFile),
        modelCommitment: b.manifest.modelCommitment,
        layout: b.manifest.layout,
        publicModelCommitment: b.manifest.publicModelCommitment,
        circuitHash: b.manifest.circuitHash,
        vkHash: b.manifest.vkHash,
      },
      null,
      2,
    ),
  );
}

runMain(main);
