#!/usr/bin/env bash
# CI stage: the whole test suite (with the simulator and harness runs) built with AddressSanitizer +
# UndefinedBehaviorSanitizer (gcc).
# Any report fails the run: UBSan does not recover, ASan aborts, LeakSanitizer fails at exit.
# The two packaging tests (an installed package and a shared library built and linked again) are
# left to the first stage: they test the packaging, and were a minute of this one.
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEVSTORE_BUILD_BENCH=OFF \
  -DEVSTORE_BUILD_EXAMPLES=ON -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build build-asan -j "$(nproc)" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$(nproc)" \
    -E '^(InstalledPackageIsConsumable|SharedLibraryExportsOnlyThePublicApi)$'
