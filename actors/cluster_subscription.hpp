#pragma once

// One subscription across a cluster's nodes (cluster_router.hpp). It subscribes at every node that
// can hold matching events (only the task's owner for a task filter) through a tap per node, and
// hands the subscriber one stream: with a catch-up across tasks, each node's history (its best
// `limit`) is held until every node has caught up, the best `limit` of them all goes out in the
// SPEC §3 order, then one caught_up, then what each node sent live meanwhile, then live events as
// they come. Per-task order holds because a task lives on one node, whose stream is kept in order;
// no event is lost or sent twice because each node's own bus guarantees that for its stream.
//
// Flow control stays end to end: a node's live event is acknowledged to it only when the subscriber
// acknowledges it here, so a slow subscriber holds at most each node's buffer. History events are
// acknowledged as they arrive (they are held here, at most `limit` per node), or a node whose
// history exceeds its buffer would wait for acknowledgements that come only after every node
// caught up.
//
// A node lost (its connection dropped) ends the subscription: the subscriber is sent an exit with
// errc::node_unavailable naming the node (the facade's subscription::error() then says so).

#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_actor.hpp>

#include "store_actor.hpp"

namespace evstore {

using cluster_subscription_actor = caf::typed_actor<
  // From the router, once: subscribe at the nodes; replies when every node said yes.
  caf::replies_to<subscribe_request>::with<subscribed>,
  caf::reacts_to<unsubscribe_request>,
  // From the taps, `subscription` naming the node's slot.
  caf::reacts_to<bus_event>, caf::reacts_to<caught_up>, caf::reacts_to<lagged>,
  // From the subscriber.
  caf::reacts_to<bus_ack>>;

/// A node to subscribe at: how errors name it, and its client.
struct cluster_subscription_node {
  std::string label;
  store_actor client;
};

cluster_subscription_actor spawn_cluster_subscription(caf::actor_system& sys, uint64_t id,
                                                      std::vector<cluster_subscription_node> nodes,
                                                      caf::duration timeout);

} // namespace evstore
