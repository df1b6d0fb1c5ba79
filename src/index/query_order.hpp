#pragma once

// The order of SPEC §3: ts ascending, ties by task id, then by position in the task's file. A query
// keeps the last `limit` events of that order.

#include <algorithm>
#include <cstdint>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include "messages/commands.hpp"

namespace evstore {

struct ranked_event {
  uint64_t position = 0; // index among the task's valid events
  event ev;
};

inline bool ranks_before(const ranked_event& x, const ranked_event& y) {
  return std::tie(x.ev.ts, x.ev.task, x.position) < std::tie(y.ev.ts, y.ev.task, y.position);
}

/// Keeps the `limit` highest-ranked events offered to it, in O(limit) memory.
class latest_events {
public:
  explicit latest_events(uint64_t limit) : limit_(limit) {
  }

  /// True if an event ranked like this would currently be kept (the query may skip decoding it).
  bool would_keep(const ranked_event& x) const {
    return limit_ > 0 && (heap_.size() < limit_ || ranks_before(heap_.top(), x));
  }

  void offer(ranked_event x) {
    if (!would_keep(x))
      return;
    heap_.push(std::move(x));
    if (heap_.size() > limit_)
      heap_.pop();
  }

  size_t size() const {
    return heap_.size();
  }

  /// The kept events with their positions, oldest first. Leaves this object empty.
  std::vector<ranked_event> take_ranked() {
    std::vector<ranked_event> out;
    out.reserve(heap_.size());
    while (!heap_.empty()) {
      out.push_back(std::move(const_cast<ranked_event&>(heap_.top())));
      heap_.pop();
    }
    return out;
  }

  /// Moves the kept events, oldest first, and their positions into a query's reply. Leaves this
  /// object empty.
  void take_into(query_result& out) {
    auto ranked = take_ranked();
    out.events.reserve(ranked.size());
    out.positions.reserve(ranked.size());
    for (auto& r : ranked) {
      out.events.push_back(std::move(r.ev));
      out.positions.push_back(r.position);
    }
  }

private:
  struct later_first {
    bool operator()(const ranked_event& x, const ranked_event& y) const {
      return ranks_before(y, x); // min-heap: the lowest-ranked kept event on top
    }
  };
  uint64_t limit_;
  std::priority_queue<ranked_event, std::vector<ranked_event>, later_first> heap_;
};

} // namespace evstore
