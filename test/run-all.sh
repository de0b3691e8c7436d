#!/usr/bin/env bash
# `npm test`: every test file. All suites run in one mocha process, except the prover-node suites, which each get a
# process of their own: in one process, starting a market after test/prover/crash.test.ts has intermittently hit a
# native heap corruption (SIGSEGV / "double free"), root cause not found yet (docs/prover.md, "Known issue").
# Prints one closing line with the totals: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/test-run.log
: > "$log"
mapfile -t main < <(find test -name '*.test.ts' -not -path 'test/prover/*' | sort)
status=0
npx hardhat test "${main[@]}" 2>&1 | tee -a "$log" || status=1
for f in test/prover/*.test.ts; do
  one=build/test-run.one.log
  npx hardhat test "$f" 2>&1 | tee "$one"
  rc=${PIPESTATUS[0]}
  if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$one"; then
    # The process died before mocha's summary: the native heap corruption of docs/prover.md ("Known issue", issue 19),
    # not a test failure. Run the file once more and say so; a second crash fails the run.
    echo "test/run-all.sh: $f crashed without a result (exit $rc; native heap corruption, docs/prover.md): running it once more" >&2
    npx hardhat test "$f" 2>&1 | tee "$one"
    rc=${PIPESTATUS[0]}
  fi
  cat "$one" >> "$log"
  [ "$rc" -eq 0 ] || status=1
done
passed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $3} END {print s + 0}')
runs=$(grep -cE '^[0-9]+ passed, [0-9]+ failed' "$log")
expected=$((1 + $(ls test/prover/*.test.ts | wc -l)))
if [ "$runs" -ne "$expected" ]; then
  echo "test/run-all.sh: only $runs of $expected test processes reported a result (one crashed)" >&2
  status=1
fi
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
