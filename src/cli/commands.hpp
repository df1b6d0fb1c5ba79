#pragma once

// The evstore tool's subcommands. Each returns the process exit code; errors go to stderr.

#include <cstdint>
#include <optional>
#include <string>

#include "output.hpp"

namespace evstore::cli {

struct common {
  std::string root;
  format fmt = format::jsonl;
};

struct append_args {
  bool from_stdin = false;
  std::string task, type, actor, data = "{}", id, ts;
};
int run_append(const common& c, const append_args& a);

int run_read(const common& c, const std::string& task, uint64_t from);

int run_query(const common& c, const std::string& prefix, uint64_t limit, const std::string& since);

struct tail_args {
  std::string pattern = "*";
  std::string task;
  bool has_task = false;
  int interval_ms = 200;
  /// Stop after printing this many events (0: follow until interrupted).
  uint64_t count = 0;
  double timeout_s = 0;
};
int run_tail(const common& c, const tail_args& a);

int run_tasks(const common& c);

struct compact_args {
  std::string task;
  bool has_task = false;
  std::optional<uint64_t> max_events = 10'000;
  std::string max_age = "30d";
};
int run_compact(const common& c, const compact_args& a);

int run_cleanup(const common& c);
int run_stats(const common& c);
int run_verify(const common& c);

} // namespace evstore::cli
