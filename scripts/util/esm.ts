/**
 * Loading ESM-only packages (Helia, libp2p, multiformats) from this CommonJS project. TypeScript compiles `import()`
 * to `require()` under `"module": "commonjs"`, which cannot load an ES module on Node 20; a `Function`-built
 * `import()` is left alone. The IPFS stack also calls `Promise.withResolvers` (Node 22+), polyfilled here to the
 * standard's behaviour before the first such import (docs/design-decisions.md, "IPFS").
 */

type Resolvers<T> = { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void };

function polyfillWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
  if (typeof P.withResolvers === "function") return;
  P.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: Resolvers<T>["resolve"];
    let reject!: Resolvers<T>["reject"];
    const promise = new Promise<T>((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
}

const dynamicImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;
let hostImport: ((specifier: string) => Promise<unknown>) | undefined;

/**
 * Gives {@link importEsm} the `import()` of a module runner that executes code in `vm` scripts without a dynamic
 * import callback, where a `Function`-built `import()` fails ("A dynamic import callback was not specified"): vite-node,
 * which runs Ponder's API (explorer/indexer/src/api/index.ts). Pass `(s) => import(s)` written in a module it runs.
 */
export function setEsmImport(importer: (specifier: string) => Promise<unknown>): void {
  hostImport = importer;
}

/** `import(specifier)` of an ES module, typed by the caller (`typeof import("pkg")`). */
export async function importEsm<T>(specifier: string): Promise<T> {
  polyfillWithResolvers();
  return (await (hostImport ?? dynamicImport)(specifier)) as T;
}
