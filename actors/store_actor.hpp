#pragma once

// The store actor: the front door for actor-based users. It validates task ids, spawns one writer per
// task on demand and routes each request to it (so appends to one task are totally ordered by that
// writer's mailbox, and different tasks proceed in parallel), and retires idle writers so 100,000
// tasks need neither 100,000 open files nor 100,000 live actors.
//
// This is the interface users send to. The store's own helpers talk to the same actor through a
// wider interface, which is not part of the installed API.

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "store_options.hpp"
#include "../messages/bus_messages.hpp"
#include "../messages/commands.hpp"
#include "../messages/export.hpp"
#include "../messages/store_stats.hpp"

namespace evstore {

using store_actor = caf::typed_actor<
  caf::replies_to<append_request>::with<append_result>,
  caf::replies_to<append_batch_request>::with<append_batch_result>,
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
  caf::replies_to<bus_stats_request>::with<bus_stats>>;

/// What a subscriber handles (subscribe_request::subscriber). It answers each bus_event with a bus_ack
/// to the bus (the event's sender); unacknowledged events count against its buffer.
using subscriber_actor
  = caf::typed_actor<caf::reacts_to<bus_event>, caf::reacts_to<caught_up>, caf::reacts_to<lagged>>;

/// Where a subscriber sends its bus_acks: the sender of the bus_events, e.g.
/// `self->send(caf::actor_cast<bus_ack_receiver>(self->current_sender()), bus_ack{x.subscription})`.
using bus_ack_receiver = caf::typed_actor<caf::reacts_to<bus_ack>>;

/// Opens the store at `opts.root` (format check; the write lock unless read-only; the index
/// checkpoint, read before this returns) and spawns its actor, its index actor and a population pass
/// in the background; queries are answered by the index (a read-only store, which sees no
/// notifications of the writing process, runs a pass first when the last began more than
/// external_change_check ago). The lock is held until the store actor, its writers and the index's
/// last checkpoint save are done (a moment after the store actor ends); stop it with
/// `caf::anon_send_exit(h, caf::exit_reason::user_shutdown)`.
/// @pre `sys` was configured with evstore::register_types (evstore::system_config does it).
EVSTORE_API caf::expected<store_actor> spawn_store(caf::actor_system& sys,
                                                   const store_options& opts);

} // namespace evstore
