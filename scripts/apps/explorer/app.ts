/**
 * The explorer's web app, programmatically (explorer/app/README.md): `buildApp()` writes build/explorer-app (what `npm
 * run explorer:build` does), `serveApp({port, apiUrl})` serves that build with Vite's preview server, /api proxied to
 * the indexer, so the page never talks to another origin. `npm run explorer:app` runs it from the command line.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";

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
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  (async () => {
    if (process.argv.includes("--build")) await buildApp({ logLevel: "info" });
    const app = await serveApp({ port: Number(arg("port") ?? 5173), apiUrl: arg("api") ?? process.env.EXPLORER_API_URL });
    console.log(`explorer app: ${app.url} (API: ${arg("api") ?? process.env.EXPLORER_API_URL ?? DEFAULT_API_URL})`);
  })().catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
