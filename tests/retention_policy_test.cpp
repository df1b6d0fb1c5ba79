// validate(retention_policy): the library refuses a policy no caller can mean (SPEC §4: numbers are
// checked, never wrapped), and compaction through the facade changes nothing when it does.
#include <chrono>
#include <limits>
#include <vector>

#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
using namespace std::chrono_literals;

namespace {

retention_policy policy(caf::optional<uint64_t> max_events, caf::optional<caf::timespan> max_age) {
  retention_policy p;
  p.max_events = max_events;
  p.max_age = max_age;
  return p;
}

} // namespace

TEST(RetentionPolicyTest, TheDefaultAndNoLimitsAreValid) {
  EXPECT_FALSE(validate(retention_policy{}));
  EXPECT_FALSE(validate(policy(caf::none, caf::none)));
}

TEST(RetentionPolicyTest, ZeroAndTheLargestValuesAreValid) {
  // Zero keeps nothing, on purpose; the largest values keep (nearly) everything. Neither wraps:
  // now - timespan::max() stays inside the clock's range for any now after the epoch.
  EXPECT_FALSE(validate(policy(uint64_t{0}, caf::timespan{0})));
  EXPECT_FALSE(validate(policy(static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
                               caf::timespan::max())));
}

TEST(RetentionPolicyTest, ANegativeAgeIsRefusedNamingTheField) {
  for (auto age : {caf::timespan{-1}, caf::timespan{-5 * 24h}, caf::timespan::min()}) {
    auto err = validate(policy(caf::none, age));
    ASSERT_TRUE(err) << age.count();
    EXPECT_TRUE(is(err, errc::invalid_argument)) << render(err);
    EXPECT_NE(render(err).find("max_age"), std::string::npos) << render(err);
  }
}

TEST(RetentionPolicyTest, AWrappedNegativeEventCountIsRefusedNamingTheField) {
  for (auto n : {static_cast<uint64_t>(-1), static_cast<uint64_t>(-10'000),
                 static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1}) {
    auto err = validate(policy(n, caf::none));
    ASSERT_TRUE(err) << n;
    EXPECT_TRUE(is(err, errc::invalid_argument)) << render(err);
    EXPECT_NE(render(err).find("max_events"), std::string::npos) << render(err);
  }
}

class RetentionPolicyStoreTest : public StoreTest {};

TEST_F(RetentionPolicyStoreTest, CompactionRefusesAnInvalidPolicyAndChangesNothing) {
  auto db = open_store();
  for (int i = 0; i < 3; ++i)
    must_append(*db, make_event("t", "a:b"));
  const auto file = dir_.path() / "store" / "t" / "events.jsonl";
  const auto before = slurp(file);
  // A vector, not a braced list: GCC at -O1 took the list's copies of caf::optional for
  // uninitialised (-Wmaybe-uninitialized, a false positive in every Release build's output).
  const std::vector<retention_policy> bads{policy(caf::none, caf::timespan{-5 * 24h}),
                                           policy(static_cast<uint64_t>(-1), caf::none)};
  for (const auto& bad : bads) {
    auto one = db->compact_task("t", bad);
    ASSERT_FALSE(one);
    EXPECT_TRUE(is(one.error(), errc::invalid_argument)) << render(one.error());
    auto all = db->compact_all(bad);
    ASSERT_FALSE(all);
    EXPECT_TRUE(is(all.error(), errc::invalid_argument)) << render(all.error());
  }
  EXPECT_EQ(slurp(file), before);
  auto read = db->read_task("t");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->events.size(), 3u);
}

TEST_F(RetentionPolicyStoreTest, ADryRunCountsAndWritesNothingEvenOnAReadOnlyStore) {
  {
    auto db = open_store();
    for (int i = 0; i < 5; ++i)
      must_append(*db, make_event("t", "a:b"));
  }
  const auto file = dir_.path() / "store" / "t" / "events.jsonl";
  const auto before = slurp(file);
  auto opts = options();
  opts.read_only = true;
  auto ro = open_store(opts);
  auto counted = ro->compact_task("t", policy(uint64_t{2}, caf::none), true);
  ASSERT_TRUE(counted) << render(counted.error());
  EXPECT_EQ(counted->removed, 3u);
  EXPECT_EQ(counted->kept, 2u);
  auto all = ro->compact_all(policy(uint64_t{1}, caf::none), true);
  ASSERT_TRUE(all) << render(all.error());
  EXPECT_EQ(all->removed, 4u);
  auto real = ro->compact_task("t", policy(uint64_t{2}, caf::none));
  ASSERT_FALSE(real);
  EXPECT_TRUE(is(real.error(), errc::read_only)) << render(real.error());
  EXPECT_EQ(slurp(file), before);
}
