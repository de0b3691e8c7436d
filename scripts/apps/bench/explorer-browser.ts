/**
 * The browser part of the explorer's benchmark (scripts/apps/bench/explorer.ts): the web app served against the
 * indexer, measured in Debian's chromium through playwright-core.
 */
import type { ExplorerBrowser } from "./report";
import type { Deployment } from "./explorer-history";

export interface BrowserBenchOptions {
  apiUrl: string;
  chainUrl: string;
  deployment: Deployment;
  log?: (line: string) => void;
}

export async function measureBrowser(_o: BrowserBenchOptions): Promise<ExplorerBrowser> {
  return { status: "not measured: the web app (scripts/apps/explorer/app.ts) is not on this branch yet" };
}
