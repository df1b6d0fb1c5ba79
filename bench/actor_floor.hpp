#pragma once

// What the actor round trips of a query cost by themselves on this machine, in this run: a spawned
// actor sends an empty request to each of N idle actors and replies once all have answered, which
// is a query's shape with no index, no file and no event in it. A query that asks N writers cannot
// be faster than this; the benchmark prints it beside each query as its floor.

#include <caf/actor_system.hpp>

namespace bench {

/// p50 in milliseconds of `runs` such fan-outs to `actors` actors.
double actor_fanout_floor_ms(caf::actor_system& sys, int actors, int runs);

} // namespace bench
