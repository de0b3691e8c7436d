/**
 * snarkjs' BN254 curve (ffjavascript) keeps worker threads alive once built, so a process that proved or set up keys
 * never exits by itself. Ending them needs no snarkjs import: the curve lives on `globalThis.curve_bn128`, so a
 * caller that never proved (a Hardhat plugin's hook, `zkml --help`) pays nothing to load.
 */

/** Ends snarkjs' worker threads, if a curve was built, so a process (or mocha) can exit. */
export async function releaseSnarkjs(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } };
  if (g.curve_bn128) {
    await g.curve_bn128.terminate();
    g.curve_bn128 = undefined;
  }
}
