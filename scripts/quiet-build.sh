#!/usr/bin/env bash
# Sourced by the CI scripts. quiet_build ARGS... runs `cmake --build ARGS...` with its output set
# aside, and prints it (less Ninja's progress lines) only if the build fails. Ninja prints a
# failing command's errors on stdout, so a build sent to /dev/null failed without a word of why
# (ci49's TSan stage did: a link error).
quiet_build() {
  local log status=0
  log=$(mktemp)
  cmake --build "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    grep -v '^\[[0-9]*/[0-9]*\] ' "$log" >&2 || true
  fi
  rm -f "$log"
  return "$status"
}
