import { releaseSnarkjs } from "../util/snarkjs-threads";

/**
 * Runs a command's `main`: on success ends snarkjs' worker threads so the process can exit; on failure prints one
 * line `error: <message>` (the stack only with ZKML_DEBUG=1) and sets a non-zero exit code.
 */
export function runMain(main: () => Promise<void>): void {
  main()
    .then(releaseSnarkjs)
    .catch(async (e: unknown) => {
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.ZKML_DEBUG === "1" && e instanceof Error) console.error(e.stack);
      await releaseSnarkjs();
      process.exitCode = 1;
    });
}
