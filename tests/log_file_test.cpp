#include "src/storage/log_file.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include "messages/errc.hpp"
#include "support/temp_dir.hpp"

using namespace evstore;
using evstore::testing::spit;
namespace fs = std::filesystem;

namespace {

class LogFileTest : public ::testing::Test {
protected:
  std::shared_ptr<const store_root> root() {
    auto r = store_root::open(dir_.str(), true);
    EXPECT_TRUE(r) << render(r.error());
    return *r;
  }

  // The lines for_each_log_line hands out, as "offset:text" ("torn" marks an unterminated one).
  std::vector<std::string> lines_of(const std::string& task, bool* found = nullptr) {
    std::vector<std::string> out;
    auto res = for_each_log_line(*root(), task, [&](const raw_line& line) {
      out.push_back(std::to_string(line.offset) + ":" + std::string{line.text}
                    + (line.terminated ? "" : " torn"));
    });
    EXPECT_TRUE(res) << render(res.error());
    if (found && res)
      *found = *res;
    return out;
  }

  evstore::testing::temp_dir dir_;
};

} // namespace

TEST_F(LogFileTest, EveryLineOfATasksFileIsHandedOutWithItsOffset) {
  spit(dir_.path() / "t1" / "events.jsonl", "a\nbc\n\ntorn");
  bool found = false;
  EXPECT_EQ(lines_of("t1", &found), (std::vector<std::string>{"0:a", "2:bc", "5:", "6:torn torn"}));
  EXPECT_TRUE(found);
}

TEST_F(LogFileTest, TheSystemWideTaskIsTheFileInTheRoot) {
  spit(dir_.path() / "events.jsonl", "sys\n");
  EXPECT_EQ(lines_of(""), std::vector<std::string>{"0:sys"});
}

TEST_F(LogFileTest, AMissingFileOrTaskDirectoryIsNoFileNotAnError) {
  fs::create_directories(dir_.path() / "empty");
  for (const char* task : {"empty", "absent"}) {
    SCOPED_TRACE(task);
    bool found = true;
    EXPECT_TRUE(lines_of(task, &found).empty());
    EXPECT_FALSE(found);
    auto log = log_file::open(*root(), task);
    ASSERT_TRUE(log);
    EXPECT_FALSE(*log);
    EXPECT_EQ(log->file_id(), 0u);
  }
}

TEST_F(LogFileTest, ASymbolicLinkInPlaceOfTheFileIsRefusedAndNeverRead) {
  spit(dir_.path() / "outside.jsonl", "secret\n");
  fs::create_directories(dir_.path() / "t1");
  fs::create_symlink(dir_.path() / "outside.jsonl", dir_.path() / "t1" / "events.jsonl");
  bool called = false;
  auto res = for_each_log_line(*root(), "t1", [&](const raw_line&) { called = true; });
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::not_regular_file)) << render(res.error());
  EXPECT_FALSE(called);
}

TEST_F(LogFileTest, TheInodeIsTheOpenFilesEvenAfterARenameReplacesIt) {
  spit(dir_.path() / "t1" / "events.jsonl", "old\n");
  auto log = log_file::open(*root(), "t1");
  ASSERT_TRUE(log && *log);
  const auto old_id = log->file_id();
  EXPECT_NE(old_id, 0u);
  spit(dir_.path() / "t1" / "new", "new\n");
  fs::rename(dir_.path() / "t1" / "new", dir_.path() / "t1" / "events.jsonl");
  EXPECT_EQ(log->file_id(), old_id); // a compaction's rename: the open file is still the old one
  auto renamed = log_file::open(*root(), "t1");
  ASSERT_TRUE(renamed && *renamed);
  EXPECT_NE(renamed->file_id(), old_id);
  std::vector<std::string> seen;
  ASSERT_FALSE(log->for_each_line([&](const raw_line& line) { seen.emplace_back(line.text); }));
  EXPECT_EQ(seen, std::vector<std::string>{"old"});
}

TEST_F(LogFileTest, ADirectoryInPlaceOfTheFileIsRefusedNamingThePath) {
  fs::create_directories(dir_.path() / "t1" / "events.jsonl");
  auto res = for_each_log_line(*root(), "t1", [](const raw_line&) {});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::not_regular_file)) << render(res.error());
  EXPECT_NE(render(res.error()).find(dir_.str("t1/events.jsonl")), std::string::npos);
}
