#!/usr/bin/env bash
# Installs the built project into a temp prefix, then builds a consumer against it twice: through
# find_package(evstore) and through pkg-config. Usage: check.sh SOURCE_DIR BUILD_DIR [CXXFLAGS]
# (CXXFLAGS: the project's own, e.g. sanitizer flags, which a consumer of that build needs too.)
set -euo pipefail
src=$1 build=$2 flags=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null

# Public means public: no installed header names the internal protocol or an internal actor.
internal='messages/internal|store_internal|notification_sink|writer_actor|index_actor|bus_actor|'
internal+='writer_idle|resolve_writers|writer_handles|populate_request|event_written|plan_request|'
internal+='query_plan|fetch_request|fetch_result|task_summary|line_ref|rank_key|located_event|'
internal+='population_plan|population_failed|src/'
if grep -rnwE "$internal" "$tmp/prefix/include"; then
  echo "check.sh: an installed header mentions an internal type or header (above)" >&2
  exit 1
fi
# Every installed header compiles on its own against the prefix alone (its includes resolve there).
for h in $(cd "$tmp/prefix/include" && find evstore -name '*.hpp' | sort); do
  echo "#include <$h>" | g++ -std=c++17 $flags -fsyntax-only -x c++ -I"$tmp/prefix/include" - ||
    { echo "check.sh: installed header $h does not compile on its own" >&2; exit 1; }
done
cmake -S "$src/tests/install/consumer" -B "$tmp/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$tmp/b" >/dev/null
"$tmp/b/c" "$tmp/store-cmake"
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/$(gcc -print-multiarch)/pkgconfig"
# The rpath finds a shared libevstore in the prefix (a static one ignores it).
g++ -std=c++17 $flags "$src/tests/install/consumer/main.cpp" -o "$tmp/c2" $(pkg-config --cflags --libs evstore) \
  -Wl,-rpath,"$(pkg-config --variable=libdir evstore)"
"$tmp/c2" "$tmp/store-pkgconfig"
