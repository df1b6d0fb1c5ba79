#pragma once

// The simulator's actors. They talk to the store actor directly (as an actor-based orchestrator
// embedding evstore would) and to each other with the atoms in sim.hpp.

#include <memory>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "sim.hpp"

namespace sim {

/// What the orchestrator measured, handed to main when it finishes.
struct report {
  std::vector<double> query_ms;
  std::vector<double> lag_ms;
  uint64_t live_state_events = 0;
  uint64_t tasks_seen_by_query = 0;
  double elapsed_s = 0;
};

/// Runs tasks through agents, one task per agent at a time, and merges finished work one at a time.
caf::behavior scheduler(caf::event_based_actor* self, evstore::store_actor store,
                        std::shared_ptr<counters> count, uint64_t seed);

/// Works one task at a time.
caf::behavior agent(caf::event_based_actor* self, evstore::store_actor store,
                    caf::actor scheduler, std::shared_ptr<counters> count, uint64_t seed,
                    int agent_number);

/// Creates tasks, follows task:state:* live, rebuilds the latest state per task from the index
/// every settings::rebuild_ms, and stops after the duration or when every task is merged, filling
/// `out`.
caf::behavior orchestrator(caf::event_based_actor* self, evstore::store_actor store,
                           caf::actor scheduler, std::shared_ptr<counters> count, settings cfg,
                           std::shared_ptr<report> out);

} // namespace sim
