/**
 * Driving the explorer app in a real browser, for this folder's tests and the end-to-end test against the real
 * indexer, chain and prover: Debian's chromium through playwright-core (no browser download), an EIP-1193 test wallet
 * over a JSON-RPC node's unlocked accounts, an accessibility check with axe-core, and the page-level checks every
 * page must pass (no horizontal scroll at phone width, no request to another host).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => fs.existsSync(p));

export interface Browser {
  context: BrowserContext;
  /** Requests the pages made to any host but `allowedHosts` (they were aborted). */
  foreign: string[];
  close(): Promise<void>;
}

/**
 * Launches headless chromium with a fresh profile. Every request to a host other than `allowedHosts` (default
 * 127.0.0.1 and localhost) is aborted and recorded in `foreign`: the app must not need one.
 */
export async function launchBrowser(opts: { allowedHosts?: string[] } = {}): Promise<Browser> {
  if (!CHROMIUM) throw new Error("chromium is not installed: .ci/run installs Debian's chromium with apt-get");
  const { chromium } = await import("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const allowed = new Set(opts.allowedHosts ?? ["127.0.0.1", "localhost"]);
  const foreign: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    const host = /^(https?|wss?):/.test(url) ? new URL(url).hostname : undefined;
    if (host !== undefined && !allowed.has(host)) {
      foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  return {
    context,
    foreign,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The page script of an EIP-1193 test wallet (`window.ethereum`): `eth_requestAccounts` answers the node's
 * `eth_accounts`, everything else (`eth_sendTransaction` included, which a hardhat node signs with its unlocked
 * accounts) is forwarded to the JSON-RPC node at `rpcUrl`. `window.testWallet.reject = true` makes it refuse
 * account and transaction requests the way a user does (code 4001); `chainChanged` fires after a switch.
 */
export function testWalletScript(rpcUrl: string): string {
  return `(() => {
  const rpc = ${JSON.stringify(rpcUrl)};
  let id = 0;
  const listeners = {};
  const emit = (ev, v) => (listeners[ev] || []).forEach((f) => f(v));
  const call = async (method, params) => {
    const res = await fetch(rpc, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: params || [] }) });
    const j = await res.json();
    if (j.error) throw Object.assign(new Error(j.error.message), { code: j.error.code, data: j.error.data });
    return j.result;
  };
  const rejected = () => Object.assign(new Error("User rejected the request."), { code: 4001 });
  window.testWallet = { reject: false };
  window.ethereum = {
    isTestWallet: true,
    async request({ method, params }) {
      if (window.testWallet.reject && (method === "eth_requestAccounts" || method === "eth_sendTransaction")) throw rejected();
      if (method === "eth_requestAccounts") return call("eth_accounts");
      const r = await call(method, params);
      if (method === "wallet_switchEthereumChain") emit("chainChanged", params[0].chainId);
      return r;
    },
    on(ev, f) { (listeners[ev] = listeners[ev] || []).push(f); },
    removeListener(ev, f) { listeners[ev] = (listeners[ev] || []).filter((g) => g !== f); },
  };
})();`;
}

/** Adds the test wallet (see testWalletScript) to a page before any of its scripts run. */
export async function injectTestWallet(page: Page, rpcUrl: string): Promise<void> {
  await page.addInitScript({ content: testWalletScript(rpcUrl) });
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core (node_modules/axe-core) on the page; returns the serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const all = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => String(n.target)) })))`)) as AxeViolation[];
  return all.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** How far the page is wider than its viewport (0: no horizontal scroll). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return (await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")) as number;
}
