#pragma once

// The client side of a connection to a node: a local actor with the store's interface that passes
// every request to the node's gate and its answer back. It monitors the gate, so when the node dies
// or the connection drops it fails every request still waiting (errc::node_unavailable) and ends,
// and later requests fail at once: a client learns of a lost node from the connection, not only
// from its request timeout. Subscriptions made through it end with it (the facade's subscriber
// proxies monitor it).

#include <chrono>

#include <caf/actor_system.hpp>

#include "store_actor.hpp"

namespace evstore {

/// `timeout`: how long the node may take to answer a check that it lives, while the client waits
/// for its long work (src/node/liveness.hpp); other requests are bounded by their askers.
store_actor spawn_node_client(caf::actor_system& sys, const store_actor& gate,
                              std::chrono::milliseconds timeout);

} // namespace evstore
