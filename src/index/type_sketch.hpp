#pragma once

// Per-(type, task) summaries of fixed size: count, newest ts, the last few line references, and the
// highest rank among the older lines. Built by a writer scanning its file and kept up to date by the
// index from `appended` notifications; the same code does both so they always agree.

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
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
    by_type_.reserve(expected_types);
  }
  // index_ views the strings of by_type_: a copy or move would view another builder's.
  sketch_builder(const sketch_builder&) = delete;
  sketch_builder& operator=(const sketch_builder&) = delete;

  void add(std::string_view type, const line_ref& line) {
    add_line_to_summary(summary_of(type), line, sketch_size_);
  }

  /// The summaries, sorted by type. Leaves the builder empty.
  std::vector<type_summary> finish() {
    std::sort(by_type_.begin(), by_type_.end(),
              [](const type_summary& x, const type_summary& y) { return x.type < y.type; });
    last_ = 0;
    index_.clear();
    indexed_capacity_ = 0;
    return std::move(by_type_);
  }

private:
  // A flat list searched from the type seen last: a task has a handful of types (about 20) and
  // runs of one, where a map cost a tree walk per line and a node per type (malloc was a tenth of
  // a cold open's CPU at 100,000 small tasks).
  type_summary& summary_of(std::string_view type) {
    if (last_ < by_type_.size() && by_type_[last_].type == type)
      return by_type_[last_];
    if (by_type_.size() <= searched_types) {
      for (size_t i = 0; i < by_type_.size(); ++i)
        if (by_type_[i].type == type) {
          last_ = i;
          return by_type_[i];
        }
    } else if (auto it = index_.find(type); it != index_.end()) {
      last_ = it->second;
      return by_type_[last_];
    }
    last_ = by_type_.size();
    by_type_.emplace_back();
    by_type_.back().type = std::string{type};
    if (by_type_.size() > searched_types) {
      // A file of many types (a hostile one may hold a type per line) is looked up by hash, so
      // the cost per line stays flat. Keys view the summaries' strings: their buffers outlive moves
      // of the vector only if they are not short-string buffers, so the index is rebuilt on growth.
      if (by_type_.size() == searched_types + 1 || by_type_.capacity() != indexed_capacity_) {
        index_.clear();
        for (size_t i = 0; i < by_type_.size(); ++i)
          index_.emplace(by_type_[i].type, i);
        indexed_capacity_ = by_type_.capacity();
      } else {
        index_.emplace(by_type_.back().type, last_);
      }
    }
    return by_type_.back();
  }

  /// Room made at once: a task's usual number of types, so the list rarely moves.
  static constexpr size_t expected_types = 24;
  /// Up to this many types a line's type is found by comparing it with each.
  static constexpr size_t searched_types = 32;

  size_t sketch_size_;
  std::vector<type_summary> by_type_;
  size_t last_ = 0;
  std::unordered_map<std::string_view, size_t> index_;
  size_t indexed_capacity_ = 0;
};

} // namespace evstore
