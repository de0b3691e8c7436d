import * as http from "http";
import type { AddressInfo, Socket } from "net";

/**
 * What the proxy does with the next requests:
 *   pass     forward to the target
 *   reset    destroy the connection without an answer (ECONNRESET at the client)
 *   429      answer HTTP 429 Too Many Requests (with Retry-After: 1)
 *   500      answer HTTP 500 with a non-JSON body
 *   hang     read the request and never answer (the client times out)
 *   lose     forward the request, then destroy the connection instead of answering (the call took effect upstream,
 *            the client never learns it: the case where a retried eth_sendRawTransaction must not send twice)
 */
export type ProxyMode = "pass" | "reset" | "429" | "500" | "hang" | "lose";

export interface RpcProxy {
  url: string;
  /**
   * Sets the mode of every following request, or of the next `count` requests only (then back to pass); with
   * `method`, only requests (or batches) calling that JSON-RPC method get it.
   */
  set(mode: ProxyMode, count?: number, method?: string): void;
  /** Requests seen, by the mode they were given, and the JSON-RPC methods forwarded. */
  readonly seen: Record<ProxyMode, number>;
  readonly methods: string[];
  /** Stops listening (the port is released: a client sees connection refused, as for a restarting endpoint). */
  pause(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** A JSON-RPC proxy on loopback in front of `target` that fails on purpose (the RPC-fault tests and the soak, issue 19). */
export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const t = new URL(target);
  let mode: ProxyMode = "pass";
  let left = Infinity;
  let only: string | undefined;
  const seen: Record<ProxyMode, number> = { pass: 0, reset: 0, "429": 0, "500": 0, hang: 0, lose: 0 };
  const methods: string[] = [];
  const sockets = new Set<Socket>();
  const next = (calls: string[]): ProxyMode => {
    if (only !== undefined && !calls.includes(only)) {
      seen.pass++;
      return "pass";
    }
    const m = left > 0 ? mode : "pass";
    if (left !== Infinity && left > 0 && --left === 0) mode = "pass";
    seen[m]++;
    return m;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const calls: string[] = [];
      try {
        const parsed = JSON.parse(body.toString("utf8")) as { method?: string } | { method?: string }[];
        for (const r of Array.isArray(parsed) ? parsed : [parsed]) if (r.method) calls.push(r.method);
      } catch {
        // forwarded as is
      }
      const m = next(calls);
      if (m === "reset") return void req.socket.destroy();
      if (m === "hang") return;
      if (m === "429") return void res.writeHead(429, { "retry-after": "1", "content-type": "text/plain" }).end("rate limited");
      if (m === "500") return void res.writeHead(500, { "content-type": "text/plain" }).end("upstream exploded");
      methods.push(...calls);
      const up = http.request(
        { host: t.hostname, port: t.port, path: t.pathname, method: "POST", headers: { "content-type": "application/json" } },
        (ur) => {
          if (m === "lose") {
            ur.resume();
            ur.on("end", () => req.socket.destroy());
            return;
          }
          res.writeHead(ur.statusCode ?? 502, { "content-type": ur.headers["content-type"] ?? "application/json" });
          ur.pipe(res);
        },
      );
      up.on("error", () => req.socket.destroy());
      up.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const listen = (port: number) => new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return {
    url: `http://127.0.0.1:${port}`,
    set(m, count, method) {
      mode = m;
      left = count ?? Infinity;
      only = method;
    },
    seen,
    methods,
    pause: stop,
    resume: () => listen(port),
    close: stop,
  };
}
