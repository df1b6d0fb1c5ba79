#pragma once

// The compact-all worker: compacts every task through the store (so each compaction is serialised
// with that task's appends by the task's writer), a bounded number at a time, and sums the results.
// The store delegates compact_all to it so its own mailbox keeps routing appends meanwhile. It answers
// one request and quits.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "store_internal.hpp"

namespace evstore {

using compact_all_worker
  = caf::typed_actor<caf::replies_to<compact_all_request>::with<compact_result>>;

compact_all_worker spawn_compact_all_worker(store_internal_actor::pointer store, std::string root);

} // namespace evstore
