#pragma once

// The population worker: one population pass. Given what the index knows of every task's file, it
// lists the files on disk (one stat each), and has the writers of the tasks whose files differ (new,
// grown, replaced, truncated, gone) load them, `window` at a time: a grown file only from where the
// index's knowledge ends. The writers report to the index, whose population is complete when each
// named task was reported. Runs when a store opens (after a checkpoint, most files match and none
// is read) and before a read-only store's queries.

#include <cstddef>
#include <memory>

#include "index_actor.hpp"
#include "store_internal.hpp"
#include "src/storage/store_files.hpp"

namespace evstore {

/// `known` is the index's reply to the pass's population_start, which the store sends itself: a
/// query the store spawns after it is then planned only once the pass is complete.
void spawn_population_worker(store_internal_actor::pointer store, index_actor index,
                             std::shared_ptr<const store_root> root, size_t window,
                             known_files known);

} // namespace evstore
