import {
  type DenseLayer,
  type LayerPlan,
  type QuantizedModel,
  inputModeOf,
  inputSignalCount,
  modelChunks,
  modelCommitment,
  planModel,
  validateModel,
} from "../model/quantized";
import { MODEL_DOMAIN, valuesPerChunk } from "../quant/commit";
import { convOutShape, differenceBits, hull } from "../quant/ops";
import { SNARK_FIELD, toField } from "../lib/field";

/** Largest bit decomposition any template may make (docs/design-decisions.md: well under 253 bits). */
export const MAX_DECOMPOSITION_BITS = 250;

function circomInt(v: number | bigint): string {
  // Negative constants are written as such; circom reduces them to p - |v|.
  return BigInt(v).toString();
}

function matrix(W: number[][]): string {
  return "[" + W.map((r) => "[" + r.map(circomInt).join(",") + "]").join(",\n        ") + "]";
}

function tensor4(W: number[][][][]): string {
  return (
    "[" +
    W.map((f) => "[" + f.map((c) => "[" + c.map((r) => "[" + r.map(circomInt).join(",") + "]").join(",") + "]").join(",") + "]").join(
      ",\n        ",
    ) +
    "]"
  );
}

function identifier(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/^[a-z]/, (c) => c.toUpperCase());
}

/** Width of Requantize's one decomposition: k + Z + 1, Z = max(A - k, m) + 1. */
function requantizeWidth(A: number, k: number, outBits: number, relu: boolean): number {
  const m = relu ? outBits - 1 : outBits;
  return k + Math.max(A - k, m) + 2;
}

function checkWidth(what: string, bits: number, fix: string): void {
  if (bits > MAX_DECOMPOSITION_BITS) throw new Error(`${what}: needs a ${bits}-bit decomposition (> ${MAX_DECOMPOSITION_BITS}); ${fix}`);
}

/**
 * The private witness inputs that carry the weights of a private-weights model circuit: `w<i>` (dense [nOut][nIn],
 * conv [OC][C / groups][K][K]) and `b<i>` for each weighted layer i, as field-element strings. Empty for open weights.
 * Merge it into the witness input next to `x`, `salt` and `jobBinding`.
 */
export function circuitWeightInputs(model: QuantizedModel): Record<string, unknown> {
  if (model.weights !== "private") return {};
  const f = (v: number): string => toField(BigInt(v)).toString();
  const out: Record<string, unknown> = {};
  model.layers.forEach((l, i) => {
    if (l.type === "dense") out[`w${i}`] = l.W.map((r) => r.map(f));
    else if (l.type === "conv2d") out[`w${i}`] = l.W.map((o) => o.map((c) => c.map((r) => r.map(f))));
    else return;
    out[`b${i}`] = l.B.map(f);
  });
  return out;
}

/**
 * Emits layer i; `outs[j]` is the signal array layer j outputs (an add layer reads one of them, `x` for from = -1).
 * Returns the signal array this layer outputs.
 */
function layerCode(
  model: QuantizedModel,
  p: LayerPlan,
  i: number,
  prev: string,
  outs: readonly string[],
  fns: string[],
  body: string[],
  decls: string[],
): string {
  const l = p.layer;
  const priv = model.weights === "private";
  switch (l.type) {
    case "dense": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, l.relu), "lower wBits/input bits or raise the shift");
      body.push(
        `    // layer ${i}: dense ${l.nIn} -> ${l.nOut}, |acc| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out${l.relu ? ", ReLU" : ""}`,
      );
      if (priv) {
        decls.push(`    signal input w${i}[${l.nOut}][${l.nIn}];`, `    signal input b${i}[${l.nOut}];`);
        body.push(
          `    component l${i} = DensePrivate(${l.nIn}, ${l.nOut}, ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
          `    l${i}.W <== w${i};`,
          `    l${i}.B <== b${i};`,
        );
      } else {
        fns.push(
          `function L${i}_W() {\n    return ${matrix(l.W)};\n}\nfunction L${i}_B() {\n    return [${l.B.map(circomInt).join(",")}];\n}`,
        );
        body.push(
          `    component l${i} = DenseOpen(${l.nIn}, ${l.nOut}, L${i}_W(), L${i}_B(), ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
        );
      }
      body.push(`    l${i}.in <== ${prev};`);
      return `l${i}.out`;
    }
    case "conv2d": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, l.relu), "lower wBits/input bits or raise the shift");
      const [C, H, W] = l.inShape;
      const [OC, OH, OW] = convOutShape(l);
      // groups 1 uses the ungrouped templates, so circuits generated before groups existed stay byte-identical
      const G = l.groups ?? 1;
      const grouped = G > 1 ? "Grouped" : "";
      const geo = `${C}, ${H}, ${W}, ${OC}, ${l.kernel}, ${l.stride}, ${l.padding}${G > 1 ? `, ${G}` : ""}`;
      body.push(
        `    // layer ${i}: conv2d [${C},${H},${W}] -> [${OC},${OH},${OW}], kernel ${l.kernel}, stride ${l.stride}, padding ${l.padding}${G > 1 ? `, ${G} groups` : ""}, |acc| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out${l.relu ? ", ReLU" : ""}`,
      );
      if (priv) {
        decls.push(`    signal input w${i}[${OC}][${C / G}][${l.kernel}][${l.kernel}];`, `    signal input b${i}[${OC}];`);
        body.push(
          `    component l${i} = Conv2d${grouped}Private(${geo}, ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
          `    l${i}.Wt <== w${i};`,
          `    l${i}.B <== b${i};`,
        );
      } else {
        fns.push(
          `function L${i}_W() {\n    return ${tensor4(l.W)};\n}\nfunction L${i}_B() {\n    return [${l.B.map(circomInt).join(",")}];\n}`,
        );
        body.push(
          `    component l${i} = Conv2d${grouped}Open(${geo}, L${i}_W(), L${i}_B(), ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
        );
      }
      body.push(`    l${i}.in <== ${prev};`);
      return `l${i}.out`;
    }
    case "maxpool": {
      checkWidth(`layers[${i}]`, p.D + 1, "narrow the input range");
      const [C, H, W] = l.inShape;
      const P = l.padding ?? 0;
      body.push(
        `    // layer ${i}: maxpool [${C},${H},${W}] kernel ${l.kernel} stride ${l.stride}${P ? `, padding ${P} (padded taps never win)` : ""}, values differ by < 2^${p.D}`,
        P
          ? `    component l${i} = MaxPool2dPadded(${C}, ${H}, ${W}, ${l.kernel}, ${l.stride}, ${P}, ${p.D});`
          : `    component l${i} = MaxPool2d(${C}, ${H}, ${W}, ${l.kernel}, ${l.stride}, ${p.D});`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "avgpool": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, false), "raise the shift");
      const [C, H, W] = l.inShape;
      const P = l.padding ?? 0;
      body.push(
        `    // layer ${i}: avgpool [${C},${H},${W}] kernel ${l.kernel} stride ${l.stride}${P ? `, zero padding ${P}` : ""}, |sum| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out`,
        P
          ? `    component l${i} = AvgPool2dPadded(${C}, ${H}, ${W}, ${l.kernel}, ${l.stride}, ${P}, ${p.A}, ${l.shift}, ${l.outBits});`
          : `    component l${i} = AvgPool2d(${C}, ${H}, ${W}, ${l.kernel}, ${l.stride}, ${p.A}, ${l.shift}, ${l.outBits});`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "flatten":
      body.push(`    // layer ${i}: flatten [${l.inShape.join(",")}] (no-op on the CHW row-major layout)`);
      return prev;
    case "add": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, l.relu), "raise the shift or narrow the operands");
      const saved = l.from === -1 ? "x" : outs[l.from];
      body.push(
        `    // layer ${i}: residual add of ${l.from === -1 ? "the input" : `layer ${l.from}'s output`} (<< ${l.alignFrom}) to the previous output (<< ${l.alignCur}), ${p.outSize} values, |sum| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out${l.relu ? ", ReLU" : ""}`,
        `    component l${i} = AddRescaled(${p.outSize}, ${l.alignCur}, ${l.alignFrom}, ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
        `    l${i}.a <== ${prev};`,
        `    l${i}.b <== ${saved};`,
      );
      return `l${i}.out`;
    }
  }
}

/**
 * Generates the main circuit of a quantized model (every layer type; open or private weights; committed or public
 * input; argmax or values head). Public signals, in order (docs/public-signals.md): result, modelCommitment, then
 * inputCommitment (committed: an output) or inputPacked[0..m-1] (public: public inputs), then jobBinding (public
 * input). Private inputs: x[input.size], salt (committed only), and for private weights w<i>/b<i>
 * (see circuitWeightInputs).
 * @throws Error naming the field when the model is invalid, or the layer when a parameter would need a bit
 * decomposition wider than MAX_DECOMPOSITION_BITS.
 */
export async function generateMainCircuit(model: QuantizedModel): Promise<string> {
  validateModel(model);
  const plan = planModel(model);
  const fns: string[] = [];
  const body: string[] = [];
  const decls: string[] = [];
  let prev = "x";
  const outs: string[] = [];
  plan.forEach((p, i) => {
    prev = layerCode(model, p, i, prev, outs, fns, body, decls);
    outs.push(prev);
  });
  const lastPlan = plan[plan.length - 1];
  const n = model.input.size;
  const tmpl = identifier(model.name);
  const isPublic = inputModeOf(model) === "public";
  const values = model.head === "values";

  let headPart: string;
  if (values) {
    const last = model.layers[model.layers.length - 1] as DenseLayer;
    headPart = `    // head: values, the ${last.nOut} output${last.nOut === 1 ? "" : "s"} (${last.outBits}-bit, ${last.outFrac} fractional bits) packed into one word
    component head = PackSigned(${last.nOut}, ${last.outBits});
    head.in <== ${prev};
    result <== head.out[0];`;
  } else {
    const headBits = differenceBits(hull(lastPlan.outRanges));
    checkWidth("head", headBits, "narrow the logits");
    headPart = `    // head: argmax, lowest index on ties; logits differ by < 2^${headBits}
    component head = Argmax(${lastPlan.outSize}, ${headBits});
    head.in <== ${prev};
    result <== head.out;`;
  }

  let modelPart: string;
  if (model.weights === "open") {
    const commitment = await modelCommitment(model);
    if (commitment >= SNARK_FIELD) throw new Error("model commitment outside the field");
    modelPart = `    // open weights: the weights are constants above, so the verifying key binds them; expose their commitment
    modelCommitment <== ${commitment.toString()};`;
  } else {
    // private weights: range-check and pack each layer's W and B, then chain them (same order as modelChunks()).
    const lines: string[] = [
      "    // private weights: range-check and pack every weight and bias, recompute modelCommitment (quantized.ts)",
    ];
    const total = modelChunks(model).length;
    let off = 0;
    model.layers.forEach((l, i) => {
      if (l.type !== "dense" && l.type !== "conv2d") return;
      const dims = l.type === "dense" ? [l.nOut, l.nIn] : [l.outChannels, l.inShape[0] / (l.groups ?? 1), l.kernel, l.kernel];
      const nW = dims.reduce((a, b) => a * b, 1);
      const nB = l.B.length;
      const idxVars = dims.map((_, d) => `i${d}`);
      const flatIdx = dims.slice(1).reduce((acc, dim, d) => `(${acc}) * ${dim} + ${idxVars[d + 1]}`, idxVars[0]);
      let loop = `pw${i}.in[${flatIdx}] <== w${i}${idxVars.map((v) => `[${v}]`).join("")};`;
      for (let d = dims.length - 1; d >= 0; d--)
        loop = `for (var ${idxVars[d]} = 0; ${idxVars[d]} < ${dims[d]}; ${idxVars[d]}++) { ${loop} }`;
      const cw = Math.ceil(nW / valuesPerChunk(l.wBits));
      const cb = Math.ceil(nB / valuesPerChunk(l.bBits));
      lines.push(
        `    component pw${i} = PackSigned(${nW}, ${l.wBits});`,
        `    ${loop}`,
        `    component pb${i} = PackSigned(${nB}, ${l.bBits});`,
        `    pb${i}.in <== b${i};`,
        `    for (var c = 0; c < ${cw}; c++) { wchain.in[${off} + c] <== pw${i}.out[c]; }`,
        `    for (var c = 0; c < ${cb}; c++) { wchain.in[${off + cw} + c] <== pb${i}.out[c]; }`,
      );
      off += cw + cb;
    });
    if (off !== total) throw new Error(`internal: ${off} weight chunks generated, modelChunks() has ${total}`);
    modelPart = [
      `    component wchain = PoseidonChain(${total});`,
      `    wchain.init <== ${MODEL_DOMAIN.toString()};`,
      ...lines,
      "    modelCommitment <== wchain.out;",
    ].join("\n");
  }

  const m = inputSignalCount(model);
  const resultWhat = values ? "packed output values" : "argmax class";
  const signalsComment = isPublic
    ? `// Public signals: [0] result (${resultWhat}), [1] modelCommitment, ${m === 1 ? "[2] inputPacked[0]" : `[2..${1 + m}] inputPacked[0..${m - 1}]`}, [${2 + m}] jobBinding.`
    : `// Public signals: [0] result (${resultWhat}), [1] modelCommitment, [2] inputCommitment, [3] jobBinding.`;
  const inputDecls = isPublic
    ? `    signal input x[${n}];
    signal input inputPacked[${m}];
    signal input jobBinding;`
    : `    signal input x[${n}];
    signal input salt;
    signal input jobBinding;`;
  const outputDecls = isPublic
    ? `    signal output result;
    signal output modelCommitment;`
    : `    signal output result;
    signal output modelCommitment;
    signal output inputCommitment;`;
  const inputPart = isPublic
    ? `    // input: range-checked to ${model.input.bits} bits and packed; the packed words are the public inputPacked
    component inPack = PackSigned(${n}, ${model.input.bits});
    inPack.in <== x;
    for (var c = 0; c < ${m}; c++) {
        inPack.out[c] === inputPacked[c];
    }`
    : `    // input: range-checked to ${model.input.bits} bits and committed
    component inCommit = CommitSigned(${n}, ${model.input.bits});
    inCommit.in <== x;
    inCommit.salt <== salt;
    inputCommitment <== inCommit.out;`;
  const publicList = isPublic ? "inputPacked, jobBinding" : "jobBinding";
  const header = [
    "pragma circom 2.1.9;",
    `// GENERATED by scripts/circuit/generate.ts from the quantized model "${model.name}" (${model.weights} weights${isPublic ? ", public input" : ""}${values ? ", values head" : ""}). Do not edit.`,
    signalsComment,
  ].join("\n");

  return `${header}

include "model.circom";
${fns.length ? "\n" + fns.join("\n\n") + "\n" : ""}
template ${tmpl}() {
${inputDecls}
${decls.length ? decls.join("\n") + "\n" : ""}${outputDecls}

${inputPart}

${body.join("\n")}

${headPart}

${modelPart}

    component bind = JobBinding();
    bind.in <== jobBinding;
}

component main {public [${publicList}]} = ${tmpl}();
`;
}
