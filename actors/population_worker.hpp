#pragma once

// The population worker: fills the index when a store opens. It sends the index the list of tasks on
// disk, then has each task's writer load its file (the writer reports the summary to the index),
// `window` at a time, and quits.

#include <cstddef>
#include <string>

#include "index_actor.hpp"
#include "store_internal.hpp"

namespace evstore {

void spawn_population_worker(store_internal_actor::pointer store, index_actor index, std::string root,
                             size_t window);

} // namespace evstore
