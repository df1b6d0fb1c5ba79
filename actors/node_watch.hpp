#pragma once

// Watches that a node still answers while its client waits for long work (src/node/liveness.hpp):
// every `timeout` it sends the node's gate a node_ping, which the gate answers at once, itself.
// A ping unanswered within `timeout` ends the client (an exit whose reason is
// errc::node_unavailable, saying so), which fails everything still waiting on that node. Ends with
// the client, or when told to exit.

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace evstore {

caf::actor spawn_node_watch(caf::actor_system& sys, caf::actor client, caf::actor gate,
                            std::chrono::milliseconds timeout);

} // namespace evstore
