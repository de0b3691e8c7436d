#!/usr/bin/env bash
# `npm test`: every test file, in one mocha process. (Until issue 19 the prover-node suites ran in processes of their
# own to dodge a native heap corruption; its cause, blake-hash's native addon in worker threads, is fixed at the
# source: docs/prover.md, "The native crash: found and fixed".)
# Prints one closing line with the totals: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/test-run.log
mapfile -t files < <(find test -name '*.test.ts' | sort)
npx hardhat test "${files[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then
  echo "test/run-all.sh: the test process died before mocha's summary (exit $status): see $log" >&2
  exit 1
fi
grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | grep -qE ' 0 failed(,|$)' || status=1
exit $status
