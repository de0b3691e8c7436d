/**
 * The indexer's JSON API: the only module of the app that talks to it (explorer/app/README.md, "API"), through the
 * SDK's ExplorerClient (scripts/chain/explorer-client.ts), so the app reads the indexer exactly as a dApp importing
 * `zkml-evm` does. The answers' types are the API's format (scripts/formats/explorer-api.ts), which the indexer serves
 * through and the test's mock API builds from: a renamed field is a type error on every side. Every call goes to
 * `/api/...` on the app's own origin (the Vite dev/preview server proxies it to the indexer), so the page never asks
 * another host.
 */
import { ExplorerClient, ExplorerClientError } from "../../../scripts/chain/explorer-client";
import type { JobStatusName } from "../../../scripts/formats/explorer-api";

export type * from "../../../scripts/formats/explorer-api";

/** Why a call failed, in words a reader can act on; `kind` lets a page pick its message. */
export { ExplorerClientError as ApiError };

/** The indexer behind this page's own origin. */
export const api = new ExplorerClient("");

/** Job states after which nothing changes. */
export const FINAL_STATUSES: readonly JobStatusName[] = ["fulfilled", "reclaimed"];
