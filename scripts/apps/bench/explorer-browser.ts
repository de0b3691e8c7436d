/**
 * The browser part of the explorer's benchmark (scripts/apps/bench/explorer.ts): the web app (explorer/app, built
 * into build/explorer-app if missing) served by `serveApp` against the indexer, measured in Debian's chromium through
 * playwright-core (headless, a fresh profile per load: cold):
 * - the models page (`/`): navigation start -> the model list rendered (`ul.model-list li`), and the page's
 *   first-contentful-paint from the Performance API; median of 5 cold loads;
 * - a job page: a job opened on chain, its page open, then the job claimed: the claim's block mined (its `evm_mine`
 *   returned) -> the page's timeline showing the claim; median of 5.
 */
import { InferenceJobs__factory } from "../../../typechain-types";
import { ensureAppBuild, serveApp } from "../explorer/app";
import { CHROMIUM, launchBrowser } from "../explorer/browser";
import type { ExplorerBrowser } from "./report";
import { type Deployment, ROLES, address, rpc } from "./explorer-history";

export interface BrowserBenchOptions {
  apiUrl: string;
  chainUrl: string;
  deployment: Deployment;
  log?: (line: string) => void;
}

const RUNS = 5;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};

export async function measureBrowser(o: BrowserBenchOptions): Promise<ExplorerBrowser> {
  if (!CHROMIUM) return { status: "not measured: chromium is not installed (Debian's, /usr/bin/chromium)" };
  await ensureAppBuild(o.log);
  const app = await serveApp({ apiUrl: o.apiUrl });
  const launch = async () => {
    const browser = await launchBrowser();
    return { page: browser.context.pages()[0] ?? (await browser.context.newPage()), close: browser.close };
  };
  try {
    // the models page, cold: a new browser profile each time
    const listMs: number[] = [];
    const fcpMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const b = await launch();
      try {
        await b.page.goto(`${app.url}/`, { waitUntil: "commit" });
        await b.page.waitForSelector("ul.model-list li", { timeout: 30_000 });
        const t = await b.page.evaluate(() => {
          const now = performance.now();
          const fcp = performance.getEntriesByName("first-contentful-paint")[0];
          return { list: now, fcp: fcp ? fcp.startTime : -1 };
        });
        listMs.push(Math.round(t.list));
        fcpMs.push(Math.round(t.fcp));
      } finally {
        await b.close();
      }
    }
    o.log?.(`models page: model list ${listMs.join(", ")} ms; FCP ${fcpMs.join(", ")} ms`);

    // a job page updated by a claim
    const iface = InferenceJobs__factory.createInterface();
    const d = o.deployment;
    const iris = d.models.find((m) => m.name === "iris-mlp")!;
    const send = async (from: number, data: string, value = 0n) => {
      await rpc(o.chainUrl, "eth_sendTransaction", [
        { from: address(from), to: d.jobsAddress, data, gas: "0x" + (600_000).toString(16), value: "0x" + value.toString(16) },
      ]);
      await rpc(o.chainUrl, "evm_mine");
      return performance.now();
    };
    await rpc(o.chainUrl, "evm_setAutomine", [false]);
    const updates: number[] = [];
    const b = await launch();
    try {
      for (let i = 0; i < RUNS; i++) {
        const head = (await rpc(o.chainUrl, "eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
        const deadline = BigInt(Number(head.timestamp) + 3600);
        await send(ROLES.requesters[0], iface.encodeFunctionData("openJob", [iris.modelId, 1n, iris.inputs[0].commitment, iris.inputs[0].uri, deadline, false]), 10n ** 16n);
        const logs = (await rpc(o.chainUrl, "eth_getLogs", [
          { fromBlock: "latest", toBlock: "latest", address: d.jobsAddress, topics: [iface.getEvent("JobOpened")!.topicHash] },
        ])) as { topics: string[] }[];
        const jobId = BigInt(logs[0].topics[1]);
        // the page of a job the indexer has (a page opened before shows "not indexed" and stops polling)
        for (let t = performance.now(); (await fetch(`${o.apiUrl}/api/jobs/${jobId}`)).status !== 200; ) {
          if (performance.now() - t > 30_000) throw new Error(`job ${jobId} was not indexed within 30 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await b.page.goto(`${app.url}/jobs/${jobId}`);
        await b.page.waitForSelector('[data-testid="timeline"] li[data-stage="opened"]', { timeout: 30_000 });
        const mined = await send(ROLES.provers[0], iface.encodeFunctionData("claim", [jobId]));
        await b.page.waitForSelector('[data-testid="timeline"] li[data-stage="claimed"]', { timeout: 30_000 });
        updates.push(Math.round(performance.now() - mined));
      }
    } finally {
      await b.close();
      await rpc(o.chainUrl, "evm_setAutomine", [true]);
    }
    o.log?.(`job page: claim mined -> page shows it: ${updates.join(", ")} ms`);
    return {
      status: "ok",
      modelsPage: { loads: RUNS, listMs, fcpMs, medianListMs: median(listMs), medianFcpMs: median(fcpMs) },
      jobPage: { updates: RUNS, ms: updates, medianMs: median(updates) },
    };
  } finally {
    await app.stop();
  }
}
