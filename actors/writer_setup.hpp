#pragma once

// How the store actor spawns a writer (private to the library).

#include <memory>
#include <optional>
#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "bus_actor.hpp"
#include "notification_sink.hpp"
#include "store_internal.hpp"
#include "store_options.hpp"
#include "writer_actor.hpp"
#include "src/bus/bus_gate.hpp"
#include "src/storage/task_log.hpp"

namespace evstore {

struct writer_setup {
  std::string root;
  std::string task;
  task_log_config log;
  store_internal_actor router;
  notification_sink sink;
  /// Where every written event goes for live subscribers (none for a read-only store).
  bus_actor bus;
  /// Open while the bus has subscriptions; closed, events are not announced.
  std::shared_ptr<bus_gate> bus_open;
  /// The task's previous writer died without retiring, perhaps with directory syncs still owed:
  /// sync the task's names on the first open (task_log::assume_names_unsynced).
  bool names_may_be_unsynced = false;
  /// What the index knows of the task's file (task_log::assume_known), if anything.
  std::optional<file_extent> known{};
};

/// A writer's log is as durable as the store acknowledges appends.
constexpr log_durability log_durability_for(durability ack) {
  return ack == durability::fsynced ? log_durability::synced : log_durability::written;
}

/// Spawns a writer for `parent`, which monitors it and stops it when the store ends.
writer_actor spawn_writer(store_internal_actor::pointer parent, writer_setup setup);

} // namespace evstore
