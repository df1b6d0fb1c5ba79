// A store reopening from its index checkpoint, through the facade: an unchanged store reads no file;
// a store changed behind its back (files appended to, compacted, truncated, replaced, deleted, added;
// the checkpoint damaged, foreign, a symlink, a directory, empty) reads exactly the files that differ
// and answers every query as the full scan (the oracle) does. The checkpoint is written aside and
// renamed, saved periodically, handed between writers, and read-only stores follow a writer's appends.
#include <chrono>
#include <fcntl.h>
#include <random>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/store_internal.hpp" // spawn_store_with_sink
#include "messages/errc.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/index/index_checkpoint.hpp"
#include "src/storage/file_io.hpp"
#include "src/format/uuid.hpp"
#include "src/storage/full_scan.hpp"
#include "src/storage/store_layout.hpp"
#include "support/external_line.hpp"
#include "support/equivalence.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> task_names = {"", "task-0", "task-1", "task-2", "task-3",
                                             "task-4", "task-5", "task-6", "task-7"};
const std::vector<const char*> types = {"agent:message", "agent:message", "agent:message",
                                        "task:state:running", "task:state:completed",
                                        "orchestrator:decision", "system:accounting:tokens",
                                        "human:message", "merge:queued"};
const std::vector<std::string> prefixes = {"", "agent:", "agent:message", "task:", "task:state:",
                                           "orchestrator:", "system:", "human:", "merge:", "nothing:"};

const timestamp base = *parse_rfc3339("2026-11-01T00:00:00Z");

// A line as the Rust crate (and evstore) writes it, written by hand: another process's append.
void append_bytes(const std::string& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  ASSERT_GE(fd, 0) << file;
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
}

// Replaces `file` with `text` through a new inode (written aside, renamed), as a tool would.
void replace_file(const std::string& file, const std::string& text) {
  spit(file + ".new", text);
  fs::rename(file + ".new", file);
}

/// The store's identity of a file (inode and birth time), as the checkpoint records it.
uint64_t file_id_of_path(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW);
  if (fd < 0)
    return 0;
  auto id = file_id_of(fd);
  ::close(fd);
  return id;
}

uint64_t inode_of(const std::string& file) {
  struct stat sb {};
  return ::lstat(file.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_ino) : 0;
}

// Offsets where lines start in `text` (and its size at the end).
std::vector<size_t> line_starts(const std::string& text) {
  std::vector<size_t> out{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n')
      out.push_back(i + 1);
  return out;
}

class CheckpointReopenTest : public StoreTest {
protected:
  std::string events_file(const std::string& task) const {
    return task.empty() ? root() + "/events.jsonl" : root() + "/" + task + "/events.jsonl";
  }
  std::string checkpoint_file() const {
    return root() + "/index.checkpoint";
  }

  // ~8 tasks and the system task, mixed types, ties and out-of-order timestamps; then closed, which
  // saves the checkpoint.
  void build_store(store_options opts) {
    auto db = open_store(opts);
    ASSERT_TRUE(db);
    std::mt19937_64 rng{7};
    for (int i = 0; i < 160; ++i) {
      auto ev = make_event(task_names[rng() % task_names.size()], types[rng() % types.size()]);
      ev.ts = base + std::chrono::seconds{rng() % 300};
      ASSERT_TRUE(db->append(ev));
    }
    for (const auto& task : task_names) // every task holds at least two lines
      for (int k = 0; k < 2; ++k) {
        auto ev = make_event(task, k == 0 ? "agent:message" : "task:state:running");
        ev.ts = base + std::chrono::seconds{rng() % 300};
        ASSERT_TRUE(db->append(ev));
      }
    ASSERT_TRUE(db->wait_for_index()); // the pass's loads, too, are in the checkpoint
    db.reset();
    ASSERT_TRUE(fs::is_regular_file(checkpoint_file())) << "no checkpoint saved at close";
    ASSERT_FALSE(fs::exists(root() + "/index.checkpoint.tmp"));
  }

  // Every prefix at several limits (and some windows) equals the full scan, event for event.
  void expect_queries_equal_oracle(store& db, const std::string& where) {
    for (const auto& prefix : prefixes) {
      auto all = full_scan_query(root(), prefix, 100'000);
      ASSERT_TRUE(all) << render(all.error());
      for (uint64_t limit : {uint64_t{1}, uint64_t{3}, uint64_t{17}, uint64_t{100'000}}) {
        auto got = db.query_by_type_prefix(prefix, limit);
        ASSERT_TRUE(got) << where << ": " << render(got.error());
        const auto want = newest(all->events, limit);
        ASSERT_EQ(ids_of(got->events), ids_of(want))
          << where << ": prefix '" << prefix << "' limit " << limit;
        ASSERT_TRUE(got->events == want) << where << ": same ids, other content";
      }
    }
    const timestamp since = base + std::chrono::seconds{150};
    for (const auto& prefix : {std::string{}, std::string{"agent:"}}) {
      auto got = db.query_by_type_prefix(prefix, 10, since);
      auto want = full_scan_query(root(), prefix, 10, since);
      ASSERT_TRUE(got && want);
      ASSERT_EQ(ids_of(got->events), ids_of(want->events)) << where << ": windowed '" << prefix << "'";
    }
  }

  index_stats reopen_stats(store& db) {
    auto stats = db.wait_for_index();
    EXPECT_TRUE(stats) << render(stats.error());
    return stats ? *stats : index_stats{};
  }
};

} // namespace

// --- an unchanged store ---

TEST_F(CheckpointReopenTest, AnUnchangedStoreReopensWithoutLoadingAnyFile) {
  build_store(options());
  auto db = open_store();
  ASSERT_TRUE(db);
  auto stats = reopen_stats(*db);
  EXPECT_EQ(stats.checkpoint_tasks, task_names.size());
  EXPECT_EQ(stats.population_loads, 0u);
  EXPECT_EQ(stats.tasks, task_names.size());
  EXPECT_TRUE(stats.complete);
  expect_queries_equal_oracle(*db, "unchanged");
  // Queries answered from the checkpoint alone read lines, never whole files: still nothing loaded.
  auto after = db->index_statistics();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->population_loads, 0u);
}

TEST_F(CheckpointReopenTest, AStoreWithoutCheckpointsLoadsEveryFileAndLeavesTheCheckpointAlone) {
  build_store(options());
  const auto saved = slurp(checkpoint_file());
  auto opts = options();
  opts.index_checkpoint = false;
  {
    auto db = open_store(opts);
    ASSERT_TRUE(db);
    auto stats = reopen_stats(*db);
    EXPECT_EQ(stats.checkpoint_tasks, 0u);
    EXPECT_EQ(stats.population_loads, task_names.size());
    expect_queries_equal_oracle(*db, "checkpoint off");
    must_append(*db, make_event("task-1", "agent:message"));
  }
  EXPECT_EQ(slurp(checkpoint_file()), saved) << "a store with checkpoints off wrote one";
  // The appended task differs from the (older) checkpoint: exactly it is read.
  auto db = open_store();
  auto stats = reopen_stats(*db);
  EXPECT_EQ(stats.checkpoint_tasks, task_names.size());
  EXPECT_EQ(stats.population_loads, 1u);
  expect_queries_equal_oracle(*db, "after checkpoint off");
}

// --- staleness rows ---

namespace {

struct staleness_row {
  const char* name;
  /// Changes the closed store behind its back; returns how many task files now differ from what the
  /// checkpoint knows (-1: the checkpoint itself is unusable, so every file is read).
  std::function<int(CheckpointReopenTest&, std::mt19937_64&)> mutate;
  /// A store that reopens then closes saves a good checkpoint again (false: it cannot replace it).
  bool recovers = true;
};

} // namespace

class CheckpointStalenessTest : public CheckpointReopenTest,
                                public ::testing::WithParamInterface<staleness_row> {
public:
  using CheckpointReopenTest::checkpoint_file;
  using CheckpointReopenTest::events_file;
  using CheckpointReopenTest::root;
  using StoreTest::options;
  temp_dir outside_;
};

namespace {

int append_external(CheckpointReopenTest& t, std::mt19937_64& rng, const std::string& task, int n,
                    const char* type = nullptr) {
  auto& self = static_cast<CheckpointStalenessTest&>(t);
  std::string text;
  for (int i = 0; i < n; ++i)
    text += external_line(task, type ? type : types[rng() % types.size()],
                          base + std::chrono::seconds{rng() % 400});
  append_bytes(self.events_file(task), text);
  return 1;
}

int truncate_to_line(CheckpointReopenTest& t, const std::string& task, size_t drop_lines) {
  auto& self = static_cast<CheckpointStalenessTest&>(t);
  auto text = slurp(self.events_file(task));
  auto starts = line_starts(text);
  EXPECT_GT(starts.size(), drop_lines + 1);
  fs::resize_file(self.events_file(task), starts[starts.size() - 1 - drop_lines]);
  return 1;
}

// Patches the checkpoint in place (same inode), as damage would.
int patch_checkpoint(CheckpointReopenTest& t, const std::function<void(std::string&)>& patch) {
  auto& self = static_cast<CheckpointStalenessTest&>(t);
  auto bytes = slurp(self.checkpoint_file());
  patch(bytes);
  int fd = ::open(self.checkpoint_file().c_str(), O_WRONLY | O_TRUNC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  return -1;
}

CheckpointStalenessTest& self_of(CheckpointReopenTest& t) {
  return static_cast<CheckpointStalenessTest&>(t);
}

const std::vector<staleness_row> staleness_rows = {
  {"FileAppendedExternally",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) { return append_external(t, rng, "task-3", 5); }},
  {"FileAppendedExternallyWithANewType",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) {
     append_external(t, rng, "task-4", 2, "rare:once");
     return append_external(t, rng, "task-4", 1, "agent:message");
   }},
  {"FileAppendedExternallyWithNewestAndOldestTimestamps",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     append_bytes(s.events_file("task-6"),
                  external_line("task-6", "agent:message", base + std::chrono::hours{100})
                    + external_line("task-6", "agent:message", base - std::chrono::hours{100})
                    + external_line("task-6", "task:state:failed", base));
     return 1;
   }},
  {"FileCompactedByAStoreWithoutCheckpoints",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     const auto before = inode_of(s.events_file("task-2"));
     auto opts = s.options();
     opts.index_checkpoint = false;
     auto db = store::open(opts);
     EXPECT_TRUE(db);
     retention_policy keep;
     keep.max_events = 2;
     keep.max_age = caf::none;
     auto res = (*db)->compact_task("task-2", keep);
     EXPECT_TRUE(res && res->removed > 0);
     db->reset();
     EXPECT_NE(inode_of(s.events_file("task-2")), before);
     return 1;
   }},
  {"FileRewrittenToANewInodeWithoutItsFirstLines",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     auto text = slurp(s.events_file("task-5"));
     replace_file(s.events_file("task-5"), text.substr(line_starts(text)[3]));
     return 1;
   }},
  {"FileTruncatedToALineBoundary",
   [](CheckpointReopenTest& t, std::mt19937_64&) { return truncate_to_line(t, "task-1", 2); }},
  {"FileTruncatedMidLine",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     auto starts = line_starts(slurp(s.events_file("task-1")));
     fs::resize_file(s.events_file("task-1"), starts[starts.size() - 2] + 20);
     return 1;
   }},
  {"FileTruncatedToNothing",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     fs::resize_file(self_of(t).events_file("task-7"), 0);
     return 1;
   }},
  {"FileTruncatedThenRegrownPastItsOldSize",
   // Same inode, longer than known, but no line starts where the checkpoint's knowledge ends.
   [](CheckpointReopenTest& t, std::mt19937_64& rng) {
     auto& s = self_of(t);
     auto text = slurp(s.events_file("task-0"));
     auto starts = line_starts(text);
     const size_t cut = starts[starts.size() - 3];
     fs::resize_file(s.events_file("task-0"), cut);
     std::string more;
     while (cut + more.size() <= text.size() + 5) {
       auto line = external_line("task-0", "human:message", base + std::chrono::seconds{rng() % 400});
       if (cut + more.size() + line.size() == text.size()) // a line would end where the old file did
         line = external_line("task-0", "human:message", base, "pad");
       more += line;
     }
     append_bytes(s.events_file("task-0"), more);
     for (size_t at : line_starts(slurp(s.events_file("task-0"))))
       EXPECT_NE(at, text.size()) << "a line starts where the checkpoint's knowledge ends";
     return 1;
   }},
  {"FileReplacedByAnotherOfTheSameSize",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     auto text = slurp(s.events_file("task-4"));
     const auto before = inode_of(s.events_file("task-4"));
     // Same length, other types: "agent:message" becomes "human:message", "running" "stopped".
     for (auto [from, to] : {std::pair{"agent:message", "human:message"},
                             std::pair{"task:state:running", "task:state:stopped"}})
       for (size_t at; (at = text.find(from)) != std::string::npos;)
         text.replace(at, std::strlen(from), to);
     EXPECT_EQ(text.size(), fs::file_size(s.events_file("task-4")));
     replace_file(s.events_file("task-4"), text);
     EXPECT_NE(inode_of(s.events_file("task-4")), before);
     return 1;
   }},
  {"TaskDirectoryDeleted",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     fs::remove_all(self_of(t).root() + "/task-6");
     return 1;
   }},
  {"TaskFileDeletedDirectoryKept",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     fs::remove(self_of(t).events_file("task-0"));
     return 1;
   }},
  {"TaskAdded",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) {
     fs::create_directories(self_of(t).root() + "/task-new");
     return append_external(t, rng, "task-new", 4);
   }},
  {"SystemTaskAppendedTo",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) { return append_external(t, rng, "", 3); }},
  {"SeveralChangesAtOnce",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) {
     append_external(t, rng, "task-1", 2);
     truncate_to_line(t, "task-2", 1);
     fs::remove_all(self_of(t).root() + "/task-3");
     fs::create_directories(self_of(t).root() + "/task-extra");
     append_external(t, rng, "task-extra", 1);
     return 4;
   }},
  {"CheckpointTruncated",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b.resize(b.size() / 2); });
   }},
  {"CheckpointTruncatedInsideItsHeader",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b.resize(20); });
   }},
  {"CheckpointBitFlippedInItsPayload",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b[b.size() - 7] ^= 0x10; });
   }},
  {"CheckpointBitFlippedInItsLength",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b[24] ^= 0x01; });
   }},
  {"CheckpointReplacedByGarbage",
   [](CheckpointReopenTest& t, std::mt19937_64& rng) {
     return patch_checkpoint(t, [&](std::string& b) {
       for (auto& c : b)
         c = static_cast<char>(rng());
     });
   }},
  {"CheckpointOfAnOlderFormatVersion",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) {
       ASSERT_EQ(b[8], static_cast<char>(checkpoint_format_version));
       b[8] = static_cast<char>(checkpoint_format_version - 1);
     });
   }},
  {"CheckpointOfAnotherDevice",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b[16] ^= 0x40; });
   }},
  {"CheckpointWithTrailingGarbage",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b += "trailing"; });
   }},
  {"CheckpointEmpty",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     return patch_checkpoint(t, [](std::string& b) { b.clear(); });
   }},
  {"CheckpointDeleted",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     fs::remove(self_of(t).checkpoint_file());
     return -1;
   }},
  {"CheckpointIsADirectory",
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     fs::remove(s.checkpoint_file());
     fs::create_directory(s.checkpoint_file());
     return -1;
   },
   /*recovers=*/false},
  {"CheckpointIsASymlinkOutsideTheRoot",
   // The target is a valid checkpoint of this very store, as it was: if followed, it would be used.
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     const auto target = s.outside_.str("elsewhere.checkpoint");
     fs::copy_file(s.checkpoint_file(), target);
     fs::remove(s.checkpoint_file());
     fs::create_symlink(target, s.checkpoint_file());
     return -1;
   }},
  {"CheckpointTempLeftOverFromACrash",
   // A torn index.checkpoint.tmp is ignored; the checkpoint itself is good.
   [](CheckpointReopenTest& t, std::mt19937_64&) {
     auto& s = self_of(t);
     auto bytes = slurp(s.checkpoint_file());
     spit(s.root() + "/index.checkpoint.tmp", bytes.substr(0, bytes.size() / 3));
     return 0;
   }},
};

std::string row_name(const ::testing::TestParamInfo<staleness_row>& info) {
  return info.param.name;
}

} // namespace

TEST_P(CheckpointStalenessTest, ReopenReadsExactlyTheFilesThatDifferAndAnswersAsTheFullScan) {
  const auto& row = GetParam();
  build_store(options());
  std::mt19937_64 rng{std::hash<std::string>{}(row.name)};
  const int differ = row.mutate(*this, rng);
  if (HasFailure())
    return;
  const auto outside_before = snapshot_tree(outside_.path());
  auto on_disk = list_task_ids(root());
  ASSERT_TRUE(on_disk);
  const uint64_t files = on_disk->size();
  {
    auto db = open_store();
    ASSERT_TRUE(db);
    auto stats = reopen_stats(*db);
    EXPECT_TRUE(stats.complete);
    EXPECT_EQ(stats.tasks, files);
    if (differ < 0) {
      EXPECT_EQ(stats.checkpoint_tasks, 0u) << "an unusable checkpoint was used";
      EXPECT_EQ(stats.population_loads, files);
    } else {
      EXPECT_EQ(stats.checkpoint_tasks, task_names.size());
      EXPECT_EQ(stats.population_loads, static_cast<uint64_t>(differ));
    }
    expect_queries_equal_oracle(*db, std::string(row.name) + ", reopened");
    // And it keeps answering exactly after appends of its own (to a known, a changed and a new task).
    for (const auto& task : {std::string{"task-1"}, std::string{"task-3"}, std::string{"task-added-later"}}) {
      auto ev = make_event(task, "agent:message");
      ev.ts = base + std::chrono::seconds{rng() % 400};
      must_append(*db, ev);
    }
    expect_queries_equal_oracle(*db, std::string(row.name) + ", after appends");
  }
  EXPECT_EQ(snapshot_tree(outside_.path()), outside_before) << "a file outside the root changed";
  EXPECT_FALSE(fs::exists(root() + "/index.checkpoint.tmp")) << "a temp file was left behind";
  // Closed again, it saved what it knows: the next open reads nothing (unless the checkpoint's
  // name cannot be replaced, as with a directory there).
  auto db = open_store();
  ASSERT_TRUE(db);
  auto stats = reopen_stats(*db);
  auto now_on_disk = list_task_ids(root());
  ASSERT_TRUE(now_on_disk);
  if (row.recovers) {
    struct stat sb {};
    ASSERT_EQ(::lstat(checkpoint_file().c_str(), &sb), 0);
    EXPECT_TRUE(S_ISREG(sb.st_mode)) << "the checkpoint is not a regular file after a save";
    EXPECT_EQ(stats.checkpoint_tasks, now_on_disk->size());
    EXPECT_EQ(stats.population_loads, 0u);
  } else {
    EXPECT_EQ(stats.checkpoint_tasks, 0u);
    EXPECT_EQ(stats.population_loads, now_on_disk->size());
  }
  expect_queries_equal_oracle(*db, std::string(row.name) + ", reopened twice");
}

INSTANTIATE_TEST_SUITE_P(Rows, CheckpointStalenessTest, ::testing::ValuesIn(staleness_rows), row_name);

TEST_F(CheckpointReopenTest, ADeletedTaskTouchedBeforePopulationReachesItLeavesTheIndexWhole) {
  build_store(options());
  // Many files that differ, so the pass is busy when the store is asked about the deleted task (a
  // known task that is gone comes last in the pass's plan).
  std::mt19937_64 rng{21};
  for (int i = 0; i < 300; ++i) {
    const auto task = "busy-" + std::to_string(i);
    fs::create_directories(root() + "/" + task);
    append_bytes(events_file(task), external_line(task, "agent:message", base));
  }
  fs::remove_all(root() + "/task-2");
  auto opts = options();
  opts.population_window = 1;
  auto db = open_store(opts);
  ASSERT_TRUE(db);
  retention_policy keep;
  keep.max_events = 1;
  keep.max_age = caf::none;
  ASSERT_TRUE(db->compact_task("task-2", keep)); // loads task-2's writer: its file is gone
  auto stats = reopen_stats(*db);
  EXPECT_EQ(stats.population_loads, 301u);
  // The pass may count task-2 as reported (by the compaction's load) before its own load of it
  // lands: give that load time to arrive.
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  auto got = db->query_by_type_prefix("", 100'000);
  ASSERT_TRUE(got) << render(got.error());
  expect_queries_equal_oracle(*db, "deleted task compacted during population");
}

// --- how the checkpoint is written ---

TEST_F(CheckpointReopenTest, TheCheckpointIsWrittenAsideAndRenamedSoNoTempFileRemains) {
  // A torn temp file from a crash is there before the store opens.
  fs::create_directories(root());
  spit(root() + "/index.checkpoint.tmp", "EVSTCKPT torn");
  auto db = open_store();
  ASSERT_TRUE(db);
  // Let the first population pass finish, so the checkpoint holds what it read.
  ASSERT_TRUE(db->wait_for_index());
  must_append(*db, make_event("t", "agent:message"));
  db.reset();
  EXPECT_FALSE(fs::exists(root() + "/index.checkpoint.tmp"));
  auto bytes = slurp(checkpoint_file());
  auto sroot = open_store_root(root(), true);
  ASSERT_TRUE(sroot);
  std::vector<task_summary> tasks;
  auto err = decode_checkpoint(bytes, checkpoint_scope{4, device_of(**sroot)},
                               [&](task_summary& t) { tasks.push_back(t); });
  ASSERT_FALSE(err) << render(err);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].task, "t");
  EXPECT_EQ(tasks[0].events, 1u);
  EXPECT_EQ(tasks[0].bytes, fs::file_size(events_file("t")));
  EXPECT_EQ(tasks[0].file_id, file_id_of_path(events_file("t")));
}

TEST_F(CheckpointReopenTest, ARunningStoreSavesItsCheckpointEveryInterval) {
  auto opts = options();
  opts.checkpoint_interval = std::chrono::milliseconds{50};
  auto db = open_store(opts);
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->wait_for_index());
  std::map<std::string, uint64_t> appended;
  for (int i = 0; i < 60; ++i) {
    auto task = "task-" + std::to_string(i % 7);
    must_append(*db, make_event(task, types[static_cast<size_t>(i) % types.size()]));
    ++appended[task];
  }
  auto sroot = open_store_root(root(), true);
  ASSERT_TRUE(sroot);
  const checkpoint_scope here{static_cast<uint32_t>(opts.index_sketch_size), device_of(**sroot)};
  // Within a few intervals (generously: sanitizer builds are slow), the file holds every append.
  std::map<std::string, task_summary> saved;
  std::string why = "no checkpoint";
  for (int tries = 0; tries < 100; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds{tries == 0 ? 300 : 50});
    saved.clear();
    auto err = decode_checkpoint(slurp(checkpoint_file()), here,
                                 [&](task_summary& t) { saved[t.task] = t; });
    if (err) {
      why = render(err);
      continue;
    }
    uint64_t events = 0;
    for (auto& [task, t] : saved)
      events += t.events;
    if (events == 60)
      break;
    why = std::to_string(events) + " events saved";
  }
  ASSERT_EQ(saved.size(), appended.size()) << why;
  for (auto& [task, count] : appended) {
    SCOPED_TRACE(task);
    ASSERT_EQ(saved.count(task), 1u);
    EXPECT_EQ(saved[task].events, count);
    EXPECT_EQ(saved[task].bytes, fs::file_size(events_file(task)));
    EXPECT_EQ(saved[task].file_id, file_id_of_path(events_file(task)));
  }
  EXPECT_TRUE(fs::exists(root() + "/LOCK")) << "the store is still open";
  // Nothing changed since: no new save (the file keeps its inode).
  const auto inode = inode_of(checkpoint_file());
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_EQ(inode_of(checkpoint_file()), inode) << "saved again although nothing changed";
}

TEST_F(CheckpointReopenTest, ZeroIntervalSavesOnlyAtClose) {
  auto opts = options();
  opts.checkpoint_interval = std::chrono::milliseconds{0};
  int missing = 0;
  const int rounds = 10;
  for (int round = 0; round < rounds; ++round) {
    auto db = open_store(opts);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->wait_for_index());
    must_append(*db, make_event("t" + std::to_string(round), "agent:message"));
    std::this_thread::sleep_for(std::chrono::milliseconds{round == 0 ? 200 : 20});
    if (round == 0) {
      EXPECT_FALSE(fs::exists(checkpoint_file())) << "saved before the close";
    }
    db.reset();
    auto sroot = open_store_root(root(), true);
    ASSERT_TRUE(sroot);
    uint64_t tasks = 0;
    auto err = decode_checkpoint(slurp(checkpoint_file()), checkpoint_scope{4, device_of(**sroot)},
                                 [&](task_summary&) { ++tasks; });
    if (err || tasks != static_cast<uint64_t>(round + 1))
      ++missing;
  }
  EXPECT_EQ(missing, 0) << "rounds whose close did not save the checkpoint";
}

// --- writers hand their knowledge on ---

TEST_F(CheckpointReopenTest, AColdAppendReadsNothingItsRetiredWriterKnew) {
  // The observable: what the task's writer reports when it loads. A writer that starts from its
  // predecessor's knowledge reports an extension with no lines; one that read the file reports a
  // whole summary.
  {
    auto db = open_store(); // a file to begin with, loaded at open in the next store
    for (int i = 0; i < 20; ++i)
      must_append(*db, make_event("t", i % 3 ? "agent:message" : "task:state:running"));
  }
  fs::remove(checkpoint_file()); // so the population pass loads "t" (reported before any append)
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto sink = sys.spawn(
    [](notification_sink::pointer, caf::actor out) -> notification_sink::behavior_type {
      return {
        [=](const task_summary& x) {
          caf::anon_send(out, "summary " + x.task + " " + std::to_string(x.events));
        },
        [=](const appended& x) { caf::anon_send(out, "appended " + x.task); },
        [=](const compacted& x) { caf::anon_send(out, "compacted " + x.task); },
        [=](const task_removed& x) { caf::anon_send(out, "removed " + x.task); },
        [=](const task_extended& x) {
          caf::anon_send(out, "extended " + x.task + " from " + std::to_string(x.from_events) + " +"
                                + std::to_string(x.lines.size()));
        },
      };
    },
    caf::actor{self});
  auto opts = options();
  opts.writer_idle_timeout = std::chrono::milliseconds{20};
  auto store = spawn_store_with_sink(sys, opts, sink);
  ASSERT_TRUE(store) << render(store.error());
  auto next = [&] {
    std::string what = "<nothing>";
    self->receive([&](const std::string& x) { what = x; },
                  caf::after(std::chrono::seconds{10}) >> [] {});
    return what;
  };
  auto append = [&] {
    self->request(*store, caf::infinite, append_request{make_event("t", "agent:message"), caf::none})
      .receive([](const append_result&) {}, [](caf::error& err) { FAIL() << render(err); });
  };
  auto wait_retired = [&] {
    for (int tries = 0; tries < 500; ++tries) {
      uint64_t live = 1;
      self->request(*store, caf::infinite, stats_request{})
        .receive([&](const index_stats& st) { live = st.live_writers; },
                 [](caf::error& err) { FAIL() << render(err); });
      if (live == 0)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return false;
  };
  self->request(*store, caf::infinite, await_index_request{})
    .receive([](const index_stats& st) { EXPECT_EQ(st.population_loads, 1u); },
             [](caf::error& err) { FAIL() << render(err); });
  EXPECT_EQ(next(), "summary t 20"); // the population pass read the file once
  ASSERT_TRUE(wait_retired());
  // The file is as the index knows it: the writer says nothing of the load (no summary: it read
  // nothing; no extension: there was nothing to add), only the append.
  append();
  EXPECT_EQ(next(), "appended t") << "the cold append's writer read the file again";
  ASSERT_TRUE(wait_retired());
  append();
  EXPECT_EQ(next(), "appended t");
  // Another process appends while no writer is live: the next writer reads only that line.
  ASSERT_TRUE(wait_retired());
  std::mt19937_64 rng{3};
  append_bytes(events_file("t"), external_line("t", "human:message", base));
  append();
  EXPECT_EQ(next(), "extended t from 22 +1");
  EXPECT_EQ(next(), "appended t");
  caf::anon_send_exit(*store, caf::exit_reason::user_shutdown);
  self->wait_for(*store);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  // The oracle agrees with what a fresh store answers. The lock is free once the index and its
  // saver have stopped too, shortly after the store.
  caf::expected<std::unique_ptr<evstore::store>> reopened = caf::make_error(errc::store_locked);
  for (int tries = 0; tries < 500 && !reopened; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    reopened = evstore::store::open(options());
  }
  ASSERT_TRUE(reopened) << render(reopened.error());
  auto& db = *reopened;
  auto got = db->query_by_type_prefix("", 1000);
  auto want = full_scan_query(root(), "", 1000);
  ASSERT_TRUE(got && want);
  EXPECT_EQ(ids_of(got->events), ids_of(want->events));
  EXPECT_EQ(got->events.size(), 24u);
}

// --- read-only stores ---

TEST_F(CheckpointReopenTest, AReadOnlyStoreSeesAWritersAppendsAfterExternalChangeCheck) {
  build_store(options());
  auto writer = open_store();
  ASSERT_TRUE(writer);
  auto ro_opts = options();
  ro_opts.read_only = true;
  ro_opts.external_change_check = std::chrono::milliseconds{50};
  auto reader = open_store(ro_opts);
  ASSERT_TRUE(reader);
  auto stats = reopen_stats(*reader);
  EXPECT_EQ(stats.checkpoint_tasks, task_names.size()) << "read-only opens load the checkpoint";
  EXPECT_EQ(stats.population_loads, 0u);
  expect_queries_equal_oracle(*reader, "read-only, before");
  std::mt19937_64 rng{11};
  for (int i = 0; i < 30; ++i) {
    auto task = i % 5 == 0 ? "ro-new-" + std::to_string(i) : task_names[rng() % task_names.size()];
    auto ev = make_event(task, types[rng() % types.size()]);
    ev.ts = base + std::chrono::seconds{250 + rng() % 200}; // many newer than everything before
    must_append(*writer, ev);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{120});
  auto latest = reader->query_by_type_prefix("", 100'000);
  ASSERT_TRUE(latest);
  auto want = full_scan_query(root(), "", 100'000);
  ASSERT_TRUE(want);
  EXPECT_EQ(latest->events.size(), want->events.size()) << "the read-only store missed appends";
  expect_queries_equal_oracle(*reader, "read-only, after the writer's appends");
  // It never wrote: the checkpoint is the writer's (saved at the build), and no temp file.
  EXPECT_FALSE(fs::exists(root() + "/index.checkpoint.tmp"));
  reader.reset();
  // The writer's own view is exact too.
  expect_queries_equal_oracle(*writer, "writer");
}

TEST_F(CheckpointReopenTest, AReadOnlyStoreFollowsATruncationAndADeletionBehindIt) {
  build_store(options());
  auto ro_opts = options();
  ro_opts.read_only = true;
  ro_opts.external_change_check = std::chrono::milliseconds{0};
  auto reader = open_store(ro_opts);
  ASSERT_TRUE(reader);
  expect_queries_equal_oracle(*reader, "read-only, before");
  auto text = slurp(events_file("task-2"));
  auto starts = line_starts(text);
  fs::resize_file(events_file("task-2"), starts[starts.size() - 3]);
  fs::remove_all(root() + "/task-5");
  std::mt19937_64 rng{5};
  append_bytes(events_file("task-3"), external_line("task-3", "agent:message",
                                                    base + std::chrono::hours{1}));
  expect_queries_equal_oracle(*reader, "read-only, after changes behind it");
}

TEST_F(CheckpointReopenTest, AReadOnlyStoreNeverFailsAQueryWhileTheWriterCompactsAndIsExactAfterAPause) {
  // Queries in a burst may answer from the file as it was up to external_change_check ago, but
  // must not fail when a compaction makes their plan stale; after a pause they equal the full scan.
  build_store(options());
  auto writer = open_store();
  ASSERT_TRUE(writer);
  auto ro_opts = options();
  ro_opts.read_only = true;
  ro_opts.external_change_check = std::chrono::milliseconds{40};
  auto reader = open_store(ro_opts);
  ASSERT_TRUE(reader);
  std::mt19937_64 rng{17};
  retention_policy keep;
  keep.max_age = caf::none;
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 10; ++i) {
      auto ev = make_event(task_names[rng() % task_names.size()], types[rng() % types.size()]);
      ev.ts = base + std::chrono::seconds{300 + round * 20 + i};
      must_append(*writer, ev);
    }
    keep.max_events = 1 + rng() % 4;
    ASSERT_TRUE(writer->compact_task(task_names[rng() % task_names.size()], keep));
    for (int q = 0; q < 5; ++q) { // a burst: each may be stale, none may fail
      auto got = reader->query_by_type_prefix(q % 2 ? "" : "agent:", 5);
      ASSERT_TRUE(got) << "round " << round << ": " << render(got.error());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{60});
    expect_queries_equal_oracle(*reader, "read-only after round " + std::to_string(round));
  }
}
