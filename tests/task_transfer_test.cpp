// A task's file moved byte for byte (src/storage/task_transfer.hpp): a copy is committed only whole
// and matching, never over a history already there, and a source is removed only while it is the
// file that was copied; symbolic links are never followed.
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include <sys/stat.h>

#include <zlib.h>

#include "src/storage/store_layout.hpp"
#include "src/storage/task_transfer.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

const std::string lines = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";

uint32_t crc_of(const std::string& bytes) {
  return static_cast<uint32_t>(
    ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()),
            static_cast<uInt>(bytes.size())));
}

class TaskTransferTest : public ::testing::Test {
protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "root" / "t-1");
    std::ofstream{dir_.path() / "root" / "t-1" / "events.jsonl", std::ios::binary} << lines;
    auto root = store_root::open(dir_.str("root"), false);
    ASSERT_TRUE(root);
    root_ = *root;
  }

  std::string file(const std::string& task, const char* name) const {
    return slurp(dir_.path() / "root" / task / name);
  }

  temp_dir dir_;
  std::shared_ptr<const store_root> root_;
};

} // namespace

TEST_F(TaskTransferTest, ADigestIsTheFilesSizeAndCrcAndAMissingFileHasNone) {
  auto d = digest_task_file(*root_, "t-1", events_file_name);
  ASSERT_TRUE(d) << render(d.error());
  EXPECT_TRUE(d->exists);
  EXPECT_EQ(d->size, lines.size());
  EXPECT_EQ(d->crc, crc_of(lines));
  auto none = digest_task_file(*root_, "t-2", events_file_name);
  ASSERT_TRUE(none) << render(none.error());
  EXPECT_FALSE(none->exists);
}

TEST_F(TaskTransferTest, ChunksReadAndWrittenInPiecesCommitTheSameBytes) {
  for (uint64_t off = 0; off < lines.size(); off += 5) {
    auto chunk = read_task_bytes(*root_, "t-1", off, 5);
    ASSERT_TRUE(chunk) << render(chunk.error());
    auto w = write_incoming(*root_, "t-2", off, *chunk);
    ASSERT_TRUE(w) << render(w.error());
    EXPECT_EQ(w->size, std::min<uint64_t>(off + 5, lines.size()));
  }
  EXPECT_EQ(read_task_bytes(*root_, "t-1", lines.size(), 5)->size(), 0u);
  ASSERT_FALSE(commit_incoming(*root_, "t-2", lines.size(), crc_of(lines)));
  EXPECT_EQ(file("t-2", events_file_name), lines);
  EXPECT_FALSE(fs::exists(dir_.path() / "root" / "t-2" / incoming_file_name));
}

// Bad input, each row: what is done, the error expected, and then nothing changed on disk.
TEST_F(TaskTransferTest, RefusedStepsChangeNothing) {
  struct row {
    const char* what;
    std::function<caf::error()> step;
    errc expected;
  };
  const std::vector<row> rows = {
    {"a chunk past the copy's end",
     [&] { return write_incoming(*root_, "t-2", 4, "x").error(); }, errc::invalid_argument},
    {"a commit over an existing history",
     [&] {
       if (auto w = write_incoming(*root_, "t-1", 0, lines); !w)
         return w.error();
       return commit_incoming(*root_, "t-1", lines.size(), crc_of(lines));
     },
     errc::id_conflict},
    {"a release of a file that changed since its copy",
     [&] { return remove_task_file(*root_, "t-1", lines.size() - 1, crc_of(lines)).error(); },
     errc::id_conflict},
    {"a release with another CRC",
     [&] { return remove_task_file(*root_, "t-1", lines.size(), crc_of(lines) ^ 1).error(); },
     errc::id_conflict},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    auto err = r.step();
    ASSERT_TRUE(err);
    EXPECT_TRUE(is(err, r.expected)) << render(err);
    EXPECT_EQ(file("t-1", events_file_name), lines);
  }
}

TEST_F(TaskTransferTest, ACopyThatDoesNotMatchIsRemovedAndNotCommitted) {
  ASSERT_TRUE(write_incoming(*root_, "t-2", 0, lines.substr(0, 10)));
  auto err = commit_incoming(*root_, "t-2", lines.size(), crc_of(lines));
  ASSERT_TRUE(err);
  EXPECT_TRUE(is(err, errc::invalid_argument)) << render(err);
  EXPECT_FALSE(fs::exists(dir_.path() / "root" / "t-2" / events_file_name));
  EXPECT_FALSE(fs::exists(dir_.path() / "root" / "t-2" / incoming_file_name));
}

TEST_F(TaskTransferTest, AReleaseRemovesTheFileAndItsDirectoryButKeepsCorruptLines) {
  auto removed = remove_task_file(*root_, "t-1", lines.size(), crc_of(lines));
  ASSERT_TRUE(removed) << render(removed.error());
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(fs::exists(dir_.path() / "root" / "t-1"));
  fs::create_directories(dir_.path() / "root" / "t-3");
  std::ofstream{dir_.path() / "root" / "t-3" / "events.jsonl"} << lines;
  std::ofstream{dir_.path() / "root" / "t-3" / "events.corrupt"} << "garbage\n";
  ASSERT_TRUE(remove_task_file(*root_, "t-3", lines.size(), crc_of(lines)));
  EXPECT_TRUE(fs::exists(dir_.path() / "root" / "t-3" / "events.corrupt"));
}

TEST_F(TaskTransferTest, SymbolicLinksAreNeverFollowed) {
  const auto outside = dir_.path() / "outside.jsonl";
  std::ofstream{outside} << lines;
  fs::create_directories(dir_.path() / "root" / "t-4");
  fs::create_symlink(outside, dir_.path() / "root" / "t-4" / "events.jsonl");
  fs::create_symlink(outside, dir_.path() / "root" / "t-4" / "events.incoming");
  EXPECT_FALSE(digest_task_file(*root_, "t-4", events_file_name));
  EXPECT_FALSE(read_task_bytes(*root_, "t-4", 0, 10));
  EXPECT_FALSE(write_incoming(*root_, "t-4", 1, "x")); // a later chunk is refused
  EXPECT_FALSE(remove_task_file(*root_, "t-4", lines.size(), crc_of(lines)));
  EXPECT_EQ(slurp(outside), lines);
  EXPECT_TRUE(fs::is_symlink(dir_.path() / "root" / "t-4" / "events.jsonl"));
  // (A first chunk replaces the link: the next test's rows.)
}

// What a crashed run (or anyone) left at events.incoming: a first chunk never writes through it
// (a hard link's other name keeps its bytes) and never waits on it (a FIFO); a later chunk into a
// file that is not the store's own is refused.
TEST_F(TaskTransferTest, AFirstChunkReplacesWhateverSatAtTheCopysNameAndALaterOneIsRefused) {
  const auto outside = dir_.path() / "outside.jsonl";
  const auto incoming = dir_.path() / "root" / "t-5" / "events.incoming";
  struct row {
    const char* what;
    std::function<void()> plant;
  };
  const std::vector<row> rows = {
    {"a hard link to a file outside the root", [&] { fs::create_hard_link(outside, incoming); }},
    {"a FIFO", [&] { ASSERT_EQ(::mkfifo(incoming.c_str(), 0644), 0); }},
    {"a symbolic link", [&] { fs::create_symlink(outside, incoming); }},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.what);
    fs::remove_all(dir_.path() / "root" / "t-5");
    fs::create_directories(dir_.path() / "root" / "t-5");
    std::ofstream{outside, std::ios::trunc} << lines;
    r.plant();
    auto later = write_incoming(*root_, "t-5", 1, "y");
    ASSERT_FALSE(later);
    EXPECT_TRUE(is(later.error(), errc::not_regular_file)) << render(later.error());
    auto first = write_incoming(*root_, "t-5", 0, "x");
    ASSERT_TRUE(first) << render(first.error());
    EXPECT_EQ(slurp(incoming), "x");
    EXPECT_EQ(fs::hard_link_count(incoming), 1u);
    EXPECT_EQ(slurp(outside), lines);
  }
  // A directory there is refused by either chunk, and stays.
  fs::remove_all(incoming);
  fs::create_directories(incoming / "inside");
  for (uint64_t offset : {0, 1}) {
    auto refused = write_incoming(*root_, "t-5", offset, "x");
    ASSERT_FALSE(refused);
    EXPECT_TRUE(is(refused.error(), errc::not_regular_file)) << render(refused.error());
  }
  EXPECT_TRUE(fs::is_directory(incoming / "inside"));
}
