#pragma once

// The actor behind a facade subscription: it receives the bus's deliveries and either runs the
// caller's callback (then acknowledges) or queues them for subscription::next(), which acknowledges
// when the caller takes one, so a caller that stops reading stops receiving (its buffer bounds
// what waits).

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "bus_actor.hpp"
#include "src/facade/store.hpp"

namespace evstore {

struct delivery_queue {
  std::mutex mtx;
  std::condition_variable ready;
  std::deque<delivery> items;
  /// Who to acknowledge taken events to: the bus, learnt from the first delivery.
  bus_actor bus;
  /// The proxy ended (its store stopped or the callback threw).
  bool closed = false;
  /// Why, if it ended for any reason but an unsubscribe: the store stopped, the connection to its
  /// node was lost, the callback threw.
  caf::error ended_by;
};

/// Spawns the proxy. With a callback, it calls it for each delivery; otherwise it fills `queue`.
/// A callback that throws ends the subscription (the exception never crosses into CAF). It
/// monitors `store` (a local store actor, or a connected node's) and ends when that does.
subscriber_actor spawn_subscriber_proxy(caf::actor_system& sys, const store_actor& store,
                                        std::shared_ptr<delivery_queue> queue,
                                        std::function<void(const delivery&)> callback);

} // namespace evstore
