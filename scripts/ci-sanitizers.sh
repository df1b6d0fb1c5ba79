#!/usr/bin/env bash
# CI stage: the whole test suite (with the simulator and harness runs) built with AddressSanitizer +
# UndefinedBehaviorSanitizer (clang), in build-asan/, which also builds the libFuzzer targets that
# the fuzzing stage (scripts/ci-fuzz.sh) then runs.
# Any report fails the run: UBSan does not recover, ASan aborts, LeakSanitizer fails at exit.
#
# Why one build serves both: the tests under ASan+UBSan and the fuzzers under ASan+UBSan are the same
# library with the same sanitizers; two builds of it were a quarter of CI. The sources the fuzzers
# reach (the plain sources of EVSTORE_PLAIN_SOURCE_OPTIONS, below; no fuzzer touches an actor) are
# compiled with `fuzzer-no-link`, libFuzzer's coverage hooks, which the sanitizer runtime answers
# when no fuzzer is linked. The rest is not: on the actor sources the hooks made the compile a third
# slower (the largest unity source 52 s -> 69 s) and fed no fuzzer. -O0: at -O1 the tests ran
# in 150 s instead of about 190, but the build took twice as long (12 minutes on 2 cores): the
# actor sources' CAF templates are what -O1 makes slow to build. The same plain sources compile
# at -O1 all the same: the tests'
# oracles and the fuzzers spend most of their time in them, 3-4x slower at -O0, and they are a
# small part of the build at either level (the type index's random tests ran 88 s at -O0, 26 s at -O1).
# The two packaging tests (an installed package and a shared library built and linked again) are
# left to the first stage: they test the packaging, and were a minute of this one.
# The programs link as fixed-address executables (-no-pie): as position-independent ones, the
# sanitizers' and the fuzzer hooks' tables gave each 1.1 M relocations (27 MB, measured when every
# source had the hooks) that the loader applied
# at every start: `evstore` took 215 ms to refuse a bad flag, 150 ms without PIE. Every test case is
# a process, and the CLI, kill and node tests start hundreds more (A/B on one machine: the CLI's
# tests 210 s -> 170 s).
set -euo pipefail
cd "$(dirname "$0")/.."
flags="-O0 -gline-tables-only -fno-omit-frame-pointer"
flags+=" -fsanitize=address,undefined -fno-sanitize-recover=undefined"
# A build-asan/ of another generator or compiler (an older version of this script) cannot be reused.
if [ -f build-asan/CMakeCache.txt ] &&
  ! { grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build-asan/CMakeCache.txt &&
      grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' build-asan/CMakeCache.txt; }; then
  rm -rf build-asan
fi
CC=clang CXX=clang++ cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=None \
  -DEVSTORE_BUILD_BENCH=OFF -DEVSTORE_BUILD_EXAMPLES=ON -DEVSTORE_BUILD_FUZZERS=ON \
  -DEVSTORE_PLAIN_SOURCE_OPTIONS="-O1;-fsanitize=fuzzer-no-link" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined -no-pie" >/dev/null
source scripts/quiet-build.sh
quiet_build build-asan -j "$(nproc)"
# The kill tests (tests/crash_test.cpp) run 4 rounds here instead of 10: each round is a child
# store run until SIGKILL and reopened, and what memory errors a round can show, 4 show. The same
# knob gives the rebalance kill test (tests/rebalance_process_test.cpp) 4 rounds of 8 (25 s here).
# The CLI's numeric-flag table runs 28 of its 126 processes under a sanitizer (tests/cli_test.cpp
# says which): each was 0.3 s here, 42 s in all, for one parser per kind of number.
source scripts/test-tmpdir.sh
EVSTORE_KILL_ROUNDS=4 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_tests_in_memory ctest --test-dir build-asan --output-on-failure -j "$(nproc)" \
    -E '^(InstalledPackageIsConsumable|SharedLibraryExportsOnlyThePublicApi)$'
