#pragma once

// The notification tee: when a test watches the writers' notifications beside the index, writers
// still send through one channel, and this actor copies each notification to both, in order.

#include <caf/local_actor.hpp>

#include "index_actor.hpp"
#include "notification_sink.hpp"

namespace evstore {

/// A sink that forwards every notification to `index` and to `other`, in the order received.
/// Spawned linked to `parent` (the store), so it ends with it.
notification_sink spawn_notification_tee(caf::local_actor* parent, index_actor index,
                                         notification_sink other);

} // namespace evstore
