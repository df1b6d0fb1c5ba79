#!/usr/bin/env bash
# README command 2: set up, build, and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh >/dev/null
source scripts/test-tmpdir.sh
run_tests_in_memory ctest --test-dir build --output-on-failure -j "$(nproc)"
