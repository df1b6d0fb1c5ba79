#pragma once

// CAF 0.17 leaves, in each thread that constructs an actor system or a scoped actor or spawns an
// actor, a counted reference to that system's logger (thread-local), and the system's destructor
// waits until every such reference is released: the closing thread's own is, another thread's only
// when that thread ends or touches another actor system. A store opened or used from one thread
// and closed from another waited, forever if need be, for the first to end (a pool's threads
// never do). So every facade call drops its thread's reference before it returns.

#include <caf/logger.hpp>

namespace evstore {

/// Drops the calling thread's reference to an actor system's logger as it goes out of scope.
class caller_thread_release {
public:
  caller_thread_release() = default;
  caller_thread_release(const caller_thread_release&) = delete;
  caller_thread_release& operator=(const caller_thread_release&) = delete;
  ~caller_thread_release() {
    caf::logger::set_current_actor_system(nullptr);
  }
};

} // namespace evstore
