#pragma once

// Short-lived helper actors the store actor delegates long requests to, so its own mailbox keeps
// routing appends while they run. Each answers exactly one request and quits.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "evstore/actors/store_actor.hpp"

namespace evstore {

using compact_all_worker = caf::typed_actor<
  caf::replies_to<compact_all_request>::with<compact_result>>;

using scan_query_worker = caf::typed_actor<caf::replies_to<query_request>::with<query_result>>;

/// Compacts every task through `store` (so each compaction is serialised with that task's appends),
/// a bounded number at a time.
compact_all_worker spawn_compact_all_worker(store_actor::pointer store, std::string root);

/// Answers a query by a full scan of the files, on a thread of its own (it blocks on I/O).
scan_query_worker spawn_scan_query_worker(store_actor::pointer store, std::string root);

} // namespace evstore
