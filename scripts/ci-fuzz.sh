#!/usr/bin/env bash
# CI stage: every libFuzzer target (clang, with ASan + UBSan) from the checked-in seed corpus, for
# FUZZ_SECONDS each (default 15); a crash, a sanitizer report or a failed check fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEVSTORE_BUILD_FUZZERS=ON -DEVSTORE_BUILD_TESTS=OFF -DEVSTORE_BUILD_EXAMPLES=OFF \
  -DEVSTORE_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=(line_decoder timestamp task_id pattern append_read)
# The fuzzers and the library they link, nothing else (the tool would double this stage's build).
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/%/_fuzz}" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "$work/$target"
  # New inputs go to the scratch dir; the checked-in corpus is only read.
  ./build-fuzz/${target}_fuzz -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/$target" "tests/fuzz/corpus/$target" 2>"$work/$target.log" || {
    tail -40 "$work/$target.log"
    echo "fuzz: $target failed" >&2
    exit 1
  }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$')
  echo "fuzz: $target: ${runs:-?} executions in ${seconds}s, no crash"
done
