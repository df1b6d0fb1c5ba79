#pragma once

// The node gate: what a served store publishes through CAF's middleman instead of the store actor
// itself. The store actor also answers its helpers' internal protocol (writer handles, retirement,
// population); a remote peer reaches only the gate, whose interface is store_actor's plus the
// moving of tasks between a cluster's nodes (messages/rebalance.hpp), and the gate relays each
// answer itself (never delegating), so no peer ever learns the store's address.
//
// The gate lives as long as the store, except when a rebalance ends: the node then publishes a new
// gate on its port and the old one ends, which drops every connection made to it (each router
// checks the node's new membership before it uses it again; subscriptions made through the old
// one end with node_unavailable). Whatever is attached to the gate serving last (serve.cpp:
// closing the port, removing <root>/NODE, stopping the store) runs when it ends otherwise.

#include <caf/actor_system.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "messages/node_ping.hpp"
#include "messages/rebalance.hpp"
#include "src/cluster/membership.hpp"
#include "src/cluster/rebalance.hpp"
#include "src/storage/store_files.hpp"
#include "store_actor.hpp"

namespace evstore {

using node_actor = store_actor::extend<
  caf::replies_to<rebalance_begin_request>::with<rebalance_status>,
  caf::replies_to<rebalance_end_request>::with<rebalance_status>,
  caf::replies_to<held_tasks_request>::with<task_list>,
  caf::replies_to<task_digest_request>::with<task_digest>,
  caf::replies_to<export_chunk_request>::with<task_chunk>,
  caf::replies_to<import_chunk_request>::with<task_digest>,
  caf::replies_to<release_task_request>::with<task_digest>,
  caf::replies_to<node_ping>::with<node_ping>>;

/// A cluster node's place in its membership: the members it is (serve_as, as indices).
struct node_ownership {
  cluster_membership membership;
  std::vector<size_t> self;
};

/// The members of `membership` named `names`; a name it does not list is skipped (a node leaving
/// the cluster serves as nobody, and every task is then another's).
std::shared_ptr<const node_ownership> ownership_in(cluster_membership membership,
                                                   const std::vector<std::string>& names);

/// What a node's gates serve, handed from each to its successor.
struct node_serving {
  /// The membership the node serves and the members it is; null for a node of no cluster.
  std::shared_ptr<const node_ownership> ownership;
  /// The names it serves as (to find them in a rebalance's membership).
  std::vector<std::string> names;
  /// While it moves tasks: the text of <root>/REBALANCE and its membership (empty, null: not).
  std::string rebalance_text;
  std::shared_ptr<const node_ownership> target;
  std::shared_ptr<const store_root> root;
  /// Where the gates are published, and what to attach to each published one: set by serve.cpp
  /// once the first is published (its port may have been chosen by the system), read by a gate
  /// as a rebalance ends (on its thread: hence the lock).
  class publication {
  public:
    struct where {
      std::string host;
      uint16_t port = 0; // 0: not published yet
      std::function<void(const node_actor&)> attach_teardown;
    };
    void set(where w) {
      std::lock_guard<std::mutex> guard{mtx_};
      where_ = std::move(w);
    }
    where get() const {
      std::lock_guard<std::mutex> guard{mtx_};
      return where_;
    }

  private:
    mutable std::mutex mtx_;
    where where_;
  };
  std::shared_ptr<publication> published = std::make_shared<publication>();
};

/// With an ownership, the gate refuses (errc::wrong_node, naming the task's owner) an append, a
/// batch, a read or a compaction of a task the membership gives to another member, before the store
/// sees it: a router whose membership file differs from the nodes' gets an error, not a task whose
/// events end up on two nodes. Its statistics then name the membership and the members it serves
/// as (index_stats::cluster_membership), which a router checks before it uses the node. While it
/// moves tasks, it refuses everything but statistics (errc::rebalancing).
node_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store, node_serving serving);

/// The state a cluster node resumes in: `serving.rebalance_text` and `target` from the root's
/// REBALANCE file, if there is one (an unreadable or unparsable one is an error: the node must not
/// take writes while a move may be under way). Without one, a MEMBERSHIP file left by a rebalance
/// that ended must have the ownership key of the node's own file (errc::wrong_node otherwise).
caf::error load_rebalance_state(node_serving& serving);

} // namespace evstore
