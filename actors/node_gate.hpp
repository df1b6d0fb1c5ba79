#pragma once

// The node gate: what a served store publishes through CAF's middleman instead of the store actor
// itself. The store actor also answers its helpers' internal protocol (writer handles, retirement,
// population); a remote peer reaches only the gate, whose interface is exactly store_actor's, and
// the gate relays each answer itself (never delegating), so no peer ever learns the store's address.
//
// The gate lives as long as the store: it monitors the store and quits when the store ends, and
// whatever was attached to it (serve.cpp: closing the port, removing <root>/NODE) runs then.

#include <caf/actor_system.hpp>

#include <memory>
#include <vector>

#include "src/cluster/membership.hpp"
#include "store_actor.hpp"

namespace evstore {

/// A cluster node's place in its membership: the members it is (serve_as, as indices).
struct node_ownership {
  cluster_membership membership;
  std::vector<size_t> self;
};

/// With `ownership`, the gate refuses (errc::wrong_node, naming the task's owner) an append, a
/// batch, a read or a compaction of a task the membership gives to another member, before the store
/// sees it: a router whose membership file differs from the nodes' gets an error, not a task whose
/// events end up on two nodes. Its statistics then name the membership and the members it serves
/// as (index_stats::cluster_membership), which a router checks before it uses the node.
store_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store,
                            std::shared_ptr<const node_ownership> ownership = nullptr);

} // namespace evstore
