/**
 * The package's root export (`import { InferenceClient } from "zkml-evm"`): the SDK client, the formats a consumer
 * reads (model card, layout, packed values), the job binding and the typed contract factories. Everything here runs
 * in Node and in browsers (docs/consumers.md, "The SDK").
 */
export {
  InferenceClient,
  InferenceClientError,
  decodeOutput,
  quantizeWithCard,
  type BundleAccess,
  type ClientOptions,
  type InferenceResult,
  type JobInputRequest,
  type JobState,
  type JobStatus,
  type ModelSummary,
  type ModelVersion,
  type OpenJobRequest,
  type OpenedJob,
} from "./client";
export {
  SubscriptionClient,
  SubscriptionClientError,
  type ClaimToDeliver,
  type OpenedRun,
  type RunResult,
  type SubscriptionState,
} from "./subscriptions-client";
export {
  type ModelCard,
  type BundleManifest,
  ModelCardSchema,
  BundleManifestSchema,
  parseModelCard,
  parseBundleManifest,
} from "../formats/bundle";
export { ExplorerClient, ExplorerClientError, type JobQuery } from "./explorer-client";
export type * as ExplorerApi from "../formats/explorer-api";
export type { ModelLayout } from "../formats/model-layout";
export { packSigned, unpackSigned, valuesPerChunk } from "../formats/commitments";
export { jobBinding, GROTH16_BN254_V1 } from "../formats/public-signals";
export {
  InferenceJobs__factory,
  ModelRegistry__factory,
  VerifierAdapterFactory__factory,
  Groth16VerifierAdapter__factory,
  ZKMLVerifier__factory,
  InferenceConsumer__factory,
  InferenceSubscriptions__factory,
  SubscriptionConsumer__factory,
  type InferenceJobs,
  type InferenceSubscriptions,
  type ModelRegistry,
  type ZKMLVerifier,
  type InferenceConsumer,
} from "../../typechain-types";
