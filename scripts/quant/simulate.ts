/**
 * Integer reference inference for every quantized layer type (dense, conv2d, maxpool, avgpool, flatten), built on the
 * bit-exact circuit twins in ./ops. `scripts/model/quantized.ts` (inferQuantized / validateModel) is the project's
 * reference; this module stands in for the layer types it does not accept yet and defers to it for those it does
 * (see {@link upstreamSupportsAllLayers}). Semantics, which the tests pin:
 * - dense / conv2d: requantize(B + sum W x, shift) = clamp(floor((acc + 2^(shift-1)) / 2^shift), lo, hi), with
 *   [lo, hi] = [0, 2^(b-1)-1] with ReLU, [-2^(b-1), 2^(b-1)-1] without;
 * - maxpool: the window maximum (scale kept); avgpool: requantize(window sum, shift), signed clamp;
 * - flatten: identity on the CHW-flattened layout; head: argmax, lowest index on ties.
 */
import { type Inference, type QuantizedLayer, type QuantizedModel, inferQuantized, validateModel } from "../model/quantized";
import { argmax, avgPool2d, conv2d, convOutShape, denseOpen, maxPool2d, outSide, signedRange } from "./ops";

type Shape = [number] | [number, number, number];

function fail(field: string, msg: string): never {
  throw new Error(`quantized model: ${field} ${msg}`);
}

function checkInt(field: string, v: unknown, bits: number): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) fail(field, `must be an integer, got ${String(v)}`);
  const { lo, hi } = signedRange(bits);
  if (BigInt(v) < lo || BigInt(v) > hi) fail(field, `= ${v} is outside the ${bits}-bit signed range [${lo}, ${hi}]`);
}

function checkBits(field: string, v: unknown, lo: number, hi: number): void {
  if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) fail(field, `must be an integer in ${lo}..${hi}, got ${String(v)}`);
}

let upstream: boolean | undefined;

/**
 * Whether scripts/model/quantized.ts (validateModel + inferQuantized) accepts conv2d, maxpool, avgpool and flatten
 * layers yet: probed once on a tiny model.
 */
export function upstreamSupportsAllLayers(): boolean {
  if (upstream === undefined) {
    const probe: QuantizedModel = {
      format: "zkml-quantized-v1",
      name: "probe",
      input: { size: 16, bits: 8, frac: 0, shape: [1, 4, 4] },
      weights: "open",
      layers: [
        { type: "avgpool", inShape: [1, 4, 4], kernel: 1, stride: 1, shift: 0, outBits: 8, outFrac: 0 },
        {
          type: "conv2d",
          inShape: [1, 4, 4],
          outChannels: 1,
          kernel: 1,
          stride: 1,
          padding: 0,
          W: [[[[1]]]],
          B: [0],
          wBits: 8,
          wFrac: 0,
          bBits: 16,
          shift: 0,
          outBits: 8,
          outFrac: 0,
          relu: true,
        },
        { type: "maxpool", inShape: [1, 4, 4], kernel: 2, stride: 2 },
        { type: "flatten", inShape: [1, 2, 2] },
        {
          type: "dense",
          nIn: 4,
          nOut: 2,
          W: [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
          ],
          B: [0, 0],
          wBits: 8,
          wFrac: 0,
          bBits: 16,
          shift: 0,
          outBits: 8,
          outFrac: 0,
          relu: false,
        },
      ],
      head: "argmax",
    };
    try {
      validateModel(probe);
      const r = inferQuantized(
        probe,
        Array.from({ length: 16 }, (_, i) => BigInt(i)),
      );
      upstream = r.logits.length === 2 && r.logits[0] === 5n && r.logits[1] === 7n;
    } catch {
      upstream = false;
    }
  }
  return upstream;
}

/** Output shape of a quantized layer. */
export function quantizedOutShape(l: QuantizedLayer): Shape {
  switch (l.type) {
    case "dense":
      return [l.nOut];
    case "conv2d":
      return convOutShape(l);
    case "maxpool":
    case "avgpool":
      return [l.inShape[0], outSide(l.inShape[1], l.kernel, l.stride), outSide(l.inShape[2], l.kernel, l.stride)];
    case "flatten":
      return [l.inShape[0] * l.inShape[1] * l.inShape[2]];
  }
}

/**
 * Checks a quantized model of any layer types field by field (shapes chain, integers within their declared bits).
 * Uses validateModel from scripts/model/quantized.ts when it accepts every layer type of the model.
 * @throws Error naming the first bad field and the accepted values.
 */
export function checkQuantizedModel(m: QuantizedModel): QuantizedModel {
  if (m.layers.every((l) => l.type === "dense") || upstreamSupportsAllLayers()) return validateModel(m);
  if (m.format !== "zkml-quantized-v1") fail("format", `must be "zkml-quantized-v1", got ${JSON.stringify(m.format)}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(m.name ?? ""))
    fail("name", `must be lowercase letters, digits and dashes, got ${JSON.stringify(m.name)}`);
  checkBits("input.bits", m.input.bits, 2, 32);
  if (m.input.shape && m.input.shape.reduce((a, b) => a * b, 1) !== m.input.size)
    fail("input.shape", `[${m.input.shape}] does not hold input.size = ${m.input.size} values`);
  if (m.weights !== "open" && m.weights !== "private") fail("weights", `must be "open" or "private"`);
  if (m.head !== "argmax") fail("head", `must be "argmax"`);
  let shape: Shape = m.input.shape ? [...m.input.shape] : [m.input.size];
  m.layers.forEach((l, li) => {
    const f = `layers[${li}]`;
    if (l.type === "dense") {
      if (shape.length !== 1 || shape[0] !== l.nIn) fail(`${f}.nIn`, `is ${l.nIn} but the previous layer outputs shape [${shape}]`);
    } else if (["conv2d", "maxpool", "avgpool", "flatten"].includes(l.type)) {
      if (shape.length !== 3 || l.inShape.some((v, i) => v !== shape[i]))
        fail(`${f}.inShape`, `is [${l.inShape}] but the previous layer outputs shape [${shape}]`);
    } else
      fail(`${f}.type`, `"${String((l as { type: unknown }).type)}" is not supported; supported: dense, conv2d, maxpool, avgpool, flatten`);
    if (l.type === "dense" || l.type === "conv2d") {
      checkBits(`${f}.wBits`, l.wBits, 2, 32);
      checkBits(`${f}.bBits`, l.bBits, 2, 64);
      checkBits(`${f}.shift`, l.shift, 0, 64);
      checkBits(`${f}.outBits`, l.outBits, 2, 32);
      if (typeof l.relu !== "boolean") fail(`${f}.relu`, "must be true or false");
      const rows = l.type === "dense" ? l.W : l.W.flat(2);
      const width = l.type === "dense" ? l.nIn : l.kernel;
      const nRows = l.type === "dense" ? l.nOut : l.outChannels * l.inShape[0] * l.kernel;
      if (rows.length !== nRows) fail(`${f}.W`, `must have ${nRows} rows of weights`);
      rows.forEach((r, j) => {
        if (r.length !== width) fail(`${f}.W`, `row ${j} must have ${width} entries`);
        r.forEach((w, i) => checkInt(`${f}.W (row ${j}, entry ${i})`, w, l.wBits));
      });
      const nB = l.type === "dense" ? l.nOut : l.outChannels;
      if (l.B.length !== nB) fail(`${f}.B`, `must have ${nB} entries`);
      l.B.forEach((b, j) => checkInt(`${f}.B[${j}]`, b, l.bBits));
    }
    if (l.type === "conv2d" || l.type === "maxpool" || l.type === "avgpool") {
      checkBits(`${f}.kernel`, l.kernel, 1, 64);
      checkBits(`${f}.stride`, l.stride, 1, 64);
    }
    if (l.type === "avgpool") {
      checkBits(`${f}.shift`, l.shift, 0, 64);
      checkBits(`${f}.outBits`, l.outBits, 2, 32);
    }
    shape = quantizedOutShape(l);
  });
  const last = m.layers[m.layers.length - 1];
  if (last.type !== "dense" || last.relu)
    fail(`layers[${m.layers.length - 1}]`, "must be a dense layer without ReLU: the argmax head reads signed logits");
  return m;
}

/**
 * Runs a quantized model with integer arithmetic exactly as the circuit does (see the module comment).
 * @throws RangeError naming the input index when a value is outside the model's input range.
 */
export function simulateQuantized(m: QuantizedModel, x: readonly bigint[]): Inference {
  if (x.length !== m.input.size) throw new RangeError(`input has ${x.length} values; model ${m.name} takes ${m.input.size}`);
  const { lo, hi } = signedRange(m.input.bits);
  x.forEach((v, i) => {
    if (v < lo || v > hi) throw new RangeError(`input[${i}] = ${v} is outside the ${m.input.bits}-bit signed range [${lo}, ${hi}]`);
  });
  const layers: bigint[][] = [];
  let a: bigint[] = [...x];
  for (const l of m.layers) {
    switch (l.type) {
      case "dense":
        a = denseOpen(
          a,
          l.W.map((r) => r.map(BigInt)),
          l.B.map(BigInt),
          l.shift,
          l.outBits,
          l.relu,
        );
        break;
      case "conv2d":
        a = conv2d(
          a,
          l,
          l.W.map((o) => o.map((c) => c.map((r) => r.map(BigInt)))),
          l.B.map(BigInt),
          l.shift,
          l.outBits,
          l.relu,
        );
        break;
      case "maxpool":
        a = maxPool2d(a, l.inShape, l.kernel, l.stride);
        break;
      case "avgpool":
        a = avgPool2d(a, l.inShape, l.kernel, l.stride, l.shift, l.outBits);
        break;
      case "flatten":
        a = [...a];
        break;
    }
    layers.push(a);
  }
  const logits = layers[layers.length - 1];
  return { layers, logits, output: BigInt(argmax(logits)) };
}

/** The reference inference: inferQuantized when it accepts the model's layer types, else {@link simulateQuantized}. */
export function referenceInference(m: QuantizedModel, x: readonly bigint[]): Inference {
  return m.layers.every((l) => l.type === "dense") || upstreamSupportsAllLayers() ? inferQuantized(m, x) : simulateQuantized(m, x);
}
