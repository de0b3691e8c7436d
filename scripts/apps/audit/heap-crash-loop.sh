#!/usr/bin/env bash
# Issue 19: runs a test file N times and counts runs that die without a mocha summary (the native heap crash).
# usage: scripts/apps/audit/heap-crash-loop.sh LABEL N [test files] (default test/prover/open-network.test.ts); env passes through,
# e.g. MALLOC_CHECK_=3 MALLOC_PERTURB_=165. Logs, core files and results.txt go to $HEAP_LOOP_DIR (build/heap-loop).
# usage: loop.sh LABEL N [test files...]; env passes through
label=$1; n=$2; shift 2
files=("${@:-test/prover/open-network.test.ts}")
cd "$(dirname "$0")/.."; mkdir -p "${HEAP_LOOP_DIR:-build/heap-loop}"; ulimit -c unlimited
crash=0
for i in $(seq 1 "$n"); do
  log=${HEAP_LOOP_DIR:-build/heap-loop}/$label.$i.log
  nice -n 10 npx hardhat test "${files[@]}" > "$log" 2>&1
  rc=$?; for c in core core.*; do [ -f "$c" ] && mv "$c" ${HEAP_LOOP_DIR:-build/heap-loop}/core.$label.$i; done
  if grep -qE '^[0-9]+ passed, [0-9]+ failed' "$log"; then res="ok($(grep -E '^[0-9]+ passed' "$log"))"; else crash=$((crash+1)); res="CRASH rc=$rc $(grep -aE 'free\(\)|double free|corrupted|Segmentation|SIGSEGV|Aborted|core dumped|FATAL|Fatal' "$log" | head -2 | tr '\n' ' ')"; fi
  echo "$(date -u +%T) $label run $i: $res" | tee -a ${HEAP_LOOP_DIR:-build/heap-loop}/results.txt
done
echo "$(date -u +%T) $label TOTAL: $crash/$n crashes" | tee -a ${HEAP_LOOP_DIR:-build/heap-loop}/results.txt
