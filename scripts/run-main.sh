#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on a store under the working directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh" >/dev/null
exec "$here/build/examples/simulator" "$@"
