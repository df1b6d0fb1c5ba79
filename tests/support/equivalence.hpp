#pragma once

// The same random operation sequence applied to two stores that must answer alike: appends with
// fixed ids and timestamps, expected versions right and wrong, retried ids, batches, reads from
// random positions, listings, queries with and without `since`, compactions, cleanups and bad input.
// Every answer and every error of `b` must equal `a`'s. Used to hold a connected store and a cluster
// to a store in this process.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "src/facade/store.hpp"

namespace evstore::testing {

/// An error as a comparable string: its category and code (the context may name the root).
std::string code_of(const caf::error& err);

template <class T>
std::string code_of(const caf::expected<T>& res) {
  return res ? "ok" : code_of(res.error());
}

/// Each event as "id type task", for comparing lists of events.
std::vector<std::string> ids_of(const std::vector<event>& events);

/// The newest `limit` events of an answer, which lists them oldest first: the answer to the same
/// query at a smaller limit. The full-scan oracle reads every file and decodes every line, most of
/// a test's time under the sanitizers, so a test scans once per prefix at its largest limit and
/// takes the smaller limits' answers from that.
std::vector<event> newest(const std::vector<event>& answer, uint64_t limit);

/// Called with each query `b` answered (after it matched `a`'s answer).
using query_check = std::function<void(const std::string& prefix, uint64_t limit,
                                       const caf::optional<timestamp>& since,
                                       const query_result& answer)>;

/// `steps` random operations from `seed` on both stores, compared as they go (gtest failures).
void run_equivalent_operations(store& a, store& b, uint64_t seed, int steps,
                               const query_check& check_query = {});

} // namespace evstore::testing
