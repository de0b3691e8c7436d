/**
 * The SDK as a dApp imports it (`import { InferenceClient } from "zkml-evm"`): the package's root export,
 * scripts/chain/sdk.ts, which runs in browsers as is. The app imports the SDK through this module only.
 */
export {
  InferenceClient,
  InferenceClientError,
  ModelCardSchema,
  BundleManifestSchema,
  decodeOutput,
  quantizeWithCard,
  type ModelCard,
  type BundleManifest,
  type ModelLayout,
  type OpenedJob,
} from "../../../scripts/chain/sdk";
