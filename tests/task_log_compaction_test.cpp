#include "src/storage/task_log.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "src/format/line_codec.hpp"
#include "src/format/uuid.hpp"
#include "support/task_log_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

TEST_F(TaskLogTest, CompactByMaxEventsKeepsTheLastLinesInFileOrder) {
  auto log = make_log();
  for (int i = 0; i < 10; ++i)
    append_ok(*log, make_event("t1", i % 2 ? "a:odd" : "a:even"));
  retention_policy policy;
  policy.max_events = 4;
  policy.max_age = caf::none;
  auto res = log->compact(policy, timestamp::now());
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_EQ(res->removed, 6u);
  EXPECT_EQ(res->kept, 4u);
  ASSERT_EQ(seen_.compactions.size(), 1u);
  const auto& note = seen_.compactions[0];
  EXPECT_EQ(note.removed, 6u);
  EXPECT_EQ(note.summary.events, 4u);
  ASSERT_EQ(note.summary.types.size(), 2u);
  EXPECT_EQ(note.summary.types[0].count + note.summary.types[1].count, 4u);
  // The summary describes the new file: its offsets point at its lines.
  auto text = slurp(file());
  for (const auto& t : note.summary.types)
    for (const auto& line : t.recent)
      EXPECT_TRUE(line.offset == 0 || text[line.offset - 1] == '\n');
  EXPECT_NE(note.summary.file_id, seen_.appends.back().file_id);
  EXPECT_EQ(log->read(0)->events.size(), 4u);
  EXPECT_EQ(append_ok(*log, make_event("t1", "a")).position, 4u);
}

TEST_F(TaskLogTest, CompactByMaxAgeDropsOldEvents) {
  auto log = make_log();
  append_ok(*log, make_event("t1", "a", at("2020-01-01T00:00:00Z")));
  append_ok(*log, make_event("t1", "a", at("2026-11-01T00:00:00Z")));
  append_ok(*log, make_event("t1", "a", at("2020-06-01T00:00:00Z")));
  retention_policy policy;
  policy.max_events = caf::none;
  policy.max_age = caf::timespan{std::chrono::hours{24 * 30}};
  auto res = log->compact(policy, at("2026-11-23T00:00:00Z"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->removed, 2u);
  auto left = log->read(0);
  ASSERT_EQ(left->events.size(), 1u);
  EXPECT_EQ(left->events[0].ts, at("2026-11-01T00:00:00Z"));
}

TEST_F(TaskLogTest, CompactKeepsUnknownFieldsByteForByteAndMovesCorruptLines) {
  const std::string odd
    = R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"a","task":"t1","actor":"agent","ts":"2026-11-20T00:00:00+01:00","data":{"x":1.50},"extra":[1, 2],"schema_version":1})";
  const std::string future
    = R"({"id":"z","type":"a","task":"t1","actor":"martian","ts":"2026-11-21T00:00:00Z","schema_version":5})";
  auto old = make_event("t1", "a", at("2020-01-01T00:00:00Z"));
  old.id = make_uuid_v4();
  auto old_line = encode_line(old);
  spit(file(), old_line + "not json at all\n" + odd + "\n" + future + "\n");
  auto log = make_log();
  auto res = log->compact(retention_policy{}, at("2026-11-23T00:00:00Z"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->removed, 1u);
  EXPECT_EQ(res->kept, 2u);
  EXPECT_EQ(res->corrupt_moved, 1u);
  EXPECT_EQ(slurp(file()), odd + "\n" + future + "\n");
  EXPECT_EQ(slurp(dir_.path() / "t1" / "events.corrupt"), "not json at all\n");
  EXPECT_FALSE(std::filesystem::exists(file() + ".compact.tmp"));
}

TEST_F(TaskLogTest, CompactWithNothingToDoLeavesTheFileAlone) {
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  auto before = slurp(file());
  auto res = log->compact(retention_policy{}, timestamp::now());
  ASSERT_TRUE(res);
  EXPECT_TRUE(seen_.compactions.empty());
  EXPECT_EQ(res->removed, 0u);
  EXPECT_EQ(slurp(file()), before);
}

TEST_F(TaskLogTest, ANegativeMaxAgeIsRefusedAndAnAgeBeyondTheEpochsRangeKeepsEverything) {
  auto log = make_log();
  ASSERT_TRUE(log->append(append_request{make_event("t1", "a", at("1990-01-01T00:00:00Z")),
                                         caf::none}));
  ASSERT_TRUE(log->append(append_request{make_event("t1", "a"), caf::none}));
  const auto before = slurp(file());
  retention_policy negative;
  negative.max_age = -std::chrono::hours{24 * 5}; // "-5d": would put the cutoff in the future
  auto res = log->compact(negative, timestamp::now());
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_argument)) << render(res.error());
  EXPECT_EQ(slurp(file()), before);
  retention_policy huge;
  huge.max_events = caf::none;
  huge.max_age = caf::timespan::max(); // now - age would wrap round to the far future
  res = log->compact(huge, timestamp::now());
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_EQ(res->removed, 0u);
  EXPECT_EQ(slurp(file()), before);
}

TEST_F(TaskLogTest, ADryRunCountsWhatACompactionWouldDoAndWritesNothing) {
  auto log = make_log();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(log->append(append_request{make_event("t1", "a"), caf::none}));
  std::ofstream(file(), std::ios::app) << "not json\n";
  std::ofstream(file(), std::ios::app) << R"({"torn":)"; // a torn tail the real run would repair
  const auto before = slurp(file());
  retention_policy keep_two;
  keep_two.max_events = 2;
  auto dry = make_log()->compact(keep_two, timestamp::now(), /*dry_run=*/true);
  ASSERT_TRUE(dry) << render(dry.error());
  EXPECT_EQ(slurp(file()), before);
  EXPECT_FALSE(fs::exists(dir_.path() / "t1" / "events.corrupt"));
  auto real = make_log()->compact(keep_two, timestamp::now());
  ASSERT_TRUE(real) << render(real.error());
  EXPECT_EQ(dry->removed, real->removed);
  EXPECT_EQ(dry->kept, real->kept);
  EXPECT_EQ(dry->corrupt_moved, real->corrupt_moved);
  EXPECT_EQ(real->removed, 3u);
}


TEST_F(TaskLogTest, ARetryAfterACompactionIsADuplicateAtTheEventsNewPosition) {
  auto log = make_log();
  auto ev = make_event("t1", "agent:message");
  ev.id = make_uuid_v4();
  append_ok(*log, make_event("t1", "agent:message"));
  append_ok(*log, make_event("t1", "agent:message"));
  EXPECT_EQ(append_ok(*log, ev).position, 2u);
  EXPECT_TRUE(append_ok(*log, ev).duplicate); // the window now knows the id at position 2
  retention_policy keep_one;
  keep_one.max_events = 1;
  ASSERT_TRUE(log->compact(keep_one, timestamp::now()));
  // Positions were renumbered: the window is rebuilt from the new file, not carried over.
  auto retry = append_ok(*log, ev);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.position, 0u);
  EXPECT_EQ(log->read(0)->events.size(), 1u);
}
