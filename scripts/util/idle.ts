/**
 * A transfer's time bound by idleness rather than by total time: a download of a proving key of hundreds of MB may take
 * many minutes while it keeps receiving, and must still be given up when nothing arrives for a while (a stalled peer, a
 * gateway that stopped answering). Used by the IPFS fetch (scripts/engine/ipfs.ts) and the HTTP bundle fetch
 * (scripts/apps/prover/bundle-cache.ts); docs/prover.md ("Open network") says what a node does after a stall.
 */

import { setMaxListeners } from "events";

/** Thrown by {@link whileReceiving} when nothing was received for `idleMs`. */
export class StalledError extends Error {
  constructor(readonly idleMs: number) {
    super(`received nothing for ${idleMs} ms`);
  }
}

/**
 * Runs `work` with an abort signal that fires once `idleMs` have passed without a call to `received()`, and rejects
 * with a {@link StalledError} at that moment even if `work` ignores the signal (a block source that keeps answering
 * wrong blocks can keep a Helia session retrying past its signal). The clock starts when `work` starts.
 */
export async function whileReceiving<T>(idleMs: number, work: (signal: AbortSignal, received: () => void) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal); // a Helia session adds one listener per block it asks for
  let timer: NodeJS.Timeout | undefined;
  let fail: (e: Error) => void = () => undefined;
  const stalled = new Promise<never>((_, reject) => (fail = reject));
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const e = new StalledError(idleMs);
      ac.abort(e);
      fail(e);
    }, idleMs);
  };
  arm();
  const run = work(ac.signal, arm);
  run.catch(() => undefined); // settled after the stall: nobody waits for it any more
  try {
    return await Promise.race([run, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
