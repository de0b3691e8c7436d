/**
 * Awaits `p`, which must reject, and returns the rejection's message (for asserting error texts).
 * @throws if `p` resolves.
 */
export async function rejectionMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected a rejection, but the promise resolved");
}
