#pragma once

// The index actor: the one place that knows which tasks hold which event types. It learns only from
// typed messages (writers' summaries and notifications, in disk order per task), holds no lock, evicts
// nothing, and plans queries. Until population completes it holds plan requests back, so a query
// issued while the index warms up still gets the exact answer.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

using index_actor = caf::typed_actor<
  caf::reacts_to<task_summary>, caf::reacts_to<appended>, caf::reacts_to<compacted>,
  caf::reacts_to<task_removed>, caf::reacts_to<task_extended>,
  // The tasks on disk when the store opened; population is complete once each was summarised.
  caf::reacts_to<population_plan>, caf::reacts_to<population_failed>,
  caf::replies_to<plan_request>::with<query_plan>,
  caf::replies_to<stats_request>::with<index_stats>,
  caf::replies_to<await_index_request>::with<index_stats>>;

/// Spawns an index keeping `sketch_size` line references per (type, task).
index_actor spawn_index(caf::actor_system& sys, size_t sketch_size);

} // namespace evstore
