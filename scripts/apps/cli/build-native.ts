/**
 * Builds (or finds cached) the native Groth16 prover for this machine (scripts/engine/prove/native.ts) and prints its
 * path; `.ci/run` runs it before the tests, so the build (about 15 s) is a build step of its own, not a test's.
 * Without g++ it says why and exits 0: proofs then come from snarkjs.
 * Run: npm run build:native
 */
import { nativeProverBinary, nativeUnavailable } from "../../engine/prove/native";
import { rel } from "../../util/paths";
import { runMain } from "../main";

runMain(async () => {
  const t0 = Date.now();
  const bin = await nativeProverBinary();
  if (bin) console.log(`native prover: ${rel(bin)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  else console.log(`native prover: not built: ${nativeUnavailable ?? "unknown reason"}`);
});
