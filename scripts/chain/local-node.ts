import { type ChildProcess, spawn } from "child_process";
import * as net from "net";
import * as path from "path";
import { ROOT } from "../util/paths";

/** A `npx hardhat node` child process on a loopback port, for tests that drive the chain over JSON-RPC. */
export interface LocalNode {
  url: string;
  port: number;
  process: ChildProcess;
  /** Output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Whether nothing listens on 127.0.0.1:`port`. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 (asks the OS). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Starts `hardhat node` on a loopback port (`opts.port`, default a free one) and resolves once it answers JSON-RPC.
 * Bounded: rejects after `timeoutMs`. Always call stop() (e.g. in an `after` hook).
 * @throws Error naming the port when `opts.port` is taken.
 */
export async function startHardhatNode(timeoutMs = 60_000, opts: { port?: number } = {}): Promise<LocalNode> {
  const port = opts.port ?? (await freePort());
  if (opts.port !== undefined && !(await portFree(port)))
    throw new Error(`port ${port} on 127.0.0.1 is in use (another hardhat node?): stop it or choose another port`);
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, ZKML_QUIET: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`hardhat node did not answer on ${url} within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    port,
    process: child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
