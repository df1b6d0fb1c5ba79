#pragma once

// The store actor: the front door for actor-based users. It validates task ids, spawns one writer per
// task on demand and routes each request to it (so appends to one task are totally ordered by that
// writer's mailbox, and different tasks proceed in parallel), and retires idle writers so 100,000
// tasks need neither 100,000 open files nor 100,000 live actors.

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "evstore/actors/notification_sink.hpp"
#include "evstore/actors/store_options.hpp"
#include "evstore/messages/bus_messages.hpp"
#include "evstore/messages/commands.hpp"
#include "evstore/messages/internal.hpp"
#include "evstore/messages/query_messages.hpp"

namespace evstore {

using store_actor = caf::typed_actor<
  caf::replies_to<append_request>::with<append_result>,
  caf::replies_to<read_request>::with<read_result>,
  caf::replies_to<compact_request>::with<compact_result>,
  caf::replies_to<compact_all_request>::with<compact_result>,
  caf::replies_to<list_tasks_request>::with<task_list>,
  caf::replies_to<cleanup_request>::with<cleanup_result>,
  caf::replies_to<query_request>::with<query_result>,
  // Index statistics plus the store's routing counters.
  caf::replies_to<stats_request>::with<index_stats>,
  // The same, once the index is populated (at once for a read-only store, which has no index).
  caf::replies_to<await_index_request>::with<index_stats>,
  // The live bus (writable stores): subscribing and its counters. Subscribers acknowledge bus
  // events to the bus itself, the sender of each bus_event.
  caf::replies_to<subscribe_request>::with<subscribed>,
  caf::reacts_to<unsubscribe_request>,
  caf::replies_to<bus_stats_request>::with<bus_stats>,
  // Query actors: the writers to send fetches to directly, one routing step for a whole query.
  caf::replies_to<resolve_writers>::with<writer_handles>,
  // Routed to the task's writer by the population worker.
  caf::replies_to<populate_request>::with<uint64_t>,
  // Internal: a writer asks to retire; true means it may quit.
  caf::replies_to<writer_idle>::with<bool>>;

/// Opens the store at `opts.root` (format check; the write lock unless read-only) and spawns its
/// actor. A writable store also spawns its index actor and starts populating it in the background;
/// queries are answered by the index (a read-only store, which sees no notifications of the writing
/// process, answers them by a full scan). `sink`, if set, also receives every writer's notifications. The lock is held until the store
/// actor and all its writers are gone; stop it with `caf::anon_send_exit(h, caf::exit_reason::user_shutdown)`.
/// @pre `sys` was configured with evstore::register_types (evstore::system_config does it).
caf::expected<store_actor> spawn_store(caf::actor_system& sys, const store_options& opts,
                                       notification_sink sink = {});

} // namespace evstore
