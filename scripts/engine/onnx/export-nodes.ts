/** The small builders of ONNX protos the exporter (export.ts, export-transformer.ts) writes with. */
import { onnx } from "./proto";

export function tensor(name: string, dims: number[], values: readonly number[]): onnx.ITensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`onnx export: tensor ${name} has ${values.length} values, dims [${dims}] need ${n}`);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] };
}

/** An INT64 tensor (a Reshape's target shape). */
export function int64Tensor(name: string, values: readonly number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: [...values] };
}

export function valueInfo(name: string, dims: number[], elemType: number = onnx.TensorProto.DataType.FLOAT): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  };
}

export const ints = (name: string, v: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
export const int = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: v });
export const float = (name: string, v: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
