#pragma once

// Connects to one cluster member through CAF's OpenSSL middleman, one attempt at a time. CAF 0.17's
// middleman actor resolves the name and makes the TCP connection in blocking calls (to a host that
// drops packets: the kernel's connect timeout, minutes; the TLS handshake then goes on without
// blocking), so each member gets a middleman actor of its own, which stalls no other member, and an
// asker's timeout must not start another attempt behind the one still blocked: askers wait here,
// each with its own timeout, and share the answer of the attempt in flight. Before an attempt
// reaches the middleman, a probe on a thread of its own makes (and closes) a TCP connection within
// the connector's timeout (src/node/tcp_probe.hpp): the middleman's blocking connect would also
// hold the actor system's shutdown, and with it the close of every client and the exit of every
// command, for the kernel's connect timeout.
//
// Asked with `caf::connect_atom`; replies (caf::node_id, caf::strong_actor_ptr,
// std::set<std::string>) as the middleman does, or its error (caf::sec::request_timeout when the
// probe had no answer within `timeout`).

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace evstore {

caf::actor spawn_node_connector(caf::actor_system& sys, std::string host, uint16_t port,
                                std::chrono::milliseconds timeout);

} // namespace evstore
