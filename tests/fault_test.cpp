// Fault injection with real kernel faults, no seam in the library: a full file system (a small tmpfs,
// where this process may mount one), a file-size limit that cuts a write short (RLIMIT_FSIZE, always
// available), a read-only task directory (a read-only bind mount, or modes when not root), permission
// errors (a forked child that drops to nobody), and files deleted or truncated behind the store's
// back. Each test checks the same three things: the failing operation returns a clear error, the
// store keeps serving every other task, and every acknowledged event is on disk exactly once, with
// the indexed query equal to the full-scan oracle.
#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <chrono>
#include <iterator>
#include <thread>

#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/storage/full_scan.hpp"
#include "src/format/line_codec.hpp"
#include "src/storage/store_layout.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

/// An event with a payload of `bytes` bytes, so a few appends fill a small file system.
event sized_event(const std::string& task, const std::string& type, size_t bytes) {
  auto ev = make_event(task, type);
  ev.data = boost::json::object{{"text", std::string(bytes, 'x')}};
  return ev;
}

bool mentions(const caf::error& err, const std::string& text) {
  return render(err).find(text) != std::string::npos;
}

/// Every line of every events file decodes: no partial line was left, none glued to another.
void expect_every_line_whole(const std::string& root) {
  for (auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename() != events_file_name)
      continue;
    auto text = slurp(entry.path());
    ASSERT_TRUE(text.empty() || text.back() == '\n') << entry.path();
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
      auto line = text.substr(start, nl - start);
      EXPECT_EQ(decode_line(line).status, line_status::ok) << entry.path() << ": " << line;
    }
  }
}

/// Remembers what the store acknowledged, and checks it is all there exactly once.
class ledger {
public:
  /// Appends; returns the error, after recording the event if it was acknowledged.
  caf::error append(store& db, event ev) {
    auto res = db.append(std::move(ev));
    if (!res)
      return res.error();
    acked_[res->ev.task].push_back(res->ev.id);
    ++total_;
    return caf::none;
  }

  size_t total() const {
    return total_;
  }

  /// Each task holds every acknowledged event exactly once, in acknowledgement order; with `exact`,
  /// nothing else either.
  void expect_all_present(store& db, bool exact = true) const {
    for (const auto& [task, ids] : acked_) {
      auto read = db.read_task(task);
      ASSERT_TRUE(read) << render(read.error());
      std::vector<std::string> stored;
      for (const auto& ev : read->events)
        stored.push_back(ev.id);
      if (exact) {
        EXPECT_EQ(stored, ids) << "task " << task;
        continue;
      }
      size_t next = 0;
      for (const auto& id : stored) {
        EXPECT_EQ(std::count(stored.begin(), stored.end(), id), 1) << "task " << task << ": " << id;
        next += next < ids.size() && id == ids[next];
      }
      EXPECT_EQ(next, ids.size()) << "task " << task << ": acknowledged events missing or out of order";
    }
  }

  /// Forgets a task's acknowledged events, after a test deleted them on purpose.
  void forget(const std::string& task) {
    total_ -= acked_[task].size();
    acked_.erase(task);
  }

private:
  std::map<std::string, std::vector<std::string>> acked_;
  size_t total_ = 0;
};

/// The indexed query equals the full scan of what is on disk, for a few prefixes and limits.
void expect_queries_match_oracle(store& db, const std::string& root) {
  for (const char* prefix : {"", "agent:", "task:state:", "x"}) {
    for (uint64_t limit : {uint64_t{1}, uint64_t{7}, uint64_t{1000}}) {
      auto got = db.query_by_type_prefix(prefix, limit);
      auto want = full_scan_query(root, prefix, limit);
      ASSERT_TRUE(got) << render(got.error());
      ASSERT_TRUE(want) << render(want.error());
      ASSERT_EQ(got->events.size(), want->events.size()) << "prefix '" << prefix << "' " << limit;
      for (size_t i = 0; i < got->events.size(); ++i)
        EXPECT_EQ(got->events[i].id, want->events[i].id) << "prefix '" << prefix << "' #" << i;
    }
  }
}

/// A small tmpfs mounted for one test; `mounted()` is false where this process may not mount.
class small_tmpfs {
public:
  small_tmpfs(const std::string& dir, size_t bytes) : dir_(dir) {
    fs::create_directories(dir_);
    std::string opts = "size=" + std::to_string(bytes) + ",mode=0755";
    mounted_ = ::mount("evstore-test", dir_.c_str(), "tmpfs", 0, opts.c_str()) == 0;
    if (!mounted_)
      why_ = std::strerror(errno);
  }
  ~small_tmpfs() {
    if (mounted_)
      ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const {
    return mounted_;
  }
  const std::string& why_not() const {
    return why_;
  }

private:
  std::string dir_;
  bool mounted_ = false;
  std::string why_;
};

/// Lowers RLIMIT_FSIZE for its lifetime; writes past it fail with EFBIG instead of killing us.
class file_size_limit {
public:
  explicit file_size_limit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower{bytes, old_.rlim_max};
    ok_ = ::setrlimit(RLIMIT_FSIZE, &lower) == 0;
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const {
    return ok_;
  }

private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
  bool ok_ = false;
};

class FaultTest : public StoreTest {};

} // namespace

TEST_F(FaultTest, DiskFullFailsAppendsCleanlyAndTheStoreRecoversWhenSpaceReturns) {
  const std::string mnt = dir_.str("mnt");
  small_tmpfs disk{mnt, 256 * 1024};
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.why_not()
                 << "); the file-size-limit test covers short writes";
  // Space a person can free later, as an operator would after a disk-full alert.
  spit(fs::path(mnt) / "ballast", std::string(64 * 1024, 'b'));
  store_options opts;
  opts.root = mnt + "/store";
  auto db = open_store(opts);
  ASSERT_TRUE(db);
  ledger acked;
  caf::error full;
  for (int i = 0; i < 2000 && !full; ++i) {
    const std::string task = "t" + std::to_string(i % 5);
    const char* type = i % 3 == 0 ? "task:state:running" : "agent:message";
    full = acked.append(*db, sized_event(task, type, 300 + (i * 37) % 400));
  }
  ASSERT_TRUE(full) << "a 256 KiB file system never filled";
  EXPECT_TRUE(is(full, errc::io_error)) << render(full);
  EXPECT_TRUE(mentions(full, "No space left on device")) << render(full);
  EXPECT_GT(acked.total(), 50u);
  // Full: an append fails with the same clear error unless the last page of its file has room,
  // and nothing partial is left behind either way.
  for (int i = 0; i < 5; ++i) {
    if (auto err = acked.append(*db, sized_event("t" + std::to_string(i), "x:late", 500))) {
      EXPECT_TRUE(mentions(err, "No space left")) << render(err);
    }
  }
  expect_every_line_whole(opts.root);
  // Reads, queries and stats still work on a full disk.
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, opts.root);
  ASSERT_TRUE(db->index_statistics());
  // A compaction needs room for its temporary copy: it fails, and leaves the log and no temp file.
  auto before = slurp(fs::path(opts.root) / "t0" / events_file_name);
  retention_policy keep_most; // removes one event or more, so the log must be rewritten
  keep_most.max_events = acked.total() / 5 - 1;
  auto compaction = db->compact_task("t0", keep_most);
  ASSERT_FALSE(compaction);
  EXPECT_TRUE(mentions(compaction.error(), "No space left")) << render(compaction.error());
  EXPECT_EQ(slurp(fs::path(opts.root) / "t0" / events_file_name), before);
  EXPECT_FALSE(fs::exists(fs::path(opts.root) / "t0" / (std::string(events_file_name) + ".tmp")));
  acked.expect_all_present(*db);
  // Space comes back: the same store appends again, without a reopen.
  fs::remove(fs::path(mnt) / "ballast");
  for (int i = 0; i < 20; ++i)
    EXPECT_FALSE(acked.append(*db, sized_event("t" + std::to_string(i % 5), "x:after", 200)));
  expect_every_line_whole(opts.root);
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, opts.root);
  // And after a reopen, the index rebuilt from disk agrees too.
  db.reset();
  db = open_store(opts);
  ASSERT_TRUE(db->wait_for_index());
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, opts.root);
}

TEST_F(FaultTest, CompactionOnAFullDiskLeavesLogAndCorruptFileAsTheyWere) {
  const std::string mnt = dir_.str("mnt");
  small_tmpfs disk{mnt, 128 * 1024};
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs here (" << disk.why_not() << ")";
  store_options opts;
  opts.root = mnt + "/store";
  // A corrupt line, which compaction moves to events.corrupt before it rewrites the log.
  spit(fs::path(opts.root) / "t" / events_file_name, "not json\n");
  auto db = open_store(opts);
  ASSERT_TRUE(db);
  for (int i = 0; i < 3; ++i)
    must_append(*db, sized_event("t", "agent:message", 100));
  const auto log = fs::path(opts.root) / "t" / events_file_name;
  const auto corrupt = fs::path(opts.root) / "t" / corrupt_file_name;
  const auto before = slurp(log);
  {
    // Fill every page that is left.
    std::ofstream ballast(fs::path(mnt) / "ballast", std::ios::binary);
    const std::string chunk(4096, 'b');
    while (ballast.write(chunk.data(), static_cast<std::streamsize>(chunk.size())) && ballast.flush()) {
    }
  }
  retention_policy keep_one;
  keep_one.max_events = 1;
  auto failed = db->compact_task("t", keep_one);
  ASSERT_FALSE(failed);
  EXPECT_TRUE(mentions(failed.error(), "No space left")) << render(failed.error());
  EXPECT_EQ(slurp(log), before);
  EXPECT_FALSE(fs::exists(corrupt)) << "a failed compaction left " << slurp(corrupt);
  // With room again, the same compaction succeeds and moves exactly the corrupt line aside.
  fs::remove(fs::path(mnt) / "ballast");
  auto done = db->compact_task("t", keep_one);
  ASSERT_TRUE(done) << render(done.error());
  EXPECT_EQ(done->corrupt_moved, 1u);
  EXPECT_EQ(slurp(corrupt), "not json\n");
  EXPECT_EQ(db->read_task("t")->events.size(), 1u);
}

TEST_F(FaultTest, ShortWriteLeavesNoPartialLineAndOtherTasksKeepAppending) {
  auto db = open_store();
  ledger acked;
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(acked.append(*db, sized_event("big", "agent:message", 1000)));
  ASSERT_FALSE(acked.append(*db, sized_event("small", "task:state:running", 10)));
  const auto big_file = fs::path(root()) / "big" / events_file_name;
  const auto size = fs::file_size(big_file);
  caf::error cut;
  {
    // The next line of `big` can get only half way out: write(2) is short, then fails with EFBIG.
    file_size_limit limit{size + 500};
    ASSERT_TRUE(limit.ok());
    cut = acked.append(*db, sized_event("big", "agent:message", 1000));
    // Other tasks are small and far from the limit: they keep appending and serving.
    for (int i = 0; i < 5; ++i)
      EXPECT_FALSE(acked.append(*db, sized_event("small", "task:state:done", 10)));
    EXPECT_TRUE(db->query_by_type_prefix("task:state:", 10));
  }
  ASSERT_TRUE(cut);
  EXPECT_TRUE(is(cut, errc::io_error));
  EXPECT_TRUE(mentions(cut, "File too large")) << render(cut);
  // The half-written line was taken back: the file is as it was before the failed append.
  EXPECT_EQ(fs::file_size(big_file), size);
  ASSERT_FALSE(acked.append(*db, sized_event("big", "agent:message", 1000)));
  expect_every_line_whole(root());
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, root());
}

TEST_F(FaultTest, ReadOnlyTaskDirectoryRefusesWritesAndServesEverythingElse) {
  ledger acked;
  {
    auto db = open_store();
    for (int i = 0; i < 10; ++i) {
      ASSERT_FALSE(acked.append(*db, sized_event("frozen", "task:state:running", 20)));
      ASSERT_FALSE(acked.append(*db, sized_event("live", "agent:message", 20)));
    }
  }
  const std::string frozen = root() + "/frozen";
  // Root ignores modes, so as root the directory becomes a read-only bind mount of itself.
  bool bound = false;
  if (::geteuid() == 0) {
    if (::mount(frozen.c_str(), frozen.c_str(), nullptr, MS_BIND, nullptr) != 0)
      GTEST_SKIP() << "root, but cannot bind-mount: " << std::strerror(errno);
    bound = ::mount(nullptr, frozen.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
    if (!bound) {
      ::umount2(frozen.c_str(), MNT_DETACH);
      GTEST_SKIP() << "cannot remount read-only: " << std::strerror(errno);
    }
  } else {
    fs::permissions(frozen + "/" + events_file_name, fs::perms::owner_read);
    fs::permissions(frozen, fs::perms::owner_read | fs::perms::owner_exec);
  }
  struct undo {
    std::string dir;
    bool bound;
    ~undo() {
      if (bound)
        ::umount2(dir.c_str(), MNT_DETACH);
      else
        fs::permissions(dir, fs::perms::owner_all);
    }
  } restore{frozen, bound};
  auto db = open_store();
  ASSERT_TRUE(db->wait_for_index());
  auto refused = acked.append(*db, sized_event("frozen", "task:state:done", 20));
  ASSERT_TRUE(refused);
  EXPECT_TRUE(is(refused, errc::io_error));
  EXPECT_TRUE(mentions(refused, bound ? "Read-only file system" : "Permission denied"))
    << render(refused);
  EXPECT_TRUE(mentions(refused, "frozen")) << render(refused);
  // Compaction and cleanup cannot change it either, and say so or leave it alone.
  retention_policy keep_two;
  keep_two.max_events = 2;
  auto compaction = db->compact_task("frozen", keep_two);
  ASSERT_FALSE(compaction);
  EXPECT_TRUE(is(compaction.error(), errc::io_error)) << render(compaction.error());
  EXPECT_TRUE(db->cleanup_orphaned_tasks());
  // Everything else works: the other task appends, the frozen one reads, queries are exact.
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(acked.append(*db, sized_event("live", "task:state:done", 20)));
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, root());
}

TEST_F(FaultTest, PermissionErrorsAreErrorsAndTheStoreServesWhatItMay) {
  // The store, run by a user who may read but not write one task: as root, a forked child drops to
  // nobody, since root ignores modes. The child reports by its exit code and stderr.
  ledger acked;
  {
    auto db = open_store();
    for (int i = 0; i < 5; ++i) {
      ASSERT_FALSE(acked.append(*db, sized_event("theirs", "task:state:running", 20)));
      ASSERT_FALSE(acked.append(*db, sized_event("ours", "agent:message", 20)));
    }
  }
  const uid_t nobody = 65534;
  const bool root_user = ::geteuid() == 0;
  // The temp dir is private to us; the child's user must reach the store in it.
  fs::permissions(dir_.path(), fs::perms::all);
  fs::permissions(root(), fs::perms::all);
  for (auto& entry : fs::recursive_directory_iterator(root())) {
    const bool theirs = entry.path().filename() == "theirs"
                        || entry.path().parent_path().filename() == "theirs";
    if (root_user && !theirs) {
      ASSERT_EQ(::chown(entry.path().c_str(), nobody, nobody), 0) << entry.path();
    }
  }
  if (!root_user) {
    fs::permissions(root() + "/theirs/" + events_file_name, fs::perms::owner_read);
    fs::permissions(root() + "/theirs", fs::perms::owner_read | fs::perms::owner_exec);
  }
  auto child = [&] {
    if (root_user && (::setgid(nobody) != 0 || ::setuid(nobody) != 0)) {
      std::fprintf(stderr, "cannot drop to nobody\n");
      std::_Exit(2);
    }
    auto fail = [](const std::string& what) {
      std::fprintf(stderr, "%s\n", what.c_str());
      std::_Exit(1);
    };
    auto db = store::open(options());
    if (!db)
      fail("open: " + render(db.error()));
    auto refused = (*db)->append(sized_event("theirs", "task:state:done", 20));
    if (refused)
      fail("append to a task we may not write was acknowledged");
    if (!mentions(refused.error(), "Permission denied") || !is(refused.error(), errc::io_error))
      fail("unclear error: " + render(refused.error()));
    for (int i = 0; i < 5; ++i)
      if (auto ok = (*db)->append(sized_event("ours", "agent:message", 20)); !ok)
        fail("append to our own task: " + render(ok.error()));
    auto theirs = (*db)->read_task("theirs");
    if (!theirs || theirs->events.size() != 5)
      fail("cannot read the task we may read");
    auto query = (*db)->query_by_type_prefix("", 100);
    if (!query || query->events.size() != 15)
      fail("query after the refusal");
    if (!(*db)->compact_task("theirs", retention_policy{uint64_t{1}, caf::none}).error())
      fail("compaction of a task we may not write succeeded");
    db->reset();
    std::_Exit(0);
  };
  // The stores opened above end their detached threads (population, checkpoint saver) a moment
  // after they close; a child forked while one still runs may not start threads under TSan.
  for (int i = 0; i < 2000 && std::distance(fs::directory_iterator("/proc/self/task"),
                                            fs::directory_iterator{}) > 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
  // Back as ourselves: nothing acknowledged earlier was lost, and the child's appends are there.
  if (!root_user)
    fs::permissions(root() + "/theirs", fs::perms::owner_all);
  auto db = open_store();
  acked.expect_all_present(*db, false); // "theirs" as before; "ours" also has the child's appends
  auto ours = db->read_task("ours");
  ASSERT_TRUE(ours);
  EXPECT_EQ(ours->events.size(), 10u);
  expect_queries_match_oracle(*db, root());
}

TEST_F(FaultTest, FileDeletedBehindTheStoreDropsOutOfQueriesAndTakesNewAppends) {
  auto db = open_store();
  ledger acked;
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(acked.append(*db, sized_event("gone", "task:state:running", 20)));
    ASSERT_FALSE(acked.append(*db, sized_event("kept", "task:state:queued", 20)));
  }
  // The index planned "gone"'s lines; its writer may even hold the file open. After a person deletes
  // it, queries must answer from what is on disk, not from the unlinked inode, once the writer's
  // next check is due (store_options::external_change_check).
  fs::remove(fs::path(root()) / "gone" / events_file_name);
  acked.forget("gone");
  std::this_thread::sleep_for(store_options{}.external_change_check + std::chrono::milliseconds{50});
  expect_queries_match_oracle(*db, root());
  auto gone = db->read_task("gone");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->events.empty());
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(acked.append(*db, sized_event("gone", "task:state:done", 20)));
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, root());
  EXPECT_EQ(db->index_statistics()->events, 13u);
}

TEST_F(FaultTest, AppendRightAfterTheFileIsDeletedGoesToANewFile) {
  auto db = open_store();
  ledger acked;
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(acked.append(*db, sized_event("gone", "task:state:running", 20)));
  fs::remove(fs::path(root()) / "gone" / events_file_name);
  acked.forget("gone");
  // Appends check the file every time: an acknowledged event never lands in the unlinked inode.
  ASSERT_FALSE(acked.append(*db, sized_event("gone", "task:state:done", 20)));
  acked.expect_all_present(*db);
  expect_queries_match_oracle(*db, root());
}

TEST_F(FaultTest, FileTruncatedMidLineBehindTheStoreIsRepairedAndStaysExact) {
  auto db = open_store();
  ledger acked;
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(acked.append(*db, sized_event("cut", "task:state:running", 20)));
    ASSERT_FALSE(acked.append(*db, sized_event("kept", "task:state:queued", 20)));
  }
  // Cut in the middle of the 5th line: 4 whole events survive, then a torn one.
  const auto file = fs::path(root()) / "cut" / events_file_name;
  auto text = slurp(file);
  size_t fourth_end = 0;
  for (int i = 0; i < 4; ++i)
    fourth_end = text.find('\n', fourth_end) + 1;
  ASSERT_EQ(::truncate(file.c_str(), static_cast<off_t>(fourth_end + 30)), 0);
  // At once, with no wait for a check to fall due: the planned lines are missing, which is checked.
  expect_queries_match_oracle(*db, root());
  ASSERT_FALSE(acked.append(*db, sized_event("cut", "task:state:done", 20)));
  // The torn line stays, on a line of its own, and is counted as corrupt; nothing is glued to it.
  auto read = db->read_task("cut");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 5u);
  EXPECT_EQ(read->stats.corrupt_lines, 1u);
  EXPECT_EQ(read->events.back().type, "task:state:done");
  expect_queries_match_oracle(*db, root());
  EXPECT_EQ(db->index_statistics()->events, 15u);
}
