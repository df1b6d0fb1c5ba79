// The syncs the store promises (FORMAT.md "Crashes", SPEC §3) happen: on the right file, in the
// right order, and before the call that relies on them returns. Nothing else notices a missing
// sync: every other test passes without one, since only a power loss would show it.
//
// How: this executable defines fsync, fdatasync, syncfs, rename, renameat and renameat2 itself.
// The evstore library is linked into it, so its calls bind to these definitions (and an
// executable's definitions come first in dynamic lookup too, should evstore be a shared library).
// Each one calls the real function (dlsym(RTLD_NEXT)) and logs the call with the path behind its
// descriptor (/proc/self/fd). In this process, rather than a shim LD_PRELOADed into the CLI,
// because:
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
  int rc = 0;          // what the real function returned
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
int logged_sync(const char* call, int fd, int rc) {
  const int saved = errno;
  struct stat sb {};
  const bool is_file = ::fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
  if (is_file && file_sync_delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{file_sync_delay_ms.load()});
  if (is_file)
    ::fstat(fd, &sb); // the size now: every byte written before the sync returned
  add_entry(fs_call{call, fd_path(fd), "", is_file ? static_cast<long long>(sb.st_size) : -1, rc});
  errno = saved;
  return rc;
}

int logged_rename(std::string from, std::string to, int rc) {
  const int saved = errno;
  add_entry(fs_call{"rename", std::move(from), std::move(to), -1, rc});
  errno = saved;
  return rc;
}

} // namespace

// The hooks. Declared as glibc declares them (noexcept where it says __THROW).
extern "C" {

int fsync(int fd) {
  static auto* next = real<int(int)>("fsync");
  return logged_sync("fsync", fd, next(fd));
}

int fdatasync(int fd) {
  static auto* next = real<int(int)>("fdatasync");
  return logged_sync("fdatasync", fd, next(fd));
}

int syncfs(int fd) noexcept {
  static auto* next = real<int(int)>("syncfs");
  return logged_sync("syncfs", fd, next(fd));
}

int rename(const char* from, const char* to) noexcept {
  static auto* next = real<int(const char*, const char*)>("rename");
  std::string f = at_path(AT_FDCWD, from), t = at_path(AT_FDCWD, to);
  return logged_rename(std::move(f), std::move(t), next(from, to));
}

int renameat(int from_dir, const char* from, int to_dir, const char* to) noexcept {
  static auto* next = real<int(int, const char*, int, const char*)>("renameat");
  std::string f = at_path(from_dir, from), t = at_path(to_dir, to);
  return logged_rename(std::move(f), std::move(t), next(from_dir, from, to_dir, to));
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to,
              unsigned int flags) noexcept {
  static auto* next = real<int(int, const char*, int, const char*, unsigned int)>("renameat2");
  std::string f = at_path(from_dir, from), t = at_path(to_dir, to);
  return logged_rename(std::move(f), std::move(t), next(from_dir, from, to_dir, to, flags));
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

class DurabilitySyncTest : public StoreTest {
protected:
  void SetUp() override {
    file_sync_delay_ms = 0;
    clear_log();
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

// FORMAT.md: names (and lines) a process killed before syncing left behind would be lost to a power
// loss, so a writing store under fsynced syncs the root's file system once, before it can
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

// SPEC §3 and FORMAT.md, whatever the durability: the kept lines go to a temporary file that is
// fsynced before it is renamed over events.jsonl, the unparsable lines are fsynced into
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

// FORMAT.md: a new store's format_version is written to format_version.tmp, fsynced, renamed, and
// the root fsynced after the rename, so a power loss leaves no file or a whole one.
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
