#pragma once

// Whether a TCP connection to a node's address can be made within a time limit. CAF 0.17's
// middleman makes its connection in a blocking connect(2) on a detached thread of its own, with no
// limit but the kernel's (over two minutes to a host that drops packets), and an actor system's
// destructor waits for every such thread: one unreachable member would hold a client's close, or
// a command's exit, that long. So the probe connects first, non-blocking and bounded, and CAF is
// handed the numeric address the probe reached, never the name (which CAF would resolve again,
// perhaps to another address); only a host that starts dropping packets between the two can still
// hold CAF's attempt. The name's resolution (getaddrinfo) is not bounded by the timeout.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace evstore {

/// The numeric address (IPv4 or IPv6, without brackets) a connection was made to (and closed again
/// at once): the first address `host` resolves to, as CAF would pick it (but never a link-local
/// IPv6 one, whose scope CAF 0.17 drops), or, if that is IPv6 and
/// fails within half the time, the first IPv4 one (CAF falls back so too, after its blocking
/// attempt). caf::sec::request_timeout if no address answered within `timeout` (the error a
/// request to the node would have given); errc::node_unavailable, naming the address and why, if
/// the name does not resolve or the connection is refused.
/// Blocks for up to `timeout` plus the name's resolution: call it from a thread of its own.
caf::expected<std::string> probe_tcp(const std::string& host, uint16_t port,
                                     std::chrono::milliseconds timeout);

} // namespace evstore
