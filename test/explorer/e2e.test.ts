/**
 * The explorer end to end, everything real (issue 35): a `hardhat node` with the market and the iris model published
 * (its real verifier, its bundle served over HTTP), a prover node proving with real Groth16 proofs, the indexer
 * (Ponder, embedded database) and the built app, in Debian's chromium with an EIP-1193 test wallet over the node's
 * accounts. A user opens the model's page, picks a sample, connects the wallet, requests an inference, and watches the
 * job get claimed, proven and verified, with the result decoded by the card; the page asks no other host and passes
 * the accessibility check.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import type { Page } from "playwright-core";
import { type LocalNetwork, startLocalNetwork } from "../../scripts/apps/explorer/local";
import { type RunningIndexer, startIndexer } from "../../scripts/apps/explorer/indexer";
import { type ServedApp, ensureAppBuild, serveApp } from "../../scripts/apps/explorer/app";
import { type Browser, CHROMIUM, axeSerious, injectTestWallet, launchBrowser } from "../../scripts/apps/explorer/browser";

describe("explorer end to end (chain, prover, indexer, app, browser wallet; real proofs)", function () {
  this.timeout(600_000);
  let net: LocalNetwork | undefined;
  let indexer: RunningIndexer | undefined;
  let app: ServedApp | undefined;
  let browser: Browser | undefined;
  let dbDir: string;
  let page: Page;

  before(async function () {
    if (!CHROMIUM) {
      if (process.env.CI) throw new Error("chromium is not installed: .ci/run installs Debian's chromium with apt-get");
      this.skip();
    }
    await ensureAppBuild(() => undefined);
    // no subscription: its runs would share the one prover with the job the browser opens
    net = await startLocalNetwork(hre, { models: ["iris-mlp"], seedJobsPerModel: 1, subscriptionIntervalS: 0 });
    dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-e2e-"));
    indexer = await startIndexer({ rpcUrl: net.chain.url, chainId: net.chainId, jobs: net.jobsAddress, dbDir });
    app = await serveApp({ apiUrl: indexer.url });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await injectTestWallet(page, net.chain.url);
  });

  after(async function () {
    await browser?.close();
    await app?.stop();
    await indexer?.stop();
    await net?.stop();
    if (dbDir) fs.rmSync(dbDir, { recursive: true, force: true });
  });

  it("requests an inference from the model page with a wallet and shows it proven, verified and decoded", async function () {
    const modelId = net!.kit.modelId("iris-mlp");
    const before = await net!.kit.jobs.nextJobId();
    await page.goto(`${app!.url}/models/${modelId}`);
    await page.getByRole("heading", { name: "Try it" }).waitFor();
    await page.getByLabel("Sample").selectOption({ index: 1 }); // the card's first held-out sample: a setosa
    await page.getByRole("button", { name: "Connect wallet" }).click();
    await page.getByText("Connected as").waitFor();
    await page.getByRole("button", { name: "Request inference" }).click();

    // the job the page opened, on chain: the wallet's account, the card's quantization of the sample
    await page.getByText(/Job #\d+ opened in transaction/).waitFor({ timeout: 60_000 });
    const jobId = before;
    const job = await net!.kit.jobs.getJob(jobId);
    expect(job.requester.toLowerCase()).to.equal(((await net!.provider.send("eth_accounts", [])) as string[])[0].toLowerCase());

    // watched live: claimed, then proven and verified by the market, with the result decoded by the card
    await page.locator('[data-stage="claimed"]').first().waitFor({ timeout: 120_000 });
    await page.locator('[data-stage="fulfilled"]').first().waitFor({ timeout: 120_000 });
    const decoded = page.getByTestId("decoded");
    await decoded.waitFor();
    const result = await net!.requester.getResult(jobId);
    const sample = net!.kit.models["iris-mlp"].card.samples![0];
    expect(result?.label).to.equal(sample.expected); // the model's answer to the sample, proven on chain
    expect(await decoded.textContent()).to.contain(result!.label);

    expect(browser!.foreign).to.deep.equal([]);
    expect(await axeSerious(page)).to.deep.equal([]);
  });
});
