#!/usr/bin/env bash
# The shared library as a distribution ships it: installed into a temp prefix, it has the SONAME
# libevstore.so.SOVERSION, exports evstore's public API and nothing else, and a C++20 program builds
# against it through pkg-config, keeps its standard, and runs.
# Usage: check_shared.sh SOURCE_DIR BUILD_DIR SOVERSION [CXXFLAGS] [COMPONENT]
# COMPONENT: in a static build, the install component holding the shared flavour of the library
# (tests/CMakeLists.txt builds it from the same objects); it replaces the static library.
set -euo pipefail
src=$1 build=$2 soversion=$3 flags=${4:-} component=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "check_shared.sh: $*" >&2
  exit 1
}
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
if [ -n "$component" ]; then
  find "$prefix" -name libevstore.a -delete
  cmake --install "$build" --prefix "$prefix" --component "$component" >/dev/null
fi
lib=$(find "$prefix" -name libevstore.so)
[ -n "$lib" ] || fail "no libevstore.so installed"
[ -z "$(find "$prefix" -name libevstore.a)" ] || fail "a static libevstore.a is installed beside it"
libdir=$(dirname "$lib")

# The SONAME, and the files a package ships: the link-time name, the SONAME, the real file.
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libevstore.so.$soversion" ] || fail "SONAME is '$soname', not libevstore.so.$soversion"
[ -L "$libdir/libevstore.so" ] && [ -e "$libdir/$soname" ] || fail "$soname or its link is missing"

# Exported symbols: every one in namespace evstore (its vtables and type_infos included), and every
# evstore name it mentions named in an installed header (comments left out). An internal class
# (task_log, type_index, an actor's state) or a template instantiation of the library's own types
# would show up here.
# c++filt gives up on some long names (the subscription's constructor, whose parameter is the
# store's whole typed interface) and leaves them mangled, while lld's demangler matches them against
# the version script: such a name is checked by its leading nested name, _ZN[K]7evstore<n><name>,
# read as evstore::<name>.
nm -D --defined-only "$lib" | awk '{ print $3 }' | c++filt |
  awk '/^_ZNK?7evstore[0-9]/ {
         rest = $0; sub(/^_ZNK?7evstore/, "", rest)
         match(rest, /^[0-9]+/)  # the length only: "5e1..." is not a number in exponent form
         n = substr(rest, 1, RLENGTH) + 0
         print "evstore::" substr(rest, RLENGTH + 1, n) " (mangled: " $0 ")"
         next
       }
       { print }' >"$tmp/exported"
count=$(wc -l <"$tmp/exported")
echo "libevstore.so exports $count symbols"
find "$prefix/include" -name '*.hpp' -exec sed 's://.*$::' {} + |
  grep -oE '[A-Za-z_][A-Za-z0-9_]*' | sort -u >"$tmp/public_words"
# Sanitizers add symbols of their own (ASan's ODR indicators); they are not the library's API.
# OpenSSL's four I/O entry points are evstore's on purpose (src/node/openssl_error_queue.cpp).
grep -vE '^_*(asan|odr_asan|ubsan|sanitizer|sancov)' "$tmp/exported" |
  grep -vxE 'SSL_(read|write|accept|connect)' >"$tmp/checked" || true
for f in SSL_read SSL_write SSL_accept SSL_connect; do
  grep -qx "$f" "$tmp/exported" || fail "$f is not exported: CAF's TLS would use OpenSSL's own"
done
if grep -vE '^((vtable|typeinfo|typeinfo name) for )?evstore::' "$tmp/checked"; then
  fail "the symbols above are exported but are not evstore's"
fi
grep -oE 'evstore::[A-Za-z_][A-Za-z0-9_]*' "$tmp/checked" | sed 's/^evstore:://' | sort -u \
  >"$tmp/mentioned"
unknown=$(comm -23 "$tmp/mentioned" "$tmp/public_words")
[ -z "$unknown" ] || fail "exported symbols name evstore types no installed header declares: $unknown"
# Programs derive their configurations from system_config: its vtable and type_info are exported.
grep -qx 'typeinfo for evstore::system_config' "$tmp/exported" ||
  fail "the type_info of evstore::system_config is not exported"

# A C++20 consumer through pkg-config: the package's flags come after the consumer's own, so a -std=
# among them would win. The consumer asserts its standard is still C++20.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cflags=$(pkg-config --cflags evstore)
case " $cflags " in *" -std="*) fail "pkg-config's Cflags set a language standard: $cflags" ;; esac
g++ -std=c++20 -DEVSTORE_CONSUMER_EXPECT_CXX20 $flags "$src/tests/install/consumer/main.cpp" \
  -o "$tmp/c20" $cflags $(pkg-config --libs evstore) -Wl,-rpath,"$libdir"
# Into a file, not a pipe into grep -q: grep quits at the first match, and under pipefail the
# SIGPIPE objdump may then get on its next write fails the check on a loaded machine.
objdump -p "$tmp/c20" >"$tmp/c20.headers"
grep -q "NEEDED *$soname" "$tmp/c20.headers" || fail "the consumer does not load $soname"
"$tmp/c20" "$tmp/store"
