/**
 * A folder served read-only over HTTP on loopback, for bundles on a local chain (the explorer's local network, the
 * SDK's browser test): GET of a file under the folder, 404 for anything else, any origin allowed to read (a page on
 * another local port fetches bundle files from it).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

export interface ServedFolder {
  server: http.Server;
  /** `http://127.0.0.1:<port>`. */
  base: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

/** Serves `dir` on 127.0.0.1:`port` (default: a free port). */
export function serveFolder(dir: string, port = 0): Promise<ServedFolder> {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const p = path.join(root, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    if ((req.method !== "GET" && req.method !== "HEAD") || !p.startsWith(root) || !fs.existsSync(p) || !fs.statSync(p).isFile()) {
      res.writeHead(404, { "access-control-allow-origin": "*" }).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(p)] ?? "application/octet-stream", "access-control-allow-origin": "*" });
    fs.createReadStream(p).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve({
        server,
        base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}
