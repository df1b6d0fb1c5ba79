#pragma once

// How the evstore tool prints: JSON Lines on stdout by default (events in the store's own line
// format), a readable table with --format table, and a progress bar on stderr for long work when
// stderr is a terminal.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "messages/event.hpp"

namespace evstore::cli {

enum class format { jsonl, json, table };

/// Columns a UTF-8 string takes on a terminal (wcwidth: 2 for wide characters, 0 for combining
/// ones; a control character or a byte that is not UTF-8 counts 1, as the '?' it is shown as).
size_t display_width(std::string_view text);

/// `text` cut on a character boundary to at most `columns` display columns, ending in an ellipsis
/// when cut; control characters shown as '?', so a cell never moves the cursor.
std::string fit_to_width(std::string_view text, size_t columns);

/// 1536 -> "1.5 KiB", 0 -> "0 B" (IEC units, one decimal).
std::string human_bytes(uint64_t bytes);

/// 1234567 -> "1,234,567".
std::string human_count(uint64_t n);

/// Rows of the same columns, printed as JSON objects per line (jsonl), one JSON array (json), or
/// an aligned table for people: widths by display columns, the header once (in bold on a terminal,
/// unless NO_COLOR is set), each flush printing the rows since the last.
class printer {
public:
  printer(format fmt, std::vector<std::string> columns);
  ~printer();
  printer(const printer&) = delete;
  printer& operator=(const printer&) = delete;
  void row(std::vector<std::string> cells, boost::json::object as_json);
  /// One row of named counts, in the columns' order.
  void counts(const std::vector<uint64_t>& values);
  /// With format::json, one element of the array, already serialized.
  void json_row(const std::string& serialized);
  /// Prints the table rows held (for JSON, rows went out as they came).
  void flush();

private:
  void flush_table(bool header_alone);

  format fmt_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> widths_;   // never narrower than before, so later rows stay aligned
  bool header_printed_ = false;
  size_t json_rows_ = 0;
};

/// Prints events: their JSONL lines, a JSON array of them, or a table of ts, task, type, actor,
/// data.
class event_printer {
public:
  explicit event_printer(format fmt);
  void print(const event& ev);
  void flush();

private:
  format fmt_;
  printer table_;
};

/// "done/total" as a bar on stderr with the rate and the time left at it, redrawn at most every
/// 100 ms; silent unless stderr is a terminal.
class progress {
public:
  progress(std::string label, uint64_t total);
  ~progress();
  progress(const progress&) = delete;
  progress& operator=(const progress&) = delete;
  void advance(uint64_t n = 1);
  /// Progress known as a count of a total (which may change as the work learns its size).
  void update(uint64_t done, uint64_t total);
  /// True if it is drawn at all (stderr is a terminal).
  bool shown() const {
    return enabled_;
  }

private:
  static int64_t now_ms();

  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool enabled_;
  int64_t start_ms_;
  int64_t last_draw_ms_ = 0;
  size_t drawn_ = 0; // the widest line drawn, in characters
};

} // namespace evstore::cli
