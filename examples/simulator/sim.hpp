#pragma once

// The simulator's shared pieces: its settings, the counters every actor adds to, the atoms its
// actors speak, and a deterministic workload (what each task does depends on the seed and the
// task's number only, never on timing or on which agent runs it).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include <caf/atom.hpp>

#include "src/facade/store.hpp"

namespace sim {

struct settings {
  uint64_t seed = 42;
  int tasks = 2000;
  int agents = 16;
  double duration_s = 10;
  std::string root = "./events";
  /// How often the orchestrator rebuilds "latest state per task" from the index.
  int rebuild_ms = 200;
  bool quiet = false;
};

/// Shared by every actor; only ever added to (relaxed atomics: these are statistics, not state).
struct counters {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> tasks_done{0};
  std::atomic<uint64_t> append_errors{0};
};

// Messages between the simulator's actors.
using assign_atom = caf::atom_constant<caf::atom("assign")>;     // scheduler -> agent: task, number
using finished_atom = caf::atom_constant<caf::atom("finished")>; // agent -> scheduler: task
using submit_atom = caf::atom_constant<caf::atom("submit")>;     // orchestrator -> scheduler
using merged_atom = caf::atom_constant<caf::atom("merged")>;     // scheduler -> orchestrator
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using step_atom = caf::atom_constant<caf::atom("step")>;

/// The deterministic shape of task number `n`.
struct task_plan {
  int turns;       // agent messages
  int tokens_every; // one token-accounting event per this many turns
  bool needs_retry; // fails review once and goes back to running
};

inline task_plan plan_for(uint64_t seed, int n) {
  std::mt19937_64 rng{seed * 1'000'003 + static_cast<uint64_t>(n)};
  return task_plan{static_cast<int>(20 + rng() % 180), static_cast<int>(3 + rng() % 5),
                   rng() % 5 == 0};
}

inline std::string task_name(int n) {
  return "task-" + std::to_string(n);
}

inline evstore::event make_event(const std::string& task, const char* type,
                                 evstore::actor_kind actor, boost::json::object data) {
  evstore::event ev;
  ev.task = task;
  ev.type = type;
  ev.actor = actor;
  ev.data = std::move(data);
  return ev;
}

} // namespace sim
