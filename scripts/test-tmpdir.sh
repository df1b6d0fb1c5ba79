# Sourced by the scripts that run the test suite: run_tests_in_memory CMD... runs CMD with TMPDIR
# on a memory file system when there is one with room, in a directory of its own that is removed
# afterwards, and returns CMD's status.
#
# Why: every test makes its stores in a temporary directory (std::filesystem::temp_directory_path)
# and removes it. On this project's machines /tmp is ext4 mounted with `discard`, where creating
# and removing those files was most of the system time of a run: the 100,000-task test took 57 s
# there and 17 s with TMPDIR=/dev/shm, the whole Release suite 207 s against 125 s (ctest -j2, same
# build, same machine). Nothing the tests check depends on the file system (the suite passes on
# either; the fault tests mount file systems of their own).
#
# A TMPDIR the caller set is kept. /dev/shm is used only if it is a tmpfs with 4 GiB free: the largest
# tests hold a few hundred MB (100,000 small files, or a 64 MiB line and its copies), two at a time,
# and a container's default /dev/shm of 64 MiB is not enough.
run_tests_in_memory() {
  local dir="" status=0 free_kb
  if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
    free_kb=$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')
    if [ "${free_kb:-0}" -ge $((4 * 1024 * 1024)) ]; then
      dir=$(mktemp -d /dev/shm/evstore-tests.XXXXXX)
      # As /tmp is: the fault tests run a child as `nobody`, which must reach its own directory.
      chmod 1777 "$dir"
    fi
  fi
  if [ -z "$dir" ]; then
    "$@" || status=$?
    return "$status"
  fi
  echo "tests: temporary stores in $dir (a memory file system)"
  TMPDIR=$dir "$@" || status=$?
  rm -rf "$dir"
  return "$status"
}
