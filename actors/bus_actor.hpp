#pragma once

// The live event bus. Writers tell it every event they write (after the fsync when appends wait for
// one), in per-task order; it hands each to the subscriptions whose filter matches, paced by the
// subscribers' acknowledgements. The store actor spawns it for a writable store and routes subscribe
// and unsubscribe requests to it; subscribers acknowledge bus events to it directly.

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "store_actor.hpp"
#include "messages/bus_messages.hpp"
#include "messages/internal/notifications.hpp"

namespace evstore {

class bus_gate;

using bus_actor = caf::typed_actor<
  caf::replies_to<subscribe_request>::with<subscribed>,
  caf::reacts_to<unsubscribe_request>,
  caf::reacts_to<bus_ack>,
  caf::replies_to<bus_stats_request>::with<bus_stats>,
  // From the writers, in their task's order.
  caf::reacts_to<event_written>,
  caf::reacts_to<compacted>>;

/// Spawns the bus of the store actor `store` (which it asks for disk reads and history queries).
/// `gate` tells the store's writers whether any subscription exists.
bus_actor spawn_bus(caf::actor_system& sys, store_actor store, std::shared_ptr<bus_gate> gate);

} // namespace evstore
