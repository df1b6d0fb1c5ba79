#!/usr/bin/env bash
# Installs the built project into a temp prefix, then builds a consumer against it twice: through
# find_package(evstore) and through pkg-config. Usage: check.sh SOURCE_DIR BUILD_DIR [CXXFLAGS]
# (CXXFLAGS: the project's own, e.g. sanitizer flags, which a consumer of that build needs too.)
set -euo pipefail
src=$1 build=$2 flags=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/install/consumer" -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$tmp/b" >/dev/null
"$tmp/b/c" "$tmp/store-cmake"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/$(gcc -print-multiarch)/pkgconfig"
g++ -std=c++17 $flags "$src/tests/install/consumer/main.cpp" -o "$tmp/c2" $(pkg-config --cflags --libs evstore)
"$tmp/c2" "$tmp/store-pkgconfig"
