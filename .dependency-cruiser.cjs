// The layering of scripts/ (docs/architecture.md), checked by `npm run lint` and so by CI: each layer imports only
// from the layers below it, and no module imports itself back through a cycle. From the ground up:
//   util/ -> formats/ -> engine/ -> chain/ -> pipelines/ -> apps/
// scripts/types/ holds type declarations of untyped packages and is usable everywhere.
// explorer/ (the explorer's indexer and app) sits beside apps/: it may use util/, formats/ and chain/ (the SDK layer),
// never apps/, pipelines/, the engine or the tests.
const layer = (name, below) => ({
  name: `${name}-imports-only-below`,
  comment: `scripts/${name}/ may import only from ${below.length ? below.map((b) => `scripts/${b}/`).join(", ") : "nothing of the project but itself"} (docs/architecture.md)`,
  severity: "error",
  from: { path: `^scripts/${name}/` },
  to: { path: "^(scripts|test)/", pathNot: `^scripts/(${[name, ...below, "types"].join("|")})/` },
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "a cycle makes two modules one: merge them, or move what both need one layer down",
      severity: "error",
      from: { path: "^scripts/" },
      to: { circular: true },
    },
    layer("util", []),
    layer("formats", ["util"]),
    layer("engine", ["util", "formats"]),
    layer("chain", ["util", "formats", "engine"]),
    layer("pipelines", ["util", "formats", "engine", "chain"]),
    {
      name: "explorer-uses-the-sdk-layer-only",
      comment: "explorer/ may import scripts/util/, scripts/formats/, scripts/chain/ and scripts/types/ only (docs/architecture.md)",
      severity: "error",
      from: { path: "^explorer/" },
      to: { path: "^(scripts|test)/", pathNot: "^scripts/(util|formats|chain|types)/" },
    },
    {
      name: "no-circular-explorer",
      comment: "a cycle makes two modules one: merge them, or move what both need one layer down",
      severity: "error",
      from: { path: "^explorer/" },
      to: { circular: true },
    },
    {
      name: "apps-use-no-tests",
      comment: "an application does not import the test suite",
      severity: "error",
      from: { path: "^scripts/apps/" },
      to: { path: "^test/" },
    },
    {
      name: "explorer-app-uses-formats-and-sdk",
      comment:
        "the explorer's web app runs in browsers: it imports the formats and the SDK (scripts/chain), never apps, pipelines or tests",
      severity: "error",
      from: { path: "^explorer/app/" },
      to: { path: "^(scripts|test)/", pathNot: "^scripts/(formats|chain|util|types)/" },
    },
    {
      name: "explorer-app-uses-no-indexer-code",
      comment:
        "the web app reads the indexer only through its HTTP API (the answers' types are scripts/formats/explorer-api.ts, the client scripts/chain/explorer-client.ts): the indexer's runtime is Ponder's",
      severity: "error",
      from: { path: "^explorer/app/" },
      to: { path: "^explorer/indexer/" },
    },
    {
      name: "typed-contracts-from-chain-up",
      comment: "the typechain bindings are the chain layer's business: formats and the engine know no contract",
      severity: "error",
      from: { path: "^scripts/(util|formats|engine)/" },
      to: { path: "^typechain-types/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.d\\.ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js", ".json"] },
  },
};
