#include "src/storage/compaction.hpp"

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/storage/file_io.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/storage/store_layout.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;
using evstore::testing::slurp;
using evstore::testing::spit;
namespace fs = std::filesystem;

namespace {

timestamp at(const char* text) {
  return *parse_rfc3339(text);
}

// One valid line of `type` at `ts`, with its newline.
std::string line(const std::string& type, const char* ts, int n = 0) {
  char id[37];
  std::snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", n);
  return R"({"id":")" + std::string{id} + R"(","type":")" + type
         + R"(","task":"t1","actor":"agent","ts":")" + ts + R"(","data":{},"schema_version":1})"
         + "\n";
}

// Lines of a later schema: only their ts and type are read, if they can be.
const std::string future_line =
  R"({"id":"z","type":"a","task":"t1","actor":"martian","ts":"2001-01-01T00:00:00Z","schema_version":5})"
  "\n";
const std::string future_line_without_ts =
  R"({"id":"y","type":"a","when":"last tuesday","schema_version":5})"
  "\n";

retention_policy no_limits() {
  retention_policy p;
  p.max_events = caf::none;
  p.max_age = caf::none;
  return p;
}

const timestamp today = at("2026-11-23T00:00:00Z");

} // namespace

TEST(PlanCompaction, MaxEventsKeepsTheLastLinesInFileOrder) {
  std::string content;
  for (int i = 0; i < 5; ++i)
    content += line(i % 2 ? "a:odd" : "a:even", "2026-11-20T00:00:00Z", i);
  auto policy = no_limits();
  policy.max_events = 2;
  auto plan = plan_compaction(content, policy, today, 4);
  EXPECT_EQ(plan.kept, line("a:odd", "2026-11-20T00:00:00Z", 3) + line("a:even", "2026-11-20T00:00:00Z", 4));
  EXPECT_EQ(plan.counts.removed, 3u);
  EXPECT_EQ(plan.counts.kept, 2u);
  EXPECT_EQ(plan.kept_valid, 2u);
  EXPECT_TRUE(plan.changes_anything());
}

TEST(PlanCompaction, MaxAgeRemovesOlderLinesButNeverOneWhoseTsItCannotRead) {
  const std::string content = line("a", "2020-01-01T00:00:00Z", 1) + future_line
                              + future_line_without_ts + line("a", "2026-11-22T00:00:00Z", 2);
  auto policy = no_limits();
  policy.max_age = caf::timespan{std::chrono::hours{24 * 30}};
  auto plan = plan_compaction(content, policy, today, 4);
  EXPECT_EQ(plan.kept, future_line_without_ts + line("a", "2026-11-22T00:00:00Z", 2));
  EXPECT_EQ(plan.counts.removed, 2u); // a later schema's line is as old as its readable ts
  EXPECT_EQ(plan.counts.kept, 2u);
  EXPECT_EQ(plan.kept_valid, 1u); // the future-schema line is kept but not indexed
}

TEST(PlanCompaction, AFutureSchemaLineCountsTowardsMaxEvents) {
  const std::string content = future_line + line("a", "2026-11-22T00:00:00Z", 1);
  auto policy = no_limits();
  policy.max_events = 1;
  auto plan = plan_compaction(content, policy, today, 4);
  EXPECT_EQ(plan.kept, line("a", "2026-11-22T00:00:00Z", 1));
  EXPECT_EQ(plan.counts.removed, 1u);
}

TEST(PlanCompaction, AnAgeReachingBeforeTheEarliestTimeKeepsEverything) {
  const std::string content = line("a", "0000-01-01T00:00:00Z", 1);
  auto policy = no_limits();
  policy.max_age = caf::timespan::max();
  // A clock near the earliest representable time: now - age must saturate there, never wrap round
  // to a cutoff in the far future (which would remove every event).
  auto plan = plan_compaction(content, policy, timestamp::min() + std::chrono::hours{1}, 4);
  EXPECT_EQ(plan.kept, content);
  EXPECT_FALSE(plan.changes_anything());
}

TEST(PlanCompaction, CorruptAndTooLongLinesMoveAsideByteForByteAndBlankLinesGo) {
  const std::string too_long(max_readable_line_bytes + 1, 'x');
  const std::string content = "not json\n\n" + line("a", "2026-11-22T00:00:00Z", 1) + "   \n"
                              + too_long + "\n";
  auto plan = plan_compaction(content, no_limits(), today, 4);
  EXPECT_EQ(plan.kept, line("a", "2026-11-22T00:00:00Z", 1));
  EXPECT_EQ(plan.corrupt, "not json\n" + too_long + "\n");
  EXPECT_EQ(plan.counts.corrupt_moved, 2u);
  EXPECT_EQ(plan.counts.removed, 0u);
  EXPECT_TRUE(plan.changes_anything()); // corrupt lines alone are reason to rewrite
}

TEST(PlanCompaction, ALastLineWithoutItsNewlineIsKeptWithOne) {
  const std::string whole = line("a", "2026-11-22T00:00:00Z", 1);
  auto plan = plan_compaction(whole.substr(0, whole.size() - 1), no_limits(), today, 4);
  EXPECT_EQ(plan.kept, whole);
}

TEST(PlanCompaction, TheSummaryDescribesTheNewLog) {
  std::string content;
  for (int i = 0; i < 4; ++i)
    content += line(i < 3 ? "a" : "b", "2026-11-20T00:00:00Z", i);
  auto policy = no_limits();
  policy.max_events = 3;
  auto plan = plan_compaction(content, policy, today, 4);
  ASSERT_EQ(plan.types.size(), 2u);
  EXPECT_EQ(plan.types[0].type, "a");
  EXPECT_EQ(plan.types[0].count, 2u);
  ASSERT_EQ(plan.types[0].recent.size(), 2u);
  EXPECT_EQ(plan.types[0].recent[0].position, 0u); // renumbered from the new log's start
  EXPECT_EQ(plan.types[0].recent[0].offset, 0u);
  EXPECT_EQ(plan.types[1].recent[0].position, 2u);
  EXPECT_EQ(plan.types[1].recent[0].offset, plan.kept.rfind(line("b", "2026-11-20T00:00:00Z", 3)));
}

class ReplaceLogTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto r = store_root::open(dir_.str(), true);
    ASSERT_TRUE(r) << render(r.error());
    root_ = *r;
    spit(path("events.jsonl"), "old\n");
    auto d = root_->open_task_dir("t1", false);
    ASSERT_TRUE(d && *d);
    task_dir_ = std::move(*d);
  }

  fs::path path(const std::string& name) const {
    return dir_.path() / "t1" / name;
  }

  caf::expected<uint64_t> replace(const std::string& kept, const std::string& corrupt) {
    return replace_log(*root_, task_dir_.get(), "t1", kept, corrupt);
  }

  evstore::testing::temp_dir dir_;
  std::shared_ptr<const store_root> root_;
  unique_fd task_dir_;
};

TEST_F(ReplaceLogTest, TheNewLogTakesTheOldOnesPlaceAndCorruptLinesAreAppendedAside) {
  spit(path("events.corrupt"), "earlier\n");
  auto file_id = replace("new\n", "bad\n");
  ASSERT_TRUE(file_id) << render(file_id.error());
  EXPECT_EQ(slurp(path("events.jsonl")), "new\n");
  EXPECT_EQ(slurp(path("events.corrupt")), "earlier\nbad\n");
  int fd = ::open(path("events.jsonl").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(*file_id, file_id_of(fd)); // what the index will plan against
  ::close(fd);
  EXPECT_FALSE(fs::exists(path("events.jsonl.compact.tmp")));
}

TEST_F(ReplaceLogTest, WithoutCorruptLinesNoEventsCorruptIsCreated) {
  ASSERT_TRUE(replace("new\n", ""));
  EXPECT_FALSE(fs::exists(path("events.corrupt")));
}

TEST_F(ReplaceLogTest, ALeftoverTempFileOrASymlinkThereIsRemovedNeverFollowed) {
  spit(dir_.path() / "victim", "keep me\n");
  fs::create_symlink(dir_.path() / "victim", path("events.jsonl.compact.tmp"));
  ASSERT_TRUE(replace("new\n", ""));
  EXPECT_EQ(slurp(dir_.path() / "victim"), "keep me\n");
  EXPECT_EQ(slurp(path("events.jsonl")), "new\n");
}

TEST_F(ReplaceLogTest, AFailedRenameCutsAnExistingEventsCorruptBackAndRemovesTheTempFile) {
  spit(path("events.corrupt"), "earlier\n");
  fs::remove(path("events.jsonl"));
  spit(path("events.jsonl") / "x", ""); // a directory with an entry: nothing can be renamed over it
  auto res = replace("new\n", "bad\n");
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::io_error)) << render(res.error());
  EXPECT_NE(render(res.error()).find("cannot rename"), std::string::npos);
  EXPECT_EQ(slurp(path("events.corrupt")), "earlier\n");
  EXPECT_FALSE(fs::exists(path("events.jsonl.compact.tmp")));
}

TEST_F(ReplaceLogTest, AFailedRenameRemovesTheEventsCorruptItCreated) {
  fs::remove(path("events.jsonl"));
  spit(path("events.jsonl") / "x", "");
  ASSERT_FALSE(replace("new\n", "bad\n"));
  EXPECT_FALSE(fs::exists(path("events.corrupt")));
  EXPECT_FALSE(fs::exists(path("events.jsonl.compact.tmp")));
}

TEST_F(ReplaceLogTest, ATempNameThatCannotBeRemovedIsAnErrorAndNothingChanges) {
  spit(path("events.jsonl.compact.tmp") / "x", ""); // a directory: unlink(2) refuses it
  auto res = replace("new\n", "bad\n");
  ASSERT_FALSE(res);
  EXPECT_NE(render(res.error()).find("cannot remove"), std::string::npos) << render(res.error());
  EXPECT_EQ(slurp(path("events.jsonl")), "old\n");
  EXPECT_FALSE(fs::exists(path("events.corrupt")));
}
