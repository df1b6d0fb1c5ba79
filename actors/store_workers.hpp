#pragma once

// Short-lived helper actors the store actor delegates long requests to, so its own mailbox keeps
// routing appends while they run. Each answers exactly one request and quits.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "index_actor.hpp"
#include "store_internal.hpp"

namespace evstore {

using compact_all_worker = caf::typed_actor<
  caf::replies_to<compact_all_request>::with<compact_result>>;

using scan_query_worker = caf::typed_actor<caf::replies_to<query_request>::with<query_result>>;

/// Compacts every task through `store` (so each compaction is serialised with that task's appends),
/// a bounded number at a time.
compact_all_worker spawn_compact_all_worker(store_internal_actor::pointer store, std::string root);

/// Answers a query by a full scan of the files, on a thread of its own (it blocks on I/O).
scan_query_worker spawn_scan_query_worker(store_internal_actor::pointer store, std::string root);

using query_actor = caf::typed_actor<caf::replies_to<query_request>::with<query_result>>;

/// Answers one query: asks `index` for a plan, fans out to exactly the writers it names (through
/// `store`, which routes to them), merges, replies.
query_actor spawn_query_actor(store_internal_actor::pointer store, index_actor index);

/// Populates `index` from the tasks on disk: sends it the list, then has each task's writer load its
/// file (which reports the summary to the index), `window` at a time.
void spawn_population_worker(store_internal_actor::pointer store, index_actor index, std::string root,
                             size_t window);

} // namespace evstore
