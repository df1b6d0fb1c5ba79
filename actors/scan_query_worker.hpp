#pragma once

// The scan query worker: answers one query by the full scan of every file, for a read-only store
// (which has no index: it sees no notifications of the writing process). It blocks on I/O, so it runs
// on a thread of its own, answers one request and quits.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "store_internal.hpp"

namespace evstore {

using scan_query_worker = caf::typed_actor<caf::replies_to<query_request>::with<query_result>>;

scan_query_worker spawn_scan_query_worker(store_internal_actor::pointer store, std::string root);

} // namespace evstore
