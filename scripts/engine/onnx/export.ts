/**
 * FloatModel -> ONNX (opset 13), encoded with onnx-proto. The graph takes the *preprocessed* input (float32,
 * [1, n] or [1, C, H, W]) and outputs `logits` [1, classes]; the preprocessing, class names, model name and training
 * provenance travel in metadata_props (`zkml.*`), so an import gives the same FloatModel back (weights rounded to
 * float32). Layers map to: dense -> Gemm (transB = 1) [+ Relu], conv2d -> Conv (groups as group) [+ Relu],
 * maxpool -> MaxPool (padding as pads), avgpool -> AveragePool (padding as pads, count_include_pad 1), flatten ->
 * Flatten (axis 1), add -> Add of the previous output and the `from` layer's output [+ Relu], activation -> its ONNX
 * node (Sigmoid, Tanh, LeakyRelu, Elu, HardSigmoid, Softplus, Clip) or, for the functions opset 13 has no node for,
 * the subgraph PyTorch writes (GELU: Div, Erf, Add, Mul, Mul; its tanh form; SiLU: Sigmoid, Mul; HardSwish:
 * HardSigmoid, Mul; Mish: Softplus, Tanh, Mul), layernorm and attention -> the subgraphs of
 * scripts/engine/onnx/export-transformer.ts.
 */
import type { FloatActivation, FloatModel } from "../../formats/float-model";
import { validateFloatModel } from "../../formats/float-model";
import { IR_VERSION, OPSET, onnx } from "./proto";
import { float, int, ints, tensor, valueInfo } from "./export-nodes";
import { attentionNodes, layerNormNodes } from "./export-transformer";

/**
 * The nodes of one activation on tensor `x`, written to `out`; scalar constants become initializers named after the
 * layer (`act_<li>_*`).
 */
function activationNodes(l: FloatActivation, li: number, x: string, out: string, inits: onnx.ITensorProto[]): onnx.INodeProto[] {
  const p = `act_${li}`;
  const k = (name: string, v: number) => {
    inits.push(tensor(`${p}_${name}`, [], [v]));
    return `${p}_${name}`;
  };
  const n = (name: string, opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []) => ({
    name: `${p}_${name}`,
    opType,
    input,
    output: [output],
    attribute,
  });
  const t = (name: string) => `${p}_${name}_out`;
  switch (l.fn) {
    case "sigmoid":
      return [n("sigmoid", "Sigmoid", [x], out)];
    case "tanh":
      return [n("tanh", "Tanh", [x], out)];
    case "softplus":
      return [n("softplus", "Softplus", [x], out)];
    case "leakyrelu":
      return [n("leakyrelu", "LeakyRelu", [x], out, [float("alpha", l.alpha ?? 0.01)])];
    case "elu":
      return [n("elu", "Elu", [x], out, [float("alpha", l.alpha ?? 1)])];
    case "hardsigmoid":
      return [n("hardsigmoid", "HardSigmoid", [x], out, [float("alpha", l.alpha ?? 1 / 6), float("beta", l.beta ?? 0.5)])];
    case "clip":
      return [n("clip", "Clip", [x, l.min !== undefined ? k("min", l.min) : "", l.max !== undefined ? k("max", l.max) : ""], out)];
    case "silu":
      return [n("sigmoid", "Sigmoid", [x], t("sigmoid")), n("mul", "Mul", [x, t("sigmoid")], out)];
    case "hardswish":
      return [
        n("hardsigmoid", "HardSigmoid", [x], t("hardsigmoid"), [float("alpha", 1 / 6), float("beta", 0.5)]),
        n("mul", "Mul", [x, t("hardsigmoid")], out),
      ];
    case "mish":
      return [
        n("softplus", "Softplus", [x], t("softplus")),
        n("tanh", "Tanh", [t("softplus")], t("tanh")),
        n("mul", "Mul", [x, t("tanh")], out),
      ];
    case "gelu":
      return [
        n("div", "Div", [x, k("sqrt2", Math.SQRT2)], t("div")),
        n("erf", "Erf", [t("div")], t("erf")),
        n("add", "Add", [t("erf"), k("one", 1)], t("add")),
        n("mul", "Mul", [x, t("add")], t("mul")),
        n("half", "Mul", [t("mul"), k("half", 0.5)], out),
      ];
    case "gelu_tanh":
      return [
        n("sq", "Mul", [x, x], t("sq")),
        n("cube", "Mul", [t("sq"), x], t("cube")),
        n("kappa", "Mul", [t("cube"), k("kappa", 0.044715)], t("kappa")),
        n("inner", "Add", [x, t("kappa")], t("inner")),
        n("beta", "Mul", [t("inner"), k("beta", Math.sqrt(2 / Math.PI))], t("beta")),
        n("tanh", "Tanh", [t("beta")], t("tanh")),
        n("add", "Add", [t("tanh"), k("one", 1)], t("add")),
        n("mul", "Mul", [x, t("add")], t("mul")),
        n("half", "Mul", [t("mul"), k("half", 0.5)], out),
      ];
  }
}

/** Options of {@link exportOnnx}. */
export interface ExportOptions {
  /** Append a Softmax node, so the graph outputs probabilities instead of logits (default false). */
  softmax?: boolean;
}

/**
 * Encodes a float model as an ONNX ModelProto.
 * @throws Error naming the layer when the float model is malformed (see validateFloatModel).
 */
export function exportOnnx(fm: FloatModel, opts: ExportOptions = {}): Uint8Array {
  const shapes = validateFloatModel(fm);
  const nodes: onnx.INodeProto[] = [];
  const inits: onnx.ITensorProto[] = [];
  let cur = "input";
  // a sequence model ([C, 1, L] read by a 1-D layer first) takes [1, C, L], as PyTorch's Conv1d
  const first = fm.layers[0].type;
  const seq = fm.inputShape?.[1] === 1 && (first === "conv1d" || first === "maxpool1d" || first === "avgpool1d");
  const inDims = fm.inputShape ? (seq ? [1, fm.inputShape[0], fm.inputShape[2]] : [1, ...fm.inputShape]) : [1, fm.inputSize];
  const relu = (li: number) => {
    nodes.push({ name: `relu_${li}`, opType: "Relu", input: [cur], output: [`relu_${li}_out`] });
    cur = `relu_${li}_out`;
  };
  /** The ONNX tensor each layer outputs (an add layer reads one of them). */
  const layerOut: string[] = [];
  fm.layers.forEach((l, li) => {
    const out = `${l.type}_${li}_out`;
    switch (l.type) {
      case "dense":
        inits.push(tensor(`dense_${li}_W`, [l.W.length, l.W[0].length], l.W.flat()), tensor(`dense_${li}_B`, [l.B.length], l.B));
        nodes.push({
          name: `dense_${li}`,
          opType: "Gemm",
          input: [cur, `dense_${li}_W`, `dense_${li}_B`],
          output: [out],
          attribute: [int("transB", 1)],
        });
        cur = out;
        if (l.relu) relu(li);
        break;
      case "conv2d":
        inits.push(
          tensor(`conv2d_${li}_W`, [l.W.length, l.inShape[0] / (l.groups ?? 1), l.kernel, l.kernel], l.W.flat(3)),
          tensor(`conv2d_${li}_B`, [l.B.length], l.B),
        );
        nodes.push({
          name: `conv2d_${li}`,
          opType: "Conv",
          input: [cur, `conv2d_${li}_W`, `conv2d_${li}_B`],
          output: [out],
          attribute: [
            ints("kernel_shape", [l.kernel, l.kernel]),
            ints("strides", [l.stride, l.stride]),
            ints("pads", [l.padding, l.padding, l.padding, l.padding]),
            ...((l.groups ?? 1) > 1 ? [int("group", l.groups ?? 1)] : []),
          ],
        });
        cur = out;
        if (l.relu) relu(li);
        break;
      case "maxpool":
      case "avgpool":
        nodes.push({
          name: `${l.type}_${li}`,
          opType: l.type === "maxpool" ? "MaxPool" : "AveragePool",
          input: [cur],
          output: [out],
          attribute: [
            ints("kernel_shape", [l.kernel, l.kernel]),
            ints("strides", [l.stride, l.stride]),
            // a padded avgpool counts the zeros (ONNX's default count_include_pad is 0); MaxPool pads are -infinity
            ...(l.padding ? [ints("pads", [l.padding, l.padding, l.padding, l.padding])] : []),
            ...(l.type === "avgpool" && l.padding ? [int("count_include_pad", 1)] : []),
          ],
        });
        cur = out;
        break;
      case "flatten":
        nodes.push({ name: `flatten_${li}`, opType: "Flatten", input: [cur], output: [out], attribute: [int("axis", 1)] });
        cur = out;
        break;
      case "add":
        nodes.push({ name: `add_${li}`, opType: "Add", input: [cur, l.from === -1 ? "input" : layerOut[l.from]], output: [out] });
        cur = out;
        if (l.relu) relu(li);
        break;
      case "activation":
        nodes.push(...activationNodes(l, li, cur, out, inits));
        cur = out;
        break;
      case "embedding":
        // Gather gives [1, seq, d] (token-major); the layer's layout is [d, seq]: transpose to [1, d, seq]
        inits.push(tensor(`embedding_${li}_E`, [l.E.length, l.E[0].length], l.E.flat()));
        nodes.push(
          {
            name: `embedding_${li}`,
            opType: "Gather",
            input: [`embedding_${li}_E`, cur],
            output: [`${out}_rows`],
            attribute: [int("axis", 0)],
          },
          { name: `embedding_${li}_t`, opType: "Transpose", input: [`${out}_rows`], output: [out], attribute: [ints("perm", [0, 2, 1])] },
        );
        cur = out;
        break;
      case "conv1d":
        inits.push(
          tensor(`conv1d_${li}_W`, [l.W.length, l.inShape[0] / (l.groups ?? 1), l.kernel], l.W.flat(2)),
          tensor(`conv1d_${li}_B`, [l.B.length], l.B),
        );
        nodes.push({
          name: `conv1d_${li}`,
          opType: "Conv",
          input: [cur, `conv1d_${li}_W`, `conv1d_${li}_B`],
          output: [out],
          attribute: [
            ints("kernel_shape", [l.kernel]),
            ints("strides", [l.stride]),
            ints("pads", [l.padding, l.padding]),
            ...((l.groups ?? 1) > 1 ? [int("group", l.groups ?? 1)] : []),
          ],
        });
        cur = out;
        if (l.relu) relu(li);
        break;
      case "maxpool1d":
      case "avgpool1d":
        nodes.push({
          name: `${l.type}_${li}`,
          opType: l.type === "maxpool1d" ? "MaxPool" : "AveragePool",
          input: [cur],
          output: [out],
          attribute: [
            ints("kernel_shape", [l.kernel]),
            ints("strides", [l.stride]),
            ...(l.padding ? [ints("pads", [l.padding, l.padding])] : []),
            ...(l.type === "avgpool1d" && l.padding ? [int("count_include_pad", 1)] : []),
          ],
        });
        cur = out;
        break;
      case "trees":
        throw new Error(
          `onnx export: layers[${li}] is a tree ensemble; the exporter writes neural-network layers only (ai.onnx opset 13): keep the model's original ONNX-ML or XGBoost file`,
        );
      case "softmax":
        nodes.push({ name: `softmax_${li}`, opType: "Softmax", input: [cur], output: [out], attribute: [int("axis", -1)] });
        cur = out;
        break;
      case "logsoftmax":
        nodes.push({ name: `logsoftmax_${li}`, opType: "LogSoftmax", input: [cur], output: [out], attribute: [int("axis", -1)] });
        cur = out;
        break;
      case "layernorm":
        nodes.push(...layerNormNodes(l, li, cur, out, inits, (li === 0 ? [fm.inputSize] : shapes[li - 1]).length === 3));
        cur = out;
        break;
      case "attention":
        nodes.push(...attentionNodes(l, li, cur, out, inits));
        cur = out;
        break;
    }
    layerOut.push(cur);
  });
  const nOut = shapes[shapes.length - 1][0];
  const lastType = fm.layers[fm.layers.length - 1].type;
  const hasSoftmax = lastType === "softmax";
  const outName = lastType === "logsoftmax" ? "log_probabilities" : opts.softmax || hasSoftmax ? "probabilities" : "logits";
  if (opts.softmax && !hasSoftmax && lastType !== "logsoftmax")
    nodes.push({ name: "softmax", opType: "Softmax", input: [cur], output: [outName], attribute: [int("axis", -1)] });
  else nodes[nodes.length - 1].output = [outName];
  const meta: Record<string, unknown> = { format: fm.format, name: fm.name, preprocess: fm.preprocess, classes: fm.classes };
  if (fm.task) meta.task = fm.task;
  if (fm.trainedWith) meta.trainedWith = fm.trainedWith;
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "zkml-evm",
    producerVersion: "1",
    docString: `${fm.name}: exported from ${fm.format} by scripts/engine/onnx/export.ts`,
    metadataProps: Object.entries(meta).map(([k, v]) => ({ key: `zkml.${k}`, value: JSON.stringify(v) })),
    graph: {
      name: fm.name,
      node: nodes,
      initializer: inits,
      input: [
        fm.layers[0].type === "embedding"
          ? valueInfo("input", [1, fm.inputSize], onnx.TensorProto.DataType.INT64)
          : valueInfo("input", inDims),
      ],
      output: [valueInfo(outName, [1, nOut])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}
