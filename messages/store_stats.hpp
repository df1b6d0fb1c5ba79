#pragma once

// The store's statistics: how big its index is, how far population got, how wide queries fan out.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace evstore {

/// Asks for `index_stats`.
struct stats_request {};

/// Asks for `index_stats` once population is complete (answered at once if it is).
struct await_index_request {};

struct index_stats {
  uint64_t tasks = 0;
  uint64_t types = 0;
  /// Distinct (type, task) pairs: what the index's memory grows with.
  uint64_t entries = 0;
  uint64_t events = 0;
  /// Approximate heap bytes held by the index.
  uint64_t bytes = 0;
  uint64_t population_done = 0;
  uint64_t population_total = 0;
  bool complete = false;
  /// Writers the store handed to query actors since it opened: how wide queries fan out.
  uint64_t fetches_routed = 0;
  /// Writer actors alive now (idle ones retire).
  uint64_t live_writers = 0;
  /// Tasks the index took from its checkpoint when the store opened (0: none was used).
  uint64_t checkpoint_tasks = 0;
  /// Task files population passes had to read (all of them or only their new lines) because the
  /// index did not know them as they are on disk.
  uint64_t population_loads = 0;
  /// The running (or last) cleanup: tasks it has checked so far, of how many it must check (what
  /// a progress line shows while cleanup_request waits for them all).
  uint64_t cleanup_done = 0;
  uint64_t cleanup_total = 0;
  /// Filled in by a node serving a cluster (empty otherwise): its membership's ownership key
  /// (cluster_membership::ownership_key) and the members it serves as. A router checks both before
  /// it uses the node, so a client whose file differs from the nodes' is refused, not answered short.
  std::string cluster_membership;
  std::vector<std::string> cluster_serving_as;
  /// The node is moving tasks (evstore rebalance) and refuses everything but statistics meanwhile;
  /// cluster_membership is then the membership it moves them to.
  bool cluster_rebalancing = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stats_request&) {
  return f(caf::meta::type_name("evstore::stats_request"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, await_index_request&) {
  return f(caf::meta::type_name("evstore::await_index_request"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_stats& x) {
  return f(caf::meta::type_name("evstore::index_stats"), x.tasks, x.types, x.entries, x.events,
           x.bytes, x.population_done, x.population_total, x.complete, x.fetches_routed,
           x.live_writers, x.checkpoint_tasks, x.population_loads, x.cleanup_done,
           x.cleanup_total, x.cluster_membership, x.cluster_serving_as,
           x.cluster_rebalancing);
}

} // namespace evstore
