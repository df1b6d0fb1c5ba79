#!/usr/bin/env bash
# Installs the Debian packages evstore needs. Idempotent, and quick when everything is there: apt-get
# runs only if a package is missing. Run as root (or with sudo available).
# With --sanitizers it also installs clang and its runtime, for the sanitizer and fuzzing stages, and
# makes Debian's source packages reachable: the TSan stage rebuilds CAF from its source package.
set -euo pipefail

packages=(
  g++ make cmake pkg-config         # toolchain
  lld                               # the linker the build uses when it can: 4x faster links
  ninja-build                       # the CI stages' builds
  libcaf-dev                        # C++ Actor Framework 0.17 (core, io: the middleman, openssl)
  libssl-dev                        # OpenSSL: CAF's TLS module links it, evstore makes credentials
  libboost-json1.81-dev             # Boost.JSON
  zlib1g-dev                        # zlib: the index checkpoint's CRC-32
  libgtest-dev                      # GoogleTest
  libsqlite3-dev sqlite3            # the benchmarks' SQLite baselines (library and shell)
  libcli11-dev                      # command-line parsing for the tools
  help2man                          # the evstore man page, from its --help
  python3                           # the layout check (tests/layout/check_includes.py)
)
if [ "${1:-}" = "--sanitizers" ]; then
  packages+=(clang libclang-rt-14-dev)  # libFuzzer and the sanitizer runtimes for clang
fi

sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
updated=no

if [ "${1:-}" = "--sanitizers" ] &&
  ! apt-cache showsrc actor-framework >/dev/null 2>&1; then
  echo "setup: adding Debian's source packages (deb-src) to apt" >&2
  "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/evstore-deb-src.sources >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  "${sudo_cmd[@]}" apt-get update -qq
  updated=yes
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
[ "$updated" = yes ] || "${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
