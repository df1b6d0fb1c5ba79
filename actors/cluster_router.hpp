#pragma once

// One store over several nodes (src/cluster/membership.hpp): an actor with the store's interface
// that sends each request where it belongs. A task's appends, reads and compactions go to the node
// that owns it; compact_all, cleanup, listings and statistics go to every node and are summed;
// a query goes to every node for its best `limit` and the answers are merged in the SPEC §3 order,
// which is exact because the best `limit` of the union is among the union of each node's best
// `limit`.
//
// Nodes are reached through CAF's middleman with TLS (the cluster's credential), each through a
// node client (node_client.hpp), connected on first use and again on the first use after the
// connection was lost: a node that comes back is used again without a restart. A request that
// needs a node that cannot be reached fails with errc::node_unavailable naming the node; a query
// is never answered short. Appends in one batch to tasks of other nodes are unaffected by a down
// node.
//
// Subscriptions go to every node that can hold their events, merged into one stream by a
// cluster_subscription actor each (cluster_subscription.hpp). Not yet: moving tasks between nodes.

#include <chrono>

#include <caf/actor_system.hpp>

#include "src/cluster/membership.hpp"
#include "store_actor.hpp"

namespace evstore {

/// `timeout` bounds each connection attempt and each request to a node.
store_actor spawn_cluster_router(caf::actor_system& sys, cluster_membership members,
                                 std::chrono::milliseconds timeout);

} // namespace evstore
