import { expect } from "chai";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BUNDLE_MANIFEST,
  BundleError,
  type BundleManifest,
  CARD_FORMAT,
  type ModelCard,
  parseBundleManifest,
  parseModelCard,
} from "../../scripts/formats/bundle";
import { readBundle, writeBundle } from "../../scripts/formats/bundle-files";
import { loadQuantizedModel } from "../../scripts/pipelines/build";
import { modelCard } from "../../scripts/pipelines/bundle-sources";

/** A bundle of iris-mlp's quantized model with stand-in bytes for the circuit files (the format checks sizes and hashes, not circuits). */
function makeBundle(): { dir: string; manifest: BundleManifest; card: ModelCard } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-bundle-format-"));
  const model = loadQuantizedModel("iris-mlp");
  const file = (name: string, content: string) => {
    const p = path.join(tmp, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const card: ModelCard = {
    format: CARD_FORMAT,
    name: "iris-mlp",
    task: "classification",
    outputs: ["setosa", "versicolor", "virginica"],
    input: { size: 4, bits: 12, frac: 8, mode: "committed" },
    output: { head: "argmax", count: 3 },
    license: "MIT",
    weights: "open",
    constraints: 656,
    trustedSetup: "dev (INSECURE)",
  };
  const dir = path.join(tmp, "bundle");
  const { manifest } = writeBundle(
    {
      model,
      modelFile: file("m.json", JSON.stringify(model)),
      r1cs: file("c.r1cs", "r1cs"),
      wasm: file("c.wasm", "wasm"),
      zkey: file("p.zkey", "zkey"),
      vkeyFile: file("vk.json", "{}"),
      modelCommitment: 12345n,
      circuitHash: "ab".repeat(32),
      vkHash: "cd".repeat(32),
      proofSystemId: "0x0550D137",
      numPublicSignals: 4,
      constraints: 656,
      card,
    },
    dir,
  );
  return { dir, manifest, card };
}

/** A parsed bundle.json, edited freely by the cases below (they write what the schema refuses). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** Rewrites bundle.json after `edit`. */
function editManifest(dir: string, edit: (m: Loose) => void): void {
  const p = path.join(dir, BUNDLE_MANIFEST);
  const m = JSON.parse(fs.readFileSync(p, "utf8"));
  edit(m);
  fs.writeFileSync(p, JSON.stringify(m));
}

describe("bundle format (scripts/formats/bundle.ts)", () => {
  it("reads back the bundle it wrote, card included", () => {
    const { dir, manifest } = makeBundle();
    expect(readBundle(dir)).to.deep.equal(manifest);
    expect(manifest.registry.modelHash).to.equal(`0x${12345n.toString(16).padStart(64, "0")}`);
    expect(manifest.registry.proofSystemId).to.equal("0x0550d137");
  });

  it("names the field of bundle.json that is wrong", () => {
    const cases: [string, (m: Loose) => void, RegExp][] = [
      ["format", (m) => (m.format = "zkml-bundle-v0"), /^bundle\.json: format must be "zkml-bundle-v1"$/],
      ["model name", (m) => (m.model = "Iris MLP"), /^bundle\.json: model must be lowercase letters, digits and dashes$/],
      [
        "registry hash",
        (m) => (m.registry.modelHash = "0x12"),
        /^bundle\.json: registry\.modelHash must be 0x and 64 lower-case hex digits$/,
      ],
      [
        "layout",
        (m) => (m.registry.layout.inputMode = 2),
        /^bundle\.json: registry\.layout\.inputMode must be 0 \(committed\) or 1 \(public\)$/,
      ],
      ["missing field", (m) => delete m.registry.vkHash, /^bundle\.json: registry\.vkHash is missing$/],
      ["file entry", (m) => (m.files.zkey.name = "../../etc/passwd"), /^bundle\.json: files\.zkey\.name must be "proving\.zkey"$/],
      ["unknown key", (m) => (m.registry.extra = 1), /^bundle\.json: registry has unknown field extra$/],
      ["size", (m) => (m.files.r1cs.bytes = -1), /^bundle\.json: files\.r1cs\.bytes must be an integer >= 0$/],
      ["missing size", (m) => delete m.files.r1cs.bytes, /^bundle\.json: files\.r1cs\.bytes is missing$/],
      ["missing file", (m) => delete m.files.card, /^bundle\.json: files\.card is missing$/],
    ];
    for (const [what, edit, msg] of cases) {
      const { dir } = makeBundle();
      editManifest(dir, edit);
      expect(() => readBundle(dir), what).to.throw(BundleError, msg);
    }
  });

  it("checks every file's size and hash, and refuses files it does not list", () => {
    let { dir } = makeBundle();
    fs.writeFileSync(path.join(dir, "circuit.wasm"), "wasn");
    expect(() => readBundle(dir)).to.throw(BundleError, /^circuit\.wasm has sha256 [0-9a-f]{64}, bundle\.json says/);
    ({ dir } = makeBundle());
    fs.writeFileSync(path.join(dir, "extra.bin"), "x");
    expect(() => readBundle(dir)).to.throw(BundleError, "the bundle holds files bundle.json does not list: extra.bin");
  });

  it("checks the model card and that it names the bundle's model", () => {
    const { card } = makeBundle();
    expect(parseModelCard(card)).to.deep.equal(card);
    expect(parseModelCard({ ...card, futureField: 1 })).to.deep.equal(card); // a newer card's extra fields are dropped
    expect(() => parseModelCard({ ...card, task: "ranking" })).to.throw(
      BundleError,
      /^card\.json: task must be "classification" or "regression"$/,
    );
    expect(() => parseModelCard({ ...card, input: { ...card.input, bits: 64 } })).to.throw(
      BundleError,
      /^card\.json: input\.bits must be an integer in 2\.\.32$/,
    );
    const { dir, manifest } = makeBundle();
    const other = JSON.stringify({ ...card, name: "iris-other" });
    fs.writeFileSync(path.join(dir, "card.json"), other);
    editManifest(dir, (m) => {
      m.files.card.bytes = Buffer.byteLength(other);
      m.files.card.sha256 = createHash("sha256").update(other).digest("hex");
    });
    expect(() => readBundle(dir)).to.throw(BundleError, `card.json: name is not "${manifest.model}", the model bundle.json names`);
  });

  it("reads the optional people-facing fields and checks them against the input's size", () => {
    const { card } = makeBundle();
    const described = {
      ...card,
      description: "Tells the species of an iris flower.",
      features: { names: ["sepal length", "sepal width", "petal length", "petal width"], unit: "cm" },
      samples: [{ input: [5, 3.6, 1.4, 0.2], expected: "setosa" }],
    };
    expect(parseModelCard(described)).to.deep.equal(described);
    expect(() => parseModelCard({ ...described, features: { names: ["sepal length"] } })).to.throw(
      BundleError,
      /^card\.json: features\.names has 1 names; the input has 4 values \(one name per value\)$/,
    );
    expect(() => parseModelCard({ ...described, samples: [{ input: [1, 2] }] })).to.throw(
      BundleError,
      /^card\.json: samples\[0\]\.input has 2 values; the input has 4$/,
    );
  });

  it("gives the bundled models' cards a description, feature names and held-out samples", async () => {
    const c = parseModelCard(JSON.parse(JSON.stringify(await modelCard("temp-forecast", "MIT"))));
    expect(c.description).to.match(/^Forecasts tomorrow's maximum temperature in Seattle/);
    expect(c.features?.names).to.have.length(7);
    expect(c.features?.names.at(-1)).to.equal("max temperature today");
    expect(c.outputUnit).to.equal("°C");
    expect(c.samples).to.have.length(3);
    expect(c.samples?.[0].input).to.have.length(7);
    expect(c.samples?.[0].expected).to.be.a("number");
  });

  it("parses a manifest object without files on disk (the HTTP fetch path checks it before downloading)", () => {
    const { manifest } = makeBundle();
    expect(parseBundleManifest(JSON.parse(JSON.stringify(manifest)))).to.deep.equal(manifest);
    expect(() => parseBundleManifest([])).to.throw(BundleError, "bundle.json: the file must be a JSON object");
  });
});
