#pragma once

// evstore-bench --scale: how the store's figures grow with the number of tasks (issue 12). For each
// task count, a store of the same total events is generated and measured in a process of its own
// (so each size's RSS is its own): open and population without a checkpoint, close, open with the
// checkpoint that close saved (if the store saves one), appends to cold then warm writers, query
// latency, index bytes per (type, task) pair, RSS, and the `evstore query` command's start-to-exit
// time. Prints one table, a column per size and a last column of growth (largest / smallest).

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct scale_spec {
  std::vector<int> tasks = {1'000, 10'000, 100'000};
  /// Events in the task logs, the same at every size: each task gets events / tasks.
  int64_t events = 1'000'000;
  /// Events in the system-wide log, the same at every size.
  int system_events = 10'000;
  uint64_t seed = 42;
  int query_runs = 200;
  /// Warm appends per size, at least (whole rounds over the tasks).
  int warm_appends = 100'000;
  /// RLIMIT_NOFILE (soft) the store runs under; 0 leaves it as it is.
  int nofile = 1024;
  /// The evstore command-line tool; empty: next to evstore-bench's build directory, if there.
  std::string cli;
  std::string dir;
  std::string json_path;
  bool keep = false;
  /// Measure the stores a --keep run left in `dir` instead of generating them again (for profiling
  /// one change after another; each run's appends stay in them).
  bool reuse = false;
};

/// Runs the scaling mode; returns the process exit status.
int run_scale(scale_spec spec);

} // namespace bench
