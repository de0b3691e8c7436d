/**
 * Where a Groth16 proof's time goes: snarkjs' `groth16.prove` announces each phase on its logger's `debug`
 * ("Reading Wtns", "Building ABC", "IFFT_A ...", "Join ABC", "Reading A Points", "multiexp A ..."). A logger that
 * timestamps those lines splits one proof into file reading, the QAP evaluation (A, B, C at the witness), the FFTs
 * (and the quotient's join), and the multi-scalar multiplications (MSMs, with reading their points).
 */
import * as snarkjs from "snarkjs";

/** Seconds per phase of one proof; they add up to `total`. */
export interface ProvePhases {
  read: number;
  qap: number;
  fft: number;
  msm: number;
  total: number;
}

export type Phase = Exclude<keyof ProvePhases, "total">;

/** The phase a snarkjs debug line starts (undefined: the current phase goes on). */
export function phaseOf(message: string): Phase | undefined {
  if (/^Reading (Wtns|Coeffs)/.test(message)) return "read";
  if (/^(Building ABC|QAP )/.test(message)) return "qap";
  if (/FFT|Join ?ABC/i.test(message)) return "fft";
  if (/^Reading \w+ Points|multiexp/i.test(message)) return "msm";
  return undefined;
}

/** Adds up the time between phase marks: `marks` are [seconds since start, phase] in order, `end` the total. */
export function sumPhases(marks: readonly [number, Phase][], end: number): ProvePhases {
  const out: ProvePhases = { read: 0, qap: 0, fft: 0, msm: 0, total: end };
  // anything before the first mark (opening the zkey, its header) counts as reading
  let at = 0;
  let cur: Phase = "read";
  for (const [t, p] of marks) {
    out[cur] += t - at;
    at = t;
    cur = p;
  }
  out[cur] += end - at;
  return out;
}

/** Names of the phases, as progress lines print them. */
export const PHASE_NAMES: Record<Phase, string> = {
  read: "reading the key",
  qap: "QAP evaluation",
  fft: "FFTs",
  msm: "multi-scalar multiplications",
};

/** A snarkjs logger that calls `onPhase` once whenever a new phase starts (its debug lines are otherwise dropped). */
export function phaseLogger(onPhase: (p: Phase) => void): snarkjs.Logger {
  let cur: Phase | undefined;
  const see = (msg: string): void => {
    const p = phaseOf(msg);
    if (p && p !== cur) {
      cur = p;
      onPhase(p);
    }
  };
  return { debug: see, info: see, warn: () => {}, error: () => {} };
}

/** One Groth16 proof from a zkey and a witness file, timed per phase. */
export async function profileGroth16(zkey: string, wtns: string): Promise<ProvePhases> {
  const marks: [number, Phase][] = [];
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  await snarkjs.groth16.prove(
    zkey,
    wtns,
    phaseLogger((p) => marks.push([now(), p])),
  );
  return sumPhases(marks, now());
}
