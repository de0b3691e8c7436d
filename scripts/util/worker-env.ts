/**
 * Imported first by the proof worker. snarkjs' curve library (ffjavascript) starts its own helper threads through
 * the `web-worker` package, which decides at load time whether it runs on the main thread; inside our worker thread it
 * would wrongly take itself for one of its own helper threads and crash (`threads.workerData` undefined). Telling it
 * that this worker is a "main" thread makes it spawn its helpers normally (they are nested worker threads, which Node
 * supports and terminates with this worker).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const threads = require("worker_threads") as { isMainThread: boolean };
threads.isMainThread = true;
import "./pure-blake"; // also here, first: whatever a worker loads, never the native blake-hash addon (scripts/util/pure-blake.ts)
