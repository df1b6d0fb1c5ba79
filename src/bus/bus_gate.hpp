#pragma once

// Whether the bus has any subscription. With none, writers skip announcing their events, which
// would cost every append a copy of its event and a message (about a fifth of append throughput)
// for nobody.
//
// Why this cannot lose an event a catch-up subscription needs: the bus opens the gate before it
// asks for any history, and both sides put a sequentially consistent fence between their step and
// their look at the other side. A writer that still saw the gate closed had therefore already
// sent the index its `appended` (or written the event to disk) before the bus asked for history,
// so the history query or read finds that event; any later append sees the gate open and is
// announced.

#include <atomic>
#include <cstdint>

namespace evstore {

class bus_gate {
public:
  /// Bus side: a subscription was added; call before fetching its history.
  void open_one() {
    subscriptions_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  /// Bus side: a subscription ended.
  void close_one() {
    subscriptions_.fetch_sub(1, std::memory_order_seq_cst);
  }

  /// Writer side: after the event is written and the index told, whether to announce it.
  bool is_open() const {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return subscriptions_.load(std::memory_order_relaxed) > 0;
  }

private:
  std::atomic<uint64_t> subscriptions_{0};
};

} // namespace evstore
