/**
 * The circuit generator: one circom main per quantized model (circuits/models/<name>.circom), its templates chosen
 * and sized from the model's range plan (planModel), with the commitments and the job binding of
 * docs/public-signals.md. Size (about 560 lines), kept in one file: one emitter per layer type around one main
 * template, each checking the widths its template is sound for.
 */
import {
  type Conv2dLayer,
  headLayer,
  layerInputRanges,
  type LayerPlan,
  type QuantizedModel,
  inputModeOf,
  inputSignalCount,
  modelChunks,
  modelCommitment,
  planModel,
  validateModel,
} from "../../formats/quantized-model";
import { layoutOf, layoutWord, publicModelCommitment } from "../../formats/model-layout";
import { MODEL_DOMAIN, packSigned, valuesPerChunk } from "../../formats/commitments";
import { convOutShape, differenceBits, hull, poolWindows, requantizeConstraints } from "../../formats/fixed-point";
import { SNARK_FIELD, toField } from "../../util/field";
import { describeActivation, piecewiseRounds } from "../../formats/activations";
import { expPoly, logSoftmaxBounds, softmaxBounds } from "../../formats/softmax";
import { isLeaf, treeComparisons, treeLeafValues, treeProducts, treeThresholds } from "../../formats/trees";
import { TREE_RECORD_BITS, type TreesLayer, idBits, thresholdBits } from "../../formats/quantized-layers";
import { attentionPlan, layerNormBounds, outProjection } from "../../formats/transformer";
import { signedRange } from "../../formats/fixed-point";

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

/** A conv2d layer whose max pooling (the next layer) runs on the raw accumulators, before one requantization per pooled value. */
export interface PoolFusion {
  /** Index of the conv2d layer; the maxpool is layer conv + 1. */
  conv: number;
  /** Max2's difference width over the accumulators. */
  D: number;
  /** --O2 constraints of the conv's requantizations plus the pool, unfused and fused (the MACs cost the same). */
  unfused: number;
  fused: number;
}

/**
 * Where max pooling before requantization is cheaper: a conv2d followed by a maxpool whose conv output no residual
 * add reads. Requantize is non-decreasing, so max(rq(a_i)) = rq(max(a_i)): the outputs are the same either way
 * (circuits/lib/pool.circom, MaxPoolRequantize). Pooling the accumulators costs one Requantize per pooled value
 * instead of one per accumulator, but Max2 compares accumulator-wide differences; this takes the fused form only when
 * its count (Max2 = D + 2, Requantize = requantizeConstraints) is lower. Keyed by the maxpool's layer index.
 */
export function poolFusions(model: QuantizedModel, plan: readonly LayerPlan[] = planModel(model)): Map<number, PoolFusion> {
  const fusions = new Map<number, PoolFusion>();
  const readByAdd = new Set(model.layers.flatMap((l) => (l.type === "add" ? [l.from] : [])));
  plan.forEach((p, j) => {
    const conv = plan[j - 1];
    const l = p.layer;
    if (j === 0 || l.type !== "maxpool" || conv.layer.type !== "conv2d" || readByAdd.has(j - 1)) return;
    const c = conv.layer;
    const windows = poolWindows(l.inShape, l.kernel, l.stride, l.padding ?? 0).windows;
    const max2s = windows.reduce((n, w) => n + w.length - 1, 0);
    const rq = requantizeConstraints(conv.A, c.shift, c.outBits, c.relu);
    const D = differenceBits(hull(conv.accRanges));
    const unfused = conv.outSize * rq + max2s * (p.D + 2);
    const fused = max2s * (D + 2) + windows.length * rq;
    if (fused < unfused) fusions.set(j, { conv: j - 1, D, unfused, fused });
  });
  return fusions;
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
    else if (l.type === "conv1d") out[`w${i}`] = l.W.map((o) => o.map((c) => c.map(f)));
    else if (l.type === "trees") {
      out[`t${i}`] = treeThresholds(l).map(f);
      const leaves = treeLeafValues(l);
      out[`lv${i}`] = Array.from({ length: leaves.length / l.nOutputs }, (_, j) =>
        leaves.slice(j * l.nOutputs, (j + 1) * l.nOutputs).map(f),
      );
      return;
    } else return;
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
  plan: readonly LayerPlan[],
  prev: string,
  outs: readonly string[],
  fns: string[],
  body: string[],
  decls: string[],
  fusions: ReadonlyMap<number, PoolFusion>,
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
      if (fusions.get(i + 1)?.conv === i) {
        // the next layer max-pools the raw accumulators and requantizes the pooled values (poolFusions)
        const accGeo = `${C}, ${H}, ${W}, ${OC}, ${l.kernel}, ${l.stride}, ${l.padding}, ${G}`;
        body.push(
          `    // layer ${i}: conv2d [${C},${H},${W}] -> [${OC},${OH},${OW}], kernel ${l.kernel}, stride ${l.stride}, padding ${l.padding}${G > 1 ? `, ${G} groups` : ""}: raw accumulators (|acc| < 2^${p.A - 1}), requantized after the pooling of layer ${i + 1}`,
        );
        if (priv) {
          decls.push(`    signal input w${i}[${OC}][${C / G}][${l.kernel}][${l.kernel}];`, `    signal input b${i}[${OC}];`);
          body.push(`    component l${i} = Conv2dAccPrivate(${accGeo});`, `    l${i}.Wt <== w${i};`, `    l${i}.B <== b${i};`);
        } else {
          fns.push(
            `function L${i}_W() {\n    return ${tensor4(l.W)};\n}\nfunction L${i}_B() {\n    return [${l.B.map(circomInt).join(",")}];\n}`,
          );
          body.push(`    component l${i} = Conv2dAccOpen(${accGeo}, L${i}_W(), L${i}_B());`);
        }
        body.push(`    l${i}.in <== ${prev};`);
        return `l${i}.acc`;
      }
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
      const fusion = fusions.get(i);
      if (fusion) {
        const cp = plan[fusion.conv];
        const c = cp.layer as Conv2dLayer;
        checkWidth(`layers[${i}]`, fusion.D + 1, "narrow the accumulator range");
        body.push(
          `    // layer ${i}: maxpool [${C},${H},${W}] kernel ${l.kernel} stride ${l.stride}${P ? `, padding ${P} (padded taps never win)` : ""} on layer ${fusion.conv}'s accumulators (differ by < 2^${fusion.D}), then requantize: shift ${c.shift}, ${c.outBits}-bit out${c.relu ? ", ReLU" : ""} (${fusion.fused} constraints instead of ${fusion.unfused})`,
          `    component l${i} = MaxPoolRequantize(${C}, ${H}, ${W}, ${l.kernel}, ${l.stride}, ${P}, ${fusion.D}, ${cp.A}, ${c.shift}, ${c.outBits}, ${c.relu ? 1 : 0});`,
          `    l${i}.in <== ${prev};`,
        );
        return `l${i}.out`;
      }
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
    case "activation": {
      if (piecewiseRounds(l)) checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, false), "refit the activation");
      const coeffs = "[" + l.coeffs.map((c) => "[" + c.map(circomInt).join(",") + "]").join(",\n        ") + "]";
      fns.push(`function L${i}_C() {\n    return ${coeffs};\n}`);
      body.push(
        `    // layer ${i}: activation ${describeActivation({ fn: l.fn, ...(l.params ?? {}) })} on ${p.outSize} values: ${l.inBits}-bit input in ${2 ** l.segmentBits} segment${l.segmentBits ? "s" : ""}, degree ${l.degree}${piecewiseRounds(l) ? `, |acc| < 2^${p.A - 1}, shift ${l.shift}` : " (a table)"}, ${l.outBits}-bit out${l.maxError !== undefined ? ` (worst error ${l.maxError.toPrecision(3)})` : ""}`,
        `    component l${i} = PiecewisePolyEach(${p.outSize}, ${l.inBits}, ${l.segmentBits}, ${l.degree}, ${p.A}, ${l.shift}, ${l.outBits}, L${i}_C());`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "embedding": {
      const n = idBits(l.vocab);
      const E = "[" + l.E.map((r) => "[" + r.map(circomInt).join(",") + "]").join(",\n        ") + "]";
      fns.push(`function L${i}_E() {\n    return ${E};\n}`);
      body.push(
        `    // layer ${i}: embedding of ${l.seq} token ids (vocabulary ${l.vocab}, ${n}-bit ids checked < ${l.vocab}) into ${l.dim} dims, laid out [${l.dim}, ${l.seq}]`,
        `    component l${i} = Embedding(${l.seq}, ${n}, ${l.vocab}, ${l.dim}, L${i}_E());`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "conv1d": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, l.relu), "lower wBits/input bits or raise the shift");
      const [C, L] = l.inShape;
      const G = l.groups ?? 1;
      const geo = `${C}, ${L}, ${l.outChannels}, ${l.kernel}, ${l.stride}, ${l.padding}, ${G}`;
      body.push(
        `    // layer ${i}: conv1d [${C},${L}] -> [${l.outChannels},${p.outSize / l.outChannels}], kernel ${l.kernel}, stride ${l.stride}, padding ${l.padding}${G > 1 ? `, ${G} groups` : ""}, |acc| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out${l.relu ? ", ReLU" : ""}`,
      );
      if (priv) {
        decls.push(`    signal input w${i}[${l.outChannels}][${C / G}][${l.kernel}];`, `    signal input b${i}[${l.outChannels}];`);
        body.push(`    component l${i}a = Conv1dAccPrivate(${geo});`, `    l${i}a.Wt <== w${i};`, `    l${i}a.B <== b${i};`);
      } else {
        const w =
          "[" + l.W.map((o) => "[" + o.map((c) => "[" + c.map(circomInt).join(",") + "]").join(",") + "]").join(",\n        ") + "]";
        fns.push(`function L${i}_W() {\n    return ${w};\n}\nfunction L${i}_B() {\n    return [${l.B.map(circomInt).join(",")}];\n}`);
        body.push(`    component l${i}a = Conv1dAccOpen(${geo}, L${i}_W(), L${i}_B());`);
      }
      body.push(
        `    l${i}a.in <== ${prev};`,
        `    component l${i} = RequantizeEach(${p.outSize}, ${p.A}, ${l.shift}, ${l.outBits}, ${l.relu ? 1 : 0});`,
        `    l${i}.in <== l${i}a.acc;`,
      );
      return `l${i}.out`;
    }
    case "maxpool1d": {
      checkWidth(`layers[${i}]`, p.D + 1, "narrow the input range");
      const [C, L] = l.inShape;
      body.push(
        `    // layer ${i}: maxpool1d [${C},${L}] kernel ${l.kernel} stride ${l.stride}${l.padding ? `, padding ${l.padding} (padded taps never win)` : ""}, values differ by < 2^${p.D}`,
        `    component l${i} = MaxPool1d(${C}, ${L}, ${l.kernel}, ${l.stride}, ${l.padding ?? 0}, ${p.D});`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "avgpool1d": {
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, false), "raise the shift");
      const [C, L] = l.inShape;
      body.push(
        `    // layer ${i}: avgpool1d [${C},${L}] kernel ${l.kernel} stride ${l.stride}${l.padding ? `, zero padding ${l.padding}` : ""}, |sum| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit out`,
        `    component l${i} = AvgPool1d(${C}, ${L}, ${l.kernel}, ${l.stride}, ${l.padding ?? 0}, ${p.A}, ${l.shift}, ${l.outBits});`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "trees": {
      checkWidth(`layers[${i}]`, p.D + 1, "narrow the input range");
      checkWidth(`layers[${i}]`, requantizeWidth(p.A, l.shift, l.outBits, false), "lower leafBits or raise the shift");
      if (priv) return privateTreesCode(l, i, p, prev, body, decls);
      const inHull = layerInputRanges(model)[i];
      // a threshold outside the inputs' range decides the same way clamped to [lo - 1, hi], which keeps |T - x| < 2^D
      const clampT = (t: number) => (BigInt(t) < inHull.lo - 1n ? inHull.lo - 1n : BigInt(t) > inHull.hi ? inHull.hi : BigInt(t));
      const cmps = treeComparisons(l);
      const cmpOf = new Map(cmps.map((c, j) => [`${c.feature}:${c.threshold}`, j]));
      const nProducts = treeProducts(l);
      body.push(
        `    // layer ${i}: tree ensemble of ${l.trees.length} trees, every node evaluated: ${cmps.length} distinct splits (x <= T, differences < 2^${p.D}), ${nProducts} indicator products, ${l.nOutputs} outputs (|sum| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit)`,
        `    component l${i}c[${cmps.length}];`,
      );
      cmps.forEach((c, j) =>
        body.push(`    l${i}c[${j}] = LessEqConst(${p.D}, ${clampT(c.threshold)});`, `    l${i}c[${j}].in <== ${prev}[${c.feature}];`),
      );
      if (nProducts > 0) body.push(`    signal l${i}p[${nProducts}];`);
      const terms: string[][] = Array.from({ length: l.nOutputs }, () => []);
      let pc = 0;
      l.trees.forEach((tree, ti) => {
        // each node's indicator: 1 at the root; a split's children get ind * [x <= T] and ind - ind * [x <= T]
        const ind: string[] = new Array<string>(tree.nodes.length);
        ind[0] = "1";
        body.push(`    // tree ${ti}: ${tree.nodes.length} nodes`);
        tree.nodes.forEach((n, ni) => {
          if (isLeaf(n)) {
            n.leaf.forEach((w, k) => {
              if (w !== 0) terms[k].push(ind[ni] === "1" ? circomInt(w) : `${circomInt(w)} * ${ind[ni]}`);
            });
            return;
          }
          const bit = `l${i}c[${cmpOf.get(`${n.feature}:${n.threshold}`)}].out`;
          if (ind[ni] === "1") {
            ind[n.yes] = bit;
            ind[n.no] = `(1 - ${bit})`;
          } else {
            const prod = `l${i}p[${pc++}]`;
            body.push(`    ${prod} <== ${ind[ni]} * ${bit};`);
            ind[n.yes] = prod;
            ind[n.no] = `(${ind[ni]} - ${prod})`;
          }
        });
      });
      body.push(`    component l${i} = RequantizeEach(${l.nOutputs}, ${p.A}, ${l.shift}, ${l.outBits}, 0);`);
      terms.forEach((t, k) => body.push(`    l${i}.in[${k}] <== ${[circomInt(l.base[k]), ...t].join(" + ")};`));
      return `l${i}.out`;
    }
    case "softmax": {
      const b = softmaxBounds(l, p.outSize, layerInputRanges(model)[i]);
      checkWidth(`layers[${i}]`, b.D + 1, "narrow the logits");
      checkWidth(`layers[${i}]`, requantizeWidth(b.Ad, l.diffShift, l.diffBits, false), "narrow the logits");
      checkWidth(`layers[${i}]`, requantizeWidth(b.Ae, l.exp.shift, l.exp.outBits, false), "refit the softmax");
      checkWidth(`layers[${i}]`, b.Bq + b.Br + 2, "narrow the probabilities");
      const coeffs = "[" + l.exp.coeffs.map((c) => "[" + c.map(circomInt).join(",") + "]").join(",\n        ") + "]";
      fns.push(`function L${i}_C() {\n    return ${coeffs};\n}`);
      body.push(
        `    // layer ${i}: softmax of ${p.outSize} logits (differ by < 2^${b.D}): exp of the ${l.diffBits}-bit difference to the maximum (shift ${l.diffShift}) in ${2 ** l.exp.segmentBits} segments of degree ${l.exp.degree}, ${l.exp.outBits}-bit; probabilities at 2^-${l.outFrac}`,
        `    component l${i} = SoftmaxValues(${p.outSize}, ${b.D}, ${b.Ad}, ${l.diffShift}, ${l.diffBits}, ${l.exp.segmentBits}, ${l.exp.degree}, ${b.Ae}, ${l.exp.shift}, ${l.exp.outBits}, L${i}_C(), ${l.outFrac}, ${b.Bq}, ${b.Br});`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "logsoftmax": {
      const b = logSoftmaxBounds(l, p.outSize, layerInputRanges(model)[i]);
      checkWidth(`layers[${i}]`, b.D + 1, "narrow the logits");
      checkWidth(`layers[${i}]`, requantizeWidth(b.Ad, l.diffShift, l.diffBits, false), "narrow the logits");
      checkWidth(`layers[${i}]`, requantizeWidth(b.Ae, l.exp.shift, l.exp.outBits, false), "refit the logsoftmax");
      checkWidth(`layers[${i}]`, requantizeWidth(b.Al, l.log.shift, l.log.outBits, false), "refit the logsoftmax");
      const table = (c: number[][]) => "[" + c.map((r) => "[" + r.map(circomInt).join(",") + "]").join(",\n        ") + "]";
      fns.push(`function L${i}_C() {\n    return ${table(l.exp.coeffs)};\n}\nfunction L${i}_LC() {\n    return ${table(l.log.coeffs)};\n}`);
      const e = expPoly(l);
      const g = l.log;
      body.push(
        `    // layer ${i}: log-softmax of ${p.outSize} logits (differ by < 2^${b.D}): exp of the ${l.diffBits}-bit difference to the maximum (shift ${l.diffShift}), the sum shifted by ${l.sumShift} to ${g.inBits} bits, its log in ${2 ** g.segmentBits} segments of degree ${g.degree}; log-probabilities at 2^-${l.outFrac}`,
        `    component l${i} = LogSoftmaxValues(${p.outSize}, ${b.D}, ${b.Ad}, ${l.diffShift}, ${l.diffBits}, ${e.segmentBits}, ${e.degree}, ${b.Ae}, ${e.shift}, ${e.outBits}, L${i}_C(), ${b.As}, ${l.sumShift}, ${g.inBits}, ${g.segmentBits}, ${g.degree}, ${b.Al}, ${g.shift}, ${g.outBits}, L${i}_LC());`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "layernorm": {
      const b = layerNormBounds(l, layerInputRanges(model)[i]);
      const [C, L] = l.inShape;
      checkWidth(`layers[${i}]`, 2 * b.rBits + b.wBits + 2, "lower the input bits");
      checkWidth(`layers[${i}]`, b.tBits, "lower the input bits");
      checkWidth(`layers[${i}]`, requantizeWidth(b.A, l.shift, l.outBits, false), "lower gBits");
      fns.push(
        `function L${i}_G() {\n    return [${l.g.map(circomInt).join(",")}];\n}\nfunction L${i}_B() {\n    return [${l.B.map(circomInt).join(",")}];\n}`,
      );
      body.push(
        `    // layer ${i}: ${l.center === false ? "layernorm without centering (RMSNorm)" : "layernorm"} over ${C} channels at each of ${L} positions: scale r = floor(2^${l.R} / sqrt(W)) (r < 2^${b.rBits}, slacks < 2^${b.tBits}), eps ${l.eps}, |acc| < 2^${b.A - 1}, shift ${l.shift}, ${l.outBits}-bit out`,
        `    component l${i} = LayerNorm(${C}, ${L}, ${l.center === false ? 0 : 1}, ${l.dShift ?? 0}, ${l.eps}, ${l.R}, ${b.rBits}, ${b.tBits}, ${b.A}, ${l.shift}, ${l.outBits}, L${i}_G(), L${i}_B());`,
        `    l${i}.in <== ${prev};`,
      );
      return `l${i}.out`;
    }
    case "attention": {
      const [E, L] = l.inShape;
      const H = l.heads;
      const inRanges = i === 0 ? Array.from({ length: p.inSize }, () => signedRange(model.input.bits)) : plan[i - 1].outRanges;
      const a = attentionPlan(l, inRanges);
      const sm = a.softmax;
      const o = outProjection(l);
      const stages = [
        ["q", l.q, a.Aq],
        ["k", l.k, a.Ak],
        ["v", l.v, a.Av],
        ["s", l.scores, a.As],
        ["c", l.ctx, a.Ac],
        ["o", o, a.Ao],
      ] as const;
      for (const [n, P, A] of stages) checkWidth(`layers[${i}] (${n})`, requantizeWidth(A, P.shift, P.outBits, false), "lower the bits");
      checkWidth(`layers[${i}] (softmax)`, sm.D + 1, "narrow the scores");
      checkWidth(`layers[${i}] (softmax)`, requantizeWidth(sm.Ad, l.softmax.diffShift, l.softmax.diffBits, false), "narrow the scores");
      checkWidth(`layers[${i}] (softmax)`, requantizeWidth(sm.Ae, l.softmax.exp.shift, l.softmax.exp.outBits, false), "refit the softmax");
      checkWidth(`layers[${i}] (softmax)`, sm.Bq + sm.Br + 2, "narrow the probabilities");
      const kernel1 = (W: number[][]) =>
        "[" + W.map((r) => "[" + r.map((w) => `[${circomInt(w)}]`).join(",") + "]").join(",\n        ") + "]";
      for (const [n, P] of [
        ["q", l.q],
        ["k", l.k],
        ["v", l.v],
        ["o", o],
      ] as const)
        fns.push(
          `function L${i}_W${n}() {\n    return ${kernel1(P.W)};\n}\nfunction L${i}_B${n}() {\n    return [${P.B.map(circomInt).join(",")}];\n}`,
        );
      const coeffs = "[" + l.softmax.exp.coeffs.map((c) => "[" + c.map(circomInt).join(",") + "]").join(",\n        ") + "]";
      fns.push(`function L${i}_C() {\n    return ${coeffs};\n}`);
      const proj = (n: string, A: number, P: { shift: number; outBits: number }, input: string, out: string) => [
        `    component l${i}${n}a = Conv1dAccOpen(${E}, ${L}, ${E}, 1, 1, 0, 1, L${i}_W${n}(), L${i}_B${n}());`,
        `    l${i}${n}a.in <== ${input};`,
        `    component ${out} = RequantizeEach(${E * L}, ${A}, ${P.shift}, ${P.outBits}, 0);`,
        `    ${out}.in <== l${i}${n}a.acc;`,
      ];
      const x = l.softmax;
      body.push(
        `    // layer ${i}: self-attention on [${E}, ${L}], ${H} heads of ${E / H}: q, k, v projections (|acc| < 2^${a.Aq - 1}, 2^${a.Ak - 1}, 2^${a.Av - 1}), scores (|acc| < 2^${a.As - 1}, shift ${l.scores.shift}), a softmax per row (scores differ by < 2^${sm.D}, probabilities at 2^-${x.outFrac}), context (|acc| < 2^${a.Ac - 1}, shift ${l.ctx.shift}), output projection (|acc| < 2^${a.Ao - 1}, shift ${o.shift}), ${l.outBits}-bit out`,
        ...proj("q", a.Aq, l.q, prev, `l${i}q`),
        ...proj("k", a.Ak, l.k, prev, `l${i}k`),
        ...proj("v", a.Av, l.v, prev, `l${i}v`),
        `    component l${i}sa = HeadScores(${H}, ${L}, ${E / H});`,
        `    l${i}sa.q <== l${i}q.out;`,
        `    l${i}sa.k <== l${i}k.out;`,
        `    component l${i}s = RequantizeEach(${H * L * L}, ${a.As}, ${l.scores.shift}, ${l.scores.outBits}, 0);`,
        `    l${i}s.in <== l${i}sa.acc;`,
        `    component l${i}p[${H * L}];`,
        `    component l${i}ca = HeadMix(${H}, ${L}, ${E / H});`,
        `    for (var r = 0; r < ${H * L}; r++) {`,
        `        l${i}p[r] = SoftmaxValues(${L}, ${sm.D}, ${sm.Ad}, ${x.diffShift}, ${x.diffBits}, ${x.exp.segmentBits}, ${x.exp.degree}, ${sm.Ae}, ${x.exp.shift}, ${x.exp.outBits}, L${i}_C(), ${x.outFrac}, ${sm.Bq}, ${sm.Br});`,
        `        for (var j = 0; j < ${L}; j++) {`,
        `            l${i}p[r].in[j] <== l${i}s.out[r * ${L} + j];`,
        `        }`,
        `        for (var j = 0; j < ${L}; j++) {`,
        `            l${i}ca.p[r * ${L} + j] <== l${i}p[r].out[j];`,
        `        }`,
        `    }`,
        `    l${i}ca.v <== l${i}v.out;`,
        `    component l${i}c = RequantizeEach(${E * L}, ${a.Ac}, ${l.ctx.shift}, ${l.ctx.outBits}, 0);`,
        `    l${i}c.in <== l${i}ca.acc;`,
        ...proj("o", a.Ao, o, `l${i}c.out`, `l${i}`),
      );
      return `l${i}.out`;
    }
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
 * A committed (private) tree ensemble: the thresholds `t<i>` and leaf values `lv<i>` are witnesses (packed into the
 * model commitment by the caller), the structure (features, children) is the circuit's; every split is a
 * `LessEqSignal`, every node's indicator as in the open form, and each leaf value enters the sums through one product
 * with its indicator.
 */
function privateTreesCode(l: TreesLayer, i: number, p: LayerPlan, prev: string, body: string[], decls: string[]): string {
  const nSplits = treeThresholds(l).length;
  const nLeaves = treeLeafValues(l).length / l.nOutputs;
  decls.push(`    signal input t${i}[${nSplits}];`, `    signal input lv${i}[${nLeaves}][${l.nOutputs}];`);
  body.push(
    `    // layer ${i}: committed tree ensemble of ${l.trees.length} trees, every node evaluated: ${nSplits} splits on witness thresholds (differences < 2^${p.D}), ${treeProducts(l)} indicator products, ${nLeaves} witness leaves of ${l.nOutputs} values, ${l.nOutputs} outputs (|sum| < 2^${p.A - 1}, shift ${l.shift}, ${l.outBits}-bit)`,
    `    component l${i}c[${nSplits}];`,
  );
  const terms: string[][] = Array.from({ length: l.nOutputs }, () => []);
  let sc = 0;
  let lc = 0;
  let pc = 0;
  let qc = 0;
  const prods: string[] = [];
  l.trees.forEach((tree) => {
    const ind: string[] = new Array<string>(tree.nodes.length);
    ind[0] = "1";
    tree.nodes.forEach((n, ni) => {
      if (isLeaf(n)) {
        for (let k = 0; k < l.nOutputs; k++) {
          if (ind[ni] === "1") terms[k].push(`lv${i}[${lc}][${k}]`);
          else {
            prods.push(`    l${i}q[${qc}] <== lv${i}[${lc}][${k}] * ${ind[ni]};`);
            terms[k].push(`l${i}q[${qc++}]`);
          }
        }
        lc++;
        return;
      }
      const c = sc++;
      body.push(
        `    l${i}c[${c}] = LessEqSignal(${p.D});`,
        `    l${i}c[${c}].in <== ${prev}[${n.feature}];`,
        `    l${i}c[${c}].t <== t${i}[${c}];`,
      );
      const bit = `l${i}c[${c}].out`;
      if (ind[ni] === "1") {
        ind[n.yes] = bit;
        ind[n.no] = `(1 - ${bit})`;
      } else {
        const prod = `l${i}p[${pc++}]`;
        prods.push(`    ${prod} <== ${ind[ni]} * ${bit};`);
        ind[n.yes] = prod;
        ind[n.no] = `(${ind[ni]} - ${prod})`;
      }
    });
  });
  if (pc > 0) body.push(`    signal l${i}p[${pc}];`);
  if (qc > 0) body.push(`    signal l${i}q[${qc}];`);
  body.push(...prods, `    component l${i} = RequantizeEach(${l.nOutputs}, ${p.A}, ${l.shift}, ${l.outBits}, 0);`);
  terms.forEach((t, k) => body.push(`    l${i}.in[${k}] <== ${[circomInt(l.base[k]), ...t].join(" + ")};`));
  return `l${i}.out`;
}

export interface GenerateOptions {
  /**
   * false: requantize every conv output before max pooling, even where pooling the accumulators first is cheaper
   * (same outputs; for comparisons and the equivalence tests). Default true.
   */
  poolFusion?: boolean;
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
export async function generateMainCircuit(model: QuantizedModel, options: GenerateOptions = {}): Promise<string> {
  validateModel(model);
  const plan = planModel(model);
  const fns: string[] = [];
  const body: string[] = [];
  const decls: string[] = [];
  let prev = "x";
  const outs: string[] = [];
  const fusions = options.poolFusion === false ? new Map<number, PoolFusion>() : poolFusions(model, plan);
  plan.forEach((p, i) => {
    prev = layerCode(model, p, i, plan, prev, outs, fns, body, decls, fusions);
    outs.push(prev);
  });
  const lastPlan = plan[plan.length - 1];
  const n = model.input.size;
  const tmpl = identifier(model.name);
  const isPublic = inputModeOf(model) === "public";
  const values = model.head === "values";

  let headPart: string;
  if (values) {
    const last = headLayer(model);
    const nOut = lastPlan.outSize;
    headPart = `    // head: values, the ${nOut} output${nOut === 1 ? "" : "s"} (${last.outBits}-bit, ${last.outFrac} fractional bits) packed into one word
    component head = PackSigned(${nOut}, ${last.outBits});
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

  // The public model commitment binds the weights AND this circuit's layout (docs/public-signals.md, "Layout
  // binding"): modelCommitment = Poseidon(weights commitment, L), L = layoutWord(layoutOf(model)), which the registry
  // recomputes on chain from the registered modelHash and layout.
  const layout = layoutOf(model);
  const L = layoutWord(layout);
  const layoutNote = `    // layout ${JSON.stringify(layout).replace(/"/g, "")}\n    // L = layoutWord(layout) = ${L.toString()}`;
  let modelPart: string;
  if (model.weights === "open") {
    const weights = await modelCommitment(model);
    if (weights >= SNARK_FIELD) throw new Error("model commitment outside the field");
    const commitment = await publicModelCommitment(weights, layout);
    modelPart = `    // open weights: the weights are constants above, so the verifying key binds them; expose the public model
    // commitment Poseidon(weights commitment, L), a constant; weights commitment (the registry's modelHash):
    // ${weights.toString()}
${layoutNote}
    modelCommitment <== ${commitment.toString()};`;
  } else {
    // private weights: range-check and pack each layer's W and B, then chain them (same order as modelChunks()).
    const lines: string[] = [
      "    // private weights: range-check and pack every weight and bias, recompute modelCommitment (quantized.ts)",
    ];
    const total = modelChunks(model).length;
    let off = 0;
    model.layers.forEach((l, i) => {
      if (l.type === "trees") {
        // the thresholds and leaves (witnesses) packed and range-checked, then the base (constant chunks)
        const inBits = i === 0 ? model.input.bits : (model.layers[i - 1] as { outBits: number }).outBits;
        const nT = treeThresholds(l).length;
        const nL = treeLeafValues(l).length;
        const ct = Math.ceil(nT / valuesPerChunk(thresholdBits(inBits)));
        const cl = Math.ceil(nL / valuesPerChunk(l.leafBits));
        const base = packSigned(l.base.map(BigInt), TREE_RECORD_BITS, `layers[${i}].base`);
        lines.push(
          `    component pt${i} = PackSigned(${nT}, ${thresholdBits(inBits)});`,
          `    pt${i}.in <== t${i};`,
          `    component pl${i} = PackSigned(${nL}, ${l.leafBits});`,
          `    for (var j = 0; j < ${nL / l.nOutputs}; j++) { for (var k = 0; k < ${l.nOutputs}; k++) { pl${i}.in[j * ${l.nOutputs} + k] <== lv${i}[j][k]; } }`,
          `    for (var c = 0; c < ${ct}; c++) { wchain.in[${off} + c] <== pt${i}.out[c]; }`,
          `    for (var c = 0; c < ${cl}; c++) { wchain.in[${off + ct} + c] <== pl${i}.out[c]; }`,
          ...base.map((v, c) => `    wchain.in[${off + ct + cl + c}] <== ${v.toString()};`),
        );
        off += ct + cl + base.length;
        return;
      }
      if (l.type !== "dense" && l.type !== "conv2d" && l.type !== "conv1d") return;
      const dims =
        l.type === "dense"
          ? [l.nOut, l.nIn]
          : l.type === "conv1d"
            ? [l.outChannels, l.inShape[0] / (l.groups ?? 1), l.kernel]
            : [l.outChannels, l.inShape[0] / (l.groups ?? 1), l.kernel, l.kernel];
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
      "    // bind the layout: the public model commitment is Poseidon(weights commitment, L)",
      layoutNote,
      "    component withLayout = Poseidon(2);",
      "    withLayout.inputs[0] <== wchain.out;",
      `    withLayout.inputs[1] <== ${L.toString()};`,
      "    modelCommitment <== withLayout.out;",
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
    `// GENERATED by scripts/engine/circuit/generate.ts from the quantized model "${model.name}" (${model.weights} weights${isPublic ? ", public input" : ""}${values ? ", values head" : ""}). Do not edit.`,
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
