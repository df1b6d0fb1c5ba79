#pragma once

// Watches that a node still answers while its client waits for long work (src/node/liveness.hpp):
// every `timeout` it sends the node's gate a node_ping, which the gate answers itself. Asked once
// with `caf::get_atom`, it answers when the node has left `node_watch_misses` pings in a row
// unanswered, each for `timeout`, with errc::node_unavailable saying so; told to exit (the long
// work is over), it answers `false` and ends. Any answer to a ping, even an error (a gate that
// knows no node_ping), counts as a sign of life. Ends with the client too.

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace evstore {

/// Pings left unanswered in a row before a node counts as gone: a ping waits in the node's
/// scheduler behind the jobs queued before it (a compaction runs in its writer's handler), so one
/// late answer is not yet silence.
constexpr int node_watch_misses = 3;

caf::actor spawn_node_watch(caf::actor_system& sys, caf::actor client, caf::actor gate,
                            std::chrono::milliseconds timeout);

} // namespace evstore
