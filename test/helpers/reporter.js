// Mocha's spec reporter plus one plain closing line, "N passed, N failed[, N skipped]", that CI systems read, and the
// time each test file took (its tests and hooks) in build/test-durations.json: test/run-all.sh hands the slowest
// files to the parallel workers first.
"use strict";
const fs = require("fs");
const path = require("path");
const Mocha = require("mocha");
const { EVENT_RUN_END, EVENT_TEST_END, EVENT_HOOK_END } = Mocha.Runner.constants;

const DURATIONS = path.join(process.env.ZKML_BUILD_DIR ?? path.join(__dirname, "..", "..", "build"), "test-durations.json");

/** The test file a test or hook belongs to (a hook of the root suite belongs to none). */
function fileOf(runnable) {
  for (let r = runnable; r; r = r.parent) if (r.file) return r.file;
  return undefined;
}

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const ms = {};
    const add = (r) => {
      const file = fileOf(r);
      if (file && typeof r.duration === "number")
        ms[path.relative(process.cwd(), file)] = (ms[path.relative(process.cwd(), file)] ?? 0) + r.duration;
    };
    runner.on(EVENT_TEST_END, add);
    runner.on(EVENT_HOOK_END, add);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || {};
      const skipped = s.pending ? `, ${s.pending} skipped` : "";
      try {
        let all = {};
        try {
          all = JSON.parse(fs.readFileSync(DURATIONS, "utf8"));
        } catch {
          // first run
        }
        for (const [file, t] of Object.entries(ms)) all[file] = Math.round(t);
        fs.mkdirSync(path.dirname(DURATIONS), { recursive: true });
        fs.writeFileSync(`${DURATIONS}.tmp`, JSON.stringify(all, null, 1) + "\n");
        fs.renameSync(`${DURATIONS}.tmp`, DURATIONS);
      } catch (e) {
        process.stderr.write(`reporter: could not record test durations in ${DURATIONS}: ${e.message}\n`);
      }
      process.stdout.write(`${s.passes || 0} passed, ${s.failures || 0} failed${skipped}\n`);
    });
  }
}

module.exports = SpecWithSummary;
