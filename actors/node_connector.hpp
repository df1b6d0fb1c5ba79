#pragma once

// Connects to one cluster member through CAF's OpenSSL middleman, one attempt at a time. CAF 0.17's
// middleman actor resolves the name and makes the TCP connection in blocking calls (to a host that
// drops packets: the kernel's connect timeout, minutes; the TLS handshake then goes on without
// blocking), so each member gets a middleman actor of its own, which stalls no other member, and an
// asker's timeout must not start another attempt behind the one still blocked: askers wait here,
// each with its own timeout, and share the answer of the attempt in flight.
//
// Asked with `caf::connect_atom`; replies (caf::node_id, caf::strong_actor_ptr,
// std::set<std::string>) as the middleman does, or its error.

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace evstore {

caf::actor spawn_node_connector(caf::actor_system& sys, std::string host, uint16_t port);

} // namespace evstore
