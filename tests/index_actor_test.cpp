// The index actor through a real store: population on reopen racing appends, exactness while warming,
// and how narrowly queries fan out.
#include <atomic>
#include <thread>

#include "src/storage/full_scan.hpp"
#include "support/equivalence.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

class IndexActorTest : public StoreTest {
protected:
  // A store of `tasks` tasks with a few events each, then closed.
  void make_store(int tasks, int events_per_task) {
    auto db = open_store();
    const char* types[] = {"agent:message", "task:state:running", "orchestrator:decision",
                           "system:accounting:tokens"};
    for (int t = 0; t < tasks; ++t)
      for (int e = 0; e < events_per_task; ++e)
        must_append(*db, make_event("task-" + std::to_string(t), types[(t + e) % 4]));
  }

  void expect_queries_match_oracle(store& db) {
    for (auto prefix : {"", "agent:", "task:state:", "orchestrator:", "system:", "rare:"}) {
      auto all = full_scan_query(root(), prefix, 100'000);
      ASSERT_TRUE(all);
      for (uint64_t limit : {1, 100, 500, 100'000}) {
        auto got = db.query_by_type_prefix(prefix, limit);
        ASSERT_TRUE(got) << render(got.error());
        ASSERT_EQ(ids_of(got->events), ids_of(newest(all->events, limit))) << prefix << " " << limit;
      }
    }
  }
};

} // namespace

TEST_F(IndexActorTest, ReopenedStoreIndexesEverythingOnDisk) {
  make_store(50, 6);
  auto db = open_store();
  auto st = db->wait_for_index();
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->complete);
  EXPECT_EQ(st->population_total, 50u);
  EXPECT_EQ(st->population_done, 50u);
  EXPECT_EQ(st->tasks, 50u);
  EXPECT_EQ(st->events, 300u);
  EXPECT_EQ(st->types, 4u);
  EXPECT_EQ(st->entries, 200u);
  EXPECT_GT(st->bytes, 0u);
  expect_queries_match_oracle(*db);
}

TEST_F(IndexActorTest, QueryDuringPopulationIsExact) {
  make_store(300, 4);
  auto db = open_store();
  // Issued at once, before population can have finished.
  auto got = db->query_by_type_prefix("task:state:", 500);
  ASSERT_TRUE(got);
  auto want = full_scan_query(root(), "task:state:", 500);
  EXPECT_EQ(ids_of(got->events), ids_of(want->events));
}

TEST_F(IndexActorTest, AppendsRacingPopulationLeaveAnExactIndex) {
  make_store(1000, 3);
  auto db = open_store();
  std::atomic<int> appended{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> appenders;
  for (int a = 0; a < 8; ++a)
    appenders.emplace_back([&, a] {
      for (int i = 0; i < 150; ++i) {
        auto ev = make_event("task-" + std::to_string((a * 131 + i * 7) % 1000),
                             i % 5 == 0 ? "rare:race" : "task:state:testing");
        if (!db->append(ev))
          failed = true;
        else
          ++appended;
      }
    });
  // Meanwhile a query, issued while the index warms up, must not fail.
  EXPECT_TRUE(db->query_by_type_prefix("task:state:", 500));
  for (auto& t : appenders)
    t.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(appended, 8 * 150);
  auto live = db->wait_for_index();
  ASSERT_TRUE(live && live->complete);
  expect_queries_match_oracle(*db);
  // The index built while appends raced equals one rebuilt from disk.
  auto live_stats = *live;
  db.reset();
  auto rebuilt_db = open_store();
  auto rebuilt = rebuilt_db->wait_for_index();
  ASSERT_TRUE(rebuilt && rebuilt->complete);
  EXPECT_EQ(live_stats.tasks, rebuilt->tasks);
  EXPECT_EQ(live_stats.types, rebuilt->types);
  EXPECT_EQ(live_stats.entries, rebuilt->entries);
  EXPECT_EQ(live_stats.events, rebuilt->events);
  EXPECT_EQ(live_stats.events, 3000u + 1200u);
  expect_queries_match_oracle(*rebuilt_db);
}

TEST_F(IndexActorTest, QueryMatchingOneOfAThousandTasksContactsOnlyItsWriter) {
  make_store(1000, 2);
  {
    auto db = open_store();
    must_append(*db, make_event("task-617", "rare:thing"));
  }
  auto db = open_store();
  ASSERT_TRUE(db->wait_for_index()->complete);
  auto before = db->index_statistics()->fetches_routed;
  auto got = db->query_by_type_prefix("rare:", 10);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->events.size(), 1u);
  EXPECT_EQ(got->events[0].task, "task-617");
  EXPECT_EQ(db->index_statistics()->fetches_routed - before, 1u);
  // A prefix nothing has contacts nobody.
  before = db->index_statistics()->fetches_routed;
  EXPECT_TRUE(db->query_by_type_prefix("absent:", 10)->events.empty());
  EXPECT_EQ(db->index_statistics()->fetches_routed - before, 0u);
}

TEST_F(IndexActorTest, CompactionAndCleanupKeepTheIndexExactWithoutRebuild) {
  make_store(40, 10);
  auto db = open_store();
  ASSERT_TRUE(db->wait_for_index()->complete);
  retention_policy keep3;
  keep3.max_events = 3;
  ASSERT_TRUE(db->compact_all(keep3));
  retention_policy none;
  none.max_events = 0;
  ASSERT_TRUE(db->compact_task("task-3", none));
  ASSERT_EQ(*db->cleanup_orphaned_tasks(), 1u);
  auto st = db->index_statistics();
  EXPECT_EQ(st->events, 39u * 3);
  EXPECT_EQ(st->tasks, 39u);
  expect_queries_match_oracle(*db);
}
