#include "src/index/type_index.hpp"

#include <gtest/gtest.h>

#include "src/format/timestamp_format.hpp"

using namespace evstore;

namespace {

timestamp sec(int s) {
  return timestamp{std::chrono::seconds{1'700'000'000 + s}};
}

class TypeIndexTest : public ::testing::Test {
protected:
  // Appends one line to `task` as a writer would report it.
  void add(const std::string& task, const std::string& type, int s) {
    auto& pos = positions_[task];
    index_.apply(appended{task, type, line_ref{sec(s), pos, pos * 100}, 1});
    ++pos;
  }

  const task_fetch* fetch_of(const query_plan& plan, const std::string& task) {
    for (const auto& f : plan.fetches)
      if (f.task == task)
        return &f;
    return nullptr;
  }

  type_index index_{2};
  std::map<std::string, uint64_t> positions_;
};

} // namespace

TEST_F(TypeIndexTest, LimitZeroPlansNothing) {
  add("a", "task:created", 1);
  EXPECT_TRUE(index_.plan(plan_request{"", 0, caf::none}).fetches.empty());
}

TEST_F(TypeIndexTest, PrefixMatchingOneTaskNamesOnlyThatTask) {
  for (int t = 0; t < 50; ++t)
    add("t" + std::to_string(t), "agent:message", t);
  add("t7", "rare:thing", 100);
  auto plan = index_.plan(plan_request{"rare:", 10, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "t7");
  EXPECT_FALSE(plan.fetches[0].scan);
  ASSERT_EQ(plan.fetches[0].lines.size(), 1u);
  EXPECT_EQ(plan.fetches[0].lines[0].position, 1u);
}

TEST_F(TypeIndexTest, TasksWhoseNewestRanksBelowTheBoundAreNeverAsked) {
  add("old", "task:state:running", 1);
  add("old", "task:state:done", 2);
  add("new", "task:state:running", 10);
  add("new", "task:state:done", 11);
  auto plan = index_.plan(plan_request{"task:state:", 2, caf::none});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(10));
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "new");
  EXPECT_EQ(plan.fetches[0].lines.size(), 2u);
}

TEST_F(TypeIndexTest, PairWithOlderLinesThatMayQualifyIsScanned) {
  // Out of ts order in the file: the newest event fell out of the recent lines.
  add("a", "x:y", 50);
  add("a", "x:y", 1);
  add("a", "x:y", 2);
  add("b", "x:y", 40);
  auto plan = index_.plan(plan_request{"x:", 1, caf::none});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(50)); // a's newest, though no longer among its recent lines
  auto* a = fetch_of(plan, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->scan);
  EXPECT_EQ(fetch_of(plan, "b"), nullptr); // b's newest (40) ranks below: never asked
}

TEST_F(TypeIndexTest, PairWhoseOlderLinesRankBelowTheBoundIsAnsweredByLines) {
  for (int i = 0; i < 10; ++i)
    add("a", "x:y", i);
  auto plan = index_.plan(plan_request{"x:", 2, caf::none});
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_FALSE(plan.fetches[0].scan);
  EXPECT_EQ(plan.fetches[0].lines.size(), 2u);
}

TEST_F(TypeIndexTest, FewerRecentLinesThanTheLimitMeansScanningTasksWithOlderLines) {
  for (int i = 0; i < 10; ++i)
    add("a", "x:y", i);
  add("b", "x:z", 3);
  auto plan = index_.plan(plan_request{"x:", 100, caf::none});
  EXPECT_FALSE(plan.bound);
  EXPECT_TRUE(fetch_of(plan, "a")->scan);
  EXPECT_FALSE(fetch_of(plan, "b")->scan);
}

TEST_F(TypeIndexTest, SinceBoundsThePlan) {
  add("a", "x:y", 1);
  add("b", "x:y", 20);
  auto plan = index_.plan(plan_request{"x:", 100, sec(10)});
  ASSERT_TRUE(plan.bound);
  EXPECT_EQ(plan.bound->ts, sec(10));
  ASSERT_EQ(plan.fetches.size(), 1u);
  EXPECT_EQ(plan.fetches[0].task, "b");
}

TEST_F(TypeIndexTest, SummaryReplacesATaskAndRemovalForgetsIt) {
  add("a", "x:y", 1);
  add("a", "x:z", 2);
  add("b", "x:y", 3);
  EXPECT_EQ(index_.stats().entries, 3u);
  type_summary only{"q:r", 1, sec(5), {line_ref{sec(5), 0, 0}}, false, {}, 0};
  index_.apply(task_summary{"a", 2, 1, 100, {only}});
  auto st = index_.stats();
  EXPECT_EQ(st.entries, 2u);
  EXPECT_EQ(st.types, 2u); // x:z is gone with a's old content
  EXPECT_EQ(st.events, 2u);
  index_.remove_task("b");
  st = index_.stats();
  EXPECT_EQ(st.tasks, 1u);
  EXPECT_EQ(st.entries, 1u);
  EXPECT_FALSE(index_.knows("b"));
  EXPECT_TRUE(index_.plan(plan_request{"x:", 10, caf::none}).fetches.empty());
}

TEST_F(TypeIndexTest, MemoryGrowsWithPairsNotEvents) {
  for (int i = 0; i < 100; ++i)
    add("a", "x:y", i);
  auto small = index_.stats().bytes;
  for (int i = 0; i < 10'000; ++i)
    add("a", "x:y", i);
  EXPECT_EQ(index_.stats().bytes, small);
  EXPECT_EQ(index_.stats().events, 10'100u);
}
