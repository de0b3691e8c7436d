/**
 * `npm run explorer:screenshots`: the explorer's main pages on real data, as docs/explorer/*.png (README, "Explorer").
 * It starts what `npm run explorer` starts (a local network with the bundled models, a prover node proving with
 * real Groth16 proofs, seed jobs opened from the cards' samples, a subscription whose runs the prover opens, the
 * indexer, the app), waits until one optimistic job is posted, every other job is proven and the subscription has
 * delivered two runs, and photographs each page in Debian's chromium, at desktop width and one at phone width.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { runMain } from "../main";
import { ROOT, writeFileAtomic } from "../../util/paths";
import { startLocalNetwork } from "./local";
import { startIndexer } from "./indexer";
import { ensureAppBuild, serveApp } from "./app";
import { launchBrowser } from "./browser";
import type { SubscriptionDetail } from "../../formats/explorer-api";

export const SCREENSHOTS_DIR = path.join(ROOT, "docs", "explorer");

async function main(): Promise<void> {
  await ensureAppBuild();
  const net = await startLocalNetwork(hre, { seedJobsPerModel: 4 });
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-db-"));
  const subs = net.subscriptions;
  if (!subs) throw new Error("the local network started without its subscription: the screenshots need one");
  const indexer = await startIndexer({
    rpcUrl: net.chain.url,
    chainId: net.chainId,
    jobs: net.jobsAddress,
    subscriptions: subs.address,
    dbDir,
  });
  const app = await serveApp({ apiUrl: indexer.url });
  const browser = await launchBrowser();
  try {
    const optimistic = await net.openSample("iris-mlp", 1, { optimistic: true });
    for (;;) {
      if ((await net.requester.jobStatus(optimistic)).state === "posted") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await indexer.waitForBlock(await net.provider.getBlockNumber());
    // the subscription's first run opens at once, the second one interval later: two delivered runs show the schedule
    const waitS = 2 * subs.intervalS + 60;
    const deadline = Date.now() + waitS * 1000;
    for (;;) {
      const r = await fetch(`${indexer.url}/api/subscriptions/${subs.subscriptionId}`);
      if (r.ok && ((await r.json()) as SubscriptionDetail).subscription.delivered >= 2) break;
      if (Date.now() > deadline) throw new Error(`subscription ${subs.subscriptionId} had not delivered two runs within ${waitS} s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const iris = net.kit.modelId("iris-mlp").toString();
    // each page is photographed once its data is on it (a Playwright selector)
    const shots: { file: string; route: string; ready: string; phone?: boolean }[] = [
      { file: "models.png", route: "/", ready: "ul.model-list li" },
      { file: "model.png", route: `/models/${iris}`, ready: "form.tryit" },
      { file: "job.png", route: `/jobs/${net.seedJobs[0]}`, ready: '[data-testid="decoded"]' },
      { file: "job-optimistic.png", route: `/jobs/${optimistic}`, ready: 'li[data-stage="posted"]' },
      { file: "jobs.png", route: "/jobs", ready: "table tbody tr" },
      { file: "provers.png", route: "/provers", ready: "table tbody tr" },
      { file: "subscription.png", route: `/subscriptions/${subs.subscriptionId}`, ready: "table tbody .badge-delivered" },
      { file: "network.png", route: "/network", ready: ".recharts-surface" },
      { file: "model-phone.png", route: `/models/${iris}`, ready: "form.tryit", phone: true },
    ];
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    for (const s of shots) {
      const page = await browser.context.newPage();
      await page.setViewportSize(s.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 });
      await page.goto(`${app.url}${s.route}`);
      await page.locator(s.ready).first().waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1200); // charts animate in; a live job page never goes network-idle (it polls)
      writeFileAtomic(path.join(SCREENSHOTS_DIR, s.file), await page.screenshot({ fullPage: !s.phone }));
      console.log(`  docs/explorer/${s.file}  ${s.route}`);
      await page.close();
    }
    if (browser.foreign.length) throw new Error(`the app asked other hosts: ${browser.foreign.join(", ")}`);
  } finally {
    await browser.close();
    await app.stop();
    await indexer.stop();
    await net.stop();
    fs.rmSync(dbDir, { recursive: true, force: true });
  }
}

runMain(main);
