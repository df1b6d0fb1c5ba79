#pragma once

// The population worker: one population pass. Given what the index knows of every task's file, it
// lists the files on disk (one stat each), and has the writers of the tasks whose files differ (new,
// grown, replaced, truncated, gone) load them, `window` at a time: a grown file only from where the
// index's knowledge ends. The writers report to the index, whose population is complete when each
// named task was reported. Runs when a store opens (after a checkpoint, most files match and none
// is read) and before a read-only store's queries.

#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "index_actor.hpp"
#include "store_internal.hpp"
#include "src/storage/store_files.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

/// A pass's listing of the task files, begun on a thread of its own: a store's first pass starts it
/// before the checkpoint is read, so listing and stat-ing every file (a quarter of a second at
/// 100,000 tasks) overlaps with decoding the checkpoint instead of following it. Comparing what it
/// found with the index later is as exact as listing then: a file this process changes in between
/// is reported to the index by its writer, and any other change is one the listing could have
/// missed anyway (the next pass sees it).
struct task_listing {
  std::chrono::steady_clock::time_point began;
  /// Null: the pass lists the files itself.
  std::shared_ptr<std::future<caf::expected<std::vector<task_file>>>> files;

  static task_listing start(std::shared_ptr<const store_root> root);
};

/// `known` is the index's reply to the pass's population_start, which the store sends itself: a
/// query the store spawns after it is then planned only once the pass is complete.
void spawn_population_worker(store_internal_actor::pointer store, index_actor index,
                             std::shared_ptr<const store_root> root, size_t window,
                             known_files known, task_listing listing = {});

} // namespace evstore
