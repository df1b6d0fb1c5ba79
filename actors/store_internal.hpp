#pragma once

// The store actor's wider interface, for the store's own helpers only (not installed): the query
// actor asks it for writers, the population worker routes loads through it, writers ask it to retire.
// Users hold the public store_actor, a narrowing of the same actor.

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/notification_sink.hpp"
#include "actors/store_actor.hpp"
#include "messages/internal/atoms.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/rebalance.hpp"

namespace evstore {

using store_internal_actor = store_actor::extend_with<caf::typed_actor<
  // Query actors: the writers to send fetches to directly, one routing step for a whole query.
  caf::replies_to<resolve_writers>::with<writer_handles>,
  // Routed to the task's writer by the population worker.
  caf::replies_to<populate_request>::with<uint64_t>,
  // A writer asks to retire; true means it may quit.
  caf::replies_to<writer_idle>::with<bool>,
  // The population worker's pass is over.
  caf::reacts_to<population_done>,
  // Moving tasks between nodes (messages/rebalance.hpp), from the node's gate: the tasks held, and
  // the rest routed to each task's writer.
  caf::replies_to<held_tasks_request>::with<task_list>,
  caf::replies_to<task_digest_request>::with<task_digest>,
  caf::replies_to<export_chunk_request>::with<task_chunk>,
  caf::replies_to<import_chunk_request>::with<task_digest>,
  caf::replies_to<release_task_request>::with<task_digest>,
  caf::reacts_to<store_rebalancing>,
  // The store's own timer: ask the writers idle for a whole period to retire.
  caf::reacts_to<idle_atom>>>;

/// spawn_store, with every writer's notifications also sent to `sink` (a test watches them there).
caf::expected<store_actor> spawn_store_with_sink(caf::actor_system& sys, const store_options& opts,
                                                 notification_sink sink);

} // namespace evstore
