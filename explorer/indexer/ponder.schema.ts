/**
 * The explorer's tables, one per thing the events describe (docs/market-rules.md for what each event means). Every row
 * is written by the handlers in src/index.ts from events only, so a reorg that removes an event removes what it wrote
 * (Ponder reverts these tables block by block). Amounts are wei (or a token's units where a column says so), times
 * unix seconds, blocks numbers; addresses lowercase.
 */
import { index, onchainTable, relations } from "ponder";

/** A registry model (ERC-7992 `ModelRegistered`) with running counters of its jobs, for the model list. */
export const model = onchainTable(
  "model",
  (t) => ({
    id: t.bigint().primaryKey(),
    owner: t.hex().notNull(),
    deprecated: t.boolean().notNull(),
    currentVersion: t.integer().notNull(),
    registeredAt: t.integer().notNull(),
    registeredBlock: t.integer().notNull(),
    txHash: t.hex().notNull(),
    jobs: t.integer().notNull(),
    fulfilled: t.integer().notNull(),
    reclaimed: t.integer().notNull(),
    lastJobAt: t.integer(),
  }),
  (table) => ({ ownerIdx: index().on(table.owner) }),
);

/** One version of a model: its bundle, its verifier (`ModelVersionCreated`) and its layout (`VersionLayout`). */
export const version = onchainTable(
  "version",
  (t) => ({
    id: t.text().primaryKey(), // `${modelId}-${version}`
    modelId: t.bigint().notNull(),
    version: t.integer().notNull(),
    bundleUri: t.text().notNull(),
    modelHash: t.hex().notNull(),
    circuitHash: t.hex().notNull(),
    vkHash: t.hex().notNull(),
    proofSystemId: t.hex().notNull(),
    verifier: t.hex(), // the adapter (zero: commitment only)
    snarkjsVerifier: t.hex(),
    verifierCodeHash: t.hex(),
    numPublicSignals: t.integer(),
    inputMode: t.integer(), // 0 committed, 1 public (null: no layout)
    outputHead: t.integer(),
    inputCount: t.integer(),
    inputBits: t.integer(),
    outputCount: t.integer(),
    outputBits: t.integer(),
    outputFrac: t.integer(),
    registeredAt: t.integer().notNull(),
    registeredBlock: t.integer().notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ modelIdx: index().on(table.modelId, table.version) }),
);

/**
 * A market job with the time, block, transaction and gas of each stage. `status` is open | claimed | delivered |
 * posted | challenged | fulfilled | reclaimed (src/derive.ts `nextStatus`).
 */
export const job = onchainTable(
  "job",
  (t) => ({
    id: t.bigint().primaryKey(),
    modelId: t.bigint().notNull(),
    version: t.integer().notNull(),
    requester: t.hex().notNull(),
    status: t.text().notNull(),
    inputCommitment: t.bigint().notNull(),
    inputUri: t.text().notNull(),
    inputs: t.jsonb().$type<string[]>(), // public-input jobs: the quantized values (decimal strings)
    fee: t.bigint().notNull(), // wei, or the token's units when feeToken is set
    feeToken: t.hex(),
    deadline: t.bigint().notNull(),
    callback: t.boolean().notNull(),
    bounty: t.bigint().notNull(), // slashed bonds added so far (wei)
    optimistic: t.boolean().notNull(),
    claimant: t.hex(), // the live (or last) claimant
    claimId: t.text(), // the current claim row
    claims: t.integer().notNull(),
    prover: t.hex(), // credited with the result
    output: t.bigint(),
    paidFee: t.bigint(),
    paidBounty: t.bigint(),
    burned: t.bigint(),
    callbackFailed: t.boolean().notNull(),
    subscriptionId: t.bigint(),
    run: t.bigint(),
    openedAt: t.integer().notNull(),
    openedBlock: t.integer().notNull(),
    openedTx: t.hex().notNull(),
    openedGas: t.bigint(),
    claimedAt: t.integer(), // the first claim
    claimedTx: t.hex(),
    claimedGas: t.bigint(),
    deliveredAt: t.integer(),
    deliveredTx: t.hex(),
    deliveredGas: t.bigint(),
    postedAt: t.integer(),
    postedTx: t.hex(),
    postedGas: t.bigint(),
    challengedAt: t.integer(),
    challengedTx: t.hex(),
    challengedGas: t.bigint(),
    fulfilledAt: t.integer(),
    fulfilledBlock: t.integer(),
    fulfilledTx: t.hex(),
    fulfilledGas: t.bigint(), // the job's share of its transaction's gas (a batch's gas divided by its jobs)
    batched: t.boolean().notNull(),
    batchSize: t.integer(),
    reclaimedAt: t.integer(),
    reclaimedTx: t.hex(),
    reclaimedGas: t.bigint(),
    latencyS: t.integer(), // fulfilledAt - openedAt
  }),
  (table) => ({
    modelIdx: index().on(table.modelId, table.id),
    proverIdx: index().on(table.prover, table.id),
    requesterIdx: index().on(table.requester, table.id),
    statusIdx: index().on(table.status, table.id),
    openedIdx: index().on(table.openedAt),
    fulfilledIdx: index().on(table.fulfilledAt),
  }),
);

/** One stage of a job's timeline (every job event), in chain order. */
export const jobEvent = onchainTable(
  "job_event",
  (t) => ({
    id: t.text().primaryKey(), // `${txHash}-${logIndex}`
    jobId: t.bigint().notNull(),
    stage: t.text().notNull(),
    at: t.integer().notNull(),
    block: t.integer().notNull(),
    logIndex: t.integer().notNull(),
    txHash: t.hex().notNull(),
    gasUsed: t.bigint(), // the event's transaction's gas, or the job's share of a batch
    actor: t.hex(),
    batched: t.boolean().notNull(),
    data: t.jsonb().$type<Record<string, string | boolean>>(),
  }),
  (table) => ({ jobIdx: index().on(table.jobId, table.block, table.logIndex) }),
);

/** One settlement transaction: its gas and the jobs it settled so far (a batch shares its gas among them). */
export const settlement = onchainTable("settlement", (t) => ({
  txHash: t.hex().primaryKey(),
  gasUsed: t.bigint(),
  batchCall: t.boolean().notNull(),
  items: t.jsonb().$type<{ jobId: string; eventId: string }[]>().notNull(),
}));

/** A claim: live until it ends fulfilled, expired (slashed), released, or as a posted result's bond. */
export const claim = onchainTable(
  "claim",
  (t) => ({
    id: t.text().primaryKey(), // `${txHash}-${logIndex}` of JobClaimed
    jobId: t.bigint().notNull(),
    prover: t.hex().notNull(),
    bond: t.bigint().notNull(),
    leaseEnd: t.bigint().notNull(),
    claimedAt: t.integer().notNull(),
    outcome: t.text().notNull(), // live | fulfilled | expired | released | slashed (poster)
    slashed: t.bigint(),
    returned: t.bigint(),
    endedAt: t.integer(),
  }),
  (table) => ({ jobIdx: index().on(table.jobId), proverIdx: index().on(table.prover) }),
);

/** A prover (any address that claimed or was paid for a result). */
export const prover = onchainTable("prover", (t) => ({
  address: t.hex().primaryKey(),
  claims: t.integer().notNull(),
  served: t.integer().notNull(),
  failures: t.integer().notNull(), // expired claims
  earningsWei: t.bigint().notNull(), // ETH fees + bounties + subscription run tips + challenge bonds and rewards won
  tokenFees: t.jsonb().$type<Record<string, string>>(), // token fees (and token run tips) by token address
  bondLockedWei: t.bigint().notNull(),
  slashedWei: t.bigint().notNull(),
  firstActiveAt: t.integer().notNull(),
  lastActiveAt: t.integer().notNull(),
}));

/** Deposits and withdrawals of the market (and the subscriptions contract's withdrawals). */
export const transfer = onchainTable(
  "transfer",
  (t) => ({
    id: t.text().primaryKey(),
    contract: t.text().notNull(), // jobs | subscriptions
    kind: t.text().notNull(), // deposit | withdraw
    account: t.hex().notNull(),
    token: t.hex(), // null: ETH
    amount: t.bigint().notNull(),
    at: t.integer().notNull(),
    block: t.integer().notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ accountIdx: index().on(table.account) }),
);

/** An account's stake in the market: deposits minus withdrawals (earnings are credited to it too, but not shown here). */
export const account = onchainTable("account", (t) => ({
  address: t.hex().primaryKey(),
  depositedWei: t.bigint().notNull(),
  withdrawnWei: t.bigint().notNull(),
}));

/** A subscription (`InferenceSubscriptions`). */
export const subscription = onchainTable(
  "subscription",
  (t) => ({
    id: t.bigint().primaryKey(),
    owner: t.hex().notNull(),
    modelId: t.bigint().notNull(),
    modelVersion: t.integer().notNull(),
    interval: t.integer().notNull(),
    start: t.integer().notNull(),
    runs: t.integer().notNull(),
    feePerRun: t.bigint().notNull(),
    tipPerRun: t.bigint().notNull(),
    runDeadline: t.integer().notNull(),
    feeToken: t.hex(),
    cancelled: t.boolean().notNull(),
    refunded: t.bigint(),
    optimistic: t.boolean().notNull(),
    opened: t.integer().notNull(),
    delivered: t.integer().notNull(),
    skipped: t.integer().notNull(),
    missed: t.integer().notNull(),
    reclaimed: t.integer().notNull(),
    createdAt: t.integer().notNull(),
    createdBlock: t.integer().notNull(),
    txHash: t.hex().notNull(),
  }),
  (table) => ({ ownerIdx: index().on(table.owner), modelIdx: index().on(table.modelId) }),
);

/** A run of a subscription: opened | delivered | skipped | missed | reclaimed (`count` > 1 for a range of missed runs). */
export const run = onchainTable(
  "run",
  (t) => ({
    id: t.text().primaryKey(), // `${subscriptionId}-${run}`
    subscriptionId: t.bigint().notNull(),
    run: t.bigint().notNull(),
    count: t.integer().notNull(),
    status: t.text().notNull(),
    jobId: t.bigint(),
    opener: t.hex(),
    reason: t.integer(),
    output: t.bigint(),
    fee: t.bigint(),
    callbackFailed: t.boolean().notNull(),
    openedAt: t.integer().notNull(),
    openedTx: t.hex().notNull(),
    settledAt: t.integer(),
    settledTx: t.hex(),
  }),
  (table) => ({ subIdx: index().on(table.subscriptionId, table.run), jobIdx: index().on(table.jobId) }),
);

export const modelRelations = relations(model, ({ many }) => ({ versions: many(version), jobs: many(job) }));
export const versionRelations = relations(version, ({ one }) => ({
  model: one(model, { fields: [version.modelId], references: [model.id] }),
}));
export const jobRelations = relations(job, ({ one, many }) => ({
  model: one(model, { fields: [job.modelId], references: [model.id] }),
  events: many(jobEvent),
  claimRows: many(claim),
}));
export const jobEventRelations = relations(jobEvent, ({ one }) => ({ job: one(job, { fields: [jobEvent.jobId], references: [job.id] }) }));
export const claimRelations = relations(claim, ({ one }) => ({ job: one(job, { fields: [claim.jobId], references: [job.id] }) }));
export const subscriptionRelations = relations(subscription, ({ many }) => ({ runs: many(run) }));
export const runRelations = relations(run, ({ one }) => ({
  subscription: one(subscription, { fields: [run.subscriptionId], references: [subscription.id] }),
}));
