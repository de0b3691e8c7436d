/**
 * Loads `blake-hash` as its pure-JavaScript implementation, never its native addon. Must be imported before
 * `circomlibjs` (scripts/engine/setup/poseidon-contract.ts does; the commitments use poseidon-lite), in every thread.
 *
 * Why (issue 19, docs/prover.md "The native crash: found and fixed"): circomlibjs requires `blake-hash` at load time
 * (for Baby Jubjub EdDSA, which this project never calls). blake-hash 2.0.0's native addon keeps each class
 * constructor in a C++ `static Napi::FunctionReference`, one per process, while every thread that loads the addon runs
 * its init again and overwrites it with a reference owned by that thread's environment. When a worker thread exits,
 * its environment frees its references, and the static is freed again from another environment: heap corruption
 * ("free(): invalid next size", "double free", SIGSEGV in the isolate's teardown). Three worker threads loading the
 * addon, joined and started again 5 times, crashed 7 of 10 runs here (`scripts/native-crash-repro.js native`);
 * the pure-JavaScript implementation, 0 of 10. `test/audit/native-addons.test.ts` keeps it that way.
 */
import Module, { createRequire } from "module";

const req = createRequire(__filename);
/** blake-hash's path, or undefined where it is not installed (an installed package without circomlibjs: nothing to guard). */
function resolved(): string | undefined {
  try {
    return req.resolve("blake-hash");
  } catch {
    return undefined;
  }
}
const id = resolved();
if (id && !req.cache[id]) {
  const m = new Module(id);
  m.filename = id;
  m.loaded = true;
  m.exports = req("blake-hash/js") as unknown;
  req.cache[id] = m;
}
