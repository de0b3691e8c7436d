/** Shared onnx-proto helpers: the protobuf namespace, int64 conversion and atomic file writes. */
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
