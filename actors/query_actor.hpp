#pragma once

// The query actor: answers one query. It asks the index for a plan, fans out to exactly the writers
// the plan names (resolved through the store, which spawns them as needed), merges their answers in
// SPEC §3 order, replies and quits. A plan made stale by a compaction is made again.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "index_actor.hpp"
#include "store_internal.hpp"

namespace evstore {

using query_actor = caf::typed_actor<caf::replies_to<query_request>::with<query_result>>;

query_actor spawn_query_actor(store_internal_actor::pointer store, index_actor index);

} // namespace evstore
