#pragma once

// What the benchmark's modes share: timing, percentiles, the process's memory, the appended event
// and the append-throughput driver (client actors keeping a window of appends in flight).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "messages/event.hpp"

namespace evstore {
class store;
}

namespace bench {

using clock_type = std::chrono::steady_clock;

double ms_since(clock_type::time_point t0);

/// The p-th quantile (0..1) of `v`, nearest rank; 0 when empty.
double percentile(std::vector<double> v, double p);

/// A byte figure of /proc/self/status: "VmRSS:" (resident now) or "VmHWM:" (peak resident).
uint64_t status_bytes(const char* key);
inline uint64_t rss_bytes() {
  return status_bytes("VmRSS:");
}

[[noreturn]] void die(const std::string& what, const caf::error& err);

/// The event the append measurements write: an agent:message of ~200 bytes.
evstore::event bench_event(const std::string& task, int n);

/// Appends `total` events, event n to the dataset's task n % tasks, from `clients` actors with `window`
/// requests in flight in all; returns events/s.
double append_throughput(evstore::store& db, int total, int tasks, int window, int clients = 4);

} // namespace bench
