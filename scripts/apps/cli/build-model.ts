/**
 * Builds a bundled model's proving artifacts: quantize -> circuit -> compile -> powers of tau -> Groth16 setup ->
 * verifier -> manifest.
 * Usage: npm run build:model -- <name> [--calibration <inputs.npy|.json|.csv>] [--no-quantize] [--ptau <ceremony.ptau>] [--O0|--O1|--O2]
 * --calibration copies the owner's raw inputs to models/<name>/calibration.json and quantizes with them (later
 * builds reuse that copy); without it the stored copy, or the bundled dataset of iris-*, mnist-*, temp-*, rain-*,
 * weather-*, is used.
 * --O0/--O1/--O2 is circom's optimization level (default --O2: the fewest constraints). Before compiling it prints a
 * size estimate (constraints, key domain). Every stage is skipped when its inputs are unchanged; prints what it
 * wrote and where.
 * --native-witness also builds circom's C++ witness generator for the circuit (g++, libgmp, nlohmann-json; minutes on
 * a large circuit, kept under build/witness-native/), which proofs then use instead of the WASM (docs/prover.md,
 * "Native witness").
 */
import { buildModel } from "../../pipelines/build";
import { circuitInput } from "../../engine/prove/inference";
import { buildNativeWitness } from "../../engine/prove/witness-native";
import { rel } from "../../util/paths";
import { runMain } from "../main";
import { UsageError, commandLine } from "../../util/args";

const USAGE =
  "usage: npm run build:model -- <model name> [--calibration <inputs.npy|.json|.csv>] [--no-quantize] [--ptau <ceremony.ptau>] [--O0|--O1|--O2] [--native-witness]   (e.g. iris-mlp)";

async function main(): Promise<void> {
  const { values: o, positionals } = commandLine(
    process.argv.slice(2),
    {
      calibration: { type: "string" },
      "no-quantize": { type: "boolean" },
      ptau: { type: "string" },
      O0: { type: "boolean" },
      O1: { type: "boolean" },
      O2: { type: "boolean" },
      "native-witness": { type: "boolean" },
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`one model name only (got ${positionals.join(" and ")}); ${USAGE}`);
  const name = positionals[0];
  if (!name) throw new UsageError(USAGE);
  const levels = ([0, 1, 2] as const).filter((l) => o[`O${l}`]);
  if (levels.length > 1) throw new UsageError(`one of --O0, --O1, --O2 only; ${USAGE}`);
  const quantize = !o["no-quantize"];
  const { ptau: ptauFile, calibration } = o;
  const optimization = levels[0];
  const b = await buildModel(name, { quantize, ptauFile, calibration, optimization });
  const witness = o["native-witness"]
    ? await buildNativeWitness(
        b.paths.circuitFile,
        b.circuit,
        circuitInput(new Array<bigint>(b.model.input.size).fill(0n), 1n, 1n, b.model),
        (l) => console.error(`[${name}] native witness: ${l}`),
      )
    : undefined;
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
        ...(witness
          ? {
              nativeWitness: rel(witness.binary),
              nativeWitnessBuild: witness.cached
                ? "cached"
                : `circom ${witness.circomSeconds.toFixed(1)} s, g++ ${witness.compileSeconds.toFixed(1)} s`,
            }
          : {}),
      },
      null,
      2,
    ),
  );
}

runMain(main);
