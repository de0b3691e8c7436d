/**
 * The explorer's web app in headless chromium (Debian's, through playwright-core) against a mock of the indexer's
 * API (./mock-api.ts): the built app served by serveApp (Vite preview, /api proxied). Models listed and searched, a
 * model's card, a job's timeline updating within a second of the API's change, the result decoded with the card,
 * error and empty states, wallet states, phone width, axe on every main page, and no request to another host.
 * The real end-to-end test (indexer, chain, prover) reuses ./browser.ts.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { Page } from "playwright-core";
import { ROOT } from "../../scripts/util/paths";
import { ensureAppBuild, serveApp, type ServedApp } from "../../scripts/apps/explorer/app";
import { type MockApi, startMockApi } from "./mock-api";
import {
  type Browser,
  CHROMIUM,
  axeSerious,
  horizontalOverflow,
  injectTestWallet,
  launchBrowser,
} from "../../scripts/apps/explorer/browser";

const SHOTS = path.join(ROOT, "build", "explorer-app-test");
const MAIN_PAGES = [
  "/",
  "/models/1",
  "/jobs",
  "/jobs/4",
  "/provers",
  `/provers/0x70997970c51812dc3a010c7d01b50e0d17dc79c8`,
  "/subscriptions",
  "/subscriptions/1",
  "/network",
];

describe("explorer web app (headless chromium, mock API)", function () {
  this.timeout(120_000);
  let mock: MockApi;
  let app: ServedApp;
  let browser: Browser;
  let page: Page;

  const open = async (p: string, ready = "main h1") => {
    await page.goto(app.url + p);
    await page.waitForSelector(ready);
  };
  const text = () => page.innerText("main");

  before(async function () {
    if (!CHROMIUM) {
      if (process.env.CI) throw new Error("chromium is not installed: .ci/run installs Debian's chromium with apt-get");
      console.log("    (skipped: no /usr/bin/chromium; `apt-get install chromium` to run it)");
      this.skip();
    }
    await ensureAppBuild(() => undefined); // npm test builds it before its workers start (test/run-all.sh)
    const built = fs
      .readdirSync(path.join(ROOT, "build", "explorer-app", "assets"))
      .map((f) => fs.statSync(path.join(ROOT, "build", "explorer-app", "assets", f)).size);
    console.log(`    (app built: ${(built.reduce((a, b) => a + b, 0) / 1024).toFixed(0)} KiB of assets)`);
    mock = await startMockApi();
    app = await serveApp({ apiUrl: mock.url });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterEach(() => mock?.reset());

  after(async function () {
    await browser?.close();
    await app?.stop();
    await mock?.stop();
  });

  it("lists the models and filters them by search", async function () {
    await open("/", ".model-item");
    expect(await page.locator(".model-item h2").allInnerTexts()).to.have.members([
      "iris-mlp",
      "temp-forecast",
      "model 3", // its card could not be read: no name yet
      "iris-mlpdeprecated",
    ]);
    await page.screenshot({ path: path.join(SHOTS, "models.png"), fullPage: true });
    await page.getByLabel("Search models").fill("temp");
    await page.waitForFunction(`document.querySelectorAll(".model-item").length === 1`);
    expect(await page.locator(".model-item h2").innerText()).to.equal("temp-forecast");
    expect(page.url()).to.match(/\?q=temp$/);
    await page.getByLabel("Search models").fill("no-such-model");
    await page.getByText("No model matches “no-such-model”").waitFor();
  });

  it("renders a model's card (description, architecture, features and units), statistics, versions with their audit, and recent jobs", async function () {
    await open("/models/1", "[data-testid=card]");
    const t = await text();
    for (const s of [
      "Tells the species of an iris flower",
      "dense 4 → 8, ReLU, 12-bit weights",
      "dense 8 → 3, 12-bit weights",
      "4 values: sepal length, sepal width, petal length, petal width in cm",
      "sepal length (cm)",
      "classification",
      "argmax over 3 classes: setosa, versicolor, virginica",
      "top-1 accuracy",
      "96.7 %",
      "656 constraints",
      "12-bit fixed point with 9 fractional bits",
      "DEV keys",
      "Latency p50 / p95",
      "Recent jobs",
    ])
      expect(t).to.include(s);
    expect(await page.locator("table caption", { hasText: "standardization" }).count()).to.equal(1);
    expect(await page.locator("[data-testid=audit]").evaluateAll((as) => as.map((a) => a.getAttribute("data-status")))).to.deep.equal([
      "passed",
      "passed",
    ]);
    await page.screenshot({ path: path.join(SHOTS, "model.png"), fullPage: true });
    await open("/models/4", "[data-testid=audit]");
    expect(await page.locator("[data-testid=audit]").getAttribute("data-status")).to.equal("failed");
    expect(await page.locator("[data-testid=audit]").innerText()).to.match(/FAILED[\s\S]*is not the snarkjs verifier of these keys/);
    await open("/models/2", "[data-testid=card]"); // regression: the output unit, the features' unit
    expect(await text()).to.include("1 value (temp_max_next_day in °C)");
    expect(await text()).to.include("max temperature today (°C)");
    await open("/models/3");
    await page.getByText("The model card could not be read").waitFor();
    expect(await text()).to.include("did not answer within 30 s");
  });

  it("shows a job's timeline and follows the API within a second, then decodes the result with the card", async function () {
    await open("/jobs/47", "[data-testid=timeline]");
    expect(await page.locator("[data-testid=timeline] li").evaluateAll((ls) => ls.map((l) => l.getAttribute("data-stage")))).to.deep.equal([
      "opened",
      "claimed",
    ]);
    expect(await text()).to.include("The prover is computing");
    const t0 = Date.now();
    mock.advance("47", "fulfilled", "1");
    // polled every 20 ms (a locator backs off to 500 ms between checks, which would blur the measure)
    await page.waitForFunction(`!!document.querySelector("[data-stage=fulfilled]")`, undefined, { polling: 20, timeout: 5_000 });
    const ms = Date.now() - t0;
    console.log(`    (job page updated ${ms} ms after the API changed)`);
    expect(ms).to.be.at.most(1_000);
    expect(await page.locator("[data-testid=decoded]").innerText()).to.equal("class 1: versicolor");
    expect(await text()).to.include("gas 301,500");
    await page.screenshot({ path: path.join(SHOTS, "job.png"), fullPage: true });
    await open("/jobs/4", "[data-testid=decoded]"); // a regression model: values with the card's names
    expect(await page.locator("[data-testid=decoded]").innerText()).to.match(/^temp_max_next_day = \d+(\.\d+)? °C$/);
  });

  it("says what to do when a job is unknown, the indexer is down, or nothing is indexed yet", async function () {
    await open("/jobs/9999");
    await page.getByText("No such job").waitFor();
    expect(await text()).to.include("Job 9999 is not indexed.");
    mock.state.down = true;
    await open("/");
    await page.getByText("The indexer is not reachable").waitFor();
    expect(await text()).to.include("npm run explorer");
    await page.screenshot({ path: path.join(SHOTS, "indexer-down.png") });
    mock.state.down = false;
    await page.getByRole("button", { name: "Try again" }).click();
    await page.waitForSelector(".model-item");
    mock.state.empty = true;
    for (const [p, says] of [
      ["/", "No model is registered yet"],
      ["/jobs", "No job yet"],
      ["/provers", "No prover has claimed a job yet"],
      ["/subscriptions", "No subscription yet"],
      ["/network", "No job in this window"],
    ]) {
      await open(p);
      await page.getByText(says).first().waitFor();
    }
  });

  it("tells a visitor without a wallet, on the wrong chain, or who rejects, what to do", async function () {
    await open("/models/1", "[data-testid=wallet]");
    await page.getByText("No wallet found in this browser").waitFor();
    const w = await browser.context.newPage();
    try {
      await injectTestWallet(w, `${mock.url}/rpc`);
      await w.goto(`${app.url}/models/1`);
      await w.evaluate("window.testWallet.reject = true");
      await w.getByRole("button", { name: "Connect wallet" }).click();
      await w.getByText("You rejected the request in your wallet").waitFor();
      await w.evaluate("window.testWallet.reject = false");
      mock.state.walletChainId = 1;
      await w.getByRole("button", { name: "Connect wallet" }).click();
      await w.getByText("Your wallet is on chain 1; this network is chain 31337").waitFor();
      expect(await w.getByRole("button", { name: "Request inference" }).isDisabled()).to.equal(true);
      await w.getByRole("button", { name: "Switch to chain 31337" }).click();
      await w.getByText("on chain 31337.").waitFor();
      // the card's held-out samples fill the form, labelled with the card's feature names and unit
      const options = await w.getByLabel("Sample").locator("option").allInnerTexts();
      expect(options.slice(1)).to.deep.equal(["sample 1: expected setosa", "sample 2: expected setosa", "sample 3: expected setosa"]);
      await w.getByLabel("Sample").selectOption({ label: "sample 2: expected setosa" });
      const form = await Promise.all(
        ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"].map((l) => w.getByLabel(l).inputValue()),
      );
      expect(form).to.deep.equal(["4.9", "3.1", "1.5", "0.1"]);
      expect(await w.getByTestId("sample-expected").innerText()).to.include("setosa");
      expect(await w.getByRole("button", { name: "Request inference" }).isDisabled()).to.equal(false);
      await w.screenshot({ path: path.join(SHOTS, "try-it.png"), fullPage: true });
    } finally {
      await w.close();
    }
  });

  it("fits a phone's width (375 px) and has no serious or critical axe violation on each main page", async function () {
    await page.setViewportSize({ width: 375, height: 800 });
    try {
      const problems: string[] = [];
      for (const p of MAIN_PAGES) {
        await open(p, "main h1");
        await page.waitForLoadState("networkidle");
        const over = await horizontalOverflow(page);
        if (over > 0) problems.push(`${p}: ${over} px wider than the phone`);
        for (const v of await axeSerious(page)) problems.push(`${p}: axe ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(", ")}`);
      }
      await page.screenshot({ path: path.join(SHOTS, "network-phone.png"), fullPage: true });
      expect(problems).to.deep.equal([]);
      console.log(`    (axe: no serious or critical violation on ${MAIN_PAGES.length} pages at 375 px)`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it("made no request to another host", function () {
    expect(browser.foreign).to.deep.equal([]);
  });
});
