/**
 * The SDK in a browser: the root export (scripts/chain/sdk.ts) bundled for the browser with esbuild (platform
 * "browser", nothing external: a Node-only import on that path fails the bundle), loaded in headless Chromium (Debian's
 * `chromium`, installed by .ci/run) from a local page, against a `hardhat node` with the test kit's market. The page
 * lists the models, reads a card over HTTP (checked against bundle.json and the registry), opens a job from a raw input
 * with its own wallet, and reads the decoded result once the kit proved it (a real proof).
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet } from "ethers";
import type { Browser, Page } from "puppeteer-core";
import { ROOT } from "../../scripts/util/paths";
import { type ServedFolder, serveFolder } from "../../scripts/util/serve-folder";
import { type LocalNode, startHardhatNode } from "../../scripts/chain/local-node";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { inferQuantized, type QuantizedModel } from "../../scripts/formats/quantized-model";
import { commitSigned } from "../../scripts/formats/commitments";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));

/** What the page bundles: the SDK, and ethers for its own provider and wallet (as a dApp would). */
const ENTRY = `export * as sdk from ${JSON.stringify(path.join(ROOT, "scripts", "chain", "sdk.ts"))};
export { JsonRpcProvider, Wallet } from "ethers";`;

describe("SDK in a browser (esbuild bundle, headless Chromium)", function () {
  this.timeout(600_000);
  let tmp: string;
  let chain: LocalNode | undefined;
  let server: ServedFolder | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let kit: InferenceKit;
  let bundleBytes = 0;

  before(async function () {
    if (!CHROMIUM) {
      if (process.env.CI) throw new Error("chromium is not installed: .ci/run installs Debian's chromium with apt-get");
      console.log("    (skipped: no /usr/bin/chromium; `apt-get install chromium` to run it)");
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-browser-"));
    const esbuild = await import("esbuild");
    fs.writeFileSync(path.join(tmp, "entry.ts"), ENTRY);
    const r = await esbuild.build({
      entryPoints: [path.join(tmp, "entry.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      minify: true,
      outfile: path.join(tmp, "app.js"),
      nodePaths: [path.join(ROOT, "node_modules")],
      logLevel: "silent",
    });
    expect(r.errors).to.deep.equal([]);
    bundleBytes = fs.statSync(path.join(tmp, "app.js")).size;
    fs.writeFileSync(
      path.join(tmp, "index.html"),
      `<!doctype html><meta charset="utf-8"><title>sdk</title><script type="module">import * as app from "./app.js"; window.app = app; window.ready = true;</script>`,
    );
    await writeKitBundles(hre, path.join(tmp, "bundles"), ["iris-mlp"]);
    const s = await serveFolder(tmp);
    server = s;
    chain = await startHardhatNode();
    const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1 });
    const wallets = [0, 1, 18, 19].map((i) => new Wallet(devKey(i), provider));
    kit = await deployInferenceKitWith(wallets, {
      models: ["iris-mlp"],
      bundlesDir: path.join(tmp, "bundles"),
      bundleUri: (name) => `${s.base}/bundles/${name}`,
    });
    const puppeteer = await import("puppeteer-core");
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless=new"] });
    page = await browser.newPage();
    await page.goto(`${s.base}/index.html`);
    await page.waitForFunction("window.ready === true");
  });

  after(async function () {
    await browser?.close();
    await server?.close();
    await chain?.stop();
  });

  it("lists models, reads a card, opens a job from a raw input and reads the proven result", async function () {
    const args = { rpc: chain!.url, jobs: await kit.jobs.getAddress(), key: devKey(5), modelId: kit.modelId("iris-mlp").toString() };
    const opened = (await page.evaluate(async (a) => {
      type App = { sdk: typeof import("../../scripts/chain/sdk"); JsonRpcProvider: typeof JsonRpcProvider; Wallet: typeof Wallet };
      const { sdk, JsonRpcProvider: P, Wallet: W } = (globalThis as unknown as { app: App }).app;
      const wallet = new W(a.key, new P(a.rpc));
      const client = await sdk.InferenceClient.connect({ jobs: a.jobs, runner: wallet });
      const models = await client.listModels();
      const card = await client.modelCard(BigInt(a.modelId));
      const job = await client.openJob({ modelId: BigInt(a.modelId), input: { raw: [5.1, 3.5, 1.4, 0.2] }, fee: 10n ** 16n });
      (globalThis as unknown as { job: unknown }).job = job;
      return {
        models: models.map((m) => m.modelId.toString()),
        card: [card.name, card.outputs.join(",")],
        jobId: job.jobId.toString(),
        x: job.x.map(String),
        salt: job.salt!.toString(),
        commitment: job.inputCommitment!.toString(),
        node: typeof (globalThis as { process?: unknown }).process,
      };
    }, args)) as { models: string[]; card: string[]; jobId: string; x: string[]; salt: string; commitment: string; node: string };
    expect(opened.models).to.deep.equal([args.modelId]);
    expect(opened.card).to.deep.equal(["iris-mlp", "setosa,versicolor,virginica"]);
    expect(opened.node).to.equal("undefined"); // a browser, not Node
    // the browser's commitment is the one Node computes for the same input and salt
    expect(BigInt(opened.commitment)).to.equal(await commitSigned(opened.x.map(BigInt), 12, BigInt(opened.salt), "input"));
    const [done] = await kit.fulfilJobs();
    const model = JSON.parse(fs.readFileSync(path.join(tmp, "bundles", "iris-mlp", "model.qmodel.json"), "utf8")) as QuantizedModel;
    const expected = inferQuantized(model, opened.x.map(BigInt)).output;
    expect([done.jobId.toString(), done.output]).to.deep.equal([opened.jobId, expected]);
    const result = (await page.evaluate(
      async (a) => {
        type App = { sdk: typeof import("../../scripts/chain/sdk"); JsonRpcProvider: typeof JsonRpcProvider };
        const { sdk, JsonRpcProvider: P } = (globalThis as unknown as { app: App }).app;
        const client = await sdk.InferenceClient.connect({ jobs: a.jobs, runner: new P(a.rpc) });
        const r = await client.waitForResult(BigInt(a.jobId), { timeoutMs: 20_000, pollMs: 200 });
        return { class: r.class, label: r.label };
      },
      { ...args, jobId: opened.jobId },
    )) as { class: number; label: string };
    expect(result).to.deep.equal({ class: Number(expected), label: "setosa" });
    console.log(`    (browser bundle of the SDK and ethers: ${(bundleBytes / 1024).toFixed(0)} KiB minified)`);
  });
});
