/**
 * The ONNX importer's converters of the operators that become float layers: Gemm / MatMul (dense, with a `flatten`
 * layer before it when it reads an image), Conv (conv2d), MaxPool / AveragePool / GlobalAveragePool / ReduceMean
 * (maxpool / avgpool), and Pad of zeros (the padding of the Conv or AveragePool after it); with the window attributes
 * (kernel, strides, pads) they share.
 */
import type { FloatConv1d, FloatConv2d, FloatDense, FloatPool1d, Shape } from "../../formats/float-model";
import { windowOut } from "../../formats/float-model";
import { OnnxImportError } from "./import-errors";
import type { Step } from "./import-state";
import { convertMatMulSeq, tokenMajor } from "./import-transformer";

/** Gemm (transA 0), MatMul: a dense layer (a Transpose/Reshape before it permutes its weight columns). */
export function convertGemm(step: Step): void {
  if (convertMatMulSeq(step)) return;
  const { walk, op, at, ins, err, constIn } = step;
  const { shape } = walk;
  if (op === "Gemm" && shape.length !== 2) err(`needs a matrix input [1, n], got shape [${shape}]; flatten it first`);
  const nIn = enterVector(step);
  const B = constIn(1, "the weight matrix");
  if (B.dims.length !== 2) err(`weight ${ins[1]} has dims [${B.dims}]; supported: a 2-D matrix`);
  let W: number[][];
  let bias: number[];
  if (op === "Gemm") {
    if (at.int("transA", 0) !== 0) err("transA 1 is not supported; supported: transA 0");
    const transB = at.int("transB", 0) === 1;
    const alpha = at.float("alpha", 1);
    const beta = at.float("beta", 1);
    const [r, c] = B.dims;
    const [K, N] = transB ? [c, r] : [r, c];
    if (K !== nIn) err(`weight ${ins[1]} [${B.dims}] (transB ${Number(transB)}) takes ${K} inputs but the previous output has ${nIn}`);
    W = Array.from({ length: N }, (_, j) => Array.from({ length: K }, (_, i) => alpha * (transB ? B.data[j * K + i] : B.data[i * N + j])));
    bias = new Array<number>(N).fill(0);
    if (ins.length > 2 && ins[2]) {
      const C = constIn(2, "the bias C");
      if (!(C.data.length === 1 || (C.data.length === N && C.dims[C.dims.length - 1] === N)))
        err(`bias ${ins[2]} has dims [${C.dims}]; supported: [${N}], [1, ${N}] or a scalar`);
      bias = bias.map((_, j) => beta * (C.data.length === 1 ? C.data[0] : C.data[j]));
    }
  } else {
    const [K, N] = B.dims;
    if (K !== nIn) err(`weight ${ins[1]} [${B.dims}] takes ${K} inputs but the previous output has ${nIn}`);
    W = Array.from({ length: N }, (_, j) => Array.from({ length: K }, (_, i) => B.data[i * N + j]));
    bias = new Array<number>(N).fill(0);
  }
  if (walk.perm) {
    const p = walk.perm;
    W = W.map((row) => {
      const out = new Array<number>(row.length);
      row.forEach((w, e) => (out[p[e]] = w));
      return out;
    });
  }
  pushWeighted(step, { type: "dense", W, B: bias, relu: false }, [...shape.slice(0, -1), W.length], [W.length]);
}

/** Conv (square kernel, equal strides, any group dividing the channels, dilation 1): a conv2d layer. */
export function convertConv(step: Step): void {
  if (step.walk.shape.length === 3) return convertConv1d(step);
  const { at, ins, err, constIn } = step;
  const inShape = enterImage(step);
  const Wt = constIn(1, "the kernel");
  if (Wt.dims.length !== 4) err(`kernel ${ins[1]} has dims [${Wt.dims}]; supported: [M, C / group, k, k] (2-D convolution)`);
  const group = at.int("group", 1);
  const { kernel, stride, pads } = windowAttrs(step, Wt.dims.slice(2));
  const padding = totalPadding(step, pads, kernel);
  const [M, C, kh, kw] = Wt.dims;
  if (!Number.isInteger(group) || group < 1 || inShape[0] % group !== 0 || M % group !== 0)
    err(`group ${group} does not divide the ${inShape[0]} input and ${M} output channels; supported: a group dividing both`);
  if (C !== inShape[0] / group || kh !== kernel || kw !== kernel)
    err(
      `kernel ${ins[1]} [${Wt.dims}] does not fit ${inShape[0]} input channels${group > 1 ? ` in ${group} groups` : ""} and kernel ${kernel}x${kernel}`,
    );
  const W = Array.from({ length: M }, (_, o) =>
    Array.from({ length: C }, (_, c) =>
      Array.from({ length: kernel }, (_, y) =>
        Array.from({ length: kernel }, (_, xx) => Wt.data[((o * C + c) * kernel + y) * kernel + xx]),
      ),
    ),
  );
  let B = new Array<number>(M).fill(0);
  if (ins.length > 2 && ins[2]) {
    const Bt = constIn(2, "the bias");
    if (Bt.data.length !== M) err(`bias ${ins[2]} has ${Bt.data.length} values; supported: one per output channel (${M})`);
    B = [...Bt.data];
  }
  const oh = windowOut(inShape[1], kernel, stride, padding);
  const ow = windowOut(inShape[2], kernel, stride, padding);
  if (oh < 1 || ow < 1) err(`kernel ${kernel} with padding ${padding} does not fit the ${inShape[1]}x${inShape[2]} input`);
  const conv: FloatConv2d = { type: "conv2d", inShape, W, B, kernel, stride, padding, relu: false };
  if (group > 1) conv.groups = group;
  pushWeighted(step, conv, [1, M, oh, ow], [M, oh, ow]);
}

/**
 * Gather on a constant [V, d] table with the graph's token ids [1, seq] as indices (nn.Embedding): an embedding
 * layer. ONNX's output [1, seq, d] is token-major; the layer's is [d, seq] (a sequence of d channels), so the walk
 * records the permutation: a Flatten then Gemm reads the weight columns through it, a Transpose(0, 2, 1) undoes it
 * for a Conv1d, a ReduceMean over axis 1 averages the sequence.
 */
export function convertEmbedding(step: Step): void {
  const { walk, at, ins, err, constIn, setShape } = step;
  const { shape } = walk;
  if (walk.layers.length > 0 || ins[1] !== walk.cur) err("supported only as the first node, reading the token ids (nn.Embedding)");
  if (at.int("axis", 0) !== 0) err(`axis ${at.int("axis", 0)} is not supported; supported: 0 (rows of the table)`);
  const T = constIn(0, "the embedding table");
  if (T.dims.length !== 2) err(`table ${ins[0]} has dims [${T.dims}]; supported: [vocab, dim]`);
  if (shape.length !== 2 || shape[0] !== 1) err(`reads token ids of shape [${shape}]; supported: [1, seq]`);
  const [V, d] = T.dims;
  const seq = shape[1];
  const E = Array.from({ length: V }, (_, v) => T.data.slice(v * d, (v + 1) * d));
  walk.layers.push({ type: "embedding", E });
  walk.physical = [d, 1, seq];
  walk.perm = Array.from({ length: seq * d }, (_, e) => (e % d) * seq + Math.floor(e / d));
  walk.foldable = false;
  setShape([1, seq, d]);
}

/** Conv on a [1, C, L] sequence (PyTorch's Conv1d): a conv1d layer. */
function convertConv1d(step: Step): void {
  const { at, ins, err, constIn } = step;
  const [C, L] = enterSeq(step);
  const Wt = constIn(1, "the kernel");
  if (Wt.dims.length !== 3) err(`kernel ${ins[1]} has dims [${Wt.dims}]; supported: [M, C / group, k] on a [1, C, L] sequence`);
  const group = at.int("group", 1);
  const { kernel, stride, padding } = windowAttrs1d(step, [Wt.dims[2]]);
  const [M, CG, k] = Wt.dims;
  if (!Number.isInteger(group) || group < 1 || C % group !== 0 || M % group !== 0)
    err(`group ${group} does not divide the ${C} input and ${M} output channels; supported: a group dividing both`);
  if (CG !== C / group || k !== kernel)
    err(`kernel ${ins[1]} [${Wt.dims}] does not fit ${C} input channels${group > 1 ? ` in ${group} groups` : ""}`);
  const W = Array.from({ length: M }, (_, o) =>
    Array.from({ length: CG }, (_, c) => Array.from({ length: k }, (_, x) => Wt.data[(o * CG + c) * k + x])),
  );
  let B = new Array<number>(M).fill(0);
  if (ins.length > 2 && ins[2]) {
    const Bt = constIn(2, "the bias");
    if (Bt.data.length !== M) err(`bias ${ins[2]} has ${Bt.data.length} values; supported: one per output channel (${M})`);
    B = [...Bt.data];
  }
  const ol = windowOut(L, kernel, stride, padding);
  if (ol < 1) err(`kernel ${kernel} with padding ${padding} does not fit the sequence of ${L}`);
  const conv: FloatConv1d = { type: "conv1d", inShape: [C, L], W, B, kernel, stride, padding, relu: false };
  if (group > 1) conv.groups = group;
  pushWeighted(step, conv, [1, M, ol], [M, 1, ol]);
}

/** MaxPool / AveragePool with a 1-D window, GlobalAveragePool or ReduceMean over the length of a [1, C, L] sequence. */
function convertPool1d(step: Step): void {
  const { walk, node, op, at, ins, err, setShape } = step;
  const last = walk.layers[walk.layers.length - 1];
  if (op === "ReduceMean" && (tokenMajor(walk) || (walk.perm && last?.type === "embedding"))) {
    // the mean over the tokens of an embedding's [1, seq, d] output: an average over the layer's [d, seq] sequence
    const axes = (walk.opset >= 18 ? walk.consts.get(ins[1] ?? "")?.data : at.ints("axes"))?.map((a) => (a < 0 ? a + 3 : a));
    if (!axes || axes.length !== 1 || axes[0] !== 1)
      err(`ReduceMean over axes [${axes ?? "all"}] of the embeddings [${walk.shape}] is not supported; supported: the token axis [1]`);
    const [d, , seq] = walk.physical as [number, number, number];
    walk.layers.push({ type: "avgpool1d", inShape: [d, seq], kernel: seq, stride: 1 });
    walk.physical = [d, 1, 1];
    walk.perm = null;
    walk.foldable = false;
    setShape(at.int("keepdims", 1) === 1 ? [1, 1, d] : [1, d]);
    return;
  }
  const [C, L] = enterSeq(step);
  let kernel = L;
  let stride = 1;
  let padding = 0;
  let keep = true;
  if (op === "MaxPool" || op === "AveragePool") {
    if ((node.output ?? []).length > 1 && node.output?.[1]) err("the Indices output of MaxPool is not supported");
    const w = windowAttrs1d(step);
    ({ kernel, stride, padding } = w);
    if (op === "AveragePool" && padding > 0 && at.int("count_include_pad", 0) !== 1)
      err(`pads [${padding}, ${padding}] with count_include_pad 0 average fewer values at the borders; supported: count_include_pad 1`);
  } else if (op === "ReduceMean") {
    const axes = (walk.opset >= 18 ? walk.consts.get(ins[1] ?? "")?.data : at.ints("axes"))?.map((a) => (a < 0 ? a + 3 : a));
    if (!axes || axes.length !== 1 || axes[0] !== 2)
      err(`ReduceMean over axes [${axes ?? "all"}] of a [1, C, L] sequence is not supported; supported: the length axis [2]`);
    keep = at.int("keepdims", 1) === 1;
  }
  const ol = windowOut(L, kernel, stride, padding);
  if (ol < 1) err(`kernel ${kernel} does not fit the sequence of ${L}`);
  const type = op === "MaxPool" ? "maxpool1d" : "avgpool1d";
  const layer: FloatPool1d = { type, inShape: [C, L], kernel, stride };
  if (padding > 0) layer.padding = padding;
  walk.layers.push(layer);
  walk.physical = [C, 1, ol];
  walk.foldable = false;
  setShape(keep ? [1, C, ol] : [1, C]);
}

/** MaxPool, AveragePool (a window), GlobalAveragePool, ReduceMean over the spatial axes (the whole image). */
export function convertPool(step: Step): void {
  const { walk, node, name, op, at, ins, err, setShape } = step;
  if (op === "MaxPool" && walk.pendingPad)
    throw new OnnxImportError(
      walk.pendingPad.node,
      "Pad",
      `Pad before MaxPool "${name}" is not supported: its zeros could win the maximum; supported: MaxPool's own pads (-infinity), or Pad before Conv or AveragePool`,
    );
  if (walk.shape.length === 3) return convertPool1d(step);
  const inShape = enterImage(step);
  let kernel: number;
  let stride: number;
  let padding = 0;
  let out: number[];
  if (op === "MaxPool" || op === "AveragePool") {
    if ((node.output ?? []).length > 1 && node.output?.[1]) err("the Indices output of MaxPool is not supported");
    if (at.int("storage_order", 0) !== 0) err("storage_order 1 is not supported; supported: 0");
    const w = windowAttrs(step);
    kernel = w.kernel;
    stride = w.stride;
    if (op === "MaxPool") {
      // ONNX MaxPool pads with -infinity: the maximum of the in-range taps (maxpool padding)
      padding = totalPadding(step, w.pads, kernel);
    } else {
      if (w.pads.some((p) => p !== 0) && at.int("count_include_pad", 0) !== 1)
        err(
          `pads [${w.pads}] with count_include_pad 0 average fewer values at the borders; supported: count_include_pad 1 (PyTorch's default, AvgPool2d(count_include_pad=True))`,
        );
      padding = totalPadding(step, w.pads, kernel);
    }
    out = [1, inShape[0], windowOut(inShape[1], kernel, stride, padding), windowOut(inShape[2], kernel, stride, padding)];
  } else {
    let keep = true;
    if (op === "ReduceMean") {
      const axes = (walk.opset >= 18 ? walk.consts.get(ins[1] ?? "")?.data : at.ints("axes"))?.map((a) => (a < 0 ? a + 4 : a)).sort();
      if (!axes || axes.length !== 2 || axes[0] !== 2 || axes[1] !== 3)
        err(
          `ReduceMean over axes [${axes ?? "all"}] is not supported; supported: the spatial axes [2, 3] of [1, C, H, W] (global average pooling)`,
        );
      keep = at.int("keepdims", 1) === 1;
    }
    if (inShape[1] !== inShape[2])
      err(`global average pooling of a ${inShape[1]}x${inShape[2]} image is not supported; supported: square images`);
    kernel = inShape[1];
    stride = 1;
    out = keep ? [1, inShape[0], 1, 1] : [1, inShape[0]];
  }
  if (out[2] !== undefined && (out[2] < 1 || out[3] < 1)) err(`kernel ${kernel} does not fit the ${inShape[1]}x${inShape[2]} input`);
  const type = op === "MaxPool" ? "maxpool" : "avgpool";
  walk.layers.push(padding > 0 ? { type, inShape, kernel, stride, padding } : { type, inShape, kernel, stride });
  walk.physical = [inShape[0], windowOut(inShape[1], kernel, stride, padding), windowOut(inShape[2], kernel, stride, padding)];
  walk.foldable = false;
  setShape(out);
}

/** Pad of zeros before a Conv / AveragePool: pending until that layer takes it as its padding. */
export function convertPad(step: Step): void {
  const { walk, name, at, ins, err, constIn, setShape } = step;
  const { shape } = walk;
  const mode = at.str("mode") ?? "constant";
  if (mode !== "constant") err(`mode ${mode} is not supported; supported: constant (zero) padding`);
  const pads = walk.opset >= 11 ? constIn(1, "the pads").data : at.ints("pads");
  const value = walk.opset >= 11 ? (ins[2] ? constIn(2, "the constant value").data[0] : 0) : at.float("value", 0);
  if (value !== 0) err(`pads with the value ${value}; supported: zero padding`);
  if (ins[3]) err("the axes input is not supported; supported: pads for every axis");
  if (shape.length === 3) {
    // a sequence [1, C, L]: pads [0, 0, l, 0, 0, r], kept as [0, l, 0, r] for the conv1d / avgpool1d after it
    if (!pads || pads.length !== 6 || [0, 1, 3, 4].some((i) => pads[i] !== 0) || pads.some((v) => v < 0))
      err(`pads [${pads}] of a [${shape}] tensor are not supported; supported: non-negative padding of the length axis of [1, C, L]`);
    const q = pads as number[];
    const mine = [0, q[2], 0, q[5]];
    const pend = walk.pendingPad;
    walk.pendingPad = pend ? { node: pend.node, pads: pend.pads.map((v, i) => v + mine[i]) } : { node: name, pads: mine };
    setShape([shape[0], shape[1], shape[2] + q[2] + q[5]]);
    return;
  }
  if (shape.length !== 4 || !pads || pads.length !== 8 || [0, 1, 4, 5].some((i) => pads[i] !== 0) || pads.some((p) => p < 0))
    err(`pads [${pads}] of a [${shape}] tensor are not supported; supported: non-negative padding of the spatial axes of [1, C, H, W]`);
  const p = pads as number[];
  const mine = [p[2], p[3], p[6], p[7]];
  const pending = walk.pendingPad;
  walk.pendingPad = pending ? { node: pending.node, pads: pending.pads.map((v, i) => v + mine[i]) } : { node: name, pads: mine };
  setShape([shape[0], shape[1], shape[2] + p[2] + p[6], shape[3] + p[3] + p[7]]);
}

/** The physical image [C, H, W] a conv or pool reads; fixes the input shape when nothing came before. */
function enterImage(step: Step): [number, number, number] {
  const { walk, err } = step;
  const { shape } = walk;
  if (shape.length !== 4 || shape[0] !== 1) err(`needs an image tensor [1, C, H, W], got shape [${shape}]`);
  // a pending zero Pad is folded into this layer's padding: the layer reads the unpadded tensor
  const pp = walk.pendingPad ? walk.pendingPad.pads : [0, 0, 0, 0];
  const img: [number, number, number] = [shape[1], shape[2] - pp[0] - pp[2], shape[3] - pp[1] - pp[3]];
  if (walk.perm)
    err(
      `reads a transposed tensor [${shape}]; convolution and pooling read NCHW: export the model with an NCHW input (tf2onnx: --inputs-as-nchw <input>) or drop the Transpose`,
    );
  if (walk.layers.length === 0 && walk.physical.length === 1) {
    walk.inputShape = img;
    walk.physical = img;
  } else if (walk.physical.length !== 3) {
    err(`reshapes the output of a dense layer into the image [${shape}]; supported: images only from the graph input or a conv/pool`);
  } else if (walk.physical.some((d, i) => d !== img[i])) {
    err(`reshapes an image [${walk.physical}] into [${img}]; supported: views that keep the image, or flattening it`);
  }
  return img;
}

/** The physical sequence [C, L] a conv1d or pool1d reads (tracked as [C, 1, L]); fixes the input shape when nothing came before. */
function enterSeq(step: Step): [number, number] {
  const { walk, err } = step;
  const { shape } = walk;
  if (shape.length !== 3 || shape[0] !== 1) err(`needs a sequence tensor [1, C, L], got shape [${shape}]`);
  if (walk.perm) err(`reads a transposed tensor [${shape}]; 1-D convolution and pooling read [1, C, L]: drop the Transpose`);
  // a pending zero Pad folds into this layer's padding: the layer reads the unpadded sequence
  const pp = walk.pendingPad ? walk.pendingPad.pads : [0, 0, 0, 0];
  const seq: [number, number, number] = [shape[1], 1, shape[2] - pp[1] - pp[3]];
  if (walk.layers.length === 0 && walk.physical.length === 1) {
    walk.inputShape = seq;
    walk.physical = seq;
  } else if (walk.physical.length !== 3 || walk.physical.some((d, i) => d !== seq[i])) {
    err(
      `reads [${shape}] as a sequence, but the tensor before is [${walk.physical}]; supported: sequences from the graph input or a conv1d/pool1d`,
    );
  }
  return [seq[0], seq[2]];
}

/** A 1-D window: kernel_shape [k], strides [s], equal pads [p, p] < k, dilation 1. */
function windowAttrs1d(step: Step, kernelDims?: number[]): { kernel: number; stride: number; padding: number } {
  const { at, err } = step;
  const ks = at.ints("kernel_shape") ?? kernelDims;
  if (!ks || ks.length !== 1) err(`kernel_shape [${ks}] is not supported on a sequence; supported: a 1-D kernel [k]`);
  const kernel = (ks as number[])[0];
  const strides = at.ints("strides") ?? [1];
  const dil = at.ints("dilations") ?? [1];
  if (dil.some((d) => d !== 1)) err(`dilations [${dil}] are not supported; supported: 1`);
  const autoPad = at.str("auto_pad") ?? "NOTSET";
  if (autoPad !== "NOTSET" && autoPad !== "VALID") err(`auto_pad ${autoPad} is not supported; supported: NOTSET with explicit pads, VALID`);
  const own = autoPad === "VALID" ? [0, 0] : (at.ints("pads") ?? [0, 0]);
  const pend = step.walk.pendingPad;
  const pads = own.length === 2 && pend ? [own[0] + pend.pads[1], own[1] + pend.pads[3]] : own;
  step.walk.pendingPad = null;
  if (pads.length !== 2 || pads[0] !== pads[1])
    err(`pads [${pads}]${pend ? ` (with Pad "${pend.node}")` : ""} are not supported; supported: equal pads [p, p]`);
  if (pads[0] >= kernel) err(`padding ${pads[0]} with kernel ${kernel} is not supported; supported: padding < kernel`);
  if (at.int("ceil_mode", 0) !== 0) err("ceil_mode 1 is not supported; supported: 0 (ceil_mode=False)");
  return { kernel, stride: strides[0], padding: pads[0] };
}

/** The vector a dense layer reads (a flatten layer is added after an image); returns its length. */
function enterVector(step: Step): number {
  const { walk, err } = step;
  const { shape } = walk;
  if (!shape.slice(0, -1).every((d) => d === 1))
    err(`needs a vector [1, n], got shape [${shape}]; flatten it first (torch.flatten(x, 1) or x.view(x.size(0), -1))`);
  const n = shape[shape.length - 1];
  if (walk.physical.length === 3) {
    walk.layers.push({ type: "flatten", inShape: [...walk.physical] as [number, number, number] });
    walk.physical = [n];
  }
  return n;
}

function pushWeighted(step: Step, l: FloatDense | FloatConv2d | FloatConv1d, out: number[], phys: Shape): void {
  const { walk } = step;
  walk.layers.push(l);
  walk.physical = phys;
  walk.perm = null;
  walk.foldable = true;
  step.setShape(out);
}

function windowAttrs(step: Step, kernelDims?: number[]): { kernel: number; stride: number; pads: number[] } {
  const { at, err } = step;
  const ks = at.ints("kernel_shape") ?? kernelDims;
  if (!ks || ks.length !== 2 || ks[0] !== ks[1]) err(`kernel_shape [${ks}] is not supported; supported: square 2-D kernels`);
  const kernel = (ks as number[])[0];
  const strides = at.ints("strides") ?? [1, 1];
  if (strides.length !== 2 || strides[0] !== strides[1]) err(`strides [${strides}] are not supported; supported: equal strides`);
  const dil = at.ints("dilations") ?? [1, 1];
  if (dil.some((d) => d !== 1)) err(`dilations [${dil}] are not supported; supported: 1`);
  const autoPad = at.str("auto_pad") ?? "NOTSET";
  if (autoPad !== "NOTSET" && autoPad !== "VALID") err(`auto_pad ${autoPad} is not supported; supported: NOTSET with explicit pads, VALID`);
  const pads = autoPad === "VALID" ? [0, 0, 0, 0] : (at.ints("pads") ?? [0, 0, 0, 0]);
  if (pads.length !== 4) err(`pads [${pads}] are not supported; supported: 2-D pads [top, left, bottom, right]`);
  if (at.int("ceil_mode", 0) !== 0) err("ceil_mode 1 is not supported; supported: 0 (ceil_mode=False)");
  return { kernel, stride: strides[0], pads };
}

/** Attribute pads plus a preceding zero Pad; all four sides must be equal. */
function totalPadding(step: Step, pads: number[], kernel: number): number {
  const { walk, err } = step;
  const pending = walk.pendingPad;
  const p = pads.map((v, i) => v + (pending ? pending.pads[i] : 0));
  if (p.some((v) => v !== p[0]))
    err(
      `padding [top, left, bottom, right] = [${p}]${pending ? ` (with Pad "${pending.node}")` : ""} is not supported; supported: equal padding on all sides`,
    );
  if (p[0] >= kernel) err(`padding ${p[0]} with kernel ${kernel} is not supported; supported: padding < kernel`);
  walk.pendingPad = null;
  return p[0];
}
