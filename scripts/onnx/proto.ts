/** Shared onnx-proto helpers: the protobuf namespace, int64 conversion and atomic file writes. */
import * as fs from "fs";
import * as path from "path";
import { onnx } from "onnx-proto";

export { onnx };

/** ONNX opset the exporter writes and the importer is tested against. */
export const OPSET = 13;
/** ONNX IR version the exporter writes (IR 7 = ONNX 1.8, read by every current runtime). */
export const IR_VERSION = 7;

/** An int64 field as protobufjs decodes it (number, or a Long when the `long` package is present). */
export type Int64 = number | { toNumber(): number };

export function toNumber(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

/**
 * Writes a file atomically: the content goes to a temporary file in the same folder, which is renamed over the
 * target only when fully written. A failure leaves no partial file behind.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
