/**
 * The explorer's web app, programmatically (explorer/app/README.md): `buildApp()` writes build/explorer-app (what `npm
 * run explorer:build` does), `serveApp({port, apiUrl})` serves that build with Vite's preview server, /api proxied to
 * the indexer, so the page never talks to another origin. `npm run explorer:app` runs it from the command line.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";
import { UsageError, commandLine } from "../../util/args";
import { runMain } from "../main";

export const APP_ROOT = path.join(ROOT, "explorer", "app");
export const APP_CONFIG = path.join(APP_ROOT, "vite.config.mts");
export const APP_BUILD = path.join(ROOT, "build", "explorer-app");
export const DEFAULT_API_URL = "http://127.0.0.1:42069";

/** Vite is ESM-only: loaded with Node's require(esm) (Node >= 20.19); its types by path (this tsconfig's resolution ignores `exports`). */
type Vite = typeof import("vite/dist/node/index");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vite = (): Vite => require("vite") as Vite;

/** Builds the app into build/explorer-app. */
export async function buildApp(opts: { logLevel?: "info" | "warn" | "silent" } = {}): Promise<void> {
  const { build } = vite();
  await build({ configFile: APP_CONFIG, root: APP_ROOT, logLevel: opts.logLevel ?? "warn" });
}

/** The newest modification time of the files under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/** What the app's bundle is made of: its own sources and the SDK's layers it imports. */
const APP_SOURCES = [APP_ROOT, ...["util", "formats", "chain"].map((d) => path.join(ROOT, "scripts", d))];

/** Builds the app unless build/explorer-app is newer than every file it is made of. */
export async function ensureAppBuild(log: (line: string) => void = console.log): Promise<void> {
  const index = path.join(APP_BUILD, "index.html");
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= Math.max(...APP_SOURCES.map(newest))) return;
  log("building the explorer app (explorer/app) ...");
  await buildApp();
}

export interface ServedApp {
  url: string;
  stop(): Promise<void>;
}

/** Serves the built app on 127.0.0.1:`port` (0: a free port), /api proxied to `apiUrl`. */
export async function serveApp(opts: { port?: number; apiUrl?: string; host?: string } = {}): Promise<ServedApp> {
  if (!fs.existsSync(path.join(APP_BUILD, "index.html")))
    throw new Error(`no build of the explorer app at ${APP_BUILD}: run \`npm run explorer:build\` first`);
  const { preview } = vite();
  const host = opts.host ?? "127.0.0.1";
  const server = await preview({
    configFile: APP_CONFIG,
    root: APP_ROOT,
    logLevel: "warn",
    preview: {
      host,
      port: opts.port ?? 0,
      strictPort: opts.port !== undefined && opts.port !== 0,
      open: false,
      proxy: { "/api": { target: opts.apiUrl ?? DEFAULT_API_URL, changeOrigin: true } },
    },
  });
  const address = server.httpServer.address();
  if (!address || typeof address === "string") throw new Error("the preview server has no TCP address");
  return {
    url: `http://${host}:${address.port}`,
    stop: () => server.close(),
  };
}

if (require.main === module) {
  const usage = "usage: npm run explorer:app -- [--build] [--port 5173] [--api http://127.0.0.1:42069]";
  runMain(async () => {
    const { values: o } = commandLine(
      process.argv.slice(2),
      { build: { type: "boolean" }, port: { type: "string" }, api: { type: "string" } },
      usage,
    );
    const port = Number(o.port ?? 5173);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${o.port} is not a port; ${usage}`);
    if (o.build) await buildApp({ logLevel: "info" });
    const apiUrl = o.api ?? process.env.EXPLORER_API_URL ?? DEFAULT_API_URL;
    const app = await serveApp({ port, apiUrl });
    console.log(`explorer app: ${app.url} (API: ${apiUrl})`);
  });
}
