/**
 * Post-training quantization (docs/model-format.md, "How the quantizer chooses the numbers"): the scale of every
 * layer from a calibration set, and the reports that judge a quantized model against its float one (top-1 agreement,
 * regression and probability error, chooseBits). Size (about 570 lines), kept in one file: the per-layer scale
 * rules and the reports share one calibration path and are read together when a width is chosen.
 */
import type { FloatModel } from "../formats/float-model";
import { argmaxFloat, forwardFloat, preprocess, validateFloatModel } from "../formats/float-model";
import { quantizeFeatures, quantizeInput, roundHalfAway } from "../formats/quantized-input";
import {
  type InputMode,
  type OutputHead,
  type QuantizedLayer,
  type QuantizedModel,
  headLayer,
  inferQuantized,
  validateModel,
} from "../formats/quantized-model";
import { fracFor, signedRange } from "../formats/fixed-point";

export { fracFor };
import { activationMaxAbs, fitActivation, fitFunction } from "./activation-fit";
import { idBits } from "../formats/quantized-layers";
import type { SoftmaxParams } from "../formats/softmax";
import { attentionFloatParts, layerNormParams } from "../formats/transformer";

export interface QuantizeOptions {
  /** Bits of inputs, weights and activations (default 8). */
  bits?: number;
  /** Bits of biases (default 32). */
  biasBits?: number;
  weights?: "open" | "private";
  /**
   * Bits of the last layer's outputs, the logits the argmax head compares (default `bits`). Wider logits resolve
   * near-ties between classes at the cost of a wider argmax comparison in the circuit.
   */
  logitBits?: number;
  /** How the input enters the public signals (default "committed"; docs/public-signals.md). */
  inputMode?: InputMode;
  /** "argmax" (default for classification) or "values" (default, and the only choice, for regression). */
  head?: OutputHead;
}

function maxAbs(values: Iterable<number>): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

/**
 * Post-training quantization with power-of-two scales chosen from a calibration set (preprocessed inputs):
 * each tensor gets the most fractional bits that keep its calibration maximum in range. Biases sit at the
 * accumulator scale. Activations outside the calibration range saturate in the circuit (never fail).
 *
 * Per layer type: dense and conv2d get wFrac from their largest weight, outFrac from the calibration maximum of
 * their output and shift = inFrac + wFrac - outFrac (outFrac is lowered to inFrac + wFrac when that would be
 * negative); maxpool and flatten keep the scale; avgpool sums its K x K window and shifts by log2(K*K), which keeps
 * the scale (K*K must be a power of two); add aligns its two operands to the finer of their scales F (left shifts),
 * takes outFrac from the calibration maximum of its output and shift = F - outFrac.
 * @throws Error naming the layer when a bias does not fit `biasBits`, or an avgpool window is not a power of two.
 */
export function quantizeModel(model: FloatModel, calibration: readonly number[][], opts: QuantizeOptions = {}): QuantizedModel {
  let fm = model;
  const bits = opts.bits ?? 8;
  const bBits = opts.biasBits ?? 32;
  if (calibration.length === 0) throw new Error("calibration: needs at least one input");
  const floatShapes = validateFloatModel(fm);
  const regression = fm.task === "regression";
  const head = opts.head ?? defaultHead(fm);
  // the argmax of the probabilities is the argmax of the logits: an argmax head skips a final softmax (cheaper)
  const lastType = fm.layers[fm.layers.length - 1].type;
  if (head === "argmax" && (lastType === "softmax" || lastType === "logsoftmax")) fm = { ...fm, layers: fm.layers.slice(0, -1) };
  if (regression && head === "argmax")
    throw new Error(
      `model ${fm.name} is a regression model (task "regression"): an argmax head makes no sense for it; use head "values" (quantize.json "head": "values")`,
    );
  if (head !== "argmax" && head !== "values") throw new Error(`head must be "argmax" or "values", got ${JSON.stringify(head)}`);
  if (opts.inputMode !== undefined && opts.inputMode !== "committed" && opts.inputMode !== "public")
    throw new Error(`inputMode must be "committed" or "public", got ${JSON.stringify(opts.inputMode)}`);
  calibration.forEach((x, i) => {
    if (x.length !== fm.inputSize) throw new Error(`calibration[${i}]: has ${x.length} values; model ${fm.name} takes ${fm.inputSize}`);
  });
  const inMax = maxAbs(calibration.flat());
  // token ids are integers: frac 0, and input bits wide enough for the largest id
  const first = fm.layers[0];
  const embedding = first.type === "embedding";
  const inFrac = embedding ? 0 : fracFor(inMax, bits);
  const inBits = embedding ? Math.max(bits, idBits(first.E.length) + 1) : bits;
  const actMax = fm.layers.map(() => 0);
  for (const x of calibration) {
    forwardFloat(fm, x).forEach((a, l) => {
      actMax[l] = Math.max(actMax[l], maxAbs(a));
    });
  }
  let fIn = inFrac;
  /** Signed width of the values the current layer reads. */
  let bitsIn = inBits;
  const { lo, hi } = signedRange(bBits);
  const quantBias = (li: number, B: readonly number[], frac: number) =>
    B.map((b, j) => {
      const q = roundHalfAway(b * 2 ** frac);
      if (!Number.isSafeInteger(q) || BigInt(q) < lo || BigInt(q) > hi)
        throw new Error(
          `layers[${li}].B[${j}]: bias ${b} needs more than ${bBits} bits at scale 2^${frac}; raise biasBits or retrain with weight decay`,
        );
      return q;
    });
  /** Scales of a dense or conv layer: weight frac, output frac and shift. */
  const lastLayer = fm.layers.length - 1;
  const outBitsOf = (li: number) => (li === lastLayer ? (opts.logitBits ?? bits) : bits);
  const scales = (li: number, weights: number[]) => {
    const wFrac = fracFor(maxAbs(weights), bits);
    let outFrac = fracFor(actMax[li], outBitsOf(li));
    let shift = fIn + wFrac - outFrac;
    if (shift < 0) {
      outFrac = fIn + wFrac;
      shift = 0;
    }
    return { wFrac, outFrac, shift };
  };
  /** Fractional bits of every layer's output so far (an add layer aligns the saved operand's scale). */
  const fracs: number[] = [];
  const layers = fm.layers.map((l, li): QuantizedLayer => {
    const q = quantizeLayer(l, li);
    fracs.push(fIn);
    if ("outBits" in q) bitsIn = q.outBits;
    return q;
  });
  function quantizeLayer(l: FloatModel["layers"][number], li: number): QuantizedLayer {
    switch (l.type) {
      case "dense": {
        const { wFrac, outFrac, shift } = scales(li, l.W.flat());
        const B = quantBias(li, l.B, fIn + wFrac);
        const W = l.W.map((r) => r.map((w) => roundHalfAway(w * 2 ** wFrac)));
        fIn = outFrac;
        return {
          type: "dense",
          nIn: l.W[0].length,
          nOut: l.W.length,
          W,
          B,
          wBits: bits,
          wFrac,
          bBits,
          shift,
          outBits: outBitsOf(li),
          outFrac,
          relu: l.relu,
        };
      }
      case "embedding": {
        const wFrac = fracFor(maxAbs(l.E.flat()), bits);
        fIn = wFrac;
        return {
          type: "embedding",
          vocab: l.E.length,
          dim: l.E[0].length,
          seq: fm.inputSize,
          E: l.E.map((r) => r.map((w) => roundHalfAway(w * 2 ** wFrac))),
          wBits: bits,
          wFrac,
          outBits: bits,
          outFrac: wFrac,
        };
      }
      case "conv2d":
      case "conv1d": {
        const { wFrac, outFrac, shift } = scales(li, l.type === "conv2d" ? l.W.flat(3) : l.W.flat(2));
        const B = quantBias(li, l.B, fIn + wFrac);
        const q = (w: number) => roundHalfAway(w * 2 ** wFrac);
        fIn = outFrac;
        const common = {
          outChannels: l.W.length,
          kernel: l.kernel,
          stride: l.stride,
          padding: l.padding,
          // absent = 1: keeps the files of ungrouped models exactly as before the field existed
          ...(l.groups !== undefined && l.groups !== 1 ? { groups: l.groups } : {}),
        };
        // the key order is the files' (committed models hash their qmodel files); conv2d keeps `bits` as its output
        // width, as before logitBits existed
        const tail = (outBits: number) => ({ B, wBits: bits, wFrac, bBits, shift, outBits, outFrac, relu: l.relu });
        return l.type === "conv2d"
          ? { type: "conv2d", inShape: [...l.inShape], ...common, W: l.W.map((o) => o.map((c) => c.map((r) => r.map(q)))), ...tail(bits) }
          : { type: "conv1d", inShape: [...l.inShape], ...common, W: l.W.map((o) => o.map((c) => c.map(q))), ...tail(outBitsOf(li)) };
      }
      case "maxpool": {
        const q: QuantizedLayer = { type: "maxpool", inShape: [...l.inShape], kernel: l.kernel, stride: l.stride };
        if (l.padding) q.padding = l.padding;
        return q;
      }
      case "avgpool":
      case "avgpool1d": {
        const window = l.type === "avgpool" ? l.kernel * l.kernel : l.kernel;
        const shift = Math.log2(window);
        if (!Number.isInteger(shift))
          throw new Error(
            `layers[${li}]: ${l.type === "avgpool" ? `avgpool ${l.kernel}x${l.kernel}` : `avgpool1d of ${l.kernel}`} is not supported: the window size must be a power of two (${l.type === "avgpool" ? "2x2, 4x4" : "2, 4, 8"}, ...) so that the average is a shift`,
          );
        const q: QuantizedLayer =
          l.type === "avgpool"
            ? { type: "avgpool", inShape: [...l.inShape], kernel: l.kernel, stride: l.stride, shift, outBits: bits, outFrac: fIn }
            : {
                type: "avgpool1d",
                inShape: [l.inShape[0], l.inShape[1]],
                kernel: l.kernel,
                stride: l.stride,
                shift,
                outBits: bits,
                outFrac: fIn,
              };
        // absent = no padding: keeps the files of unpadded models exactly as before the field existed
        if (l.padding) q.padding = l.padding;
        return q;
      }
      case "flatten":
        return { type: "flatten", inShape: [...l.inShape] };
      case "activation": {
        // the output scale holds the function's largest value over every input the previous layer can produce;
        // the piecewise polynomial is the cheapest fit within one output step (activation-fit.ts)
        const { type: _t, ...spec } = l;
        const outBits = outBitsOf(li);
        const outFrac = fracFor(activationMaxAbs(spec, bitsIn, fIn), outBits);
        const fit = fitActivation(spec, bitsIn, fIn, outBits, outFrac);
        const params = Object.fromEntries(Object.entries(spec).filter(([k, v]) => k !== "fn" && v !== undefined));
        const q: QuantizedLayer = {
          type: "activation",
          fn: spec.fn,
          ...(Object.keys(params).length ? { params } : {}),
          inBits: bitsIn,
          inFrac: fIn,
          segmentBits: fit.poly.segmentBits,
          degree: fit.poly.degree,
          shift: fit.poly.shift,
          coeffs: fit.poly.coeffs,
          outBits,
          outFrac,
          maxError: Number(fit.maxError.toPrecision(4)),
        };
        fIn = outFrac;
        return q;
      }
      case "maxpool1d": {
        const q: QuantizedLayer = { type: "maxpool1d", inShape: [...l.inShape], kernel: l.kernel, stride: l.stride };
        if (l.padding) q.padding = l.padding;
        return q;
      }
      case "trees": {
        // x <= t  <=>  x_q <= floor(t * 2^f);  x < t  <=>  x_q <= ceil(t * 2^f) - 1 (x_q an integer at scale 2^-f);
        // thresholds outside the input range decide the same clamped to [lo - 1, hi]
        const { lo: xLo, hi: xHi } = signedRange(bitsIn);
        const T = (t: number, mode: "leq" | "lt") => {
          const v = mode === "leq" ? Math.floor(t * 2 ** fIn) : Math.ceil(t * 2 ** fIn) - 1;
          return Number(BigInt(v) < xLo - 1n ? xLo - 1n : BigInt(v) > xHi ? xHi : BigInt(v));
        };
        const leafBits = Math.min(32, Math.max(16, bits + 8));
        const leaves = l.trees.flatMap((t) => t.nodes.flatMap((n) => ("leaf" in n ? n.leaf : [])));
        const leafFrac = fracFor(maxAbs(leaves), leafBits);
        const base = l.base.map((b, k) => {
          const v = roundHalfAway(b * 2 ** leafFrac);
          if (!Number.isSafeInteger(v))
            throw new Error(`layers[${li}].base[${k}]: ${b} does not fit a safe integer at scale 2^${leafFrac}`);
          return v;
        });
        let outFrac = fracFor(actMax[li], outBitsOf(li));
        let shift = leafFrac - outFrac;
        if (shift < 0) {
          outFrac = leafFrac;
          shift = 0;
        }
        const q: QuantizedLayer = {
          type: "trees",
          nOutputs: l.nOutputs,
          trees: l.trees.map((t) => ({
            nodes: t.nodes.map((n) =>
              "leaf" in n
                ? { leaf: n.leaf.map((w) => roundHalfAway(w * 2 ** leafFrac)) }
                : { feature: n.feature, threshold: T(n.threshold, n.mode), yes: n.yes, no: n.no },
            ),
          })),
          base,
          inFrac: fIn,
          leafBits,
          leafFrac,
          shift,
          outBits: outBitsOf(li),
          outFrac,
        };
        fIn = outFrac;
        return q;
      }
      case "softmax": {
        const q: QuantizedLayer = { type: "softmax", ...softmaxParams(`layers[${li}] (softmax)`, bitsIn, fIn, outBitsOf(li)) };
        fIn = q.outFrac;
        return q;
      }
      case "logsoftmax": {
        // the softmax's difference and exponential, the sum shifted to 16 bits, its log fitted at the difference's
        // scale (docs/circuits.md, "Softmax"); log-probabilities >= -16 - log(n) need diffBits + 1 bits
        const { outBits: _o, outFrac: _f, maxError, ...sm } = softmaxParams(`layers[${li}] (logsoftmax)`, bitsIn, fIn, outBitsOf(li));
        const fd = sm.exp.inFrac;
        const n = li === 0 ? fm.inputSize : floatShapes[li - 1][0];
        const sumMax = n * 2 ** sm.exp.outBits;
        const logBits = 16;
        const sumShift = Math.max(0, Math.ceil(Math.log2(sumMax + 1)) + 1 - logBits);
        const sumFrac = sm.exp.outFrac - sumShift;
        // the sum is at least exp(0) = 1: the log of a smaller input (never produced) is clamped to log(1 / 2)
        const fit = fitFunction(
          (x) => Math.log(Math.max(x, 0.5)),
          `layers[${li}] (logsoftmax): log`,
          logBits,
          sumFrac,
          Math.max(fd + 6, 8),
          fd,
        );
        const q: QuantizedLayer = {
          type: "logsoftmax",
          ...sm,
          sumShift,
          log: { ...fit.poly, inFrac: sumFrac, outFrac: fd },
          outBits: 1 + Math.ceil(Math.log2(2 ** (sm.diffBits - 1) + Math.log(n) * 2 ** fd + 2)),
          outFrac: fd,
          maxError: Number(Math.max(maxError, fit.maxError).toPrecision(4)),
        };
        fIn = fd;
        return q;
      }
      case "layernorm": {
        const outBits = outBitsOf(li);
        const q = layerNormParams(`layers[${li}]`, l, bitsIn, fIn, outBits, fracFor(actMax[li], outBits));
        fIn = q.outFrac;
        return { type: "layernorm", ...q };
      }
      case "attention": {
        // the scales of q, k, v, the scores and the context come from the float intermediates on the calibration set
        const m = { q: 0, k: 0, v: 0, scores: 0, ctx: 0 };
        for (const x of calibration) {
          const acts = forwardFloat(fm, x);
          const parts = attentionFloatParts(l, li === 0 ? x : acts[li - 1]);
          for (const key of Object.keys(m) as (keyof typeof m)[]) m[key] = Math.max(m[key], maxAbs(parts[key]));
        }
        const project = (W: number[][], B: number[], inFrac: number, outMax: number, outBits: number) => {
          const wFrac = fracFor(maxAbs(W.flat()), bits);
          let outFrac = fracFor(outMax, outBits);
          let shift = inFrac + wFrac - outFrac;
          if (shift < 0) {
            outFrac = inFrac + wFrac;
            shift = 0;
          }
          const Wq = W.map((r) => r.map((w) => roundHalfAway(w * 2 ** wFrac)));
          return { W: Wq, B: quantBias(li, B, inFrac + wFrac), wFrac, shift, outBits, outFrac };
        };
        const rescale = (accFrac: number, outMax: number, outBits: number) => {
          let outFrac = fracFor(outMax, outBits);
          let shift = accFrac - outFrac;
          if (shift < 0) {
            outFrac = accFrac;
            shift = 0;
          }
          return { shift, outBits, outFrac };
        };
        const q = project(l.Wq, l.Bq, fIn, m.q, bits);
        const k = project(l.Wk, l.Bk, fIn, m.k, bits);
        const v = project(l.Wv, l.Bv, fIn, m.v, bits);
        const scores = rescale(q.outFrac + k.outFrac, m.scores, bits);
        // attention weights at 2^-bits (two more bits than a probability head: they weigh every value)
        const { maxError: _e, ...softmax } = softmaxParams(`layers[${li}] (attention softmax)`, scores.outBits, scores.outFrac, bits + 2);
        const ctx = rescale(softmax.outFrac + v.outFrac, m.ctx, bits);
        const { outBits, outFrac, ...o } = project(l.Wo, l.Bo, ctx.outFrac, actMax[li], outBitsOf(li));
        const layer: QuantizedLayer = {
          type: "attention",
          inShape: [...l.inShape],
          heads: l.heads,
          inBits: bitsIn,
          inFrac: fIn,
          wBits: bits,
          bBits,
          q,
          k,
          v,
          scores,
          softmax,
          ctx,
          o,
          outBits,
          outFrac,
        };
        fIn = outFrac;
        return layer;
      }
      case "add": {
        // align both operands to the finer scale F (a left shift of the coarser one is exact), then requantize
        const fSaved = l.from === -1 ? inFrac : fracs[l.from];
        const F = Math.max(fIn, fSaved);
        let outFrac = fracFor(actMax[li], outBitsOf(li));
        let shift = F - outFrac;
        if (shift < 0) {
          outFrac = F;
          shift = 0;
        }
        const q: QuantizedLayer = {
          type: "add",
          from: l.from,
          alignCur: F - fIn,
          alignFrom: F - fSaved,
          shift,
          outBits: outBitsOf(li),
          outFrac,
          relu: l.relu,
        };
        fIn = outFrac;
        return q;
      }
    }
  }
  const input: QuantizedModel["input"] = { size: fm.inputSize, bits: inBits, frac: inFrac };
  if (fm.inputShape) input.shape = [...fm.inputShape];
  // absent = committed: keeps the files of committed-mode models exactly as before the option existed
  if (opts.inputMode === "public") input.mode = "public";
  return validateModel({
    format: "zkml-quantized-v1",
    name: fm.name,
    input,
    weights: opts.weights ?? "open",
    layers,
    head,
    classes: fm.classes,
    preprocess: fm.preprocess,
  });
}

/**
 * A softmax over inBits-bit logits at 2^-inFrac with outBits-bit probabilities: the difference to the largest logit
 * keeps at most 8 fractional bits and covers [-16, 0] (exp(-16) < 2^-23: beyond, it saturates at a value whose exp
 * is 0); exp at 16 bits (2^-14), fitted (activation-fit.ts); probabilities at 2^-(outBits - 2).
 */
function softmaxParams(what: string, inBits: number, inFrac: number, outBits: number): SoftmaxParams & { maxError: number } {
  const fd = Math.min(inFrac, 8);
  const diffBits = Math.min(16, Math.max(fd + 5, 4));
  const eBits = 16;
  const eFrac = eBits - 2;
  const fit = fitFunction((x) => Math.exp(Math.min(x, 0)), `${what}: exp`, diffBits, fd, eBits, eFrac);
  return {
    inBits,
    inFrac,
    diffShift: inFrac - fd,
    diffBits,
    exp: {
      segmentBits: fit.poly.segmentBits,
      degree: fit.poly.degree,
      shift: fit.poly.shift,
      coeffs: fit.poly.coeffs,
      outBits: eBits,
      inFrac: fd,
      outFrac: eFrac,
    },
    outBits,
    outFrac: outBits - 2,
    maxError: Number(fit.maxError.toPrecision(4)),
  };
}

/**
 * The head a float model gets unless the options say otherwise: "values" for a regression model and for a model
 * whose last layer is an activation (a probability such as a sigmoid, read as a value), else "argmax".
 */
export function defaultHead(fm: FloatModel): OutputHead {
  return fm.task === "regression" || fm.layers[fm.layers.length - 1]?.type === "activation" ? "values" : "argmax";
}

/** Float vs quantized figures on a labelled held-out set (raw features). */
export interface QuantizationReport {
  n: number;
  floatAccuracy: number;
  quantizedAccuracy: number;
  /** Fraction of inputs where the quantized argmax equals the float argmax. */
  agreement: number;
  /** max |logit_q / 2^outFrac - logit_float| over the set and classes. */
  maxLogitError: number;
  /** Largest float logit magnitude seen, to put maxLogitError in proportion. */
  maxLogit: number;
}

/**
 * Runs the float and the quantized model on every raw input of a labelled set and compares them.
 * The quantized side uses the project's reference inference ({@link inferQuantized}).
 */
export function evaluateQuantization(
  fm: FloatModel,
  qm: QuantizedModel,
  data: { x: readonly (readonly number[])[]; y: readonly number[] },
): QuantizationReport {
  const outFrac = headLayer(qm).outFrac;
  let fOk = 0;
  let qOk = 0;
  let agree = 0;
  let maxErr = 0;
  let maxLogit = 0;
  data.x.forEach((raw, i) => {
    const acts = forwardFloat(fm, preprocess(fm, raw));
    const fl = acts[acts.length - 1];
    const fc = argmaxFloat(fl);
    const q = inferQuantized(qm, quantizeInput(qm, fm, raw));
    const qc = Number(q.output);
    if (fc === data.y[i]) fOk++;
    if (qc === data.y[i]) qOk++;
    if (qc === fc) agree++;
    q.logits.forEach((v, k) => {
      maxErr = Math.max(maxErr, Math.abs(Number(v) / 2 ** outFrac - fl[k]));
      maxLogit = Math.max(maxLogit, Math.abs(fl[k]));
    });
  });
  const n = data.x.length;
  return { n, floatAccuracy: fOk / n, quantizedAccuracy: qOk / n, agreement: agree / n, maxLogitError: maxErr, maxLogit };
}

/** Float vs quantized figures of a regression (values head) model on a held-out set with one target per input. */
export interface RegressionReport {
  n: number;
  /** Mean |float prediction - target|, in output units. */
  floatMae: number;
  /** Mean |quantized prediction - target| (quantized = value / 2^outFrac). */
  quantizedMae: number;
  /** Mean |quantized - float| prediction. */
  quantizationMae: number;
  /** Largest |quantized - float| prediction over the set. */
  quantizationMaxError: number;
}

/**
 * Runs the float and the quantized model (its values head, {@link inferQuantized}) on every raw input of a held-out
 * set and compares the first output with the target and with each other.
 * @throws Error when the model has no values head.
 */
export function evaluateRegression(
  fm: FloatModel,
  qm: QuantizedModel,
  data: { x: readonly (readonly number[])[]; y: readonly number[] },
): RegressionReport {
  const last = headLayer(qm);
  if (qm.head !== "values") throw new Error(`model ${qm.name} has head ${JSON.stringify(qm.head)}: evaluateRegression needs a values head`);
  let fSum = 0;
  let qSum = 0;
  let dSum = 0;
  let dMax = 0;
  data.x.forEach((raw, i) => {
    const acts = forwardFloat(fm, preprocess(fm, raw));
    const f = acts[acts.length - 1][0];
    const values = inferQuantized(qm, quantizeInput(qm, fm, raw)).values as bigint[];
    const q = Number(values[0]) / 2 ** last.outFrac;
    fSum += Math.abs(f - data.y[i]);
    qSum += Math.abs(q - data.y[i]);
    dSum += Math.abs(q - f);
    dMax = Math.max(dMax, Math.abs(q - f));
  });
  const n = data.x.length;
  return { n, floatMae: fSum / n, quantizedMae: qSum / n, quantizationMae: dSum / n, quantizationMaxError: dMax };
}

/** Float vs quantized figures of a binary probability model (one output, a values head) on a labelled set. */
export interface ProbabilityReport {
  n: number;
  /** Fraction of inputs whose p >= 0.5 decision is the label, for the float and the quantized model. */
  floatAccuracy: number;
  quantizedAccuracy: number;
  /** Fraction of inputs where the quantized and the float decision (p >= 0.5) agree. */
  agreement: number;
  /** Mean and largest |quantized p - float p|. */
  probabilityMae: number;
  probabilityMaxError: number;
  /** Mean log-loss of the float model on the labels (lower is better; 0.693 is a coin flip). */
  floatLogLoss: number;
}

/**
 * Runs a binary probability model (its last output is p, read through the values head) float and quantized on every
 * raw input of a labelled set (labels 0/1).
 * @throws Error when the model has no values head with one output.
 */
export function evaluateProbability(
  fm: FloatModel,
  qm: QuantizedModel,
  data: { x: readonly (readonly number[])[]; y: readonly number[] },
): ProbabilityReport {
  const last = headLayer(qm);
  if (qm.head !== "values")
    throw new Error(`model ${qm.name} has head ${JSON.stringify(qm.head)}: evaluateProbability needs a values head`);
  let fOk = 0;
  let qOk = 0;
  let agree = 0;
  let sum = 0;
  let worst = 0;
  let loss = 0;
  data.x.forEach((raw, i) => {
    const acts = forwardFloat(fm, preprocess(fm, raw));
    const f = acts[acts.length - 1][0];
    const q = Number((inferQuantized(qm, quantizeInput(qm, fm, raw)).values as bigint[])[0]) / 2 ** last.outFrac;
    const y = data.y[i];
    if (Number(f >= 0.5) === y) fOk++;
    if (Number(q >= 0.5) === y) qOk++;
    if (f >= 0.5 === q >= 0.5) agree++;
    sum += Math.abs(q - f);
    worst = Math.max(worst, Math.abs(q - f));
    const p = Math.min(Math.max(f, 1e-12), 1 - 1e-12);
    loss -= y ? Math.log(p) : Math.log(1 - p);
  });
  const n = data.x.length;
  return {
    n,
    floatAccuracy: fOk / n,
    quantizedAccuracy: qOk / n,
    agreement: agree / n,
    probabilityMae: sum / n,
    probabilityMaxError: worst,
    floatLogLoss: loss / n,
  };
}

/** What {@link chooseBits} measured for each width it tried. */
export interface BitsTrial {
  bits: number;
  /** Classification: fraction of calibration inputs whose quantized argmax equals the float argmax. */
  agreement?: number;
  /** Regression: worst over outputs of mean |quantized - float| / (float output range on the calibration set). */
  maeOfRange?: number;
  ok: boolean;
}

/** Widths {@link chooseBits} tries, narrowest (cheapest circuit) first. */
export const AUTO_BITS = [8, 10, 12, 16] as const;

/**
 * Picks the bit width from the calibration set: the narrowest of {@link AUTO_BITS} at which the quantized model
 * agrees with the float model on the calibration inputs, top-1 on at least `minAgreement` of them (classification)
 * or within `maxMaeOfRange` of the output range on average (regression); the widest when none does. Scales come from
 * calibration at every width (see {@link quantizeModel}).
 * @param calibration preprocessed inputs, as for quantizeModel
 */
export function chooseBits(
  fm: FloatModel,
  calibration: readonly number[][],
  opts: QuantizeOptions = {},
  target: { minAgreement?: number; maxMaeOfRange?: number } = {},
): { model: QuantizedModel; trials: BitsTrial[] } {
  const minAgreement = target.minAgreement ?? 0.99;
  const maxMaeOfRange = target.maxMaeOfRange ?? 0.005;
  // a values head (regression, or a probability) is judged by its error, an argmax head by top-1 agreement
  const regression = (opts.head ?? defaultHead(fm)) === "values";
  const floats = calibration.map((x) => {
    const acts = forwardFloat(fm, x);
    return acts[acts.length - 1];
  });
  const nOut = floats[0].length;
  const range = Array.from({ length: nOut }, (_, k) => {
    const v = floats.map((f) => f[k]);
    return Math.max(...v) - Math.min(...v) || 1;
  });
  const trials: BitsTrial[] = [];
  let model: QuantizedModel | undefined;
  for (const bits of AUTO_BITS) {
    model = quantizeModel(fm, calibration, { ...opts, bits });
    const qm = model;
    const outFrac = headLayer(qm).outFrac;
    const q = calibration.map((x) => inferQuantized(qm, quantizeFeatures(qm, x)));
    let trial: BitsTrial;
    if (regression) {
      const maeOfRange = Math.max(
        ...range.map(
          (r, k) => floats.reduce((s, f, i) => s + Math.abs(Number(q[i].logits[k]) / 2 ** outFrac - f[k]), 0) / floats.length / r,
        ),
      );
      trial = { bits, maeOfRange, ok: maeOfRange <= maxMaeOfRange };
    } else {
      const agreement = floats.filter((f, i) => argmaxFloat(f) === argmaxFloat(q[i].logits.map(Number))).length / floats.length;
      trial = { bits, agreement, ok: agreement >= minAgreement };
    }
    trials.push(trial);
    if (trial.ok) break;
  }
  return { model: model as QuantizedModel, trials };
}
