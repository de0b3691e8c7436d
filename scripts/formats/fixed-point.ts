/**
 * Bit-exact TypeScript twins of the circuit templates in circuits/lib (BigInt arithmetic). Each function computes
 * exactly what its template constrains; the circuit tests compare witnesses against these.
 */

/** floor(a / 2^k) for signed a (BigInt division truncates toward zero, this floors). */
export function floorShift(a: bigint, k: number): bigint {
  const d = 1n << BigInt(k);
  const q = a / d;
  return a < 0n && q * d !== a ? q - 1n : q;
}

/** Output range of a requantization: [lo, hi]. */
export function requantRange(outBits: number, relu: boolean): { lo: bigint; hi: bigint } {
  return relu
    ? { lo: 0n, hi: (1n << BigInt(outBits - 1)) - 1n }
    : { lo: -(1n << BigInt(outBits - 1)), hi: (1n << BigInt(outBits - 1)) - 1n };
}

/** Twin of `Requantize(A, k, outBits, relu)`: clamp(floor((acc + 2^(k-1)) / 2^k), lo, hi). */
export function requantize(acc: bigint, k: number, outBits: number, relu: boolean): bigint {
  const half = k > 0 ? 1n << BigInt(k - 1) : 0n;
  const q = floorShift(acc + half, k);
  const { lo, hi } = requantRange(outBits, relu);
  return q < lo ? lo : q > hi ? hi : q;
}

/** Twin of `Argmax(n, bits)`: index of the maximum, lowest index on ties. */
export function argmax(v: readonly bigint[]): number {
  if (v.length === 0) throw new Error("argmax of an empty vector");
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Signed range of a `bits`-bit value. */
export function signedRange(bits: number): { lo: bigint; hi: bigint } {
  return { lo: -(1n << BigInt(bits - 1)), hi: (1n << BigInt(bits - 1)) - 1n };
}

/** Integer interval [lo, hi]. */
export interface Interval {
  lo: bigint;
  hi: bigint;
}

/** Bounds of sum_i w[i] * x_i + b for every x_i in `x` (interval arithmetic, exact for independent inputs). */
export function affineBounds(w: readonly bigint[], b: bigint, x: Interval): Interval {
  let lo = b;
  let hi = b;
  for (const wi of w) {
    if (wi >= 0n) {
      lo += wi * x.lo;
      hi += wi * x.hi;
    } else {
      lo += wi * x.hi;
      hi += wi * x.lo;
    }
  }
  return { lo, hi };
}

/** Smallest A with [lo, hi] inside [-2^(A-1), 2^(A-1)): the `A` parameter of Requantize. */
export function accumulatorBits(iv: Interval): number {
  let a = 1;
  while (-(1n << BigInt(a - 1)) > iv.lo || 1n << BigInt(a - 1) <= iv.hi) a++;
  return a;
}

/** Twin of `DenseOpen`: requantize(W x + B) per output. */
export function denseOpen(
  x: readonly bigint[],
  W: readonly (readonly bigint[])[],
  B: readonly bigint[],
  k: number,
  outBits: number,
  relu: boolean,
): bigint[] {
  return W.map((row, j) => {
    if (row.length !== x.length) throw new Error(`dense: weight row ${j} has ${row.length} entries, input has ${x.length}`);
    let acc = B[j];
    for (let i = 0; i < x.length; i++) acc += row[i] * x[i];
    return requantize(acc, k, outBits, relu);
  });
}

/** Twin of `DensePrivate`: the same arithmetic as `DenseOpen` (the weights are witness signals instead of constants). */
export const densePrivate = denseOpen;

/** A CHW tensor shape [channels, height, width]. */
export type Shape3 = readonly [number, number, number];

/** Output side of a convolution or pooling window sweep: floor((n + 2*padding - kernel) / stride) + 1. */
export function outSide(n: number, kernel: number, stride: number, padding = 0): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/**
 * Geometry of a 2-D convolution. `groups` (absent = 1) splits the input and output channels into that many groups;
 * output channel o reads only the inShape[0] / groups input channels of its group (groups = inShape[0]: depthwise).
 */
export interface ConvGeometry {
  inShape: Shape3;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  groups?: number;
}

/** Output shape of a convolution. */
export function convOutShape(g: ConvGeometry): [number, number, number] {
  const [, H, W] = g.inShape;
  return [g.outChannels, outSide(H, g.kernel, g.stride, g.padding), outSide(W, g.kernel, g.stride, g.padding)];
}

/**
 * Calls `tap(o, c, ky, kx, inIndex, outIndex)` for every in-range tap of a convolution (zero-padding taps are
 * skipped), in the order the circuit visits them. `c` indexes the weight tensor W[o][c][ky][kx]: the input channel
 * within output channel o's group (the input channel itself is g * C / groups + c, g = floor(o / (OC / groups))).
 */
export function forEachConvTap(
  g: ConvGeometry,
  tap: (o: number, c: number, ky: number, kx: number, inIndex: number, outIndex: number) => void,
): void {
  const [C, H, W] = g.inShape;
  const [OC, OH, OW] = convOutShape(g);
  const G = g.groups ?? 1;
  const CG = C / G;
  const OCG = OC / G;
  for (let o = 0; o < OC; o++) {
    const c0 = Math.floor(o / OCG) * CG;
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const outIndex = (o * OH + oy) * OW + ox;
        for (let c = 0; c < CG; c++)
          for (let ky = 0; ky < g.kernel; ky++)
            for (let kx = 0; kx < g.kernel; kx++) {
              const y = oy * g.stride + ky - g.padding;
              const x = ox * g.stride + kx - g.padding;
              if (y >= 0 && y < H && x >= 0 && x < W) tap(o, c, ky, kx, ((c0 + c) * H + y) * W + x, outIndex);
            }
      }
  }
}

/**
 * Twin of `Conv2dOpen` / `Conv2dPrivate` (groups 1) and `Conv2dGroupedOpen` / `Conv2dGroupedPrivate`:
 * requantize(B[o] + sum of in-range taps of o's group) per output, CHW layout; W is [OC][C / groups][K][K].
 */
export function conv2d(
  x: readonly bigint[],
  g: ConvGeometry,
  W: readonly (readonly (readonly (readonly bigint[])[])[])[],
  B: readonly bigint[],
  k: number,
  outBits: number,
  relu: boolean,
): bigint[] {
  const [C, H, Wd] = g.inShape;
  if (x.length !== C * H * Wd) throw new Error(`conv2d: input has ${x.length} values, shape [${g.inShape.join(", ")}] needs ${C * H * Wd}`);
  const [OC, OH, OW] = convOutShape(g);
  const acc: bigint[] = Array.from({ length: OC * OH * OW }, (_, i) => B[Math.floor(i / (OH * OW))]);
  forEachConvTap(g, (o, c, ky, kx, ii, oi) => {
    acc[oi] += W[o][c][ky][kx] * x[ii];
  });
  return acc.map((a) => requantize(a, k, outBits, relu));
}

/**
 * Pooling windows: for each output index (CHW), the input indices of its window, row-major. With zero padding a
 * border window lists only its in-range taps (the padded zeros add nothing to a sum; for a maximum, a skipped tap
 * is -infinity).
 */
export function poolWindows(
  inShape: Shape3,
  kernel: number,
  stride: number,
  padding = 0,
): { outShape: [number, number, number]; windows: number[][] } {
  const [C, H, W] = inShape;
  const OH = outSide(H, kernel, stride, padding);
  const OW = outSide(W, kernel, stride, padding);
  const windows: number[][] = [];
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const win: number[] = [];
        for (let ky = 0; ky < kernel; ky++)
          for (let kx = 0; kx < kernel; kx++) {
            const y = oy * stride + ky - padding;
            const x = ox * stride + kx - padding;
            if (y >= 0 && y < H && x >= 0 && x < W) win.push((c * H + y) * W + x);
          }
        windows.push(win);
      }
  return { outShape: [C, OH, OW], windows };
}

/** Twin of `Max2`: max(a, b). */
export function max2(a: bigint, b: bigint): bigint {
  return a >= b ? a : b;
}

/**
 * Twin of `MaxPool2d` (padding 0) and `MaxPool2dPadded`: the maximum of the in-range taps of each K x K window.
 * Padded taps are skipped, i.e. they act as -infinity and never win (PyTorch's / ONNX's MaxPool padding); with
 * padding < kernel every window has at least one in-range tap.
 */
export function maxPool2d(x: readonly bigint[], inShape: Shape3, kernel: number, stride: number, padding = 0): bigint[] {
  return poolWindows(inShape, kernel, stride, padding).windows.map((win) => win.map((i) => x[i]).reduce(max2));
}

/**
 * Twin of `MaxPoolRequantize`: requantize(max of the in-range taps of each window) on raw accumulators. Equal to
 * requantizing every accumulator and max-pooling the results, because requantize is non-decreasing.
 */
export function maxPoolRequantize(
  acc: readonly bigint[],
  inShape: Shape3,
  kernel: number,
  stride: number,
  padding: number,
  k: number,
  outBits: number,
  relu: boolean,
): bigint[] {
  return maxPool2d(acc, inShape, kernel, stride, padding).map((a) => requantize(a, k, outBits, relu));
}

/**
 * Twin of `AvgPool2d` (padding 0) and `AvgPool2dPadded`: requantize(window sum, shift, outBits, no ReLU); padded
 * taps read 0.
 */
export function avgPool2d(
  x: readonly bigint[],
  inShape: Shape3,
  kernel: number,
  stride: number,
  shift: number,
  outBits: number,
  padding = 0,
): bigint[] {
  return poolWindows(inShape, kernel, stride, padding).windows.map((win) =>
    requantize(
      win.reduce((s, i) => s + x[i], 0n),
      shift,
      outBits,
      false,
    ),
  );
}

/**
 * Twin of `AddRescaled(n, sa, sb, A, k, outBits, relu)`: requantize(a[i] * 2^sa + b[i] * 2^sb, k, outBits, relu) per
 * element, the residual sum of two tensors left-shifted to a common scale.
 */
export function addRescaled(
  a: readonly bigint[],
  b: readonly bigint[],
  sa: number,
  sb: number,
  k: number,
  outBits: number,
  relu: boolean,
): bigint[] {
  if (a.length !== b.length) throw new Error(`add: operands have ${a.length} and ${b.length} values`);
  return a.map((v, i) => requantize((v << BigInt(sa)) + (b[i] << BigInt(sb)), k, outBits, relu));
}

/** Smallest D with hi - lo < 2^D (D >= 1): the difference width of `Max2` / `MaxPool2d` / `Argmax` over [lo, hi]. */
export function differenceBits(iv: Interval): number {
  let d = 1;
  while (iv.hi - iv.lo >= 1n << BigInt(d)) d++;
  return d;
}

/** Image of an interval under `requantize` (monotone non-decreasing, so the image of [lo, hi] is [rq(lo), rq(hi)]). */
export function requantizeBounds(iv: Interval, k: number, outBits: number, relu: boolean): Interval {
  return { lo: requantize(iv.lo, k, outBits, relu), hi: requantize(iv.hi, k, outBits, relu) };
}

/** Bounds of w * x for w in `w` and x in `x` (the four corners). */
export function productBounds(w: Interval, x: Interval): Interval {
  const c = [w.lo * x.lo, w.lo * x.hi, w.hi * x.lo, w.hi * x.hi];
  return { lo: c.reduce((a, b) => (a < b ? a : b)), hi: c.reduce((a, b) => (a > b ? a : b)) };
}

/** Union hull of intervals. */
export function hull(ivs: readonly Interval[]): Interval {
  return { lo: ivs.reduce((a, b) => (b.lo < a ? b.lo : a), ivs[0].lo), hi: ivs.reduce((a, b) => (b.hi > a ? b.hi : a), ivs[0].hi) };
}

/**
 * Constraint count of `Requantize(A, k, outBits, relu)` after --O2 (pinned against the compiler by the tests):
 * k + Z + 5, or k + Z + 3 when Z = m + 1, with m = outBits - relu and Z = max(A - k, m) + 1.
 */
export function requantizeConstraints(A: number, k: number, outBits: number, relu: boolean): number {
  const m = relu ? outBits - 1 : outBits;
  const Z = Math.max(A - k, m) + 1;
  return k + Z + 1 + (Z - m === 1 ? 0 : 2) + 2;
}

/** Largest f with maxAbs * 2^f <= 2^(bits-1) - 1 (f may be negative for large values). */
export function fracFor(maxAbs: number, bits: number): number {
  const limit = 2 ** (bits - 1) - 1;
  if (!(maxAbs >= 0) || !Number.isFinite(maxAbs))
    throw new RangeError(`fracFor: maxAbs must be a finite non-negative number, got ${maxAbs}`);
  if (maxAbs === 0) return bits - 1;
  let f = Math.floor(Math.log2(limit / maxAbs));
  // log2 rounds; nudge so that maxAbs * 2^f <= limit < maxAbs * 2^(f+1) holds exactly.
  while (maxAbs * 2 ** f > limit) f--;
  while (maxAbs * 2 ** (f + 1) <= limit) f++;
  return f;
}

/** A 1-D (sequence) layer's geometry on a [C, L] tensor (index = c * L + x), as PyTorch's Conv1d / MaxPool1d. */
export interface Seq1dGeometry {
  inShape: readonly [number, number];
  kernel: number;
  stride: number;
  padding?: number;
}

/**
 * Calls `tap(o, c, k, inIndex, outIndex)` for every in-range tap of a (grouped) 1-D convolution, in the order the
 * circuit visits them; `c` indexes W[o][c][k] within output channel o's group.
 */
export function forEachConv1dTap(
  g: Seq1dGeometry & { outChannels: number; groups?: number },
  tap: (o: number, c: number, k: number, inIndex: number, outIndex: number) => void,
): void {
  const [C, L] = g.inShape;
  const P = g.padding ?? 0;
  const OL = outSide(L, g.kernel, g.stride, P);
  const G = g.groups ?? 1;
  const CG = C / G;
  const OCG = g.outChannels / G;
  for (let o = 0; o < g.outChannels; o++) {
    const c0 = Math.floor(o / OCG) * CG;
    for (let ox = 0; ox < OL; ox++)
      for (let c = 0; c < CG; c++)
        for (let k = 0; k < g.kernel; k++) {
          const x = ox * g.stride + k - P;
          if (x >= 0 && x < L) tap(o, c, k, (c0 + c) * L + x, o * OL + ox);
        }
  }
}

/** Twin of `Conv1dAccOpen` / `Conv1dAccPrivate` + `RequantizeEach`: requantize(B[o] + sum of o's in-range taps). */
export function conv1d(
  x: readonly bigint[],
  g: Seq1dGeometry & { outChannels: number; groups?: number },
  W: readonly (readonly (readonly bigint[])[])[],
  B: readonly bigint[],
  k: number,
  outBits: number,
  relu: boolean,
): bigint[] {
  const [C, L] = g.inShape;
  if (x.length !== C * L) throw new Error(`conv1d: input has ${x.length} values, shape [${C}, ${L}] needs ${C * L}`);
  const OL = outSide(L, g.kernel, g.stride, g.padding ?? 0);
  const acc: bigint[] = Array.from({ length: g.outChannels * OL }, (_, i) => B[Math.floor(i / OL)]);
  forEachConv1dTap(g, (o, c, kk, ii, oi) => {
    acc[oi] += W[o][c][kk] * x[ii];
  });
  return acc.map((a) => requantize(a, k, outBits, relu));
}

/** Pooling windows of a [C, L] tensor: per output (index c * OL + ox) its in-range input indices. */
export function pool1dWindows(g: Seq1dGeometry): { outShape: [number, number]; windows: number[][] } {
  const [C, L] = g.inShape;
  const P = g.padding ?? 0;
  const OL = outSide(L, g.kernel, g.stride, P);
  const windows: number[][] = [];
  for (let c = 0; c < C; c++)
    for (let ox = 0; ox < OL; ox++) {
      const win: number[] = [];
      for (let k = 0; k < g.kernel; k++) {
        const x = ox * g.stride + k - P;
        if (x >= 0 && x < L) win.push(c * L + x);
      }
      windows.push(win);
    }
  return { outShape: [C, OL], windows };
}

/** Twin of `MaxPool1d`: the maximum of each window's in-range taps (padded taps never win). */
export function maxPool1d(x: readonly bigint[], g: Seq1dGeometry): bigint[] {
  return pool1dWindows(g).windows.map((win) => win.map((i) => x[i]).reduce(max2));
}

/** Twin of `AvgPool1d`: requantize(window sum, shift, outBits, no ReLU); padded taps read 0. */
export function avgPool1d(x: readonly bigint[], g: Seq1dGeometry, shift: number, outBits: number): bigint[] {
  return pool1dWindows(g).windows.map((win) =>
    requantize(
      win.reduce((s, i) => s + x[i], 0n),
      shift,
      outBits,
      false,
    ),
  );
}
