import { spawnSync } from "child_process";
import { expect } from "chai";
import { ROOT } from "../../scripts/util/paths";

/**
 * The root cause of the native crash of issue 19 (docs/prover.md, "The native crash: found and fixed"): blake-hash's
 * native addon corrupts the heap when worker threads that loaded it exit. The project must never load it, in any
 * thread. Each case runs in a fresh process and lists the native libraries the process has loaded (process.report),
 * which covers every thread.
 */
function nativeLibsAfter(script: string): string[] {
  const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TS_NODE_FILES: "true" },
    timeout: 120_000,
  });
  expect(r.status, r.stderr).to.equal(0);
  const line = r.stdout.split("\n").find((l) => l.startsWith("LIBS "));
  expect(line, r.stdout).to.not.equal(undefined);
  return (JSON.parse(line!.slice(5)) as string[]).filter((f) => f.endsWith(".node"));
}

const REPORT = `console.log("LIBS " + JSON.stringify(process.report.getReport().sharedObjects));`;

describe("native addons: blake-hash's is never loaded (issue 19)", function () {
  this.timeout(240_000);

  it("circomlibjs on its own loads the native blake-hash addon (what the guard is for)", function () {
    const libs = nativeLibsAfter(`require("circomlibjs"); ${REPORT}`);
    expect(libs.some((f) => f.includes("blake-hash"))).to.equal(true);
  });

  it("a prover's proof pool (two workers that loaded the proving code), the commitments and circomlibjs behind the guard load no blake-hash addon", function () {
    const libs = nativeLibsAfter(`
      (async () => {
        const { poseidonHash } = require("./scripts/formats/commitments");
        if (poseidonHash([1n, 2n]) !== 7853200120776062878684798364095072458815029376092732009249414926327459813530n) throw new Error("poseidon");
        require("./scripts/engine/setup/poseidon-contract"); // circomlibjs, behind scripts/util/pure-blake.ts
        if (require("blake-hash") !== require("blake-hash/js")) throw new Error("blake-hash is not its JavaScript implementation");
        const { ProofPool } = require("./scripts/apps/prover/pool");
        const pool = new ProofPool(2);
        await pool.warm();
        await pool.stop();
        ${REPORT}
      })().catch((e) => { console.error(e); process.exit(1); });`);
    expect(libs.filter((f) => f.includes("blake-hash"))).to.deep.equal([]);
  });
});
