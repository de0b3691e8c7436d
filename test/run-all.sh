#!/usr/bin/env bash
# `npm test`: every test file, in ZKML_TEST_JOBS (default 2) mocha worker processes (`hardhat test --parallel`; each
# file runs whole in one worker, and a worker takes the next file when it frees up). The slowest files go first, by the
# times the reporter recorded in the last run (build/test-durations.json; on a fresh clone the committed
# test/durations.json, refreshed with `npm run test:durations`), so that no long file starts last.
# ZKML_TEST_JOBS=1 runs them all in this one process, in name order (as before issue 33's test budget).
# (Until issue 19 the prover-node suites ran in processes of their own to dodge a native heap corruption; its cause,
# blake-hash's native addon in worker threads, is fixed at the source: docs/prover.md, "The native crash: found and
# fixed".) Prints one closing line with the totals: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/test-run.log
jobs=${ZKML_TEST_JOBS:-2}
if [ "$jobs" -gt 1 ]; then
  mapfile -t files < <(node -e '
    const fs = require("fs");
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return {}; } };
    const t = { ...read("test/durations.json"), ...read("build/test-durations.json") };
    const files = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
    // a file never timed counts as 10 s
    for (const f of files.sort((a, b) => (t[b] ?? 10000) - (t[a] ?? 10000) || a.localeCompare(b))) console.log(f);
  ' < <(find test -name '*.test.ts' | sort))
  # compile once here: two workers compiling at once would race on the artifacts (and on the explorer app's build)
  npx hardhat compile --quiet || exit 1
  npx ts-node --transpile-only --files -e 'require("./scripts/apps/explorer/app").ensureAppBuild().catch((e) => { console.error(e.message); process.exit(1); })' || exit 1
  npx hardhat test --no-compile --parallel "${files[@]}" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
else
  mapfile -t files < <(find test -name '*.test.ts' | sort)
  npx hardhat test "${files[@]}" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
fi
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
  echo "test/run-all.sh: the test process died before mocha's summary (exit $status): see $log" >&2
  exit 1
fi
grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | grep -qE ' 0 failed(,|$)' || status=1
exit $status
