/**
 * The test kit (scripts/apps/testkit, the package's `zkml-evm/testing`) and the SDK client (scripts/chain/client.ts,
 * the root export) on the in-process network, with real proofs: what a consumer's own tests get. The same kit from the
 * packed tarball in a fresh Hardhat project: scripts/apps/package/consumer-check.ts.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre, { ethers } from "hardhat";
import { deployInferenceKit, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { InferenceClient, InferenceClientError } from "../../scripts/chain/client";
import { type QuantizedModel, inferQuantized } from "../../scripts/formats/quantized-model";
import { unpackSigned } from "../../scripts/formats/commitments";
import { ROOT } from "../../scripts/util/paths";

const FEE = ethers.parseEther("0.01");

/** The error a promise rejects with (undefined if it resolves). */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
const IRIS_SETOSA = [5.1, 3.5, 1.4, 0.2];

describe("test kit and SDK (package)", function () {
  let dir: string;
  let kit: InferenceKit;
  const qmodel = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, name, "model.qmodel.json"), "utf8")) as QuantizedModel;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-kit-"));
    await writeKitBundles(hre, dir);
  });
  beforeEach(async function () {
    kit = await deployInferenceKit(hre, { bundlesDir: dir });
  });

  it("registers the bundled models; the SDK lists them with cards read from their bundles", async function () {
    const models = await kit.client.listModels();
    expect(models.map((m) => [m.modelId, m.currentVersion, m.deprecated])).to.deep.equal([
      [kit.modelId("iris-mlp"), 1n, false],
      [kit.modelId("temp-forecast"), 1n, false],
    ]);
    const card = await kit.client.modelCard(kit.modelId("iris-mlp"));
    expect([card.name, card.task, card.outputs, card.input.mode]).to.deep.equal([
      "iris-mlp",
      "classification",
      ["setosa", "versicolor", "virginica"],
      "committed",
    ]);
    expect(() => kit.modelId("lenet")).to.throw('model "lenet" is not in this kit; it has iris-mlp, temp-forecast');
  });

  it("SDK: a raw iris input opened as a committed job is proven (real Groth16) and decoded to its class and label", async function () {
    const id = kit.modelId("iris-mlp");
    const job = await kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: FEE });
    expect(await kit.client.getResult(job.jobId)).to.equal(undefined);
    const [done] = await kit.fulfilJobs();
    const expected = inferQuantized(qmodel("iris-mlp"), job.x).output;
    expect([done.jobId, done.output, done.skipped]).to.deep.equal([job.jobId, expected, undefined]);
    const r = await kit.client.waitForResult(job.jobId, { timeoutMs: 5000, pollMs: 50 });
    expect([r.class, r.label, r.prover]).to.deep.equal([Number(expected), "setosa", await kit.prover.getAddress()]);
    expect(await kit.client.jobState(job.jobId)).to.equal("fulfilled");
  });

  it("SDK: a public-input forecast is proven and decoded to its values as numbers", async function () {
    const id = kit.modelId("temp-forecast");
    const v = await kit.client.getVersion(id);
    const x = Array.from({ length: v.layout.inputCount }, (_, i) => BigInt(40 * i - 100));
    const job = await kit.client.openJob({ modelId: id, input: { quantized: x }, fee: FEE });
    await kit.fulfilJobs();
    const r = await kit.client.waitForResult(job.jobId, { timeoutMs: 5000, pollMs: 50 });
    const ref = inferQuantized(qmodel("temp-forecast"), x);
    const values = unpackSigned(ref.output, v.layout.outputCount, v.layout.outputBits);
    expect(r.fixedPoint).to.deep.equal({ values, frac: v.layout.outputFrac });
    expect(r.values).to.deep.equal(values.map((w) => Number(w) / 2 ** v.layout.outputFrac));
  });

  it("a consumer contract on the base contract gets its result through the kit, and a private job is left to its requester", async function () {
    const id = kit.modelId("iris-mlp");
    const consumer = await ethers.deployContract("ConsumerHarness", [await kit.jobs.getAddress(), id, 1n]);
    const c = await kit.client.commitInput(id, { raw: IRIS_SETOSA });
    const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp + 3600);
    await consumer.requestCommitted(c.inputCommitment, c.inputURI, deadline, { value: FEE });
    await consumer.requestPrivate(c.inputCommitment, deadline, { value: FEE });
    const [a, b] = await kit.fulfilJobs();
    expect(a.output).to.equal(inferQuantized(qmodel("iris-mlp"), c.x).output);
    expect(b.skipped).to.match(/^private input: its requester delivers it/);
    expect(await consumer.lastOutput()).to.equal(a.output);
  });

  it("SDK: a fee in an ERC-20 token is checked before any transaction, approved, escrowed and paid to the prover's token account", async function () {
    const id = kit.modelId("iris-mlp");
    const requester = kit.client.signer();
    const owner = await requester.getAddress();
    const market = await kit.jobs.getAddress();
    const token = await (await ethers.getContractFactory("MockERC20")).deploy("Mock USD", "mUSD");
    const addr = await token.getAddress();
    const T = 2_500_000n;
    await (await token.mint(owner, T - 1n)).wait();
    const before = await kit.jobs.nextJobId();
    let nonce = await ethers.provider.getTransactionCount(owner);
    const bad: [() => Promise<unknown>, string][] = [
      [
        () => kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: T, feeToken: addr }),
        `feeToken ${addr}: balance of ${owner} is ${T - 1n}, below the fee ${T}; fund the account or lower fee`,
      ],
      [
        () => kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: T, feeToken: owner }),
        `feeToken ${owner}: no contract at this address on this chain; give the ERC-20 token's address`,
      ],
      [
        () => kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: T, feeToken: "0x12" }),
        "feeToken 0x12: not an address; give the ERC-20 token's 0x address",
      ],
      [
        () => kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: 0n, feeToken: addr }),
        "fee must be more than 0 token units",
      ],
    ];
    for (const [call, msg] of bad) {
      const e = await rejection(call());
      expect(e, msg).to.be.instanceOf(InferenceClientError);
      expect((e as Error).message).to.equal(msg);
    }
    expect(await ethers.provider.getTransactionCount(owner)).to.equal(nonce); // nothing was sent
    await (await token.mint(owner, 1n)).wait();
    nonce = await ethers.provider.getTransactionCount(owner);
    const e = await rejection(kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: T, feeToken: addr, approve: false }));
    expect((e as Error).message).to.equal(
      `feeToken ${addr}: allowance of market ${market} is 0, below the fee ${T}; approve the market for the fee or pass approve: true`,
    );
    expect(await ethers.provider.getTransactionCount(owner)).to.equal(nonce); // nothing was sent
    expect(await kit.jobs.nextJobId()).to.equal(before);

    const job = await kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: T, feeToken: addr });
    expect(await kit.jobs.feeTokenOf(job.jobId)).to.equal(addr);
    expect((await kit.jobs.getJob(job.jobId)).escrow).to.equal(T);
    expect(await token.balanceOf(market)).to.equal(T);
    const [done] = await kit.fulfilJobs();
    expect([done.jobId, done.skipped]).to.deep.equal([job.jobId, undefined]);
    expect(await kit.jobs.tokenBalanceOf(await kit.prover.getAddress(), addr)).to.equal(T);
    expect(await kit.client.jobState(job.jobId)).to.equal("fulfilled");
  });

  it("SDK: refuses bad requests before any transaction, naming the field", async function () {
    const id = kit.modelId("iris-mlp");
    const before = await kit.jobs.nextJobId();
    const bad: [() => Promise<unknown>, string | RegExp][] = [
      [() => kit.client.openJob({ modelId: id, input: { raw: [1, 2, 3] }, fee: FEE }), "input has 3 values; model iris-mlp takes 4"],
      [
        () => kit.client.openJob({ modelId: id, input: { quantized: [0, 0, 0, 4096] }, fee: FEE }),
        "input[3] = 4096 is outside the model's 12-bit range [-2048, 2047]",
      ],
      [() => kit.client.openJob({ modelId: id, input: { raw: IRIS_SETOSA }, fee: 0n }), "fee must be more than 0 wei"],
      [
        () => kit.client.openJob({ modelId: id, version: 2, input: { raw: IRIS_SETOSA }, fee: FEE }),
        `version 2: model ${id} has versions 1..1`,
      ],
      [() => kit.client.openJob({ modelId: 99, input: { raw: IRIS_SETOSA }, fee: FEE }), /^modelId 99: no such model in registry 0x/],
      [
        () => kit.client.openJob({ modelId: kit.modelId("temp-forecast"), input: { quantized: [1] }, fee: FEE, delivery: "data" }),
        /^delivery: model \d+ takes public inputs/,
      ],
    ];
    for (const [call, msg] of bad) {
      const e = await rejection(call());
      expect(e, String(msg)).to.be.instanceOf(InferenceClientError);
      expect((e as Error).message).to.match(typeof msg === "string" ? new RegExp(`^${msg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : msg);
    }
    expect(await kit.jobs.nextJobId()).to.equal(before);
    const e = await rejection(InferenceClient.connect({ jobs: "0x12", runner: ethers.provider }));
    expect(e).to.be.instanceOf(InferenceClientError);
    expect((e as Error).message).to.equal('jobs: "0x12" is not an address; pass the InferenceJobs address of your deployment');
  });

  it("registers your own ONNX model (imported, quantized with its calibration set, evaluated) and proves its jobs", async function () {
    const fx = (f: string) => path.join(ROOT, "test", "fixtures", "onnx", f);
    const ref = JSON.parse(fs.readFileSync(fx("bn1d-mlp.json"), "utf8")) as { inputs: number[][]; outputs: number[][] };
    const own = await deployInferenceKit(hre, {
      bundlesDir: dir,
      models: ["iris-mlp"],
      onnx: [{ onnx: fx("bn1d-mlp.onnx"), calibration: fx("bn1d-mlp.calib.npy"), reference: fx("bn1d-mlp.json"), name: "my-mlp" }],
      workspace: path.join(dir, "workspace"),
    });
    const id = own.modelId("my-mlp");
    const card = await own.client.modelCard(id);
    expect([card.name, card.license, card.accuracy?.dataset]).to.deep.equal(["my-mlp", "test", "owner's reference bn1d-mlp.json"]);
    const job = await own.client.openJob({ modelId: id, input: { raw: ref.inputs[0] }, fee: FEE });
    const [done] = await own.fulfilJobs();
    const q = JSON.parse(
      fs.readFileSync(path.join(new URL(own.models["my-mlp"].uri).pathname, "model.qmodel.json"), "utf8"),
    ) as QuantizedModel;
    expect(done.output).to.equal(inferQuantized(q, job.x).output);
    const framework = ref.outputs[0].indexOf(Math.max(...ref.outputs[0]));
    expect((await own.client.waitForResult(job.jobId, { timeoutMs: 5000, pollMs: 50 })).class).to.equal(framework);
  });

  it("refuses an ONNX model that misses its reference, before anything is registered", async function () {
    const fx = (f: string) => path.join(ROOT, "test", "fixtures", "onnx", f);
    const wrong = path.join(dir, "wrong-reference.json");
    const ref = JSON.parse(fs.readFileSync(fx("bn1d-mlp.json"), "utf8")) as { inputs: number[][]; outputs: number[][] };
    fs.writeFileSync(wrong, JSON.stringify({ inputs: ref.inputs, outputs: ref.outputs.map((o) => o.map((v) => -v)) }));
    const e = await rejection(
      deployInferenceKit(hre, {
        bundlesDir: dir,
        models: [],
        onnx: [{ onnx: fx("bn1d-mlp.onnx"), calibration: fx("bn1d-mlp.calib.npy"), reference: wrong, name: "wrong-mlp" }],
        workspace: path.join(dir, "workspace"),
      }),
    );
    expect((e as Error).message).to.match(
      /^reference .*wrong-reference\.json: the built model misses targets of npm run evaluate \(nothing sent\)/,
    );
  });

  it("SDK: refuses a model card that is not the one its bundle lists", async function () {
    const id = kit.modelId("iris-mlp");
    const card = path.join(dir, "iris-mlp", "card.json");
    const original = fs.readFileSync(card);
    try {
      fs.writeFileSync(card, original.toString().replace("setosa", "sEtosa"));
      const e = await rejection(kit.client.modelCard(id));
      expect(e).to.be.instanceOf(InferenceClientError);
      expect((e as Error).message).to.match(/^model \d+ version 1: card\.json at file:\/\/.* is not the one bundle\.json lists$/);
    } finally {
      fs.writeFileSync(card, original);
    }
  });
});
