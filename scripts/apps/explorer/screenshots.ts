/**
 * `npm run explorer:screenshots`: the explorer's main pages on real data, as docs/explorer/*.png (README, "Explorer").
 * It starts what `npm run explorer` starts (a local network with the bundled models, a prover node proving with
 * real Groth16 proofs, seed jobs opened from the cards' samples, the indexer, the app), waits until one optimistic
 * job is posted and every other job is proven, and photographs each page in Debian's chromium, at desktop width and
 * one at phone width.
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

export const SCREENSHOTS_DIR = path.join(ROOT, "docs", "explorer");

async function main(): Promise<void> {
  await ensureAppBuild();
  const net = await startLocalNetwork(hre, { seedJobsPerModel: 4 });
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-db-"));
  const indexer = await startIndexer({ rpcUrl: net.chain.url, chainId: net.chainId, jobs: net.jobsAddress, dbDir });
  const app = await serveApp({ apiUrl: indexer.url });
  const browser = await launchBrowser();
  try {
    const optimistic = await net.openSample("iris-mlp", 1, { optimistic: true });
    for (;;) {
      if ((await net.requester.jobStatus(optimistic)).state === "posted") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await indexer.waitForBlock(await net.provider.getBlockNumber());
    const iris = net.kit.modelId("iris-mlp").toString();
    const shots: { file: string; route: string; ready: string; phone?: boolean }[] = [
      { file: "models.png", route: "/", ready: "iris-mlp" },
      { file: "model.png", route: `/models/${iris}`, ready: "Try it" },
      { file: "job.png", route: `/jobs/${net.seedJobs[0]}`, ready: "fulfilled" },
      { file: "job-optimistic.png", route: `/jobs/${optimistic}`, ready: "posted" },
      { file: "jobs.png", route: "/jobs", ready: "fulfilled" },
      { file: "provers.png", route: "/provers", ready: "0x" },
      { file: "network.png", route: "/network", ready: "Jobs per minute" },
      { file: "model-phone.png", route: `/models/${iris}`, ready: "Try it", phone: true },
    ];
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    for (const s of shots) {
      const page = await browser.context.newPage();
      await page.setViewportSize(s.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 });
      await page.goto(`${app.url}${s.route}`);
      await page.getByText(s.ready, { exact: false }).first().waitFor({ timeout: 30_000 });
      await page.waitForLoadState("networkidle");
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
