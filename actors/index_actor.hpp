#pragma once

// The index actor: the one place that knows which tasks hold which event types. It learns only from
// typed messages (writers' summaries and notifications, in disk order per task), takes no lock of
// its own (its saver keeps the store's until the last checkpoint is written), evicts nothing, and
// plans queries. While a population pass runs it holds plan requests back, so a query
// issued while the index warms up still gets the exact answer. It saves what it knows as a
// checkpoint (index_checkpoint.hpp) at exit and every checkpoint interval, through a saver on a
// thread of its own.

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/internal/atoms.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/store_stats.hpp"
#include "src/index/type_index.hpp"
#include "src/storage/store_files.hpp"
#include "src/storage/store_lock.hpp"

namespace evstore {

using index_actor = caf::typed_actor<
  caf::reacts_to<task_summary>, caf::reacts_to<appended>, caf::reacts_to<compacted>,
  caf::reacts_to<task_removed>, caf::reacts_to<task_extended>,
  // A population pass: it starts (the index replies what it knows of each file), then names the
  // tasks it has loaded; it is complete once each of them was reported.
  caf::replies_to<population_start>::with<known_files>, caf::reacts_to<population_plan>,
  caf::reacts_to<population_failed>,
  caf::replies_to<plan_request>::with<query_plan>,
  caf::replies_to<stats_request>::with<index_stats>,
  caf::replies_to<await_index_request>::with<index_stats>,
  // Its own timer: save a checkpoint if anything changed; its own exit, deferred (close_atom).
  caf::reacts_to<checkpoint_atom>, caf::reacts_to<close_atom>>;

struct index_setup {
  size_t sketch_size = 4;
  /// What the checkpoint held (null: start empty), and of how many tasks.
  std::shared_ptr<type_index> initial;
  uint64_t checkpoint_tasks = 0;
  /// Where to save checkpoints; null for a store that saves none (read-only, or turned off).
  std::shared_ptr<const store_root> root;
  std::shared_ptr<const store_lock> lock;
  /// Save this often while something changed; zero: only at exit.
  caf::timespan checkpoint_interval{0};
  uint64_t root_device = 0;
};

index_actor spawn_index(caf::actor_system& sys, index_setup setup);

} // namespace evstore
