/**
 * What the ONNX importer accepts and how it says no: {@link OnnxImportError}, the operators it supports on the data
 * path (`SUPPORTED_OPS`), and the shared wording of its refusals (activations, residual connections, unsupported
 * operators with a hint).
 */
import { FOLDABLE_OPS } from "./fold";

/** Operators the importer accepts on the data path (in error messages); constants may also use FOLDABLE_OPS. */
export const SUPPORTED_OPS = [
  "Gemm",
  "MatMul",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "BatchNormalization",
  "Relu",
  "Clip",
  "Conv",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "ReduceMean",
  "Pad",
  "Flatten",
  "Reshape",
  "Squeeze",
  "Unsqueeze",
  "Transpose",
  "Softmax",
  "LogSoftmax",
  "Identity",
  "Dropout",
  "Cast",
  "Constant",
  "Shape",
] as const;

/**
 * An import failure. `node` and `op` name the offending ONNX node (empty for file-level problems such as malformed
 * bytes); the message says what is supported.
 */
export class OnnxImportError extends Error {
  constructor(
    readonly node: string,
    readonly op: string,
    detail: string,
  ) {
    super(node || op ? `ONNX import: node "${node}" (${op}): ${detail}` : `ONNX import: ${detail}`);
    this.name = "OnnxImportError";
  }
}

export const ACTIVATIONS = "supported activations: ReLU (Relu, or Clip with min 0 and no max)";
const ISSUE_17 = "it needs a circuit layer this version does not have (planned: issue 17)";
export const RESIDUAL =
  "supported: the chain's output plus the output of an earlier layer (after its bias, BatchNorm and ReLU) or the graph input, of the same shape";

/** The message for an operator the importer does not handle on the data path: what is supported, plus a hint. */
export function unsupported(op: string): string {
  const hints: Record<string, string> = {
    Sigmoid: `${ACTIVATIONS}; a final Sigmoid can be dropped from the export (the head reads logits)`,
    Tanh: ACTIVATIONS,
    LeakyRelu: ACTIVATIONS,
    Elu: ACTIVATIONS,
    Erf: `Erf is part of GELU; ${ACTIVATIONS}`,
    Concat: "Concat of computed tensors needs a branching graph; supported: a single chain of layers",
    ConvTranspose: ISSUE_17,
  };
  const hint = hints[op] ? `; ${hints[op]}` : "";
  return `operator ${op} is not supported; supported: ${SUPPORTED_OPS.join(", ")} (and constant subgraphs of ${FOLDABLE_OPS.join(", ")})${hint}`;
}
