// The indexed query against the plain full scan (the oracle), over random operation sequences:
// appends with a realistic type mix and out-of-order or tied timestamps, compactions, cleanups and
// reopens, with tiny sketches so every path of the plan (lines, scans, pruning) is taken.
#include <random>

#include "src/storage/full_scan.hpp"
#include "support/store_fixture.hpp"
#include "src/format/timestamp_format.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

const std::vector<std::pair<const char*, int>> type_mix = {
  {"agent:message", 60},         {"task:state:running", 5}, {"task:state:testing", 4},
  {"task:state:completed", 3},   {"task:state:failed", 3},  {"orchestrator:decision", 2},
  {"orchestrator:thought", 3},   {"system:accounting:tokens", 6}, {"task:updated", 3},
  {"merge:queued", 2},           {"human:message", 3},      {"agent:error", 2},
  {"rare:once", 1},
};
const std::vector<std::string> prefixes = {"",          "agent:",  "agent:message", "task:",
                                           "task:state:", "orchestrator:", "merge:", "rare:",
                                           "system:",   "nothing:", "t"};

std::string pick_type(std::mt19937_64& rng) {
  int total = 0;
  for (auto& [t, w] : type_mix)
    total += w;
  int r = static_cast<int>(rng() % static_cast<uint64_t>(total));
  for (auto& [t, w] : type_mix)
    if ((r -= w) < 0)
      return t;
  return type_mix.back().first;
}

std::vector<std::string> ids_of(const std::vector<event>& events) {
  std::vector<std::string> out;
  for (const auto& ev : events)
    out.push_back(ev.id);
  return out;
}

class QueryPropertyTest : public StoreTest, public ::testing::WithParamInterface<uint64_t> {};

} // namespace

TEST_P(QueryPropertyTest, IndexedQueryEqualsFullScan) {
  const uint64_t seed = GetParam();
  std::mt19937_64 rng{seed};
  auto opts = options();
  opts.index_sketch_size = 1 + rng() % 3;
  opts.writer_idle_timeout = std::chrono::milliseconds{1 + rng() % 20};
  auto db = open_store(opts);
  ASSERT_TRUE(db);
  const auto base = *parse_rfc3339("2026-11-01T00:00:00Z");
  int queries = 0;
  for (int op = 0; op < 400; ++op) {
    auto dice = rng() % 100;
    if (dice < 70) {
      auto ev = make_event(rng() % 10 == 0 ? "" : "task-" + std::to_string(rng() % 12),
                           pick_type(rng));
      // Coarse timestamps: ties across and within tasks, and files out of ts order.
      ev.ts = base + std::chrono::seconds{rng() % 200};
      ASSERT_TRUE(db->append(ev)) << "seed " << seed;
    } else if (dice < 85) {
      auto prefix = prefixes[rng() % prefixes.size()];
      uint64_t limits[] = {0, 1, 3, 10, 50, 1000};
      uint64_t limit = limits[rng() % 6];
      const bool windowed = rng() % 4 == 0;
      const timestamp since_ts = base + std::chrono::seconds{rng() % 200};
      caf::optional<timestamp> since;
      if (windowed)
        since = since_ts;
      auto got = db->query_by_type_prefix(prefix, limit, since);
      ASSERT_TRUE(got) << render(got.error());
      auto want = full_scan_query(root(), prefix, limit);
      ASSERT_TRUE(want);
      if (windowed) { // the oracle has no window: filter it, then keep its last `limit`
        std::vector<event> kept;
        auto all = full_scan_query(root(), prefix, 1'000'000);
        for (auto& ev : all->events)
          if (ev.ts >= since_ts)
            kept.push_back(ev);
        if (kept.size() > limit)
          kept.erase(kept.begin(), kept.end() - static_cast<std::ptrdiff_t>(limit));
        want->events = kept;
      }
      ASSERT_EQ(ids_of(got->events), ids_of(want->events))
        << "seed " << seed << " op " << op << " prefix '" << prefix << "' limit " << limit;
      ++queries;
    } else if (dice < 92) {
      retention_policy policy;
      policy.max_events = rng() % 15;
      policy.max_age = caf::none;
      auto task = rng() % 3 == 0 ? std::string{} : "task-" + std::to_string(rng() % 12);
      if (rng() % 3 == 0)
        ASSERT_TRUE(db->compact_all(policy));
      else
        ASSERT_TRUE(db->compact_task(task, policy));
    } else if (dice < 96) {
      ASSERT_TRUE(db->cleanup_orphaned_tasks());
    } else {
      db.reset(); // reopen: the index is rebuilt by population
      db = open_store(opts);
      ASSERT_TRUE(db);
    }
  }
  EXPECT_GT(queries, 0);
}

INSTANTIATE_TEST_SUITE_P(Seeds, QueryPropertyTest, ::testing::Range<uint64_t>(1, 31));
