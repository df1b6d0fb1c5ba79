#pragma once

// Whether a TCP connection to a node's address can be made within a time limit, tried the way CAF
// 0.17's middleman will connect (its first resolved address; after a refused IPv6 one, the first
// IPv4 one). CAF makes that connection in a blocking connect(2) on a detached thread of its own,
// with no limit but the kernel's (over two minutes to a host that drops packets), and an actor
// system's destructor waits for every such thread: one unreachable member would hold a client's
// close, or a command's exit, that long. So a connection is handed to CAF only after this probe
// made one, non-blocking and bounded; only a host that starts dropping packets between the two
// can still hold CAF's attempt.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace evstore {

/// None once a connection was made (and closed again at once). caf::sec::request_timeout if the
/// address did not answer within `timeout` (the error a request to the node would have given);
/// errc::node_unavailable, naming the address and why, if the name does not resolve or the
/// connection is refused.
/// Blocks for up to `timeout` plus the name's resolution: call it from a thread of its own.
caf::error probe_tcp(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

} // namespace evstore
