/** Display formatting shared by every page (amounts, durations, times, addresses). */
import { formatEther } from "ethers/utils";

const ZERO = "0x0000000000000000000000000000000000000000";

/** Wei (decimal string) as ETH with up to 6 significant decimals; tokens as their smallest units. */
export function amount(wei: string | null | undefined, token?: string | null): string {
  if (wei === null || wei === undefined) return "–";
  if (token && token !== ZERO) return `${wei} units of ${short(token)}`;
  const eth = formatEther(BigInt(wei));
  const [i, f = ""] = eth.split(".");
  const trimmed = f.slice(0, 6).replace(/0+$/, "");
  return `${i}${trimmed ? `.${trimmed}` : ""} ETH`;
}

/** Seconds as "850 ms", "12.3 s", "4 min 5 s", "2 h 10 min". */
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** Unix seconds as a local date and time. */
export function when(t: number | null | undefined): string {
  if (t === null || t === undefined) return "–";
  return new Date(t * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** Unix seconds as "5 s ago" / "3 min ago" relative to `now` (unix seconds). */
export function ago(t: number | null | undefined, now = Date.now() / 1000): string {
  if (t === null || t === undefined) return "never";
  const d = Math.max(0, Math.round(now - t));
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} d ago`;
}

/** 0x1234…abcd */
export function short(hex: string | null | undefined): string {
  if (!hex) return "–";
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

export const gas = (g: number | null | undefined): string => (g === null || g === undefined ? "–" : g.toLocaleString("en-US"));

export const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** A minute's unix time as HH:MM for chart axes. */
export const clock = (t: number): string => new Date(t * 1000).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
