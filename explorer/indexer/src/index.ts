/**
 * The handlers: each event writes what it says and nothing it would have to fetch (model cards are read by the API,
 * src/cards.ts, so a dead gateway never stalls indexing). The decisions (status, gas share, latency) are the pure
 * functions of ./derive.ts.
 */
import { ponder } from "ponder:registry";
import type { Context } from "ponder:registry";
import { account, claim, job, jobEvent, model, prover, run, settlement, subscription, transfer, version } from "ponder:schema";
import { type JobEventName, type JobStatusName, gasShare, isBatchCall, nextStatus, seconds, stageOf } from "./derive";

type Db = Context["db"];
type Hex = `0x${string}`;

/** What every event brings: where and when. */
interface At {
  block: { number: bigint; timestamp: bigint };
  transaction: { hash: Hex; input?: Hex };
  log: { logIndex: number; address: Hex };
  transactionReceipt?: { gasUsed: bigint };
}

const lower = (a: Hex): Hex => a.toLowerCase() as Hex;
const time = (e: At): number => Number(e.block.timestamp);
const blockOf = (e: At): number => Number(e.block.number);
const eventId = (e: At): string => `${e.transaction.hash}-${e.log.logIndex}`;

/** Adds a stage to a job's timeline. */
async function timeline(
  db: Db,
  e: At,
  jobId: bigint,
  name: Parameters<typeof stageOf>[0],
  actor: Hex | null,
  data?: Record<string, string | boolean>,
  gas?: { gasUsed: bigint | null; batched: boolean },
): Promise<void> {
  await db
    .insert(jobEvent)
    .values({
      id: eventId(e),
      jobId,
      stage: stageOf(name),
      at: time(e),
      block: blockOf(e),
      logIndex: e.log.logIndex,
      txHash: e.transaction.hash,
      gasUsed: gas ? gas.gasUsed : (e.transactionReceipt?.gasUsed ?? null),
      actor: actor ? lower(actor) : null,
      batched: gas?.batched ?? false,
      data: data ?? null,
    })
    .onConflictDoNothing();
}

/** Moves a job's status; a job the indexer never saw opened (indexing started after it) is left alone. */
async function move(db: Db, jobId: bigint, name: JobEventName, set: Partial<typeof job.$inferInsert> = {}, reopened = false) {
  const j = await db.find(job, { id: jobId });
  if (!j) return undefined;
  const status = nextStatus(j.status as JobStatusName, name, reopened);
  await db.update(job, { id: jobId }).set({ ...set, status });
  return j;
}

/** Creates or updates a prover's row. */
async function touchProver(db: Db, address: Hex, at: number, f: (p: typeof prover.$inferSelect) => Partial<typeof prover.$inferInsert>) {
  const a = lower(address);
  const p = (await db.find(prover, { address: a })) ?? {
    address: a,
    claims: 0,
    served: 0,
    failures: 0,
    earningsWei: 0n,
    tokenFees: null,
    bondLockedWei: 0n,
    slashedWei: 0n,
    firstActiveAt: at,
    lastActiveAt: at,
  };
  const next = { ...p, ...f(p), lastActiveAt: Math.max(p.lastActiveAt, at) };
  await db.insert(prover).values(next).onConflictDoUpdate(next);
}

/** Credits `amount` to a prover's earnings: wei, or the token's units under `tokenFees` when `token` is set. */
function earn(p: typeof prover.$inferSelect, amount: bigint, token: Hex | null): Partial<typeof prover.$inferInsert> {
  if (!token) return { earningsWei: p.earningsWei + amount };
  return { tokenFees: { ...(p.tokenFees ?? {}), [token]: (BigInt(p.tokenFees?.[token] ?? "0") + amount).toString() } };
}

/** Ends the job's current claim (if it is still live) with `outcome`. */
async function endClaim(db: Db, claimId: string | null | undefined, at: number, outcome: string, slashed?: bigint, returned?: bigint) {
  if (!claimId) return undefined;
  const c = await db.find(claim, { id: claimId });
  if (!c || c.outcome !== "live") return c ?? undefined;
  await db.update(claim, { id: claimId }).set({ outcome, endedAt: at, slashed: slashed ?? null, returned: returned ?? null });
  await touchProver(db, c.prover, at, (p) => ({ bondLockedWei: p.bondLockedWei >= c.bond ? p.bondLockedWei - c.bond : 0n }));
  return c;
}

// ---------------------------------------------------------------- registry

ponder.on("ModelRegistry:ModelRegistered", async ({ event, context }) => {
  const at = time(event);
  const c = event.args.commitment;
  await context.db
    .insert(model)
    .values({
      id: event.args.modelId,
      owner: lower(event.args.owner),
      deprecated: false,
      currentVersion: 1,
      registeredAt: at,
      registeredBlock: blockOf(event),
      txHash: event.transaction.hash,
      jobs: 0,
      fulfilled: 0,
      reclaimed: 0,
      lastJobAt: null,
    })
    .onConflictDoNothing();
  await upsertVersion(context.db, event, event.args.modelId, 1, c);
});

async function upsertVersion(
  db: Db,
  e: At,
  modelId: bigint,
  v: number,
  c: { modelHash: Hex; circuitHash: Hex; vkHash: Hex; proofSystemId: Hex; uri: string },
): Promise<void> {
  const row = {
    bundleUri: c.uri,
    modelHash: lower(c.modelHash),
    circuitHash: lower(c.circuitHash),
    vkHash: lower(c.vkHash),
    proofSystemId: lower(c.proofSystemId),
  };
  await db
    .insert(version)
    .values({
      id: `${modelId}-${v}`,
      modelId,
      version: v,
      ...row,
      registeredAt: time(e),
      registeredBlock: blockOf(e),
      txHash: e.transaction.hash,
    })
    .onConflictDoUpdate(row);
}

ponder.on("ModelRegistry:ModelUpdated", async ({ event, context }) => {
  const m = await context.db.find(model, { id: event.args.modelId });
  if (!m) return;
  const v = m.currentVersion + 1;
  await context.db.update(model, { id: m.id }).set({ currentVersion: v });
  await upsertVersion(context.db, event, m.id, v, event.args.newCommitment);
});

ponder.on("ModelRegistry:ModelVersionCreated", async ({ event, context }) => {
  const zero = (a: Hex) => (BigInt(a) === 0n ? null : lower(a));
  const row = {
    verifier: zero(event.args.verifier),
    snarkjsVerifier: zero(event.args.snarkjsVerifier),
    verifierCodeHash: BigInt(event.args.verifierCodeHash) === 0n ? null : lower(event.args.verifierCodeHash),
    numPublicSignals: event.args.numPublicSignals,
  };
  const id = `${event.args.modelId}-${event.args.version}`;
  if (await context.db.find(version, { id })) await context.db.update(version, { id }).set(row);
});

ponder.on("ModelRegistry:VersionLayout", async ({ event, context }) => {
  const l = event.args.layout;
  const id = `${event.args.modelId}-${event.args.version}`;
  if (await context.db.find(version, { id }))
    await context.db.update(version, { id }).set({
      inputMode: l.inputMode,
      outputHead: l.outputHead,
      inputCount: l.inputCount,
      inputBits: l.inputBits,
      outputCount: l.outputCount,
      outputBits: l.outputBits,
      outputFrac: l.outputFrac,
    });
});

ponder.on("ModelRegistry:ModelDeprecated", async ({ event, context }) => {
  if (await context.db.find(model, { id: event.args.modelId }))
    await context.db.update(model, { id: event.args.modelId }).set({ deprecated: true });
});

ponder.on("ModelRegistry:ModelOwnershipTransferred", async ({ event, context }) => {
  if (await context.db.find(model, { id: event.args.modelId }))
    await context.db.update(model, { id: event.args.modelId }).set({ owner: lower(event.args.newOwner) });
});

// ---------------------------------------------------------------- market: jobs

ponder.on("InferenceJobs:JobOpened", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  await context.db
    .insert(job)
    .values({
      id: a.jobId,
      modelId: a.modelId,
      version: a.modelVersion,
      requester: lower(a.requester),
      status: nextStatus(undefined, "JobOpened"),
      inputCommitment: a.inputCommitment,
      inputUri: a.inputURI,
      inputs: null,
      fee: a.fee,
      feeToken: null,
      deadline: a.deadline,
      callback: a.callback,
      bounty: 0n,
      optimistic: false,
      claimant: null,
      claimId: null,
      claims: 0,
      prover: null,
      output: null,
      paidFee: null,
      paidBounty: null,
      burned: null,
      callbackFailed: false,
      subscriptionId: null,
      run: null,
      openedAt: at,
      openedBlock: blockOf(event),
      openedTx: event.transaction.hash,
      openedGas: event.transactionReceipt?.gasUsed ?? null,
      batched: false,
      batchSize: null,
      latencyS: null,
    })
    .onConflictDoNothing();
  if (await context.db.find(model, { id: a.modelId }))
    await context.db.update(model, { id: a.modelId }).set((m) => ({ jobs: m.jobs + 1, lastJobAt: at }));
  await timeline(context.db, event, a.jobId, "JobOpened", a.requester, { fee: a.fee.toString(), deadline: a.deadline.toString() });
});

ponder.on("InferenceJobs:JobFeeToken", async ({ event, context }) => {
  if (await context.db.find(job, { id: event.args.jobId }))
    await context.db.update(job, { id: event.args.jobId }).set({ feeToken: lower(event.args.token), fee: event.args.fee });
  await timeline(context.db, event, event.args.jobId, "JobFeeToken", null, {
    token: lower(event.args.token),
    fee: event.args.fee.toString(),
  });
});

ponder.on("InferenceJobs:JobInputs", async ({ event, context }) => {
  if (await context.db.find(job, { id: event.args.jobId }))
    await context.db.update(job, { id: event.args.jobId }).set({ inputs: event.args.inputs.map((x) => x.toString()) });
});

ponder.on("InferenceJobs:JobMadeOptimistic", async ({ event, context }) => {
  if (await context.db.find(job, { id: event.args.jobId }))
    await context.db.update(job, { id: event.args.jobId }).set({ optimistic: true });
  await timeline(context.db, event, event.args.jobId, "JobMadeOptimistic", null);
});

ponder.on("InferenceJobs:ClaimantDesignated", async ({ event, context }) => {
  await timeline(context.db, event, event.args.jobId, "ClaimantDesignated", event.args.claimant);
});

ponder.on("InferenceJobs:JobClaimed", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  const id = eventId(event);
  await context.db.insert(claim).values({
    id,
    jobId: a.jobId,
    prover: lower(a.prover),
    bond: a.bond,
    leaseEnd: a.leaseEnd,
    claimedAt: at,
    outcome: "live",
    slashed: null,
    returned: null,
    endedAt: null,
  });
  const j = await context.db.find(job, { id: a.jobId });
  if (j)
    await move(context.db, a.jobId, "JobClaimed", {
      claimant: lower(a.prover),
      claimId: id,
      claims: j.claims + 1,
      ...(j.claimedAt === null
        ? { claimedAt: at, claimedTx: event.transaction.hash, claimedGas: event.transactionReceipt?.gasUsed ?? null }
        : {}),
    });
  await touchProver(context.db, a.prover, at, (p) => ({ claims: p.claims + 1, bondLockedWei: p.bondLockedWei + a.bond }));
  await timeline(context.db, event, a.jobId, "JobClaimed", a.prover, { bond: a.bond.toString(), leaseEnd: a.leaseEnd.toString() });
});

ponder.on("InferenceJobs:InputDelivered", async ({ event, context }) => {
  const j = await context.db.find(job, { id: event.args.jobId });
  if (j)
    await move(context.db, j.id, "InputDelivered", {
      deliveredAt: time(event),
      deliveredTx: event.transaction.hash,
      deliveredGas: event.transactionReceipt?.gasUsed ?? null,
    });
  await timeline(context.db, event, event.args.jobId, "InputDelivered", j?.requester ?? null, { claimant: lower(event.args.claimant) });
});

ponder.on("InferenceJobs:ClaimReleased", async ({ event, context }) => {
  const j = await context.db.find(job, { id: event.args.jobId });
  if (j) {
    await endClaim(context.db, j.claimId, time(event), "released", 0n, event.args.returned);
    await move(context.db, j.id, "ClaimReleased", { claimant: null });
  }
  await timeline(context.db, event, event.args.jobId, "ClaimReleased", event.args.prover, { returned: event.args.returned.toString() });
});

ponder.on("InferenceJobs:ClaimExpired", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  const j = await context.db.find(job, { id: a.jobId });
  if (j) {
    await endClaim(context.db, j.claimId, at, "expired", a.slashed, a.returned);
    await move(context.db, j.id, "ClaimExpired", { claimant: null, bounty: j.bounty + a.slashed });
  }
  await touchProver(context.db, a.prover, at, (p) => ({ failures: p.failures + 1, slashedWei: p.slashedWei + a.slashed }));
  await timeline(context.db, event, a.jobId, "ClaimExpired", a.prover, { slashed: a.slashed.toString(), returned: a.returned.toString() });
});

ponder.on("InferenceJobs:JobFulfilled", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  const j = await context.db.find(job, { id: a.jobId });
  if (j) {
    await endClaim(context.db, j.claimId, at, "fulfilled");
    await move(context.db, j.id, "JobFulfilled", {
      prover: lower(a.prover),
      output: a.output,
      paidFee: a.fee,
      paidBounty: a.bounty,
      fulfilledAt: at,
      fulfilledBlock: blockOf(event),
      fulfilledTx: event.transaction.hash,
      latencyS: seconds(j.openedAt, at),
    });
    if (await context.db.find(model, { id: j.modelId }))
      await context.db.update(model, { id: j.modelId }).set((m) => ({ fulfilled: m.fulfilled + 1 }));
  }
  const token = j?.feeToken ?? null;
  await touchProver(context.db, a.prover, at, (p) => {
    const fee = earn(p, a.fee, token);
    return { served: p.served + 1, ...fee, earningsWei: (fee.earningsWei ?? p.earningsWei) + a.bounty };
  });
  await timeline(context.db, event, a.jobId, "JobFulfilled", a.prover, {
    output: a.output.toString(),
    fee: a.fee.toString(),
    bounty: a.bounty.toString(),
  });
  await shareSettlementGas(context.db, event, a.jobId);
});

/**
 * Counts this settlement in its transaction and gives every job the transaction settled so far its share of the gas
 * (a batch's events arrive one by one: after the last, each job has `gasUsed / batch size`).
 */
async function shareSettlementGas(db: Db, e: At, jobId: bigint): Promise<void> {
  const tx = e.transaction.hash;
  const prev = await db.find(settlement, { txHash: tx });
  const items = [...(prev?.items ?? []), { jobId: jobId.toString(), eventId: eventId(e) }];
  const gasUsed = e.transactionReceipt?.gasUsed ?? null;
  const batchCall = isBatchCall(e.transaction.input);
  await db.insert(settlement).values({ txHash: tx, gasUsed, batchCall, items }).onConflictDoUpdate({ items });
  const batched = batchCall || items.length > 1;
  const share = gasUsed === null ? null : gasShare(gasUsed, items.length);
  for (const it of items) {
    const id = BigInt(it.jobId);
    if (await db.find(job, { id }))
      await db.update(job, { id }).set({ fulfilledGas: share, batched, batchSize: batched ? items.length : null });
    const ev = await db.find(jobEvent, { id: it.eventId });
    if (ev)
      await db.update(jobEvent, { id: it.eventId }).set({
        gasUsed: share,
        batched,
        data: { ...(ev.data ?? {}), ...(batched ? { batchSize: String(items.length) } : {}) },
      });
  }
}

ponder.on("InferenceJobs:JobReclaimed", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  const j = await context.db.find(job, { id: a.jobId });
  if (j) {
    await endClaim(context.db, j.claimId, at, "expired");
    await move(context.db, j.id, "JobReclaimed", {
      burned: a.burned,
      reclaimedAt: at,
      reclaimedTx: event.transaction.hash,
      reclaimedGas: event.transactionReceipt?.gasUsed ?? null,
    });
    if (await context.db.find(model, { id: j.modelId }))
      await context.db.update(model, { id: j.modelId }).set((m) => ({ reclaimed: m.reclaimed + 1 }));
  }
  await timeline(context.db, event, a.jobId, "JobReclaimed", a.requester, { fee: a.fee.toString(), burned: a.burned.toString() });
});

ponder.on("InferenceJobs:CallbackFailed", async ({ event, context }) => {
  if (await context.db.find(job, { id: event.args.jobId }))
    await context.db.update(job, { id: event.args.jobId }).set({ callbackFailed: true });
  await timeline(context.db, event, event.args.jobId, "CallbackFailed", event.args.requester);
});

// ---------------------------------------------------------------- market: optimistic results

ponder.on("InferenceJobs:ResultPosted", async ({ event, context }) => {
  const a = event.args;
  if (await context.db.find(job, { id: a.jobId }))
    await move(context.db, a.jobId, "ResultPosted", {
      postedAt: time(event),
      postedTx: event.transaction.hash,
      postedGas: event.transactionReceipt?.gasUsed ?? null,
    });
  await timeline(context.db, event, a.jobId, "ResultPosted", a.poster, { output: a.output.toString(), windowEnd: a.windowEnd.toString() });
});

ponder.on("InferenceJobs:ResultChallenged", async ({ event, context }) => {
  const a = event.args;
  if (await context.db.find(job, { id: a.jobId }))
    await move(context.db, a.jobId, "ResultChallenged", {
      challengedAt: time(event),
      challengedTx: event.transaction.hash,
      challengedGas: event.transactionReceipt?.gasUsed ?? null,
    });
  await timeline(context.db, event, a.jobId, "ResultChallenged", a.challenger, {
    proofDeadline: a.proofDeadline.toString(),
    bond: a.bond.toString(),
  });
});

ponder.on("InferenceJobs:ChallengeAnswered", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  await move(context.db, a.jobId, "ChallengeAnswered");
  // the challenge bond moves from the challenger to the poster
  await touchProver(context.db, a.poster, at, (p) => earn(p, a.bond, null));
  await touchProver(context.db, a.challenger, at, (p) => ({ slashedWei: p.slashedWei + a.bond }));
  await timeline(context.db, event, a.jobId, "ChallengeAnswered", a.poster, { challenger: lower(a.challenger), bond: a.bond.toString() });
});

ponder.on("InferenceJobs:PosterSlashed", async ({ event, context }) => {
  const a = event.args;
  const at = time(event);
  const j = await context.db.find(job, { id: a.jobId });
  if (j) {
    await endClaim(context.db, j.claimId, at, "slashed", a.slashed, 0n);
    await move(context.db, j.id, "PosterSlashed", { bounty: j.bounty + a.slashed, ...(a.reopened ? { claimant: null } : {}) }, a.reopened);
  }
  await touchProver(context.db, a.poster, at, (p) => ({ failures: p.failures + 1, slashedWei: p.slashedWei + a.slashed + a.reward }));
  // the rest of the bond rewards the first challenger (by bond, or by a proof of another output)
  if (a.reward > 0n) await touchProver(context.db, a.rewarded, at, (p) => earn(p, a.reward, null));
  await timeline(context.db, event, a.jobId, "PosterSlashed", a.poster, {
    rewarded: lower(a.rewarded),
    reward: a.reward.toString(),
    slashed: a.slashed.toString(),
    reopened: a.reopened,
  });
});

// ---------------------------------------------------------------- market: stake

ponder.on("InferenceJobs:Deposited", async ({ event, context }) => {
  await flow(context.db, event, "jobs", "deposit", event.args.account, null, event.args.amount);
});
ponder.on("InferenceJobs:Withdrawn", async ({ event, context }) => {
  await flow(context.db, event, "jobs", "withdraw", event.args.account, null, event.args.amount);
});
ponder.on("InferenceJobs:TokenWithdrawn", async ({ event, context }) => {
  await flow(context.db, event, "jobs", "withdraw", event.args.account, event.args.token, event.args.amount);
});
ponder.on("InferenceSubscriptions:Withdrawn", async ({ event, context }) => {
  await flow(context.db, event, "subscriptions", "withdraw", event.args.account, null, event.args.amount);
});
ponder.on("InferenceSubscriptions:TokenWithdrawn", async ({ event, context }) => {
  await flow(context.db, event, "subscriptions", "withdraw", event.args.account, event.args.token, event.args.amount);
});

async function flow(db: Db, e: At, contract: string, kind: "deposit" | "withdraw", who: Hex, token: Hex | null, amount: bigint) {
  await db.insert(transfer).values({
    id: eventId(e),
    contract,
    kind,
    account: lower(who),
    token: token ? lower(token) : null,
    amount,
    at: time(e),
    block: blockOf(e),
    txHash: e.transaction.hash,
  });
  if (contract !== "jobs" || token) return;
  const row = { address: lower(who), depositedWei: kind === "deposit" ? amount : 0n, withdrawnWei: kind === "withdraw" ? amount : 0n };
  await db
    .insert(account)
    .values(row)
    .onConflictDoUpdate((r) => ({ depositedWei: r.depositedWei + row.depositedWei, withdrawnWei: r.withdrawnWei + row.withdrawnWei }));
}

// ---------------------------------------------------------------- subscriptions

ponder.on("InferenceSubscriptions:SubscriptionCreated", async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(subscription)
    .values({
      id: a.subscriptionId,
      owner: lower(a.owner),
      modelId: a.modelId,
      modelVersion: a.modelVersion,
      interval: a.interval,
      start: a.start,
      runs: a.runs,
      feePerRun: a.feePerRun,
      tipPerRun: a.tipPerRun,
      runDeadline: a.runDeadline,
      feeToken: null,
      cancelled: false,
      refunded: null,
      optimistic: false,
      opened: 0,
      delivered: 0,
      skipped: 0,
      missed: 0,
      reclaimed: 0,
      createdAt: time(event),
      createdBlock: blockOf(event),
      txHash: event.transaction.hash,
    })
    .onConflictDoNothing();
});

async function updateSubscription(
  db: Db,
  id: bigint,
  f: (s: typeof subscription.$inferSelect) => Partial<typeof subscription.$inferInsert>,
) {
  if (await db.find(subscription, { id })) await db.update(subscription, { id }).set(f);
}

ponder.on("InferenceSubscriptions:SubscriptionFeeToken", async ({ event, context }) => {
  await updateSubscription(context.db, event.args.subscriptionId, () => ({ feeToken: lower(event.args.token) }));
});
ponder.on("InferenceSubscriptions:SubscriptionToppedUp", async ({ event, context }) => {
  await updateSubscription(context.db, event.args.subscriptionId, () => ({ runs: event.args.runs }));
});
ponder.on("InferenceSubscriptions:SubscriptionCancelled", async ({ event, context }) => {
  await updateSubscription(context.db, event.args.subscriptionId, () => ({ cancelled: true, refunded: event.args.refunded }));
});
ponder.on("InferenceSubscriptions:SubscriptionVersionPinned", async ({ event, context }) => {
  await updateSubscription(context.db, event.args.subscriptionId, () => ({ modelVersion: event.args.modelVersion }));
});
ponder.on("InferenceSubscriptions:RunsOptimisticSet", async ({ event, context }) => {
  await updateSubscription(context.db, event.args.subscriptionId, () => ({ optimistic: event.args.optimistic }));
});

ponder.on("InferenceSubscriptions:RunOpened", async ({ event, context }) => {
  const a = event.args;
  if (a.jobId === 0n) return; // a skipped run: RunSkipped, just before, wrote it
  await context.db
    .insert(run)
    .values({
      id: `${a.subscriptionId}-${a.run}`,
      subscriptionId: a.subscriptionId,
      run: a.run,
      count: 1,
      status: "opened",
      jobId: a.jobId,
      opener: lower(a.opener),
      reason: null,
      output: null,
      fee: null,
      callbackFailed: false,
      openedAt: time(event),
      openedTx: event.transaction.hash,
      settledAt: null,
      settledTx: null,
    })
    .onConflictDoNothing();
  if (await context.db.find(job, { id: a.jobId }))
    await context.db.update(job, { id: a.jobId }).set({ subscriptionId: a.subscriptionId, run: a.run });
  await updateSubscription(context.db, a.subscriptionId, (s) => ({ opened: s.opened + 1 }));
  // the opener is credited the run's tip (a skipped run's tip too, but RunSkipped does not name its opener)
  const s = await context.db.find(subscription, { id: a.subscriptionId });
  if (s && s.tipPerRun > 0n) await touchProver(context.db, a.opener, time(event), (p) => earn(p, s.tipPerRun, s.feeToken));
});

ponder.on("InferenceSubscriptions:RunSkipped", async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(run)
    .values({
      id: `${a.subscriptionId}-${a.run}`,
      subscriptionId: a.subscriptionId,
      run: a.run,
      count: 1,
      status: "skipped",
      jobId: null,
      opener: null,
      reason: a.reason,
      output: null,
      fee: null,
      callbackFailed: false,
      openedAt: time(event),
      openedTx: event.transaction.hash,
      settledAt: time(event),
      settledTx: event.transaction.hash,
    })
    .onConflictDoNothing();
  await updateSubscription(context.db, a.subscriptionId, (s) => ({ skipped: s.skipped + 1 }));
});

ponder.on("InferenceSubscriptions:RunsMissed", async ({ event, context }) => {
  const a = event.args;
  await context.db
    .insert(run)
    .values({
      id: `${a.subscriptionId}-${a.fromRun}`,
      subscriptionId: a.subscriptionId,
      run: a.fromRun,
      count: Number(a.count),
      status: "missed",
      jobId: null,
      opener: null,
      reason: null,
      output: null,
      fee: null,
      callbackFailed: false,
      openedAt: time(event),
      openedTx: event.transaction.hash,
      settledAt: time(event),
      settledTx: event.transaction.hash,
    })
    .onConflictDoNothing();
  await updateSubscription(context.db, a.subscriptionId, (s) => ({ missed: s.missed + Number(a.count) }));
});

async function settleRun(db: Db, e: At, subscriptionId: bigint, r: bigint, set: Partial<typeof run.$inferInsert>) {
  const id = `${subscriptionId}-${r}`;
  if (await db.find(run, { id })) await db.update(run, { id }).set({ ...set, settledAt: time(e), settledTx: e.transaction.hash });
}

ponder.on("InferenceSubscriptions:RunDelivered", async ({ event, context }) => {
  const a = event.args;
  await settleRun(context.db, event, a.subscriptionId, a.run, { status: "delivered", output: a.output });
  await updateSubscription(context.db, a.subscriptionId, (s) => ({ delivered: s.delivered + 1 }));
});

ponder.on("InferenceSubscriptions:RunCallbackFailed", async ({ event, context }) => {
  const id = `${event.args.subscriptionId}-${event.args.run}`;
  if (await context.db.find(run, { id })) await context.db.update(run, { id }).set({ callbackFailed: true });
});

ponder.on("InferenceSubscriptions:RunReclaimed", async ({ event, context }) => {
  const a = event.args;
  await settleRun(context.db, event, a.subscriptionId, a.run, { status: "reclaimed", fee: a.fee });
  await updateSubscription(context.db, a.subscriptionId, (s) => ({ reclaimed: s.reclaimed + 1 }));
});
