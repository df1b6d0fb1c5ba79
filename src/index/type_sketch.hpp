#pragma once

// Per-(type, task) summaries of fixed size: count, newest ts, the last few line references, and the
// highest rank among the older lines. Built by a writer scanning its file and kept up to date by the
// index from `appended` notifications; the same code does both so they always agree.

#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "messages/internal/notifications.hpp"

namespace evstore {

/// Line references kept per (type, task) unless configured otherwise.
constexpr size_t default_sketch_size = 4;

/// Adds one line (in file order) to `s`, evicting the oldest reference beyond `sketch_size`.
inline void add_line_to_summary(type_summary& s, const line_ref& line, size_t sketch_size) {
  ++s.count;
  if (s.count == 1 || s.newest_ts < line.ts)
    s.newest_ts = line.ts;
  s.recent.push_back(line);
  if (s.recent.size() > sketch_size) {
    const line_ref& out = s.recent.front();
    if (!s.has_older
        || std::tie(s.older_max_ts, s.older_max_position) < std::tie(out.ts, out.position)) {
      s.older_max_ts = out.ts;
      s.older_max_position = out.position;
    }
    s.has_older = true;
    s.recent.erase(s.recent.begin());
  }
}

/// Accumulates a task's lines in file order into one summary per type.
class sketch_builder {
public:
  explicit sketch_builder(size_t sketch_size) : sketch_size_(sketch_size) {
  }

  void add(std::string_view type, const line_ref& line) {
    auto it = by_type_.find(type);
    if (it == by_type_.end()) {
      it = by_type_.emplace(std::string{type}, type_summary{}).first;
      it->second.type = it->first;
    }
    add_line_to_summary(it->second, line, sketch_size_);
  }

  /// The summaries, sorted by type. Leaves the builder empty.
  std::vector<type_summary> finish() {
    std::vector<type_summary> out;
    out.reserve(by_type_.size());
    for (auto& [type, s] : by_type_)
      out.push_back(std::move(s));
    by_type_.clear();
    return out;
  }

private:
  size_t sketch_size_;
  std::map<std::string, type_summary, std::less<>> by_type_;
};

} // namespace evstore
