#pragma once

// What a writer tells the store's index, in the order it happened on disk. Any typed actor whose
// interface includes these handlers (the index actor does) can be given to the store as its sink.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/internal/notifications.hpp"

namespace evstore {

using notification_sink
  = caf::typed_actor<caf::reacts_to<task_summary>, caf::reacts_to<appended>,
                     caf::reacts_to<compacted>, caf::reacts_to<task_removed>,
                     caf::reacts_to<task_extended>>;

} // namespace evstore
