/**
 * Size of a generated main circuit before circom runs: its --O2 constraint count from the templates' documented
 * costs (circuits/lib, each pinned against the compiler by the circuit tests), so `build:model` can say what a
 * compile and a key setup will cost before it starts them.
 */
import { type QuantizedModel, headLayer, inputModeOf, layerInputRanges, modelChunks, planModel } from "../../formats/quantized-model";
import { logSoftmaxBounds, logSoftmaxConstraints, softmaxBounds, softmaxConstraints } from "../../formats/softmax";
import { attentionConstraints, attentionPlan, layerNormBounds, layerNormConstraints } from "../../formats/transformer";
import { isLeaf, treeComparisons, treeLeafValues, treeProducts, treeThresholds } from "../../formats/trees";
import { TREE_RECORD_BITS, idBits, thresholdBits } from "../../formats/quantized-layers";
import { piecewiseConstraints } from "../../formats/activations";
import { valuesPerChunk } from "../../formats/commitments";
import {
  differenceBits,
  forEachConv1dTap,
  forEachConvTap,
  hull,
  pool1dWindows,
  poolWindows,
  requantizeConstraints,
} from "../../formats/fixed-point";
import { poolFusions } from "./generate";

/** circomlib's partial-round counts of Poseidon(t - 1 inputs), t = 2 .. 17 (poseidon.circom N_ROUNDS_P). */
const POSEIDON_PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

/** --O2 constraints of circomlib's Poseidon(n): 3 per S-box (x^5), 8 full rounds of t and the partial rounds, minus 3. */
export function poseidonConstraints(n: number): number {
  const t = n + 1;
  return 3 * (8 * t + POSEIDON_PARTIAL_ROUNDS[t - 2]) - 3;
}

/** --O2 constraints of PoseidonChain(n): one Poseidon(m + 1) per group of up to 15 elements. */
export function poseidonChainConstraints(n: number): number {
  let c = 0;
  for (let start = 0; start < n; start += 15) c += poseidonConstraints(Math.min(15, n - start) + 1);
  return c;
}

/** --O2 constraints of PackSigned(n, bits): the range check of every value (its packing sums are linear). */
export function packSignedConstraints(n: number, bits: number): number {
  return n * bits;
}

export interface SizeEstimate {
  /** Estimated --O2 constraints of the whole main circuit. */
  constraints: number;
  /** Per layer (index order), the part of `constraints` it contributes; a pooled conv's requantizations count in its pool. */
  layers: number[];
  /** Input range check and commitment (or packing), head, model commitment and job binding. */
  rest: number;
  /** Layers whose max pooling runs before the requantization (generate.ts, poolFusions). */
  fusedPools: number[];
}

/**
 * Estimates the constraint count circom --O2 will report for generateMainCircuit(model): exact for the layer
 * templates (their costs are pinned by the tests), the head and the commitments, as long as the optimizer merges
 * nothing across templates (the tests compare the estimate with the compiled count).
 */
export function estimateConstraints(model: QuantizedModel): SizeEstimate {
  const plan = planModel(model);
  const inputRanges = layerInputRanges(model);
  const fusions = poolFusions(model, plan);
  const priv = model.weights === "private";
  const layers = plan.map((p, i) => {
    const l = p.layer;
    switch (l.type) {
      case "dense":
        return (priv ? l.nIn * l.nOut : 0) + l.nOut * requantizeConstraints(p.A, l.shift, l.outBits, l.relu);
      case "conv2d": {
        let taps = 0;
        if (priv) forEachConvTap(l, () => taps++);
        const fused = fusions.get(i + 1)?.conv === i;
        return taps + (fused ? 0 : p.outSize * requantizeConstraints(p.A, l.shift, l.outBits, l.relu));
      }
      case "maxpool": {
        const f = fusions.get(i);
        if (f) return f.fused;
        const windows = poolWindows(l.inShape, l.kernel, l.stride, l.padding ?? 0).windows;
        return windows.reduce((n, w) => n + w.length - 1, 0) * (p.D + 2);
      }
      case "avgpool":
        return p.outSize * requantizeConstraints(p.A, l.shift, l.outBits, false);
      case "add":
        return p.outSize * requantizeConstraints(p.A, l.shift, l.outBits, l.relu);
      case "flatten":
        return 0;
      case "activation":
        return p.outSize * piecewiseConstraints(l, p.A);
      case "embedding": {
        const n = idBits(l.vocab);
        // the vocabulary check LessEqConst(n + 1, V - 1) has its output pinned to 1: its boolean constraint folds away
        return l.seq * (n + (2 ** n - n - 1) + (l.vocab < 2 ** n ? n + 1 : 0));
      }
      case "conv1d": {
        let taps = 0;
        if (priv) forEachConv1dTap(l, () => taps++);
        return taps + p.outSize * requantizeConstraints(p.A, l.shift, l.outBits, l.relu);
      }
      case "maxpool1d":
        return pool1dWindows(l).windows.reduce((n, w) => n + w.length - 1, 0) * (p.D + 2);
      case "avgpool1d":
        return p.outSize * requantizeConstraints(p.A, l.shift, l.outBits, false);
      case "trees": {
        const rq = l.nOutputs * requantizeConstraints(p.A, l.shift, l.outBits, false);
        if (!priv) return treeComparisons(l).length * (p.D + 1) + treeProducts(l) + rq;
        // committed: a comparison per split, and a product per leaf value unless its tree is a single leaf
        const leafProducts = l.trees.reduce((s, t) => s + (t.nodes.length > 1 ? t.nodes.filter(isLeaf).length * l.nOutputs : 0), 0);
        return treeThresholds(l).length * (p.D + 1) + treeProducts(l) + leafProducts + rq;
      }
      case "softmax":
        return softmaxConstraints(l, p.outSize, softmaxBounds(l, p.outSize, inputRanges[i]));
      case "logsoftmax":
        return logSoftmaxConstraints(l, p.outSize, logSoftmaxBounds(l, p.outSize, inputRanges[i]));
      case "layernorm":
        return layerNormConstraints(l, layerNormBounds(l, inputRanges[i]));
      case "attention":
        return attentionConstraints(
          l,
          attentionPlan(l, i === 0 ? Array.from({ length: p.inSize }, () => inputRanges[0]) : plan[i - 1].outRanges),
        );
    }
  });
  const n = model.input.size;
  const input =
    packSignedConstraints(n, model.input.bits) +
    (inputModeOf(model) === "public" ? 0 : poseidonChainConstraints(Math.ceil(n / valuesPerChunk(model.input.bits))));
  const last = plan[plan.length - 1];
  let head: number;
  if (model.head === "values") {
    head = packSignedConstraints(last.outSize, headLayer(model).outBits);
  } else {
    head = last.outSize * (2 + differenceBits(hull(last.outRanges)));
  }
  let weights = 0;
  if (priv) {
    for (const l of model.layers) {
      if (l.type === "dense") weights += packSignedConstraints(l.nIn * l.nOut, l.wBits) + packSignedConstraints(l.nOut, l.bBits);
      if (l.type === "conv1d") {
        const nW = l.outChannels * (l.inShape[0] / (l.groups ?? 1)) * l.kernel;
        weights += packSignedConstraints(nW, l.wBits) + packSignedConstraints(l.outChannels, l.bBits);
      }
      if (l.type === "trees") {
        const li = model.layers.indexOf(l);
        const inBits = li === 0 ? model.input.bits : (model.layers[li - 1] as { outBits: number }).outBits;
        weights +=
          packSignedConstraints(treeThresholds(l).length, thresholdBits(inBits)) +
          packSignedConstraints(treeLeafValues(l).length, l.leafBits);
        // the base's chunks are constants: the first S-box of each in the chain is a constant too (-3 each)
        weights -= 3 * Math.ceil(l.base.length / valuesPerChunk(TREE_RECORD_BITS));
      }
      if (l.type === "conv2d") {
        const nW = l.outChannels * (l.inShape[0] / (l.groups ?? 1)) * l.kernel * l.kernel;
        weights += packSignedConstraints(nW, l.wBits) + packSignedConstraints(l.outChannels, l.bBits);
      }
    }
    // the chain starts from the constant MODEL_DOMAIN: the first S-box of that state element is a constant (-3)
    weights += poseidonChainConstraints(modelChunks(model).length) - 3;
    // the layout binding Poseidon(weights commitment, L): L is a constant, so its first S-box folds too (-3)
    weights += poseidonConstraints(2) - 3;
  } else {
    weights = 1; // modelCommitment <== the constant Poseidon(weights commitment, L)
  }
  const rest = input + head + weights + 1; // + JobBinding
  return { constraints: layers.reduce((a, b) => a + b, 0) + rest, layers, rest, fusedPools: [...fusions.keys()] };
}
