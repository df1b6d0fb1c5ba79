#pragma once

// How many log files writers may keep open at once, process-wide. A writer that gets no slot still
// appends, by opening, writing and closing; so 100,000 tasks work under `ulimit -n 256`. An atomic
// counter, not a lock: it guards a resource count, never store state.

#include <atomic>
#include <cstddef>

namespace evstore {

class fd_budget {
public:
  explicit fd_budget(size_t slots) : free_(static_cast<long>(slots)) {
  }

  /// Takes a slot if one is free.
  bool try_acquire() {
    long cur = free_.load(std::memory_order_relaxed);
    while (cur > 0)
      if (free_.compare_exchange_weak(cur, cur - 1, std::memory_order_acq_rel))
        return true;
    return false;
  }

  void release() {
    free_.fetch_add(1, std::memory_order_acq_rel);
  }

  long available() const {
    return free_.load(std::memory_order_relaxed);
  }

  /// A quarter of the soft RLIMIT_NOFILE (at least 4, at most 1,024): the rest stays for reads,
  /// compaction temporaries, sockets and whatever the embedding program opens.
  static size_t default_slots();

private:
  std::atomic<long> free_;
};

} // namespace evstore
