/**
 * Model serving: which served model a registry version is (its published bundle, admitted by the policy, fetched
 * and checked against the chain once), the verdicts remembered per version (`modelMatch`), and the bundle checks
 * under way (`checking`, shown in /health).
 */
import * as fs from "fs";
import * as path from "path";
import { userCacheDir } from "../../util/paths";
import { BundleRefused, admitted } from "./bundles";
import { CircuitVerdicts, type ServedModel, verifyBundle } from "./bundle-check";
import type { NodeContext } from "./context";

/** The phases of a bundle check, in order (verifyBundle's onPhase; "keys" is skipped with a cached circuit verdict). */
const BUNDLE_PHASES = ["files", "registry", "weights", "keys", "circuit", "verifier"] as const;

/** A registry version's verdict: the served model, or why not (and, for a transient failure, when to try again). */
export interface ModelMatch {
  model?: ServedModel;
  reason?: string;
  retryAt?: number;
}

export class ModelServing {
  private readonly modelMatch = new Map<string, Promise<ModelMatch>>();
  /** Bundle checks under way, by `modelId:version`: the phase running and since when (for /health). */
  readonly checking = new Map<string, { modelId: string; version: number; phase: string; since: number }>();

  constructor(private readonly ctx: NodeContext) {}

  /**
   * The verdict on model `modelId` version `version`, checked once and remembered; checked again when its bundle was
   * evicted from the cache or its retry time has come.
   */
  async match(modelId: string, version: number): Promise<ModelMatch> {
    const key = `${modelId}:${version}`;
    const check = (): Promise<ModelMatch> => {
      // an error (the RPC endpoint unreachable while checking) is not a verdict: forgotten, so the next job asks again
      const p = this.matchVersion(BigInt(modelId), version);
      this.modelMatch.set(key, p);
      p.catch(() => {
        if (this.modelMatch.get(key) === p) this.modelMatch.delete(key);
      });
      return p;
    };
    let match = await (this.modelMatch.get(key) ?? check());
    if ((match.model && !fs.existsSync(match.model.zkey)) || (match.retryAt !== undefined && Date.now() >= match.retryAt)) {
      // A published bundle evicted from the cache since, or one that could not be fetched a while ago: again.
      match = await check();
    }
    return match;
  }

  /**
   * The served model a registry version is: its published bundle, if the policy admits it, fetched and checked against
   * the chain once (scripts/apps/prover/bundle-check.ts). A refused version is remembered and never fetched again.
   */
  private async matchVersion(modelId: bigint, version: number): Promise<ModelMatch> {
    const { cfg, log, store, registry, bundles } = this.ctx;
    const before = await store.refusedVersion(modelId, version);
    if (before) return { reason: `published bundle refused before: ${before}` };
    const owner = (await registry.modelInfo(modelId)).owner;
    const why = admitted(cfg.policy, modelId, owner);
    if (why) return { reason: why };
    const [commitment] = await registry.getModelVersion(modelId, version);
    const t0 = Date.now();
    // a large bundle's fetch is logged every 10 s with the bytes it has so far (and shown in /health)
    const progress = setInterval(() => {
      for (const f of bundles.fetching())
        if (f.modelId === String(modelId) && f.version === version) log("bundle_fetch_progress", { ...f });
    }, 10_000);
    progress.unref();
    try {
      const dir = await bundles
        .fetch(
          commitment.uri,
          modelId,
          version,
          // the proving key is most of a large bundle; the R1CS and the witness generator of a small circuit can be
          // a few times its size, so the whole is bounded by 4 proving keys and 16 MiB
          { totalBytes: cfg.policy.maxZkeyBytes * 4 + 16 * 2 ** 20, zkeyBytes: cfg.policy.maxZkeyBytes },
          cfg.bundleTimeoutMs,
        )
        .finally(() => clearInterval(progress));
      const t1 = Date.now();
      // every phase is logged as it ends, and /health shows the one under way (a large bundle takes minutes)
      this.checking.set(`${modelId}:${version}`, { modelId: String(modelId), version, phase: "files", since: Date.now() });
      const model = await verifyBundle(dir, registry, this.ctx.provider, modelId, version, cfg.policy, {
        verdicts: new CircuitVerdicts(cfg.verdictDir ?? path.join(userCacheDir(), "bundle-verdicts")),
        onPhase: (phase, ms, detail) => {
          log("bundle_check", { modelId, version, phase, ms, ...(detail ? { detail } : {}) });
          const next = BUNDLE_PHASES[BUNDLE_PHASES.indexOf(phase as (typeof BUNDLE_PHASES)[number]) + 1];
          if (next) this.checking.set(`${modelId}:${version}`, { modelId: String(modelId), version, phase: next, since: Date.now() });
        },
      }).finally(() => this.checking.delete(`${modelId}:${version}`));
      log("bundle_verified", {
        modelId,
        version,
        uri: commitment.uri,
        model: model.name,
        ms: Date.now() - t0,
        fetchMs: t1 - t0,
        verifyMs: Date.now() - t1,
      });
      return { model };
    } catch (e) {
      if (!(e instanceof BundleRefused)) throw e;
      const uri = commitment.uri.slice(0, 80);
      bundles.drop(modelId, version);
      if (e.kind === "unavailable") {
        const retryMs = cfg.bundleRetryMs ?? 60_000;
        log("bundle_unavailable", { modelId, version, uri, reason: e.message, retryInMs: retryMs });
        return {
          reason: `published bundle ${uri} unavailable (tried again in ${retryMs} ms): ${e.message}`,
          retryAt: Date.now() + retryMs,
        };
      }
      const reason = `published bundle ${uri} refused: ${e.message}`;
      // a bundle that is not what the chain records stays refused; one over this node's limits only while they hold
      if (e.kind === "mismatch") await store.refuseVersion(modelId, version, reason);
      log("bundle_refused", { modelId, version, uri, reason: e.message, kind: e.kind });
      return { reason };
    }
  }
}
