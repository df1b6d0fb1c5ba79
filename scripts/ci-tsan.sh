#!/usr/bin/env bash
# CI stage: the test suite (with the simulator and harness runs) under ThreadSanitizer, against a
# libcaf_core that is built with ThreadSanitizer too.
#
# Built with clang, CAF and evstore alike (one TSan runtime: clang links it into each program, and
# CAF's libraries built by GCC would load GCC's as well). clang compiles the tests' sources in half
# the time g++ takes (store_actor_test.cpp: 8.2 s against 17.9 s at -O0 with TSan); at -O1, the
# library and CAF, the two take the same. g++ builds the README's stage, so both compilers build
# the tree in CI.
#
# Why CAF is rebuilt: Debian's libcaf_core is not instrumented, so TSan cannot see the happens-before
# edge that CAF's mailbox (a lock-free queue inside the library) creates between the thread that
# sends a message and the thread that runs its receiver. Every message payload would be reported as
# a race. Suppressing CAF's frames instead would hide every report, because all actor code runs under
# them. So this stage builds the very CAF version Debian ships (0.17.6) from the upstream tarball of
# Debian's source package, checked against the SHA-256 in the package's .dsc, with -fsanitize=thread
# (core, io and openssl: about 90 s on 2 cores; cached in build-caf-tsan/). `-include limits`:
# the upstream libcaf_io uses std::numeric_limits without <limits>, which libstdc++ 12 no longer pulls in
# through other headers (Debian's package patches that; the upstream tarball alone does not). No suppressions are needed.
#
# InstalledPackageIsConsumable is skipped: it builds a program against the installed package, which
# links Debian's uninstrumented CAF; it tests packaging, not concurrency, and runs in the other stages.
# So are the type index's tests: one thread, no actor (tests/type_index_test.cpp), and the slowest
# of the suite under TSan (48 s) for nothing TSan can find; the other stages run them. The one that
# orders a bulk load on several threads (TypeIndexThreads) is not in those suites and runs here.
set -euo pipefail
cd "$(dirname "$0")/.."
caf_dir=$PWD/build-caf-tsan
caf_lib=$caf_dir/install/lib/libcaf_core.so
caf_io_lib=$caf_dir/install/lib/libcaf_io.so
caf_openssl_lib=$caf_dir/install/lib/libcaf_openssl.so

build_caf() {
  local version src tarball want got
  version=$(dpkg-query -W -f='${source:Version}' libcaf-dev)
  rm -rf "$caf_dir"
  mkdir -p "$caf_dir/src"
  # The .dsc and the upstream tarball are all this needs; a missing Debian patch tarball on a mirror
  # must not stop it, so apt-get's exit status is judged by the checksum below instead.
  (cd "$caf_dir/src" && apt-get source --download-only "actor-framework=$version" >/dev/null 2>&1) || true
  tarball=$(cd "$caf_dir/src" && ls actor-framework_*.orig.tar.gz)
  want=$(awk -v f="$tarball" '/^Checksums-Sha256:/ {on = 1; next} /^[^ ]/ {on = 0}
                              on && $3 == f {print $1}' "$caf_dir"/src/*.dsc)
  got=$(sha256sum "$caf_dir/src/$tarball" | cut -d' ' -f1)
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "tsan: $tarball does not match the checksum in its .dsc" >&2
    exit 1
  fi
  tar -xzf "$caf_dir/src/$tarball" -C "$caf_dir/src"
  src=$(find "$caf_dir/src" -maxdepth 1 -type d -name 'actor-framework-*' | head -1)
  # A unity build (CMake's, batches of 16 sources): CAF's 184 sources each parse CAF's headers, and
  # batched they build in about 160 CPU-seconds instead of about 300 (g++ and clang alike). One
  # source cannot share a batch: native_socket.cpp and default_multiplexer.cpp each define the same
  # file-local port_of(). Only the build is changed, not a line of CAF's code; the property goes at
  # the top of libcaf_io's list file because the file returns early when unit tests are off.
  sed -i '1i set_source_files_properties(src/io/network/native_socket.cpp PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)' \
    "$src/libcaf_io/CMakeLists.txt"
  CC=clang CXX=clang++ cmake -S "$src" -B "$caf_dir/build" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread -O1 -g1 -include limits" \
    -DCMAKE_INSTALL_PREFIX="$caf_dir/install" \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes \
    -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes >"$caf_dir/configure.log" 2>&1 || {
    tail -20 "$caf_dir/configure.log"
    exit 1
  }
  cmake --build "$caf_dir/build" -j "$(nproc)" >"$caf_dir/build.log" 2>&1 || {
    grep -v '^\[ *[0-9]*%\] ' "$caf_dir/build.log" >&2 # all but make's progress lines
    exit 1
  }
  cmake --install "$caf_dir/build" >/dev/null
}

# A CAF built by another compiler (an older version of this script used g++) cannot be reused.
if [ -f "$caf_dir/build/CMakeCache.txt" ] &&
  ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' "$caf_dir/build/CMakeCache.txt"; then
  rm -rf "$caf_dir"
fi
[ -f "$caf_lib" ] && [ -f "$caf_io_lib" ] && [ -f "$caf_openssl_lib" ] || build_caf
echo "tsan: libcaf_core, libcaf_io and libcaf_openssl built with ThreadSanitizer in $caf_dir/install"
# --caf-only: .ci/run builds CAF in the background, at the lowest priority, beside the ASan stage.
[ "${1:-}" = "--caf-only" ] && exit 0

# TSan does not model atomic_thread_fence (GCC warned of it, clang does not). The bus gate's fences
# order an atomic counter against file writes and index messages, not plain memory, so TSan loses
# nothing.
# -g1: line tables are all a report's stacks need, and full debug info was a third of the links.
flags="-fsanitize=thread -O1 -g1"
# A build-tsan/ of another generator or compiler (an older version of this script) cannot be reused.
if [ -f build-tsan/CMakeCache.txt ] &&
  ! { grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build-tsan/CMakeCache.txt &&
      grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++' build-tsan/CMakeCache.txt; }; then
  rm -rf build-tsan
fi
# The tests' own sources compile at -O0 (EVSTORE_TEST_COMPILE_OPTIONS; the library and CAF keep
# -O1): their code is the checks around the calls, not what TSan is here to watch, and -O1 cost
# them a fifth more to compile (the test objects: 241 CPU-s at -O1 in CI, 195 at -O0 on the same
# tree; the units' tests pass either way).
# The units that run on one thread and touch no actor are not built here: TSan has nothing to see in
# them, and building them was about a fifth of this stage's build. (The type index's tests are
# built: TypeIndexThreads orders a bulk load on several threads.) A unit that gains threads or
# actors must leave this list.
single_threaded="compaction_test;credential_test;fetch_cache_test;file_io_test;json_text_test"
single_threaded+=";line_codec_test;line_header_test;line_reader_test;log_file_test;membership_test;query_rounds_test"
single_threaded+=";pattern_test;recent_ids_test;subscription_flow_test;task_log_compaction_test"
single_threaded+=";task_log_test;task_transfer_test;timestamp_format_test;type_sketch_test"
single_threaded+=";validation_test;uuid_test"
single_threaded+=";version_test"
# The sources without actors (line format, files, index) compile at -O2
# (EVSTORE_PLAIN_SOURCE_OPTIONS): the tests' full-scan oracles decode every line of every file, and
# at -O2 the suite's heaviest oracles ran a fifth faster (the checkpoint's staleness rows 42 s
# against 35, the query property test 31 s against 24).
CC=clang CXX=clang++ cmake -G Ninja -S . -B build-tsan -DCMAKE_BUILD_TYPE=None -DEVSTORE_BUILD_BENCH=OFF \
  -DEVSTORE_PLAIN_SOURCE_OPTIONS=-O2 \
  -DEVSTORE_SKIP_TESTS="$single_threaded" -DEVSTORE_TEST_COMPILE_OPTIONS=-O0 \
  -DEVSTORE_BUILD_EXAMPLES=ON -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCAF_INCLUDE_DIR="$caf_dir/install/include" -DCAF_CORE_LIBRARY="$caf_lib" \
  -DCAF_IO_LIBRARY="$caf_io_lib" -DCAF_OPENSSL_LIBRARY="$caf_openssl_lib" >/dev/null
source scripts/quiet-build.sh
quiet_build build-tsan -j "$(nproc)"
# Skipped too, for nothing TSan could see in them that the other stages do not check:
# - the CLI's tests of usage errors: each of their hundreds of `evstore` processes refuses its
#   arguments before it starts a thread or an actor (tools/cli/main.cpp parses first); 35 s here;
# - the two tests of a line past the readers' 64 MiB: one task, one request at a time, and each
#   scan of the 64 MiB line under TSan takes seconds (24 s and 14 s here, 6 s and 3 s in Release).
skipped="CliTest\\.(EveryNumericFlagRefusesWhatIsNotAPlainNumberAndChangesNothing"
skipped+="|NumbersOutOfTheirRangeAndBadChoicesAreUsageErrors|BadArgumentsExitNonZeroAndEveryCommandHasHelp)"
skipped+="|StoreTest\\.ALineLongerThanReadersHoldIsCorruptEverywhereAndTheNextLineIsReadOnce"
skipped+="|LogInspectionTest\\.ALineTooLongForReadersIsReportedAndTheNextOneStillRead"
# Any report fails its test: TSan exits non-zero (66) after reporting.
# The kill tests (tests/crash_test.cpp) run 2 rounds here instead of 10: each round runs a child
# store until SIGKILL and reopens it, several times slower under TSan (4 rounds of the checkpoint's
# took 37 s per durability), and what they check is what the files hold after a kill, which the
# Release stage checks with all 10 rounds and the ASan stage with 4; 2 still put the store's
# threads through each kill path under TSan. The rebalance kill test takes 3 rounds of 8 from the
# same knob (its least: the third kills a node instead of the command); 8 took 35 s here.
source scripts/test-tmpdir.sh
EVSTORE_KILL_ROUNDS=2 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  run_tests_in_memory ctest --test-dir build-tsan --output-on-failure -j "$(nproc)" \
    -E "^(InstalledPackageIsConsumable|SharedLibraryExportsOnlyThePublicApi|TypeIndex[A-Za-z]*Test\\..*|$skipped)\$"
