// The hostile file system table (SPEC §4, issue 10 item 5): symbolic links, FIFOs, devices and
// directories where the store keeps its files. Each row plants one thing, runs one operation, and
// checks the error it expects, that the operation returned at all (a FIFO must not hang it), that
// nothing beside the root changed (a sentinel directory the links point into), and that the root is
// byte for byte as it was unless the row says how it may change.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "src/storage/file_io.hpp"
#include "src/storage/store_files.hpp"
#include "src/storage/store_layout.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

const std::string valid_line =
  R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:created","task":"t",)"
  R"("actor":"agent","ts":"2026-01-02T03:04:05Z","data":{},"schema_version":1})"
  "\n";

} // namespace

class StoreFilesTest : public StoreTest {
protected:
  void SetUp() override {
    fs::create_directories(outside());
    spit(outside() / "victim.jsonl", valid_line); // what links point at; must never change
    fs::create_directories(outside() / "dir");
    // A FIFO must not hang anything: if it does, the alarm ends the test as a failure.
    ::alarm(60);
  }
  void TearDown() override {
    ::alarm(0);
  }

  fs::path outside() const {
    return dir_.path() / "outside";
  }
  fs::path in_root(const std::string& rel) const {
    return fs::path(root()) / rel;
  }
  /// A store with one event in task "t" and one system-wide, then closed.
  void make_store() {
    auto db = open_store();
    must_append(*db, make_event("t", "task:created"));
    must_append(*db, make_event("", "system:started"));
  }
};

struct hostile_row {
  const char* name;
  /// Plants the hostile entry (the store exists and is closed).
  std::function<void(const fs::path& root, const fs::path& outside)> plant;
  /// The operation, on a store opened afterwards; returns its error (none if it succeeded).
  std::function<caf::error(store& db)> op;
  errc expected;
  /// The root may change (e.g. compaction may remove a stale temporary link).
  bool root_may_change = false;
};

template <class T>
caf::error error_of(const caf::expected<T>& x) {
  return x ? caf::error{} : x.error();
}

TEST_F(StoreFilesTest, EveryHostileEntryIsRefusedAndNothingOutsideTheRootChanges) {
  auto link_log_to_victim = [](const fs::path& root, const fs::path& out) {
    fs::remove(root / "t" / events_file_name);
    fs::create_symlink(out / "victim.jsonl", root / "t" / events_file_name);
  };
  auto fifo_log = [](const fs::path& root, const fs::path&) {
    fs::remove(root / "t" / events_file_name);
    ASSERT_EQ(::mkfifo((root / "t" / events_file_name).c_str(), 0644), 0);
  };
  auto dir_log = [](const fs::path& root, const fs::path&) {
    fs::remove(root / "t" / events_file_name);
    fs::create_directory(root / "t" / events_file_name);
  };
  auto link_task_dir = [](const fs::path& root, const fs::path& out) {
    fs::remove_all(root / "t");
    fs::create_symlink(out / "dir", root / "t");
  };
  auto link_system_log = [](const fs::path& root, const fs::path& out) {
    fs::remove(root / events_file_name);
    fs::create_symlink(out / "victim.jsonl", root / events_file_name);
  };
  // A second name for the victim, inside the store: writing through it would change the victim.
  auto hard_link_log = [](const fs::path& root, const fs::path& out) {
    fs::remove(root / "t" / events_file_name);
    fs::create_hard_link(out / "victim.jsonl", root / "t" / events_file_name);
  };
  auto append_t = [](store& db) { return error_of(db.append(make_event("t", "task:state:x"))); };
  auto read_t = [](store& db) { return error_of(db.read_task("t")); };
  auto compact_t = [](store& db) {
    retention_policy keep_none;
    keep_none.max_events = 0;
    return error_of(db.compact_task("t", keep_none));
  };
  auto append_sys = [](store& db) { return error_of(db.append(make_event("", "system:x"))); };
  auto read_sys = [](store& db) { return error_of(db.read_task("")); };

  std::vector<hostile_row> rows = {
    {"symlinked log, append", link_log_to_victim, append_t, errc::not_regular_file},
    {"symlinked log, read", link_log_to_victim, read_t, errc::not_regular_file},
    {"symlinked log, compact", link_log_to_victim, compact_t, errc::not_regular_file},
    {"FIFO log, append", fifo_log, append_t, errc::not_regular_file},
    {"FIFO log, read", fifo_log, read_t, errc::not_regular_file},
    {"FIFO log, compact", fifo_log, compact_t, errc::not_regular_file},
    {"directory as log, append", dir_log, append_t, errc::not_regular_file},
    {"directory as log, read", dir_log, read_t, errc::not_regular_file},
    {"hard-linked log, append", hard_link_log, append_t, errc::not_regular_file},
    {"hard-linked log, read", hard_link_log, read_t, errc::none},
    {"hard-linked log, query finds its event",
     hard_link_log,
     [](store& db) {
       auto found = db.query_by_type_prefix("task:", 10);
       if (!found)
         return found.error();
       EXPECT_EQ(found->events.size(), 1u);
       return caf::error{};
     },
     errc::none},
    // Compaction writes a new file and renames it over the name: the other name keeps its bytes.
    {"hard-linked log, compact", hard_link_log, compact_t, errc::none, /*root_may_change=*/true},
    {"hard-linked system log, append",
     [](const fs::path& root, const fs::path& out) {
       fs::remove(root / events_file_name);
       fs::create_hard_link(out / "victim.jsonl", root / events_file_name);
     },
     append_sys, errc::not_regular_file},
    {"hard-linked events.corrupt, compact",
     [](const fs::path& root, const fs::path& out) {
       std::ofstream(root / "t" / events_file_name, std::ios::app) << "not json\n";
       fs::create_hard_link(out / "victim.jsonl", root / "t" / corrupt_file_name);
     },
     compact_t, errc::not_regular_file},
    {"symlinked task dir, append", link_task_dir, append_t, errc::not_regular_file},
    {"symlinked task dir, read", link_task_dir, read_t, errc::not_regular_file},
    {"symlinked task dir, compact", link_task_dir, compact_t, errc::not_regular_file},
    {"symlinked system log, append", link_system_log, append_sys, errc::not_regular_file},
    {"symlinked system log, read", link_system_log, read_sys, errc::not_regular_file},
    {"symlinked events.corrupt, compact",
     [](const fs::path& root, const fs::path& out) {
       std::ofstream(root / "t" / events_file_name, std::ios::app) << "not json\n";
       fs::create_symlink(out / "victim.jsonl", root / "t" / corrupt_file_name);
     },
     compact_t, errc::not_regular_file},
    {"symlinked compaction temp file, compact",
     [](const fs::path& root, const fs::path& out) {
       fs::create_symlink(out / "victim.jsonl", root / "t" / compact_temp_file_name);
     },
     compact_t, errc::none, /*root_may_change=*/true},
    {"symlinked task dir, cleanup",
     [](const fs::path& root, const fs::path& out) {
       fs::create_symlink(out / "dir", root / "empty-elsewhere");
     },
     [](store& db) { return error_of(db.cleanup_orphaned_tasks()); }, errc::none},
  };
  if (::geteuid() == 0) { // only root may make device nodes; /dev/zero would exhaust memory
    rows.push_back({"character device as log, read",
                    [](const fs::path& root, const fs::path&) {
                      fs::remove(root / "t" / events_file_name);
                      ASSERT_EQ(::mknod((root / "t" / events_file_name).c_str(),
                                        S_IFCHR | 0644, makedev(1, 5)), 0);
                    },
                    read_t, errc::not_regular_file});
  }
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    fs::remove_all(root());
    make_store();
    row.plant(root(), outside());
    const auto root_before = snapshot_tree(root());
    const auto outside_before = snapshot_tree(outside());
    {
      auto db = open_store();
      auto err = row.op(*db);
      if (row.expected == errc::none)
        EXPECT_FALSE(err) << render(err);
      else
        EXPECT_TRUE(is(err, row.expected)) << render(err);
      // The store keeps serving the other task.
      auto other = db->append(make_event("other", "task:created"));
      EXPECT_TRUE(other) << render(other.error());
    }
    EXPECT_EQ(snapshot_tree(outside()), outside_before);
    auto root_after = snapshot_tree(root());
    for (auto it = root_after.begin(); it != root_after.end();)
      it = it->first.rfind("other", 0) == 0 ? root_after.erase(it) : std::next(it);
    if (!row.root_may_change) {
      auto expected = root_before;
      for (auto it = expected.begin(); it != expected.end();)
        it = it->first.rfind("other", 0) == 0 ? expected.erase(it) : std::next(it);
      // LOCK holds the pid of whoever opened the store last; the checkpoint, what the index knew
      // at close, which includes the "other" task.
      for (const char* name : {lock_file_name, checkpoint_file_name}) {
        expected.erase(name);
        root_after.erase(name);
      }
      EXPECT_EQ(root_after, expected);
    }
  }
}

TEST_F(StoreFilesTest, ALinkedLockIsRefusedAndWhatItNamesUntouched) {
  using link_fn = void (*)(const fs::path&, const fs::path&);
  const std::pair<const char*, link_fn> rows[] = {
    {"symbolic link", [](const fs::path& to, const fs::path& at) { fs::create_symlink(to, at); }},
    {"hard link", [](const fs::path& to, const fs::path& at) { fs::create_hard_link(to, at); }},
  };
  for (const auto& [what, link] : rows) {
    SCOPED_TRACE(what);
    fs::remove_all(root());
    make_store();
    fs::remove(in_root(lock_file_name));
    link(outside() / "victim.jsonl", in_root(lock_file_name));
    auto db = store::open(options());
    ASSERT_FALSE(db);
    EXPECT_TRUE(is(db.error(), errc::not_regular_file)) << render(db.error());
    EXPECT_EQ(slurp(outside() / "victim.jsonl"), valid_line);
  }
}

// `cp -al` of a running store: the writer holds the log open, and its next append would change the
// copy too. The fstat each append makes sees the second name; the reopen refuses to write.
TEST_F(StoreFilesTest, AHardLinkMadeWhileALogIsOpenStopsItsAppendsAndLeavesTheOtherNameAlone) {
  auto db = open_store();
  must_append(*db, make_event("t", "task:created"));
  const auto copy = outside() / "copy.jsonl";
  fs::create_hard_link(in_root("t") / events_file_name, copy);
  const auto before = slurp(copy);
  auto refused = db->append(make_event("t", "task:state:x"));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::not_regular_file)) << render(refused.error());
  EXPECT_EQ(slurp(copy), before);
  auto read = db->read_task("t");
  ASSERT_TRUE(read) << render(read.error());
  EXPECT_EQ(read->events.size(), 1u);
  EXPECT_TRUE(db->append(make_event("other", "task:created")));
  // The copy removed, the log is the store's own again.
  fs::remove(copy);
  EXPECT_TRUE(db->append(make_event("t", "task:state:x")));
}

TEST_F(StoreFilesTest, ASymlinkedFormatVersionTempFileIsReplacedNotWrittenThrough) {
  fs::create_directories(root());
  fs::create_symlink(outside() / "victim.jsonl", in_root(format_version_temp_file_name));
  auto db = open_store();
  EXPECT_EQ(slurp(in_root(format_version_file_name)), "1\n");
  EXPECT_EQ(slurp(outside() / "victim.jsonl"), valid_line);
  EXPECT_FALSE(fs::exists(fs::symlink_status(in_root(format_version_temp_file_name))));
}

TEST_F(StoreFilesTest, ASymlinkedFormatVersionIsRefused) {
  fs::create_directories(root());
  spit(outside() / "version", "1\n");
  fs::create_symlink(outside() / "version", in_root(format_version_file_name));
  auto db = store::open(options());
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), errc::not_regular_file)) << render(db.error());
}

TEST_F(StoreFilesTest, AnEmptyOrTornFormatVersionSaysHowToRepairIt) {
  for (std::string damaged : {"", "\n", "x", " 1\n"}) {
    SCOPED_TRACE("format_version '" + damaged + "'");
    fs::remove_all(root());
    fs::create_directories(root());
    spit(in_root(format_version_file_name), damaged);
    auto db = store::open(options());
    ASSERT_FALSE(db);
    EXPECT_TRUE(is(db.error(), errc::unsupported_format));
    EXPECT_NE(render(db.error()).find("printf '1\\n' >"), std::string::npos) << render(db.error());
    EXPECT_EQ(slurp(in_root(format_version_file_name)), damaged);
  }
}

TEST_F(StoreFilesTest, SymlinkedOrSpecialEntriesAreNotListedAsTasks) {
  make_store();
  fs::create_symlink(outside() / "dir", in_root("linked"));
  fs::create_directories(in_root("fifo"));
  ASSERT_EQ(::mkfifo((in_root("fifo") / events_file_name).c_str(), 0644), 0);
  auto tasks = list_task_ids(root());
  ASSERT_TRUE(tasks);
  EXPECT_EQ(*tasks, (std::vector<std::string>{"", "t"}));
}

TEST_F(StoreFilesTest, DeletingLockWhileTheStoreRunsStopsItsCompactions) {
  auto db = open_store();
  must_append(*db, make_event("t", "task:created"));
  must_append(*db, make_event("t", "task:created"));
  fs::remove(in_root(lock_file_name));
  // Now a second process could take a fresh LOCK and write: this one must not rewrite files.
  retention_policy keep_one;
  keep_one.max_events = 1;
  auto res = db->compact_task("t", keep_one);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::lock_lost)) << render(res.error());
  auto all = db->compact_all(keep_one);
  ASSERT_FALSE(all);
  EXPECT_EQ(db->read_task("t")->events.size(), 2u);
}

TEST_F(StoreFilesTest, ReplacingLockWhileTheStoreRunsStopsItsCompactions) {
  auto db = open_store();
  must_append(*db, make_event("t", "task:created"));
  fs::remove(in_root(lock_file_name));
  spit(in_root(lock_file_name), "999999\n");
  auto res = db->compact_task("t", retention_policy{});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::lock_lost)) << render(res.error());
}

TEST(StoreRoot, OpensOnlyRegularFilesBelowTheRoot) {
  temp_dir dir;
  fs::create_directories(dir.path() / "r" / "t");
  spit(dir.path() / "r" / "t" / "f", "x");
  ::mkfifo((dir.path() / "r" / "t" / "p").c_str(), 0644);
  fs::create_symlink(dir.path() / "r" / "t" / "f", dir.path() / "r" / "t" / "l");
  auto root = store_root::open(dir.str("r"), false);
  ASSERT_TRUE(root);
  auto f = (*root)->open_file("t", "f", O_RDONLY);
  ASSERT_TRUE(f);
  EXPECT_TRUE(*f);
  auto missing = (*root)->open_file("t", "nope", O_RDONLY);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  for (int flags : {O_RDONLY, O_RDWR, O_WRONLY | O_APPEND}) {
    auto p = (*root)->open_file("t", "p", flags);
    EXPECT_FALSE(p);
    auto l = (*root)->open_file("t", "l", flags);
    EXPECT_FALSE(l);
  }
  auto created = (*root)->open_file("t", "l", O_WRONLY | O_CREAT);
  EXPECT_FALSE(created); // O_CREAT on a symlink neither follows it nor replaces it
  EXPECT_EQ(slurp(dir.path() / "r" / "t" / "f"), "x");
}

// open_file walks "task/name" in one call that refuses links: a task directory that is a link to a
// directory holding a plain file of that name (which a stat through the link takes for a regular
// file) is still refused, for reading and for writing, and the file behind it is untouched; a
// plain file's identity and size come with it.
TEST(StoreRoot, AFileReachedThroughALinkedTaskDirectoryIsRefusedAndAPlainOneComesWithItsFacts) {
  temp_dir dir;
  fs::create_directories(dir.path() / "r" / "t");
  fs::create_directories(dir.path() / "elsewhere");
  spit(dir.path() / "r" / "t" / "f", "abc");
  spit(dir.path() / "elsewhere" / "f", "victim");
  fs::create_symlink(dir.path() / "elsewhere", dir.path() / "r" / "linked");
  auto root = store_root::open(dir.str("r"), false);
  ASSERT_TRUE(root);
  for (int flags : {O_RDONLY, O_RDWR | O_APPEND, O_WRONLY | O_TRUNC}) {
    auto through = (*root)->open_file("linked", "f", flags);
    ASSERT_FALSE(through) << flags;
    EXPECT_TRUE(is(through.error(), errc::not_regular_file)) << render(through.error());
  }
  EXPECT_EQ(slurp(dir.path() / "elsewhere" / "f"), "victim");
  file_facts facts;
  auto f = (*root)->open_file("t", "f", O_RDONLY, &facts);
  ASSERT_TRUE(f);
  ASSERT_TRUE(*f);
  EXPECT_EQ(facts.size, 3u);
  EXPECT_EQ(facts.id, file_id_of(f->get()));
  EXPECT_NE(facts.id, 0u);
}

TEST_F(StoreFilesTest, CompactAllGoesOnPastAFailingTaskAndNamesIt) {
  {
    auto db = open_store();
    for (auto task : {"a", "b", "c"})
      for (int i = 0; i < 3; ++i)
        must_append(*db, make_event(task, "task:created"));
  }
  // b cannot be compacted: its corrupt line would go through a symbolic link.
  std::ofstream(in_root("b") / events_file_name, std::ios::app) << "not json\n";
  fs::create_symlink(outside() / "victim.jsonl", in_root("b") / corrupt_file_name);
  auto db = open_store();
  retention_policy keep_one;
  keep_one.max_events = 1;
  auto res = db->compact_all(keep_one);
  ASSERT_FALSE(res);
  const auto text = render(res.error());
  EXPECT_TRUE(is(res.error(), errc::not_regular_file)) << text;
  EXPECT_NE(text.find("1 of 3 tasks"), std::string::npos) << text;
  EXPECT_NE(text.find("'b'"), std::string::npos) << text;
  EXPECT_NE(text.find("4 events removed"), std::string::npos) << text; // a and c, two each
  EXPECT_EQ(db->read_task("a")->events.size(), 1u);
  EXPECT_EQ(db->read_task("b")->events.size(), 3u);
  EXPECT_EQ(db->read_task("c")->events.size(), 1u);
  EXPECT_EQ(slurp(outside() / "victim.jsonl"), valid_line);
}
