#pragma once

// What a client of a node makes of CAF's errors: a request that timed out, a node that went away
// or a connection that dropped are all errc::node_unavailable, saying which; the store's own
// errors pass through unchanged.

#include <chrono>

#include <caf/error.hpp>

namespace evstore {

caf::error node_error(caf::error err, std::chrono::milliseconds timeout);

} // namespace evstore
