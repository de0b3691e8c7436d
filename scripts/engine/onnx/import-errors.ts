/**
 * What the ONNX importer accepts and how it says no: {@link OnnxImportError}, the operators it supports on the data
 * path (`SUPPORTED_OPS`), and the shared wording of its refusals (activations, residual connections, unsupported
 * operators with a hint).
 */
import { FOLDABLE_OPS } from "./fold";

/** Operators a single node of which is an activation (scripts/engine/onnx/import-activations.ts). */
export const ACTIVATION_OPS = ["Sigmoid", "Tanh", "LeakyRelu", "Elu", "HardSigmoid", "HardSwish", "Gelu", "Softplus", "Mish"] as const;

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
  ...ACTIVATION_OPS,
  "Erf",
  "Pow",
  "Conv",
  "Gather",
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

export const ACTIVATIONS =
  "supported activations: ReLU, Clip, Sigmoid, Tanh, GELU (Gelu, or its Erf / Tanh decomposition), SiLU, HardSigmoid, HardSwish, LeakyRelu, Elu, Softplus, Mish";
const ISSUE_17 = "it needs a circuit layer this version does not have (planned: issue 17)";
export const RESIDUAL =
  "supported: the chain's output plus the output of an earlier layer (after its bias, BatchNorm and ReLU) or the graph input, of the same shape";

const RECURRENT =
  "recurrent layers (GRU, LSTM, RNN) are not supported: their state runs through every step of the sequence; use a Conv1d or a transformer encoder over the sequence, or an MLP on a fixed window";

/** The message for an operator the importer does not handle on the data path: what is supported, plus a hint. */
export function unsupported(op: string): string {
  const hints: Record<string, string> = {
    Erf: `Erf is supported as part of GELU (x * 0.5 * (1 + erf(x / sqrt 2))); ${ACTIVATIONS}`,
    GRU: RECURRENT,
    LSTM: RECURRENT,
    RNN: RECURRENT,
    Concat: "Concat of computed tensors needs a branching graph; supported: a single chain of layers",
    ConvTranspose: ISSUE_17,
  };
  const hint = hints[op] ? `; ${hints[op]}` : "";
  return `operator ${op} is not supported; supported: ${SUPPORTED_OPS.join(", ")} (and constant subgraphs of ${FOLDABLE_OPS.join(", ")})${hint}`;
}
