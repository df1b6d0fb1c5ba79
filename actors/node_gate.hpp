#pragma once

// The node gate: what a served store publishes through CAF's middleman instead of the store actor
// itself. The store actor also answers its helpers' internal protocol (writer handles, retirement,
// population); a remote peer reaches only the gate, whose interface is exactly store_actor's, and
// every request it passes on is delegated, so the store answers the remote sender directly.
//
// The gate lives as long as the store: it monitors the store and quits when the store ends, and
// whatever was attached to it (serve.cpp: closing the port, removing <root>/NODE) runs then.

#include <caf/actor_system.hpp>

#include "store_actor.hpp"

namespace evstore {

store_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store);

} // namespace evstore
