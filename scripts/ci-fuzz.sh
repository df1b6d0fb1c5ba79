#!/usr/bin/env bash
# CI stage: every libFuzzer target (clang, with ASan + UBSan) from the checked-in seed corpus, for
# FUZZ_SECONDS each (default 15); a crash, a sanitizer report or a failed check fails the run.
# The fuzzers come from build-asan/, the ASan+UBSan stage's build (scripts/ci-sanitizers.sh), which
# must have run first: the library is the same, so it is not built twice.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}
if [ ! -f build-asan/CMakeCache.txt ] || ! grep -q '^EVSTORE_BUILD_FUZZERS:BOOL=ON' build-asan/CMakeCache.txt; then
  echo "fuzz: build-asan/ with the fuzzers is missing: run scripts/ci-sanitizers.sh first" >&2
  exit 1
fi
targets=(line_decoder timestamp task_id pattern append_read checkpoint)
source scripts/quiet-build.sh
quiet_build build-asan -j "$(nproc)" --target "${targets[@]/%/_fuzz}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One fuzzer per core at a time (each runs on one thread).
fuzz_one() {
  local target=$1 runs
  mkdir -p "$work/$target"
  # New inputs go to the scratch dir; the checked-in corpus is only read.
  ./build-asan/${target}_fuzz -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/$target-" "$work/$target" "tests/fuzz/corpus/$target" \
    >"$work/$target.out" 2>"$work/$target.log" || {
    tail -40 "$work/$target.log"
    echo "fuzz: $target failed" >&2
    return 1
  }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$' || true)
  echo "fuzz: $target: ${runs:-?} executions in ${seconds}s, no crash"
}
jobs_at_once=$(nproc)
pids=()
failed=0
for target in "${targets[@]}"; do
  fuzz_one "$target" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs_at_once" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
exit "$failed"
