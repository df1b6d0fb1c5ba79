#pragma once

// How the evstore tool prints: JSON Lines on stdout by default (events in the store's own line
// format), a readable table with --format table, and a progress bar on stderr for long work when
// stderr is a terminal.

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "messages/event.hpp"

namespace evstore::cli {

enum class format { jsonl, table };

/// Rows of the same columns, printed as JSON objects per line or as an aligned table.
class printer {
public:
  printer(format fmt, std::vector<std::string> columns);
  void row(std::vector<std::string> cells, boost::json::object as_json);
  /// One row of named counts, in the columns' order.
  void counts(const std::vector<uint64_t>& values);
  /// Prints the table (for JSON Lines, rows went out as they came).
  void flush();

private:
  format fmt_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Prints events: their JSONL lines, or a table of ts, task, type, actor, data.
class event_printer {
public:
  explicit event_printer(format fmt);
  void print(const event& ev);
  void flush();

private:
  format fmt_;
  printer table_;
};

/// "done/total" as a bar on stderr, redrawn at most every 100 ms; silent unless stderr is a
/// terminal.
class progress {
public:
  progress(std::string label, uint64_t total);
  ~progress();
  void advance(uint64_t n = 1);

private:
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool enabled_;
  int64_t last_draw_ms_ = 0;
};

} // namespace evstore::cli
