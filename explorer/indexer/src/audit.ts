/**
 * The verifier audit of each registry version, for the model page (issue 35): is the verifier the registry records
 * for (modelId, version) the one generated from the bundle's zkey, with the recorded code hash and layout
 * (scripts/chain/audit-verifier.ts `auditBundleVersion`)? Run in the background, one at a time, in a child process
 * (`npm run audit:verifier -- --bundle <folder> --json`: compiling the expected verifier with solc-js takes seconds of
 * CPU that must not stall indexing or the API), never from a handler. Verdicts are cached in memory and on disk by
 * (registry, modelId, version, vkHash): a registered version never changes; a version that could not be audited
 * (bundle unreachable, the audit crashed) is retried after a minute.
 */
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { type BundleAccess, type VersionRecord, readBundleFile } from "../../../scripts/chain/client";
import { BUNDLE_MANIFEST } from "../../../scripts/formats/bundle";
import { ROOT } from "../../../scripts/util/paths";
import type { AuditStatus } from "../../../scripts/formats/explorer-api";
import type { CardCache } from "./cards";

export interface AuditTarget {
  /** The registry the market uses (null while it cannot be read: the audit waits). */
  registry: string | null;
  modelId: bigint;
  version: number;
  /** The version's verifier adapter (null or zero: commitment only, nothing to audit). */
  verifier: string | null;
  record: VersionRecord;
}

export interface AuditOptions {
  rpcUrl: string;
  cards: CardCache;
  access: BundleAccess;
  /** Runs the audit CLI on a bundle folder; the default spawns `ts-node scripts/chain/audit-verifier.ts`. */
  run?: (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;
}

const RETRY_MS = 60_000;
const ZERO = /^0x0{40}$/i;

/** Runs the audit CLI with ts-node in a child process (the indexer's own process runs under vite-node). */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsNode = path.join(ROOT, "node_modules", "ts-node", "dist", "bin.js");
  const child = spawn(
    process.execPath,
    [tsNode, "--transpile-only", "--files", path.join("scripts", "chain", "audit-verifier.ts"), ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  return new Promise((resolve) => {
    child.on("error", (e) => resolve({ code: null, stdout, stderr: e.message }));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

export class AuditCache {
  private readonly verdicts = new Map<string, AuditStatus>();
  private readonly retryAt = new Map<string, { status: AuditStatus; at: number }>();
  private readonly queued = new Set<string>();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly o: AuditOptions,
  ) {}

  private key(t: AuditTarget): string {
    return createHash("sha256")
      .update(`${t.registry?.toLowerCase()}\n${t.modelId}\n${t.version}\n${t.record.vkHash.toLowerCase()}`)
      .digest("hex")
      .slice(0, 32);
  }

  /** The verdict of a version: cached, or `pending` (and the audit queued). Never waits. */
  status(t: AuditTarget): AuditStatus {
    if (!t.verifier || ZERO.test(t.verifier))
      return { status: "unavailable", reason: "this version has no verifier (commitment only): there is no verifier code to audit" };
    if (!t.registry) return { status: "pending", reason: "the registry's address could not be read from the market yet" };
    const k = this.key(t);
    const hit = this.verdicts.get(k) ?? this.fromDisk(k);
    if (hit) return hit;
    const retry = this.retryAt.get(k);
    if (retry && Date.now() - retry.at < RETRY_MS) return retry.status;
    if (!this.queued.has(k)) {
      this.queued.add(k);
      this.tail = this.tail.then(() => this.audit(k, t)).finally(() => this.queued.delete(k));
    }
    return { status: "pending" };
  }

  private fromDisk(k: string): AuditStatus | undefined {
    const f = path.join(this.dir, `${k}.json`);
    if (!fs.existsSync(f)) return undefined;
    try {
      const v = JSON.parse(fs.readFileSync(f, "utf8")) as AuditStatus;
      this.verdicts.set(k, v);
      return v;
    } catch {
      return undefined;
    }
  }

  private async audit(k: string, t: AuditTarget): Promise<void> {
    const now = () => Math.floor(Date.now() / 1000);
    const unavailable = (reason: string) =>
      this.retryAt.set(k, { status: { status: "unavailable", reason, checkedAt: now() }, at: Date.now() });
    let folder: string | undefined;
    try {
      const { manifest } = await this.o.cards.get(t.record);
      const zkey = await readBundleFile(t.record.uri, manifest.files.zkey.name, this.o.access);
      folder = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-audit-"));
      fs.writeFileSync(path.join(folder, BUNDLE_MANIFEST), JSON.stringify(manifest));
      fs.writeFileSync(path.join(folder, manifest.files.zkey.name), zkey);
      const args = ["--rpc", this.o.rpcUrl, "--registry", t.registry!, "--model", String(t.modelId), "--version", String(t.version)];
      const r = await (this.o.run ?? runCli)([...args, "--bundle", folder, "--json"]);
      const line = r.stdout.trim().split("\n").pop() ?? "";
      let verdict: { ok?: unknown; reason?: unknown } | undefined;
      try {
        verdict = JSON.parse(line) as { ok?: unknown; reason?: unknown };
      } catch {
        verdict = undefined;
      }
      if ((r.code === 0 || r.code === 1) && verdict && typeof verdict.ok === "boolean") {
        const v: AuditStatus = verdict.ok
          ? { status: "passed", checkedAt: now() }
          : { status: "failed", reason: String(verdict.reason ?? "the audit failed without a reason"), checkedAt: now() };
        this.verdicts.set(k, v);
        this.save(k, v);
      } else {
        unavailable(`the audit did not run to a verdict (exit ${r.code}): ${(r.stderr.trim() || r.stdout.trim()).slice(-400)}`);
      }
    } catch (e) {
      unavailable(`the bundle's proving key could not be read: ${(e as Error).message}`);
    } finally {
      if (folder) fs.rmSync(folder, { recursive: true, force: true });
    }
  }

  private save(k: string, v: AuditStatus): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      const f = path.join(this.dir, `${k}.json`);
      const tmp = `${f}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(v));
      fs.renameSync(tmp, f);
    } catch {
      // the disk cache is an optimisation: a read-only folder only costs an audit after a restart
    }
  }
}
