// The syncs the store promises (docs/FORMAT.md "Crashes", SPEC §3) happen: on the right file, in
// the right order, and before the call that relies on them returns. Nothing else notices a missing
// sync: every other test passes without one, since only a power loss would show it.
//
// How: this executable defines fsync, fdatasync, syncfs, rename, renameat and renameat2 itself.
// The evstore library is linked into it, so its calls bind to these definitions (and an
// executable's definitions come first in dynamic lookup too, should evstore be a shared library).
// Each one calls the real function (dlsym(RTLD_NEXT)) and logs the call with the path behind its
// descriptor (/proc/self/fd). A test can also make the next calls of one kind on one path fail with
// an errno, without reaching the real function (fail_next): the store must then report the failure
// and retry the sync, never acknowledge on top of it. In this process, rather than a shim
// LD_PRELOADed into the CLI, because:
// - an append is checked against its own acknowledgement (the facade call returning), not against
//   the CLI's output, which glibc's stdio writes through its internal write that no preloaded
//   library sees;
// - the sanitizer builds run it unchanged: there is nothing to preload into a binary whose
//   sanitizer runtime must come first.
// What it does not cover is the CLI's mapping of --durability to store_options::ack (cli_test
// checks the flag is accepted).
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace evstore {

// For the parameterised tests' names in ctest, instead of "1-byte object <00>".
void PrintTo(durability d, std::ostream* os) {
  *os << (d == durability::fsynced ? "fsynced" : "written");
}

} // namespace evstore

namespace {

/// One logged call.
struct fs_call {
  std::string call;    // fsync, fdatasync, syncfs, or rename (for rename, renameat and renameat2)
  std::string path;    // what was synced (the path behind the descriptor), or a rename's old name
  std::string to;      // a rename's new name
  long long size = -1; // a synced regular file's size when its sync returned
  int rc = 0;          // what the real function returned (-1 for an injected failure)
  // Failed by an armed fault (fail_next), without reaching the real function.
  bool injected = false;
};

std::mutex& log_mutex() {
  static std::mutex m;
  return m;
}

std::vector<fs_call>& log_entries() {
  static std::vector<fs_call> entries;
  return entries;
}

/// How long a file's fsync or fdatasync waits, after the real one returned, before it is logged.
/// A store that acknowledged before its sync returned would then be caught every time, not only
/// when the test thread happened to look before the sync was logged; one that syncs first is
/// logged before it acknowledges whatever the delay.
std::atomic<int> file_sync_delay_ms{0};

/// Calls armed to fail: the next `count` calls of `call` (fsync, fdatasync, syncfs, or rename for
/// all three renames) on `path` fail with `err` instead of reaching the real function. An empty
/// path matches any; a rename matches its old name or its new one. Each test starts and ends with
/// none (the fixture's SetUp and TearDown), so a fault one test armed and never reached cannot fail
/// another test's call.
struct fs_fault {
  std::string call;
  std::string path;
  int count = 0;
  int err = EIO;
};

std::mutex& fault_mutex() {
  static std::mutex m;
  return m;
}

std::vector<fs_fault>& faults() {
  static std::vector<fs_fault> armed;
  return armed;
}

void fail_next(std::string call, std::string path, int count = 1, int err = EIO) {
  std::lock_guard<std::mutex> guard{fault_mutex()};
  faults().push_back(fs_fault{std::move(call), std::move(path), count, err});
}

void clear_faults() {
  std::lock_guard<std::mutex> guard{fault_mutex()};
  faults().clear();
}

/// The errno this call must fail with, consuming one of its fault's calls; 0 to run the real one.
int injected_error(const char* call, const std::string& path, const std::string& to = "") {
  std::lock_guard<std::mutex> guard{fault_mutex()};
  for (auto& f : faults())
    if (f.count > 0 && f.call == call && (f.path.empty() || f.path == path || f.path == to)) {
      --f.count;
      return f.err;
    }
  return 0;
}

void add_entry(fs_call c) {
  std::lock_guard<std::mutex> guard{log_mutex()};
  log_entries().push_back(std::move(c));
}

std::string fd_path(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX];
  ssize_t n = ::readlink(link, buf, sizeof buf);
  return n < 0 ? std::string{"?"} : std::string(buf, static_cast<size_t>(n));
}

std::string at_path(int dir_fd, const char* name) {
  if (name[0] == '/')
    return name;
  if (dir_fd != AT_FDCWD)
    return fd_path(dir_fd) + "/" + name;
  char cwd[PATH_MAX];
  return std::string{::getcwd(cwd, sizeof cwd) ? cwd : "?"} + "/" + name;
}

template <class Fn>
Fn* real(const char* name) {
  void* sym = ::dlsym(RTLD_NEXT, name);
  if (sym == nullptr) {
    std::fprintf(stderr, "durability_sync_test: no real %s: %s\n", name, ::dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn*>(sym);
}

// Logs a finished sync of `fd`; keeps the caller's errno.
int logged_sync(const char* call, int fd, int rc, bool injected = false) {
  const int saved = errno;
  struct stat sb {};
  const bool is_file = ::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  if (is_file && file_sync_delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{file_sync_delay_ms.load()});
  if (is_file)
    ::fstat(fd, &sb); // the size now: every byte written before the sync returned
  add_entry(fs_call{call, fd_path(fd), "", is_file ? static_cast<long long>(sb.st_size) : -1, rc,
                    injected});
  errno = saved;
  return rc;
}

int logged_rename(std::string from, std::string to, int rc, bool injected = false) {
  const int saved = errno;
  add_entry(fs_call{"rename", std::move(from), std::move(to), -1, rc, injected});
  errno = saved;
  return rc;
}

// A sync hook: fails the call if a fault is armed for it, else runs the real `next`; logs either.
template <class Next>
int hooked_sync(const char* call, int fd, Next* next) {
  if (int err = injected_error(call, fd_path(fd))) {
    errno = err;
    return logged_sync(call, fd, -1, true);
  }
  return logged_sync(call, fd, next(fd));
}

// A rename hook, the same way; `run` calls the real function.
template <class Run>
int hooked_rename(std::string from, std::string to, Run run) {
  if (int err = injected_error("rename", from, to)) {
    errno = err;
    return logged_rename(std::move(from), std::move(to), -1, true);
  }
  int rc = run();
  return logged_rename(std::move(from), std::move(to), rc);
}

} // namespace

// The hooks. Declared as glibc declares them (noexcept where it says __THROW).
extern "C" {

int fsync(int fd) {
  static auto* next = real<int(int)>("fsync");
  return hooked_sync("fsync", fd, next);
}

int fdatasync(int fd) {
  static auto* next = real<int(int)>("fdatasync");
  return hooked_sync("fdatasync", fd, next);
}

int syncfs(int fd) noexcept {
  static auto* next = real<int(int)>("syncfs");
  return hooked_sync("syncfs", fd, next);
}

int rename(const char* from, const char* to) noexcept {
  static auto* next = real<int(const char*, const char*)>("rename");
  return hooked_rename(at_path(AT_FDCWD, from), at_path(AT_FDCWD, to),
                       [&] { return next(from, to); });
}

int renameat(int from_dir, const char* from, int to_dir, const char* to) noexcept {
  static auto* next = real<int(int, const char*, int, const char*)>("renameat");
  return hooked_rename(at_path(from_dir, from), at_path(to_dir, to),
                       [&] { return next(from_dir, from, to_dir, to); });
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to,
              unsigned int flags) noexcept {
  static auto* next = real<int(int, const char*, int, const char*, unsigned int)>("renameat2");
  return hooked_rename(at_path(from_dir, from), at_path(to_dir, to),
                       [&] { return next(from_dir, from, to_dir, to, flags); });
}

} // extern "C"

namespace {

constexpr size_t not_found = static_cast<size_t>(-1);

void clear_log() {
  std::lock_guard<std::mutex> guard{log_mutex()};
  log_entries().clear();
}

/// The calls logged since clear_log() on paths in or under `dir`.
std::vector<fs_call> logged_under(const std::string& dir) {
  auto in = [&](const std::string& p) { return p == dir || p.rfind(dir + "/", 0) == 0; };
  std::lock_guard<std::mutex> guard{log_mutex()};
  std::vector<fs_call> out;
  for (const auto& c : log_entries())
    if (in(c.path) || in(c.to))
      out.push_back(c);
  return out;
}

/// The log, one call a line, for failure messages.
std::string show(const std::vector<fs_call>& log) {
  std::ostringstream out;
  out << "logged calls:\n";
  for (size_t i = 0; i < log.size(); ++i) {
    out << "  " << i << " " << log[i].call << " " << log[i].path;
    if (!log[i].to.empty())
      out << " -> " << log[i].to;
    if (log[i].size >= 0)
      out << " (" << log[i].size << " bytes)";
    if (log[i].rc != 0)
      out << " rc " << log[i].rc;
    if (log[i].injected)
      out << " (injected)";
    out << "\n";
  }
  return out.str();
}

/// Index of the first successful fsync or fdatasync of `path` from `from` on, or not_found.
size_t sync_of(const std::vector<fs_call>& log, const std::string& path, size_t from = 0) {
  for (size_t i = from; i < log.size(); ++i)
    if ((log[i].call == "fsync" || log[i].call == "fdatasync") && log[i].path == path
        && log[i].rc == 0)
      return i;
  return not_found;
}

/// Index of the first failed fsync or fdatasync of `path` from `from` on, or not_found.
size_t failed_sync_of(const std::vector<fs_call>& log, const std::string& path, size_t from = 0) {
  for (size_t i = from; i < log.size(); ++i)
    if ((log[i].call == "fsync" || log[i].call == "fdatasync") && log[i].path == path
        && log[i].rc != 0)
      return i;
  return not_found;
}

size_t syncfs_of(const std::vector<fs_call>& log, const std::string& path) {
  for (size_t i = 0; i < log.size(); ++i)
    if (log[i].call == "syncfs" && log[i].path == path && log[i].rc == 0)
      return i;
  return not_found;
}

size_t rename_of(const std::vector<fs_call>& log, const std::string& from, const std::string& to) {
  for (size_t i = 0; i < log.size(); ++i)
    if (log[i].call == "rename" && log[i].path == from && log[i].to == to && log[i].rc == 0)
      return i;
  return not_found;
}

/// True if a descriptor of this process is open on `path`.
bool open_in_this_process(const std::string& path) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec)) {
    auto target = fs::read_symlink(entry.path(), ec);
    if (!ec && target == path)
      return true;
  }
  return false;
}

class DurabilitySyncTest : public StoreTest {
protected:
  void SetUp() override {
    file_sync_delay_ms = 0;
    clear_faults();
    clear_log();
  }

  void TearDown() override {
    clear_faults();
  }

  store_options with(durability ack) const {
    auto opts = options();
    opts.ack = ack;
    return opts;
  }

  /// The temp dir as /proc/self/fd shows it (symbolic links resolved), and the store root in it.
  std::string real_dir() const {
    return fs::canonical(dir_.path()).string();
  }
  std::string real_root(const std::string& sub = "") const {
    return real_dir() + "/store" + (sub.empty() ? "" : "/" + sub);
  }

  /// Creates the store and closes it again, so that a test's own open finds it made.
  void make_store() {
    ASSERT_NE(open_store(with(durability::written)), nullptr);
  }
};

/// The promises that hold at every durability level.
class DurabilitySyncAtEveryLevelTest : public DurabilitySyncTest,
                                       public ::testing::WithParamInterface<durability> {};

std::string level_name(const ::testing::TestParamInfo<durability>& info) {
  return ::testing::PrintToString(info.param);
}

} // namespace

// The hooks themselves: a sync and a rename made in this process are logged, with the synced file's
// size. If they were bypassed, the "no sync" assertions below would pass for nothing.
TEST_F(DurabilitySyncTest, TheHooksLogASyncAndARename) {
  const std::string file = real_dir() + "/probe";
  spit(file, "abc");
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::fdatasync(fd), 0);
  ::close(fd);
  EXPECT_EQ(::rename(file.c_str(), (file + "2").c_str()), 0);
  auto log = logged_under(real_dir());
  ASSERT_NE(sync_of(log, file), not_found) << show(log);
  EXPECT_EQ(log[sync_of(log, file)].size, 3) << show(log);
  EXPECT_NE(rename_of(log, file, file + "2"), not_found) << show(log);
}

// The injected failures: the next N calls of the armed kind on the armed path fail with its errno
// and are logged as failed; calls of another kind or on another path, and the call after the N,
// reach the real function. The tests below that inject failures would prove nothing otherwise.
TEST_F(DurabilitySyncTest, TheHooksFailTheNextCallsOfTheArmedKindOnTheArmedPath) {
  const std::string file = real_dir() + "/probe";
  const std::string other = real_dir() + "/other";
  spit(file, "abc");
  spit(other, "abc");
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  int other_fd = ::open(other.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_GE(other_fd, 0);
  fail_next("fdatasync", file, 2, EIO);
  errno = 0;
  EXPECT_EQ(::fdatasync(fd), -1);
  EXPECT_EQ(errno, EIO);
  EXPECT_EQ(::fsync(fd), 0) << "another kind of call failed";
  EXPECT_EQ(::fdatasync(other_fd), 0) << "a call on another path failed";
  EXPECT_EQ(::fdatasync(fd), -1);
  EXPECT_EQ(::fdatasync(fd), 0) << "a third call failed, two were armed";
  fail_next("fsync", "", 1, ENOSPC); // any path
  errno = 0;
  EXPECT_EQ(::fsync(other_fd), -1);
  EXPECT_EQ(errno, ENOSPC);
  ::close(fd);
  ::close(other_fd);
  fail_next("rename", file + "2");
  EXPECT_EQ(::rename(file.c_str(), (file + "2").c_str()), -1) << "matched by its new name";
  EXPECT_TRUE(fs::exists(file)) << "the real rename ran";
  auto log = logged_under(real_dir());
  auto failed = failed_sync_of(log, file);
  ASSERT_NE(failed, not_found) << show(log);
  EXPECT_TRUE(log[failed].injected) << show(log);
  EXPECT_EQ(failed_sync_of(log, other), log.size() - 2) << "only the any-path fsync\n" << show(log);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().call, "rename") << show(log);
  EXPECT_EQ(log.back().rc, -1) << show(log);
}

// docs/FORMAT.md: names (and lines) a process killed before syncing left behind would be lost to a
// power loss, so a writing store under fsynced syncs the root's file system once, before it can
// acknowledge anything.
TEST_F(DurabilitySyncTest, OpeningAStoreUnderFsyncedSyncsItsFileSystemBeforeItReturns) {
  make_store();
  clear_log();
  auto db = open_store(with(durability::fsynced));
  ASSERT_NE(db, nullptr);
  auto log = logged_under(real_dir());
  EXPECT_NE(syncfs_of(log, real_root()), not_found) << show(log);
}

// The line is fdatasync'ed after it was written (the synced file holds it) and before the append
// is acknowledged, for every append, not only a task's first.
TEST_F(DurabilitySyncTest, FsyncedAppendSyncsTheEventsFileBeforeReportingSuccess) {
  auto db = open_store(with(durability::fsynced));
  ASSERT_NE(db, nullptr);
  file_sync_delay_ms = 50;
  const std::string events = real_root("t1/events.jsonl");
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE("append " + std::to_string(i + 1));
    clear_log();
    must_append(*db, make_event("t1", "agent:message"));
    auto log = logged_under(real_dir()); // as it was when the append returned
    auto synced = sync_of(log, events);
    ASSERT_NE(synced, not_found) << show(log);
    EXPECT_EQ(log[synced].size, static_cast<long long>(fs::file_size(events)))
      << "the sync ran before the line was written\n" << show(log);
  }
}

// The same for the system-wide log in the root, which has no directory of its own.
TEST_F(DurabilitySyncTest, FsyncedAppendToTheSystemLogSyncsItBeforeReportingSuccess) {
  auto db = open_store(with(durability::fsynced));
  ASSERT_NE(db, nullptr);
  file_sync_delay_ms = 50;
  clear_log();
  must_append(*db, make_event("", "system:started", actor_kind::system));
  auto log = logged_under(real_dir());
  const std::string events = real_root("events.jsonl");
  auto synced = sync_of(log, events);
  ASSERT_NE(synced, not_found) << show(log);
  EXPECT_EQ(log[synced].size, static_cast<long long>(fs::file_size(events))) << show(log);
  // Its new name in the root.
  EXPECT_NE(sync_of(log, real_root()), not_found) << show(log);
}

// fdatasync makes neither new name durable: the new task directory's entry in the root and the new
// events file's entry in the task directory are fsynced before the first append is acknowledged.
TEST_F(DurabilitySyncTest, FsyncedFirstAppendSyncsTheDirectoryEntriesItCreates) {
  auto db = open_store(with(durability::fsynced));
  ASSERT_NE(db, nullptr);
  clear_log();
  must_append(*db, make_event("t1", "agent:message"));
  auto log = logged_under(real_dir());
  EXPECT_NE(sync_of(log, real_root()), not_found) << "the root, for t1's directory\n" << show(log);
  EXPECT_NE(sync_of(log, real_root("t1")), not_found) << "t1, for events.jsonl\n" << show(log);
}

// A task directory that exists without a log (made by hand, or left behind): the first append
// creates only the file, and syncs its name in the task directory.
TEST_F(DurabilitySyncTest, FsyncedFirstAppendToAnExistingTaskDirectorySyncsTheNewFilesEntry) {
  fs::create_directories(fs::path(root()) / "t1");
  auto db = open_store(with(durability::fsynced));
  ASSERT_NE(db, nullptr);
  clear_log();
  must_append(*db, make_event("t1", "agent:message"));
  auto log = logged_under(real_dir());
  EXPECT_NE(sync_of(log, real_root("t1")), not_found) << show(log);
}

// An append that finds no open-file slot (max_open_files are all held by other writers) closes its
// file after writing, and the group commit then has no file left to sync. Under fsynced the line is
// therefore synced before that close, and a failed fdatasync is the append's failure: close(2)
// reports nothing of it, so an ignored failure would be acknowledged as on disk. The next append
// (nothing injected) is acknowledged only after a successful fdatasync that holds its line.
TEST_F(DurabilitySyncTest, FsyncedAppendWithoutAnOpenFileSlotFailsWhenItsSyncFails) {
  auto opts = with(durability::fsynced);
  opts.max_open_files = 1;
  opts.writer_idle_timeout = std::chrono::minutes{1}; // t0's writer keeps the only slot throughout
  auto db = open_store(opts);
  ASSERT_NE(db, nullptr);
  must_append(*db, make_event("t0", "agent:message"));
  must_append(*db, make_event("t1", "agent:message")); // creates t1's names and syncs them
  const std::string events = real_root("t1/events.jsonl");
  // Else the append below would take the group commit's path, which reported failures already.
  ASSERT_TRUE(open_in_this_process(real_root("t0/events.jsonl"))) << "t0 holds no slot";
  ASSERT_FALSE(open_in_this_process(events)) << "t1's writer kept its file open: it has a slot";

  clear_log();
  fail_next("fdatasync", events, 1, EIO);
  auto failed = db->append(make_event("t1", "agent:message"));
  auto log = logged_under(real_dir());
  const auto failed_at = failed_sync_of(log, events);
  ASSERT_NE(failed_at, not_found) << "the injected failure was never reached\n" << show(log);
  ASSERT_FALSE(failed) << "acknowledged although its only fdatasync failed\n" << show(log);
  EXPECT_TRUE(is(failed.error(), errc::io_error)) << render(failed.error());

  const size_t before_next = log.size();
  auto next = db->append(make_event("t1", "agent:message"));
  ASSERT_TRUE(next) << render(next.error());
  log = logged_under(real_dir()); // as it was when the append returned
  auto synced = sync_of(log, events, before_next);
  ASSERT_NE(synced, not_found) << "acknowledged without a sync after the failed one\n" << show(log);
  EXPECT_EQ(log[synced].size, static_cast<long long>(fs::file_size(events)))
    << "the sync ran before the line was written\n" << show(log);
}

// After a failed fdatasync the kernel may report the next one clean without having written the
// lost pages, so a line whose sync failed is neither durable nor acknowledged. A retry of it (the
// same id, as clients are told to retry) must write and sync it again, never be answered as a
// duplicate of the unsynced line; and the log holds the event once.
TEST_F(DurabilitySyncTest, ARetryOfAnAppendWhoseSyncFailedIsWrittenAndSyncedAgainNotADuplicate) {
  auto opts = with(durability::fsynced);
  opts.writer_idle_timeout = std::chrono::minutes{1}; // the same writer serves both appends
  auto db = open_store(opts);
  ASSERT_NE(db, nullptr);
  must_append(*db, make_event("t1", "agent:message"));
  const std::string events = real_root("t1/events.jsonl");
  const auto synced_size = fs::file_size(events);

  auto ev = make_event("t1", "agent:message");
  ev.id = "5b1c2f0e-3d4a-4b6c-8e9f-0a1b2c3d4e5f";
  clear_log();
  fail_next("fdatasync", events, 1, EIO);
  auto failed = db->append(ev);
  ASSERT_FALSE(failed) << "acknowledged although its fdatasync failed";
  EXPECT_EQ(fs::file_size(events), synced_size) << "the unsynced line was not taken back";

  clear_log();
  auto retry = db->append(ev);
  ASSERT_TRUE(retry) << render(retry.error());
  EXPECT_FALSE(retry->duplicate) << "answered from a line whose sync had failed";
  auto log = logged_under(real_dir()); // as it was when the append returned
  auto synced = sync_of(log, events, 0);
  ASSERT_NE(synced, not_found) << "the retry was acknowledged without a sync\n" << show(log);
  EXPECT_EQ(log[synced].size, static_cast<long long>(fs::file_size(events))) << show(log);
  auto read = db->read_task("t1");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 2u);
  EXPECT_EQ(read->events[1].id, ev.id);
}

// The directory syncs that make a new task's names durable (its directory in the root, its events
// file in that directory) can fail too. The first append then fails, and the writer remembers what
// is still unsynced: the next append syncs it before it is acknowledged, although its file is
// already open and the directory and the file already exist. Without that memory, the task's
// events would be acknowledged under a name a power loss can take away.
class DurabilitySyncRetryTest : public DurabilitySyncTest {
protected:
  /// Fails the first fsync of `failing_dir` during t1's first append; then checks that the next
  /// append syncs each of `must_sync` before it returns.
  void first_append_fails_then_next_syncs(const std::string& failing_dir,
                                          const std::vector<std::string>& must_sync) {
    auto opts = with(durability::fsynced);
    opts.writer_idle_timeout = std::chrono::minutes{1}; // the same writer serves both appends
    auto db = open_store(opts);
    ASSERT_NE(db, nullptr);
    clear_log();
    fail_next("fsync", failing_dir, 1, EIO);
    auto failed = db->append(make_event("t1", "agent:message"));
    auto log = logged_under(real_dir());
    ASSERT_NE(failed_sync_of(log, failing_dir), not_found)
      << "the injected failure was never reached\n" << show(log);
    ASSERT_FALSE(failed) << "acknowledged although a directory sync failed\n" << show(log);
    EXPECT_TRUE(is(failed.error(), errc::io_error)) << render(failed.error());

    clear_log();
    auto next = db->append(make_event("t1", "agent:message"));
    ASSERT_TRUE(next) << render(next.error());
    log = logged_under(real_dir()); // as it was when the append returned
    for (const auto& dir : must_sync)
      EXPECT_NE(sync_of(log, dir), not_found) << dir << " was not synced\n" << show(log);
  }
};

// The root's sync (for t1's directory) fails, so the append never reached t1's own sync either.
TEST_F(DurabilitySyncRetryTest, FsyncedAppendAfterAFailedSyncOfTheRootSyncsItAndTheTaskDirectory) {
  first_append_fails_then_next_syncs(real_root(), {real_root(), real_root("t1")});
}

// The root's sync succeeds, t1's (for events.jsonl) fails.
TEST_F(DurabilitySyncRetryTest, FsyncedAppendAfterAFailedSyncOfTheTaskDirectorySyncsIt) {
  first_append_fails_then_next_syncs(real_root("t1"), {real_root("t1")});
}

// The other direction: written means acknowledged after write(2), and the events files are never
// synced, not even when the store closes them.
TEST_F(DurabilitySyncTest, WrittenDurabilityNeverSyncsTheEventsFiles) {
  {
    auto db = open_store(with(durability::written));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 3; ++i)
      must_append(*db, make_event("t1", "agent:message"));
    must_append(*db, make_event("", "system:started", actor_kind::system));
  } // closed: every writer has let go of its file
  auto log = logged_under(real_dir());
  // The hooks saw the library's own sync of format_version, so an empty log cannot pass for "no
  // sync" here.
  ASSERT_NE(sync_of(log, real_root("format_version.tmp")), not_found)
    << "the library's syncs are not logged (or format_version is no longer synced)\n" << show(log);
  EXPECT_EQ(sync_of(log, real_root("t1/events.jsonl")), not_found) << show(log);
  EXPECT_EQ(sync_of(log, real_root("events.jsonl")), not_found) << show(log);
}

// SPEC §3 and docs/FORMAT.md, whatever the durability: the kept lines go to a temporary file that
// is fsynced before it is renamed over events.jsonl, the unparsable lines are fsynced into
// events.corrupt before that rename too (or a crash could lose them from both files), and the
// directory is fsynced after it, all before compact_task returns.
TEST_P(DurabilitySyncAtEveryLevelTest, CompactionSyncsTheNewFilesBeforeTheRenameAndTheDirectoryAfter) {
  {
    auto db = open_store(with(GetParam()));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 3; ++i)
      must_append(*db, make_event("t1", "agent:message"));
  }
  {
    std::ofstream out(fs::path(root()) / "t1" / "events.jsonl", std::ios::app | std::ios::binary);
    out << "not an event\n";
  }
  auto db = open_store(with(GetParam()));
  ASSERT_NE(db, nullptr);
  clear_log();
  retention_policy keep_one;
  keep_one.max_events = 1;
  keep_one.max_age = caf::none;
  auto res = db->compact_task("t1", keep_one);
  ASSERT_TRUE(res) << render(res.error());
  ASSERT_EQ(res->removed, 2u);
  ASSERT_EQ(res->corrupt_moved, 1u);
  auto log = logged_under(real_dir());

  const std::string dir = real_root("t1");
  const std::string events = dir + "/events.jsonl";
  const std::string temp = dir + "/events.jsonl.compact.tmp";
  const std::string corrupt = dir + "/events.corrupt";
  auto renamed = rename_of(log, temp, events);
  ASSERT_NE(renamed, not_found) << show(log);
  auto temp_synced = sync_of(log, temp);
  ASSERT_NE(temp_synced, not_found) << show(log);
  EXPECT_LT(temp_synced, renamed) << show(log);
  EXPECT_EQ(log[temp_synced].size, static_cast<long long>(fs::file_size(events)))
    << "the temporary file was synced before all of it was written\n" << show(log);
  auto corrupt_synced = sync_of(log, corrupt);
  ASSERT_NE(corrupt_synced, not_found) << show(log);
  EXPECT_LT(corrupt_synced, renamed) << show(log);
  EXPECT_EQ(log[corrupt_synced].size, static_cast<long long>(fs::file_size(corrupt))) << show(log);
  EXPECT_NE(sync_of(log, dir, renamed + 1), not_found)
    << "the directory was not synced after the rename\n" << show(log);
}

// A compaction that creates events.corrupt: its lines' only copy after the rename is in that new
// file, so its name is made durable (the task directory fsynced) after it was created and before
// the rename over events.jsonl; a power loss could otherwise keep the rename and lose the name. The
// directory is synced again after the rename, for the rename itself.
TEST_P(DurabilitySyncAtEveryLevelTest, CompactionThatCreatesEventsCorruptSyncsTheDirectoryBeforeAndAfterTheRename) {
  {
    auto db = open_store(with(GetParam()));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 3; ++i)
      must_append(*db, make_event("t1", "agent:message"));
  }
  {
    std::ofstream out(fs::path(root()) / "t1" / "events.jsonl", std::ios::app | std::ios::binary);
    out << "not an event\n";
  }
  ASSERT_FALSE(fs::exists(fs::path(root()) / "t1" / "events.corrupt"));
  auto db = open_store(with(GetParam()));
  ASSERT_NE(db, nullptr);
  clear_log();
  retention_policy keep_one;
  keep_one.max_events = 1;
  keep_one.max_age = caf::none;
  auto res = db->compact_task("t1", keep_one);
  ASSERT_TRUE(res) << render(res.error());
  ASSERT_EQ(res->corrupt_moved, 1u);
  auto log = logged_under(real_dir());

  const std::string dir = real_root("t1");
  auto renamed = rename_of(log, dir + "/events.jsonl.compact.tmp", dir + "/events.jsonl");
  ASSERT_NE(renamed, not_found) << show(log);
  // Its sync is logged after it was created and written.
  auto corrupt_synced = sync_of(log, dir + "/events.corrupt");
  ASSERT_NE(corrupt_synced, not_found) << show(log);
  ASSERT_LT(corrupt_synced, renamed) << show(log);
  auto dir_synced = sync_of(log, dir, corrupt_synced + 1);
  EXPECT_LT(dir_synced, renamed) << "events.corrupt's name was not synced before the rename\n"
                                 << show(log);
  EXPECT_NE(sync_of(log, dir, renamed + 1), not_found)
    << "the directory was not synced after the rename\n" << show(log);
}

// If that sync before the rename fails, the compaction fails as a whole before the rename: the log
// keeps every line, the events.corrupt it created is removed (the corrupt line is still in the log)
// and no temporary file stays.
TEST_P(DurabilitySyncAtEveryLevelTest, CompactionWhoseDirectorySyncFailsBeforeTheRenameLeavesTheLogAlone) {
  {
    auto db = open_store(with(GetParam()));
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 3; ++i)
      must_append(*db, make_event("t1", "agent:message"));
  }
  const auto events = fs::path(root()) / "t1" / "events.jsonl";
  {
    std::ofstream out(events, std::ios::app | std::ios::binary);
    out << "not an event\n";
  }
  const std::string before = slurp(events);
  auto db = open_store(with(GetParam()));
  ASSERT_NE(db, nullptr);
  clear_log();
  fail_next("fsync", real_root("t1"), 1, EIO);
  retention_policy keep_one;
  keep_one.max_events = 1;
  keep_one.max_age = caf::none;
  auto res = db->compact_task("t1", keep_one);
  auto log = logged_under(real_dir());
  ASSERT_NE(failed_sync_of(log, real_root("t1")), not_found)
    << "the injected failure was never reached\n" << show(log);
  ASSERT_FALSE(res) << show(log);
  EXPECT_TRUE(is(res.error(), errc::io_error)) << render(res.error());
  EXPECT_EQ(slurp(events), before) << show(log);
  EXPECT_FALSE(fs::exists(events.parent_path() / "events.corrupt"));
  EXPECT_FALSE(fs::exists(events.parent_path() / "events.jsonl.compact.tmp"));
}

// docs/FORMAT.md: a new store's format_version is written to format_version.tmp, fsynced, renamed,
// and the root fsynced after the rename, so a power loss leaves no file or a whole one.
TEST_P(DurabilitySyncAtEveryLevelTest, CreatingAStoreWritesFormatVersionThroughASyncedTempFileAndRename) {
  auto db = open_store(with(GetParam()));
  ASSERT_NE(db, nullptr);
  auto log = logged_under(real_dir());
  const std::string temp = real_root("format_version.tmp");
  auto renamed = rename_of(log, temp, real_root("format_version"));
  ASSERT_NE(renamed, not_found) << show(log);
  auto synced = sync_of(log, temp);
  ASSERT_NE(synced, not_found) << show(log);
  EXPECT_LT(synced, renamed) << show(log);
  EXPECT_EQ(log[synced].size, 2) << "\"1\\n\" was not all written when it was synced\n" << show(log);
  EXPECT_NE(sync_of(log, real_root(), renamed + 1), not_found)
    << "the root was not synced after the rename\n" << show(log);
}

// A root the store creates is a new entry in its parent, fsynced there: a power loss must not take
// the store away after its first acknowledged event.
TEST_P(DurabilitySyncAtEveryLevelTest, CreatingAStoreRootSyncsItsParentDirectory) {
  ASSERT_FALSE(fs::exists(root()));
  auto db = open_store(with(GetParam()));
  ASSERT_NE(db, nullptr);
  auto log = logged_under(real_dir());
  EXPECT_NE(sync_of(log, real_dir()), not_found) << show(log);
}

INSTANTIATE_TEST_SUITE_P(Durability, DurabilitySyncAtEveryLevelTest,
                         ::testing::Values(durability::written, durability::fsynced), level_name);
