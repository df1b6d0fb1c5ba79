// Kill tests: a child appends (and compacts) as fast as it can, reporting each acknowledged event on
// a pipe; we SIGKILL it at a random moment and check what is on disk. A SIGKILL leaves the page cache
// intact, so at both durability levels every acknowledged event must be there, exactly once; no line
// may be glued to another; a compaction is wholly applied or not at all; and the index rebuilt on
// reopen must equal the oracle. EVSTORE_KILL_ROUNDS sets the rounds per test (default 10).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <map>
#include <random>
#include <set>
#include <signal.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "src/index/index_checkpoint.hpp"
#include "src/storage/full_scan.hpp"
#include "src/format/line_codec.hpp"
#include "src/format/line_reader.hpp"
#include "src/storage/store_layout.hpp"
#include "support/equivalence.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

namespace {

int rounds() {
  const char* env = std::getenv("EVSTORE_KILL_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : 10;
}

struct child_report {
  std::map<std::string, std::vector<std::string>> acked; // per task, in acknowledgement order
  size_t total = 0;
};

// Runs the child until a random moment, kills it, and returns what it acknowledged.
child_report run_and_kill(const std::string& root, const char* mode, const char* ack,
                          uint64_t seed, int kill_after_ms) {
  int fds[2];
  // Close-on-exec, so no other process ever holds the write end: EOF means the child is gone.
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  // Everything the child needs is built before fork: between fork and exec only async-signal-safe
  // calls are allowed (a malloc there can deadlock on a lock another thread held at fork time).
  const std::string seed_text = std::to_string(seed);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1); // the duplicate does not inherit O_CLOEXEC
    execl(EVSTORE_CRASH_CHILD, EVSTORE_CRASH_CHILD, root.c_str(), mode, ack, seed_text.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) { // never go on to kill(-1, ...)
    ::close(fds[0]);
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return {};
  }
  std::string out;
  char buf[65536];
  // Wait for "ready" (at most a minute: a child that never gets ready fails the test, never hangs
  // it), then let it run for the chosen time.
  auto ready_deadline = std::chrono::steady_clock::now() + std::chrono::minutes{1};
  while (out.find('\n') == std::string::npos) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 1000) == 0) {
      if (std::chrono::steady_clock::now() < ready_deadline)
        continue;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(fds[0]);
      ADD_FAILURE() << "the child did not get ready within a minute";
      return {};
    }
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{kill_after_ms};
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n > 0)
      out.append(buf, static_cast<size_t>(n));
    else
      std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::fcntl(fds[0], F_SETFL, 0);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the child exited by itself: " << out.substr(0, 200);
  child_report rep;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof())
      break; // a report cut short by the kill: that append's acknowledgement was not seen
    std::istringstream fields(line);
    std::string kind, task, id;
    fields >> kind >> task >> id;
    if (kind == "A") {
      rep.acked[task].push_back(id);
      ++rep.total;
    }
  }
  return rep;
}

// Ids in `task`'s file, in order. Fails on any line that is not a valid event, except a torn
// (unterminated) last line, which is remembered in `torn`: the next writer terminates it (SPEC §2), so
// in later rounds it stands as a line of its own, corrupt but not glued to anything.
std::vector<std::string> ids_on_disk(const std::string& root, const std::string& task,
                                     std::set<std::string>& torn) {
  std::vector<std::string> ids;
  int fd = ::open(events_path(root, task).c_str(), O_RDONLY);
  if (fd < 0)
    return ids;
  for_each_line(fd, 0, [&](const raw_line& line) {
    if (!line.terminated) {
      torn.insert(std::string{line.text}); // a torn write: allowed, terminated by the next append
      return;
    }
    if (line.text.empty())
      return;
    auto d = decode_line(line.text);
    if (d.status != line_status::ok) {
      EXPECT_EQ(torn.count(std::string{line.text}), 1u)
        << "a glued or broken line in " << task << ": " << line.text.substr(0, 120);
      return;
    }
    ids.push_back(d.ev.id);
  });
  ::close(fd);
  return ids;
}

class CrashTest : public StoreTest, public ::testing::WithParamInterface<const char*> {
protected:
  void expect_bus_history_matches_disk(store& db) {
    subscribe_options opts;
    opts.buffer = 1u << 20;
    opts.catch_up = catch_up_spec{0, 10'000'000, caf::none};
    auto sub = db.subscribe(opts);
    ASSERT_TRUE(sub) << render(sub.error());
    std::multiset<std::string> replayed;
    for (;;) {
      auto d = (*sub)->next(std::chrono::seconds{10});
      ASSERT_TRUE(d) << "no caught_up marker";
      if (d->what == delivery::kind::caught_up)
        break;
      replayed.insert(d->ev.id);
    }
    auto want = full_scan_query(root(), "", 10'000'000);
    ASSERT_TRUE(want);
    std::multiset<std::string> stored;
    for (const auto& ev : want->events)
      stored.insert(ev.id);
    ASSERT_EQ(replayed, stored);
  }

  void kill_rounds(const char* mode) {
    std::mt19937_64 rng{std::hash<std::string>{}(std::string(mode) + GetParam())};
    std::map<std::string, std::vector<std::string>> history; // all acked ids per task, ever
    std::set<std::string> torn;                               // torn last lines seen so far
    size_t acked_total = 0;
    size_t found_total = 0;
    const int n = rounds();
    for (int round = 0; round < n; ++round) {
      // Progress on stderr: if a round ever hangs, CTest's timeout output shows which and where.
      std::fprintf(stderr, "[ round    ] %d: child\n", round);
      auto rep = run_and_kill(root(), mode, GetParam(), rng(), 5 + static_cast<int>(rng() % 150));
      acked_total += rep.total;
      for (auto& [task, ids] : rep.acked)
        history[task].insert(history[task].end(), ids.begin(), ids.end());
      // On disk, before anything repairs it: every task file, including one whose only event is
      // the one whose acknowledgement the kill cut off.
      auto on_disk = list_task_ids(root());
      ASSERT_TRUE(on_disk);
      for (const auto& task : *on_disk) {
        auto& all = history[task];
        auto disk = ids_on_disk(root(), task, torn);
        std::set<std::string> unique(disk.begin(), disk.end());
        ASSERT_EQ(unique.size(), disk.size()) << "an event stored twice in " << task;
        // The file holds a suffix of the task's acknowledged events (compaction keeps the newest),
        // then at most one event whose acknowledgement the kill cut off.
        size_t extra = 0;
        while (extra < disk.size() && extra <= 1
               && std::find(all.begin(), all.end(), disk[disk.size() - 1 - extra]) == all.end())
          ++extra;
        ASSERT_LE(extra, 1u) << task;
        std::vector<std::string> kept(disk.begin(), disk.end() - static_cast<std::ptrdiff_t>(extra));
        if (kept.size() > all.size()) {
          std::string where;
          for (size_t i = 0; i < disk.size(); ++i)
            if (std::find(all.begin(), all.end(), disk[i]) == all.end())
              where += " " + std::to_string(i) + ":" + disk[i];
          FAIL() << task << " disk " << disk.size() << " acked " << all.size() << " unacked at"
                 << where;
        }
        std::vector<std::string> tail(all.end() - static_cast<std::ptrdiff_t>(kept.size()), all.end());
        ASSERT_EQ(kept, tail) << task << ": not a whole compaction plus later appends";
        if (std::string(mode) == "append") {
          ASSERT_EQ(kept.size(), all.size()) << task << ": an acknowledged event is missing";
        }
        if (extra == 1) // written, its acknowledgement cut off by the kill: it is the task's latest
          all.push_back(disk.back());
        found_total += rep.acked.count(task) ? std::min(kept.size(), rep.acked[task].size()) : 0;
      }
      // Reopened, the index equals the oracle, and appends after a torn tail start a fresh line.
      std::fprintf(stderr, "[ round    ] %d: reopen, queries, bus\n", round);
      auto db = open_store();
      ASSERT_TRUE(db);
      ASSERT_TRUE(db->wait_for_index()->complete);
      for (auto prefix : {"", "agent:", "task:state:"})
        for (uint64_t limit : {1, 50, 100'000}) {
          auto got = db->query_by_type_prefix(prefix, limit);
          auto want = full_scan_query(root(), prefix, limit);
          ASSERT_TRUE(got && want);
          ASSERT_EQ(got->events.size(), want->events.size());
          for (size_t i = 0; i < got->events.size(); ++i)
            ASSERT_EQ(got->events[i].id, want->events[i].id) << prefix << " " << limit;
        }
      // The bus replays the same history: a catch-up subscription to everything gets exactly the
      // stored events, then its caught_up marker.
      expect_bus_history_matches_disk(*db);
    }
    std::printf("[ figures  ] %s/%s: %d kill rounds, %zu events acknowledged, %zu of those found "
                "in their round, %zu torn writes terminated\n",
                mode, GetParam(), n, acked_total, found_total, torn.size());
  }
};

} // namespace

TEST_P(CrashTest, KilledAppenderLosesNoAcknowledgedEvent) {
  kill_rounds("append");
}

TEST_P(CrashTest, KilledCompactionIsWhollyAppliedOrNotAtAll) {
  kill_rounds("compact");
}

// A child saves its index checkpoint every millisecond over 3,000 tasks while appending, and is killed
// at random moments: the checkpoint on disk is always whole (absent, or one that decodes), a torn
// index.checkpoint.tmp is never used, and the reopened store answers exactly.
TEST_P(CrashTest, KilledCheckpointSaveLeavesAWholeCheckpointOrNone) {
  namespace fs = std::filesystem;
  std::mt19937_64 rng{std::hash<std::string>{}(std::string("checkpoint") + GetParam())};
  // Thousands of small tasks, written directly: the checkpoint takes a while to write.
  for (int t = 0; t < 3000; ++t) {
    const auto task = "cp-" + std::to_string(t);
    std::string id(36, '-');
    for (size_t i = 0; i < id.size(); ++i)
      if (i != 8 && i != 13 && i != 18 && i != 23)
        id[i] = "0123456789abcdef"[rng() % 16];
    id[14] = '4';
    id[19] = '8';
    spit(root() + "/" + task + "/events.jsonl",
         "{\"id\":\"" + id + "\",\"type\":\"agent:message\",\"task\":\"" + task
           + "\",\"actor\":\"agent\",\"ts\":\"2026-11-01T00:00:00Z\",\"data\":{},"
             "\"schema_version\":1}\n");
  }
  spit(root() + "/format_version", "1\n");
  const int n = rounds();
  int whole = 0, absent = 0, temp_left = 0, used = 0;
  for (int round = 0; round < n; ++round) {
    std::fprintf(stderr, "[ round    ] %d: child\n", round);
    run_and_kill(root(), "checkpoint", GetParam(), rng(), 20 + static_cast<int>(rng() % 300));
    // On disk, before anything touches it.
    auto sroot = open_store_root(root(), true);
    ASSERT_TRUE(sroot);
    const checkpoint_scope here{4, device_of(**sroot)};
    const auto file = root() + "/index.checkpoint";
    uint64_t saved_tasks = 0;
    if (fs::exists(fs::symlink_status(file))) {
      auto err = decode_checkpoint(slurp(file), here, [&](task_summary&) { ++saved_tasks; });
      ASSERT_FALSE(err) << "round " << round << ": a torn or damaged checkpoint under its own name: "
                        << render(err);
      ++whole;
    } else {
      ++absent;
    }
    const bool temp = fs::exists(fs::symlink_status(root() + "/index.checkpoint.tmp"));
    temp_left += temp;
    uint64_t loads = 0;
    {
      std::fprintf(stderr, "[ round    ] %d: reopen, queries\n", round);
      auto db = open_store();
      ASSERT_TRUE(db);
      auto stats = db->wait_for_index();
      ASSERT_TRUE(stats && stats->complete);
      EXPECT_EQ(stats->checkpoint_tasks, saved_tasks) << "round " << round;
      used += stats->checkpoint_tasks > 0;
      loads = stats->population_loads;
      EXPECT_EQ(stats->tasks, 3000u);
      for (auto prefix : {"", "agent:", "task:state:"}) {
        // One full scan per prefix (3,000 files; seconds under the sanitizers).
        auto all = full_scan_query(root(), prefix, 100'000);
        ASSERT_TRUE(all);
        for (uint64_t limit : {1, 50, 100'000}) {
          auto got = db->query_by_type_prefix(prefix, limit);
          ASSERT_TRUE(got);
          ASSERT_EQ(ids_of(got->events), ids_of(newest(all->events, limit)))
            << "round " << round << ": " << prefix << " " << limit;
        }
      }
    }
    // The close saved a checkpoint over any leftover temp file, unless there was nothing to save.
    if (loads > 0) {
      EXPECT_FALSE(fs::exists(root() + "/index.checkpoint.tmp")) << "round " << round;
    }
  }
  std::printf("[ figures  ] checkpoint/%s: %d kill rounds: checkpoint whole %d, absent %d, used %d; "
              "temp file left by the kill %d\n",
              GetParam(), n, whole, absent, used, temp_left);
}

INSTANTIATE_TEST_SUITE_P(Durability, CrashTest, ::testing::Values("written", "fsynced"));
