/**
 * Model cards for the API, read from each version's bundle with the SDK's own checks (scripts/chain/client.ts:
 * `readVersionManifest` checks bundle.json against the registry's hashes, `readVersionCard` checks card.json against
 * bundle.json). Never called by a handler: indexing does not wait for a gateway. Cached in memory and on disk by
 * bundle URI and hashes (a version's bundle never changes); a failure is cached for a short while with its message,
 * so a dead gateway costs one timeout per minute, not one per request.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { type BundleAccess, type VersionRecord, readBundleFile, readVersionCard, readVersionManifest } from "../../../scripts/chain/client";
import type { BundleManifest, ModelCard } from "../../../scripts/formats/bundle";

/** One layer of the model, as model.qmodel.json describes it (its weights left out). */
export type LayerSummary = Record<string, string | number | boolean>;

export interface CardEntry {
  card: ModelCard;
  manifest: BundleManifest;
  /** The quantized model's layers (type, sizes, bit widths), or null when the model file is too large to read here. */
  architecture: LayerSummary[] | null;
}

/** The largest model file whose layers are summarised (the weights are in it). */
const MAX_MODEL_BYTES = 4 << 20;
const FAILURE_TTL_MS = 60_000;

export class CardCache {
  private readonly memory = new Map<string, CardEntry>();
  private readonly failures = new Map<string, { error: string; at: number }>();
  private readonly pending = new Map<string, Promise<CardEntry>>();

  constructor(
    private readonly dir: string,
    private readonly access: BundleAccess,
  ) {}

  private key(v: VersionRecord): string {
    return createHash("sha256").update(`${v.uri}\n${v.modelHash}\n${v.circuitHash}\n${v.vkHash}`).digest("hex").slice(0, 32);
  }

  /** The cached card, without fetching (null when not cached yet). */
  peek(v: VersionRecord): CardEntry | null {
    const k = this.key(v);
    const m = this.memory.get(k);
    if (m) return m;
    const f = path.join(this.dir, `${k}.json`);
    if (!fs.existsSync(f)) return null;
    try {
      const e = JSON.parse(fs.readFileSync(f, "utf8")) as CardEntry;
      this.memory.set(k, e);
      return e;
    } catch {
      return null;
    }
  }

  /** The last error of this version's bundle, while it is fresh. */
  lastError(v: VersionRecord): string | null {
    const f = this.failures.get(this.key(v));
    return f && Date.now() - f.at < FAILURE_TTL_MS ? f.error : null;
  }

  /**
   * The card, manifest and architecture of a version: from the cache, or read from its bundle.
   * @throws Error with the reason (unreachable, not this version's bundle, malformed) naming the bundle.
   */
  async get(v: VersionRecord): Promise<CardEntry> {
    const hit = this.peek(v);
    if (hit) return hit;
    const k = this.key(v);
    const failed = this.failures.get(k);
    if (failed && Date.now() - failed.at < FAILURE_TTL_MS) throw new Error(failed.error);
    const running = this.pending.get(k);
    if (running) return running;
    const p = this.load(v).then(
      (e) => {
        this.memory.set(k, e);
        this.failures.delete(k);
        try {
          fs.mkdirSync(this.dir, { recursive: true });
          const f = path.join(this.dir, `${k}.json`);
          const tmp = `${f}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, JSON.stringify(e));
          fs.renameSync(tmp, f);
        } catch {
          // the disk cache is an optimisation: a read-only folder only costs a fetch after a restart
        }
        return e;
      },
      (err: unknown) => {
        this.failures.set(k, { error: (err as Error).message, at: Date.now() });
        throw err;
      },
    );
    this.pending.set(k, p);
    try {
      return await p;
    } finally {
      this.pending.delete(k);
    }
  }

  /** Starts reading a version's card in the background (for lists that show names once known). */
  prefetch(v: VersionRecord): void {
    if (this.peek(v) || this.lastError(v) || this.pending.has(this.key(v))) return;
    this.get(v).catch(() => undefined);
  }

  private async load(v: VersionRecord): Promise<CardEntry> {
    const manifest = await readVersionManifest(v, this.access);
    const card = await readVersionCard(v, manifest, this.access);
    let architecture: LayerSummary[] | null = null;
    if (manifest.files.model.bytes <= MAX_MODEL_BYTES) {
      try {
        const bytes = await readBundleFile(v.uri, manifest.files.model.name, this.access);
        if (createHash("sha256").update(bytes).digest("hex") === manifest.files.model.sha256)
          architecture = summariseLayers(JSON.parse(new TextDecoder().decode(bytes)) as { layers?: unknown });
      } catch {
        // the card stands without the architecture
      }
    }
    return { card, manifest, architecture };
  }
}

/** The layers of a quantized model without their weights: every scalar field of each layer. */
export function summariseLayers(model: { layers?: unknown }): LayerSummary[] | null {
  if (!Array.isArray(model.layers)) return null;
  return model.layers.map((l: unknown) =>
    Object.fromEntries(
      Object.entries(l as Record<string, unknown>).filter(
        (e): e is [string, string | number | boolean] => typeof e[1] === "string" || typeof e[1] === "number" || typeof e[1] === "boolean",
      ),
    ),
  );
}
