/**
 * `zkml-evm/node`: the SDK's Node-side part. Reading `file://` bundles and delivering private inputs
 * (scripts/chain/node.ts), and publishing a model from its ONNX file (scripts/pipelines/publish.ts): import,
 * quantize with your calibration inputs, circuit, keys, verifier, bundle on IPFS, registration.
 */
import type { InferenceClient } from "../chain/client";
import { type PublishRequest, type Published, publishOnnx } from "./publish";

export { readLocalFile, deliverInput, type DeliveryOutcome } from "../chain/node";
export { PublishError, type OnnxSource, type PublishRequest, type Published } from "./publish";

/**
 * Publishes an ONNX model to the client's deployment with the client's signer (see `PublishRequest`): version 1 of a
 * new model id, its bundle on the local IPFS node (`ipfs://<cid>`, keep it reachable for provers) or at your `uri`.
 * Compiling the circuit and computing its dev keys takes seconds for small models, minutes for LeNet-size ones
 * (cached by content in `~/.cache/zkml-evm/build`).
 * @throws PublishError naming the option before anything is sent.
 */
export async function publishModel(client: InferenceClient, req: PublishRequest): Promise<Published> {
  return publishOnnx(client.signer(), await client.jobs.getAddress(), req);
}
