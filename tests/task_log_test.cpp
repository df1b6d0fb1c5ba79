#include "task_log.hpp"

#include <gtest/gtest.h>

#include "line_codec.hpp"
#include "store_layout.hpp"
#include "support/temp_dir.hpp"
#include "timestamp_format.hpp"
#include "uuid.hpp"

using namespace evstore;
using evstore::testing::slurp;
using evstore::testing::spit;

namespace {

timestamp at(const char* text) {
  return *parse_timestamp(text);
}

class TaskLogTest : public ::testing::Test {
protected:
  std::unique_ptr<task_log> make_log(const std::string& task = "t1", size_t slots = 8) {
    task_log_config cfg;
    cfg.fds = std::make_shared<fd_budget>(slots);
    cfg.max_line_bytes = max_line_bytes_;
    return std::make_unique<task_log>(dir_.str(), task, cfg);
  }

  static event make_event(const std::string& task, const std::string& type, timestamp ts = {}) {
    event ev;
    ev.task = task;
    ev.type = type;
    ev.actor = actor_kind::agent;
    ev.ts = ts;
    ev.data = boost::json::object{{"n", 1}};
    return ev;
  }

  append_result append_ok(task_log& log, event ev) {
    appended note;
    auto res = log.append(append_request{std::move(ev), caf::none}, note);
    EXPECT_TRUE(res) << render(res.error());
    return res ? *res : append_result{};
  }

  std::string file(const std::string& task = "t1") {
    return events_path(dir_.str(), task);
  }

  evstore::testing::temp_dir dir_;
  size_t max_line_bytes_ = size_t{1} << 20;
};

} // namespace

TEST_F(TaskLogTest, AppendThenReadReturnsEventsInFileOrder) {
  auto log = make_log();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(append_ok(*log, make_event("t1", "agent:message")).position, static_cast<uint64_t>(i));
  auto res = log->read(0);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->events.size(), 5u);
  for (size_t i = 1; i < res->events.size(); ++i)
    EXPECT_LE(res->events[i - 1].ts, res->events[i].ts);
  EXPECT_EQ(log->read(3)->events.size(), 2u);
  EXPECT_EQ(log->read(9)->events.size(), 0u);
}

TEST_F(TaskLogTest, AppendFillsIdAndTimestampAndReportsTheLine) {
  auto log = make_log();
  appended note;
  auto res = log->append(append_request{make_event("t1", "task:created"), caf::none}, note);
  ASSERT_TRUE(res);
  EXPECT_TRUE(parse_uuid(res->ev.id));
  EXPECT_GT(res->ev.ts.time_since_epoch().count(), 0);
  EXPECT_EQ(note.task, "t1");
  EXPECT_EQ(note.type, "task:created");
  EXPECT_EQ(note.ts, res->ev.ts);
  EXPECT_EQ(note.position, 0u);
  EXPECT_EQ(note.offset, 0u);
  EXPECT_EQ(slurp(file()), encode_line(res->ev));
}

TEST_F(TaskLogTest, SystemWideEventsLiveInTheRootFile) {
  auto log = make_log("");
  append_ok(*log, make_event("", "system:started"));
  EXPECT_FALSE(slurp(dir_.path() / "events.jsonl").empty());
}

TEST_F(TaskLogTest, AppendAfterTornTailStartsOnNewLine) {
  auto good = encode_line([&] {
    auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
    ev.id = make_uuid_v4();
    return ev;
  }());
  spit(file(), good + R"({"id":"x","type":"a:)");
  auto log = make_log();
  append_ok(*log, make_event("t1", "a:c"));
  auto text = slurp(file());
  EXPECT_EQ(text.substr(0, good.size()), good);
  const std::string torn = R"({"id":"x","type":"a:)";
  EXPECT_EQ(text.substr(good.size(), torn.size() + 1), torn + "\n");
  auto res = log->read(0);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->events.size(), 2u);
  EXPECT_EQ(res->events[1].type, "a:c");
  EXPECT_EQ(res->stats.corrupt_lines, 1u);
  EXPECT_FALSE(res->stats.torn_tail);
}

TEST_F(TaskLogTest, TornTailMissingOnlyItsNewlineBecomesAnEvent) {
  auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
  ev.id = make_uuid_v4();
  auto line = encode_line(ev);
  spit(file(), line.substr(0, line.size() - 1));
  auto log = make_log();
  EXPECT_EQ(append_ok(*log, make_event("t1", "a:c")).position, 1u);
  EXPECT_EQ(log->read(0)->events.size(), 2u);
}

TEST_F(TaskLogTest, ReadOnlyReaderReportsTornTailWithoutRepairing) {
  spit(file(), R"({"id":"x")");
  task_log_config cfg;
  cfg.fds = std::make_shared<fd_budget>(1);
  cfg.read_only = true;
  task_log log{dir_.str(), "t1", cfg};
  auto res = log.read(0);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->stats.torn_tail);
  EXPECT_EQ(res->stats.corrupt_lines, 0u);
  EXPECT_EQ(slurp(file()), R"({"id":"x")");
  appended note;
  EXPECT_TRUE(is(log.append(append_request{make_event("t1", "a"), caf::none}, note).error(),
                 errc::read_only));
}

TEST_F(TaskLogTest, ExpectedVersionConflictWritesNothing) {
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  appended note;
  auto before = slurp(file());
  auto res = log->append(append_request{make_event("t1", "a"), uint64_t{0}}, note);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::version_conflict));
  EXPECT_EQ(slurp(file()), before);
  EXPECT_TRUE(log->append(append_request{make_event("t1", "a"), uint64_t{1}}, note));
}

TEST_F(TaskLogTest, RetriedAppendIsStoredOnce) {
  auto log = make_log();
  auto ev = make_event("t1", "agent:message");
  ev.id = make_uuid_v4();
  auto first = append_ok(*log, ev);
  EXPECT_FALSE(first.duplicate);
  append_ok(*log, make_event("t1", "agent:message"));
  auto again = append_ok(*log, ev);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.position, first.position);
  EXPECT_EQ(log->read(0)->events.size(), 2u);
}

TEST_F(TaskLogTest, RetriedAppendIsRecognisedAfterReopen) {
  auto ev = make_event("t1", "agent:message");
  ev.id = make_uuid_v4();
  append_ok(*make_log(), ev);
  auto log = make_log();
  EXPECT_TRUE(append_ok(*log, ev).duplicate);
  // A retry that also carries its expected version is a duplicate, not a conflict.
  appended note;
  auto res = log->append(append_request{ev, uint64_t{0}}, note);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->duplicate);
  EXPECT_EQ(log->read(0)->events.size(), 1u);
}

TEST_F(TaskLogTest, BadInputIsRejectedAndNothingIsWritten) {
  max_line_bytes_ = 512;
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  auto before = slurp(file());
  auto reject = [&](event ev, errc code) {
    appended note;
    auto res = log->append(append_request{std::move(ev), caf::none}, note);
    ASSERT_FALSE(res);
    EXPECT_TRUE(is(res.error(), code)) << render(res.error());
  };
  reject(make_event("t1", "Bad:Type"), errc::invalid_type);
  auto bad_id = make_event("t1", "a");
  bad_id.id = "123";
  reject(bad_id, errc::invalid_id);
  auto big = make_event("t1", "a");
  big.data = boost::json::string(600, 'x');
  reject(big, errc::event_too_large);
  reject(make_event("other", "a"), errc::invalid_argument);
  EXPECT_EQ(slurp(file()), before);
}

TEST_F(TaskLogTest, CorruptAndFutureLinesAreSkippedAndCounted) {
  auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
  ev.id = make_uuid_v4();
  spit(file(), "garbage\n\n" + encode_line(ev)
                 + R"({"id":"y","type":"a","task":"t1","actor":"agent","ts":"2026-01-01T00:00:00Z","schema_version":9})"
                   "\n{\"id\":1}\n");
  auto res = make_log()->read(0);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->events.size(), 1u);
  EXPECT_EQ(res->stats.corrupt_lines, 2u);
  EXPECT_EQ(res->stats.future_schema_lines, 1u);
}

TEST_F(TaskLogTest, CompactByMaxEventsKeepsTheLastLinesInFileOrder) {
  auto log = make_log();
  for (int i = 0; i < 10; ++i)
    append_ok(*log, make_event("t1", i % 2 ? "a:odd" : "a:even"));
  retention_policy policy;
  policy.max_events = 4;
  policy.max_age = caf::none;
  compacted note;
  bool changed = false;
  auto res = log->compact(policy, now(), note, changed);
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_TRUE(changed);
  EXPECT_EQ(res->removed, 6u);
  EXPECT_EQ(res->kept, 4u);
  EXPECT_EQ(note.remaining, 4u);
  EXPECT_EQ(note.removed, 6u);
  ASSERT_EQ(note.types.size(), 2u);
  EXPECT_EQ(note.types[0].count + note.types[1].count, 4u);
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
  compacted note;
  bool changed = false;
  auto res = log->compact(policy, at("2026-11-23T00:00:00Z"), note, changed);
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
  compacted note;
  bool changed = false;
  auto res = log->compact(retention_policy{}, at("2026-11-23T00:00:00Z"), note, changed);
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
  compacted note;
  bool changed = true;
  auto res = log->compact(retention_policy{}, now(), note, changed);
  ASSERT_TRUE(res);
  EXPECT_FALSE(changed);
  EXPECT_EQ(res->removed, 0u);
  EXPECT_EQ(slurp(file()), before);
}

TEST_F(TaskLogTest, CleanupRemovesEmptyDirAndEmptyFileButKeepsEvidence) {
  std::filesystem::create_directories(dir_.path() / "empty-dir");
  spit(dir_.path() / "empty-file" / "events.jsonl", "");
  spit(dir_.path() / "has-corrupt" / "events.jsonl", "");
  spit(dir_.path() / "has-corrupt" / "events.corrupt", "junk\n");
  EXPECT_TRUE(*make_log("empty-dir")->remove_if_empty());
  EXPECT_TRUE(*make_log("empty-file")->remove_if_empty());
  EXPECT_FALSE(*make_log("has-corrupt")->remove_if_empty());
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  EXPECT_FALSE(*log->remove_if_empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "empty-dir"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "empty-file"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "has-corrupt"));
}

TEST_F(TaskLogTest, AppendsWithoutAFileSlotOpenWriteAndClose) {
  auto log = make_log("t1", 0);
  for (int i = 0; i < 3; ++i) {
    append_ok(*log, make_event("t1", "a"));
    EXPECT_FALSE(log->has_open_file());
  }
  EXPECT_EQ(log->read(0)->events.size(), 3u);
}

TEST_F(TaskLogTest, HoldsItsFileWhileItHasASlotAndReleasesIt) {
  auto slots = std::make_shared<fd_budget>(1);
  task_log_config cfg;
  cfg.fds = slots;
  task_log log{dir_.str(), "t1", cfg};
  appended note;
  ASSERT_TRUE(log.append(append_request{make_event("t1", "a"), caf::none}, note));
  EXPECT_TRUE(log.has_open_file());
  EXPECT_EQ(slots->available(), 0);
  log.release();
  EXPECT_EQ(slots->available(), 1);
}
