// The evstore command-line tool, end to end: the built binary run on a temporary store.
#include <algorithm>
#include <array>
#include <atomic>
#include <clocale>
#include <cstdint>
#include <cstdlib>
#include <cwchar>
#include <regex>
#include <set>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <csignal>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "messages/timestamp.hpp"
#include "src/cluster/membership.hpp"
#include "src/facade/node.hpp"
#include "support/node_process.hpp"
#include "support/sanitized.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

struct run_result {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return q + "'";
}

/// snapshot_tree, but LOCK by its mode only: a writing command leaves its pid there; and without
/// the index checkpoint, a cache any command that opens the store for writing may bring up to date.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  auto out = snapshot_tree(dir);
  if (auto lock = out.find("LOCK"); lock != out.end())
    lock->second = lock->second.substr(0, lock->second.find(' ', 5));
  out.erase("index.checkpoint");
  return out;
}

class CliTest : public StoreTest {
protected:
  /// Runs `evstore <args>` with --root set to the test's store, `input` on stdin; a child that runs
  /// past 60 s is killed (rc 124) so a hang fails the test instead of stopping the suite.
  run_result cli(const std::string& args, const std::string& input = "") {
    auto in = dir_.str("stdin");
    auto err = dir_.str("stderr");
    spit(in, input);
    auto cmd = "timeout -k 5 60 " + std::string{EVSTORE_CLI} + " --root " + quote(root()) + " "
               + args + " <" + quote(in) + " 2>" + quote(err);
    run_result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
      r.out.append(buf.data(), n);
    int status = ::pclose(p);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = slurp(err);
    return r;
  }

  static size_t lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }

  static bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  /// A directory beside the root with a sentinel file: nothing the tool does may change it.
  fs::path outside() {
    auto dir = dir_.path() / "outside";
    if (!fs::exists(dir))
      spit(dir / "sentinel", "not the store's\n");
    return dir;
  }

  /// The store and the directory beside it, as they are now.
  std::map<std::string, std::string> disk() {
    auto all = snapshot(root());
    for (auto& [k, v] : snapshot(outside()))
      all["outside/" + k] = v;
    return all;
  }

  fs::path log_of(const std::string& task) {
    return fs::path(root()) / task / "events.jsonl";
  }

  /// `n` events in `task`, through the tool.
  void append_n(const std::string& task, int n, const std::string& more = "") {
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(cli("append --task " + task + " --type a:b --actor agent " + more).rc, 0);
  }
};

} // namespace

TEST_F(CliTest, AppendPrintsTheStoredEventAndReadReturnsIt) {
  auto a = cli("append --task t1 --type task:state:running --actor agent --data '{\"n\":1}'");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_NE(a.out.find("\"type\":\"task:state:running\""), std::string::npos);
  EXPECT_NE(a.out.find("\"data\":{\"n\":1}"), std::string::npos);
  auto r = cli("read t1");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, a.out); // the same line, as stored
}

TEST_F(CliTest, AppendWithIdAndTimestampKeepsThem) {
  auto a = cli("append --task t --type a:b --actor human --id 0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a "
               "--ts 2026-01-02T03:04:05Z");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_NE(a.out.find("\"id\":\"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a\""), std::string::npos);
  EXPECT_NE(a.out.find("\"ts\":\"2026-01-02T03:04:05Z\""), std::string::npos);
}

TEST_F(CliTest, AppendFromStdinStopsAtTheFirstBadLineAndNamesIt) {
  auto r = cli("append -", "{\"task\":\"t\",\"type\":\"a:b\",\"actor\":\"agent\"}\n"
                           "\n"
                           "{\"task\":\"t\",\"type\":\"a:c\",\"actor\":\"agent\",\"data\":[1]}\n"
                           "{\"task\":\"t\",\"type\":\"a:d\",\"actor\":\"robot\"}\n"
                           "{\"task\":\"t\",\"type\":\"a:e\",\"actor\":\"agent\"}\n");
  EXPECT_NE(r.rc, 0);
  EXPECT_EQ(lines(r.out), 2u);
  EXPECT_NE(r.err.find("stdin line 4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid_actor"), std::string::npos) << r.err;
  EXPECT_EQ(lines(cli("read t").out), 2u);
}

TEST_F(CliTest, BadInputIsAnErrorOnStderrAndWritesNothing) {
  for (auto args : {"append --task ../x --type a:b --actor agent",
                    "append --task t --type Bad --actor agent",
                    "append --task t --type a:b --actor agent --data '{not json'",
                    "append --task t --type a:b --actor agent --ts yesterday",
                    "append --task t --type a:b --actor agent --ts ''", // empty is not "now"
                    "append --task t --actor agent"}) {
    auto r = cli(args);
    EXPECT_NE(r.rc, 0) << args;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_EQ(r.err.rfind("evstore: ", 0), 0u) << args << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(fs::path(root()) / "t"));
  EXPECT_NE(cli("read ../x").rc, 0);
}

TEST_F(CliTest, BadArgumentsExitNonZeroAndEveryCommandHasHelp) {
  EXPECT_NE(cli("").rc, 0);
  EXPECT_NE(cli("frobnicate").rc, 0);
  EXPECT_NE(cli("query").rc, 0); // PREFIX is required
  EXPECT_NE(cli("read t --from lots").rc, 0);
  EXPECT_NE(cli("--format yaml tasks").rc, 0);
  EXPECT_NE(cli("compact --max-age 3 weeks").rc, 0);
  for (auto sub : {"append", "read", "query", "tail", "tasks", "compact", "cleanup", "stats",
                   "verify"}) {
    auto r = cli(std::string{sub} + " --help");
    EXPECT_EQ(r.rc, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
}

TEST_F(CliTest, QueryReturnsTheLatestMatchingEventsAcrossTasks) {
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(cli("append --task t" + std::to_string(i % 3) + " --type task:state:s" +
                  std::to_string(i) + " --actor agent --ts 2026-01-01T00:00:0" + std::to_string(i) +
                  "Z")
                .rc,
              0);
  ASSERT_EQ(cli("append --task t0 --type agent:message --actor agent").rc, 0);
  auto r = cli("query task:state: --limit 2");
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(lines(r.out), 2u);
  EXPECT_NE(r.out.find("task:state:s4"), std::string::npos);
  EXPECT_NE(r.out.find("task:state:s5"), std::string::npos);
  auto since = cli("query task:state: --since 2026-01-01T00:00:03Z");
  EXPECT_EQ(lines(since.out), 3u);
}

TEST_F(CliTest, TableFormatPrintsAHeaderAndOneRowPerItem) {
  ASSERT_EQ(cli("append --task t1 --type a:b --actor agent").rc, 0);
  ASSERT_EQ(cli("append --type a:b --actor system").rc, 0);
  auto r = cli("--format table tasks");
  ASSERT_EQ(r.rc, 0);
  EXPECT_EQ(r.out.substr(0, 4), "task");
  EXPECT_NE(r.out.find("(system)"), std::string::npos);
  EXPECT_EQ(lines(r.out), 3u);
  auto events = cli("read t1 --format table");
  EXPECT_EQ(events.out.substr(0, 2), "ts");
  EXPECT_EQ(lines(events.out), 2u);
}

TEST_F(CliTest, CompactAndCleanupReportWhatTheyDid) {
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(cli("append --task t --type a:b --actor agent").rc, 0);
  fs::create_directories(fs::path(root()) / "empty");
  auto c = cli("compact t --max-events 2 --max-age none");
  ASSERT_EQ(c.rc, 0) << c.err;
  EXPECT_NE(c.out.find("\"removed\":3"), std::string::npos) << c.out;
  EXPECT_EQ(lines(cli("read t").out), 2u);
  auto all = cli("compact --max-age 30d");
  EXPECT_EQ(all.rc, 0) << all.err;
  auto cl = cli("cleanup");
  ASSERT_EQ(cl.rc, 0) << cl.err;
  EXPECT_NE(cl.out.find("\"removed\":1"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(root()) / "empty"));
}

TEST_F(CliTest, StatsAndVerifyReportCorruptLinesWithFileAndLine) {
  ASSERT_EQ(cli("append --task t --type a:b --actor agent").rc, 0);
  ASSERT_EQ(cli("append --task t --type a:c --actor agent").rc, 0);
  auto file = fs::path(root()) / "t" / "events.jsonl";
  { std::ofstream{file, std::ios::app} << "{broken\n"; }
  ASSERT_EQ(cli("append --task t --type a:b --actor agent").rc, 0);
  auto s = cli("stats");
  ASSERT_EQ(s.rc, 0);
  EXPECT_NE(s.out.find("\"events\":3"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"types\":2"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\"corrupt_lines\":1"), std::string::npos) << s.out;
  auto v = cli("verify");
  EXPECT_NE(v.rc, 0);
  EXPECT_NE(v.out.find(file.string() + "\",\"line\":3"), std::string::npos) << v.out;
  EXPECT_NE(v.err.find("1 bad"), std::string::npos);
  auto r = cli("read t");
  EXPECT_EQ(lines(r.out), 3u);
  EXPECT_NE(r.err.find("1 corrupt"), std::string::npos);
}

TEST_F(CliTest, VerifyPassesACleanStore) {
  ASSERT_EQ(cli("append --task t --type a:b --actor agent").rc, 0);
  auto v = cli("verify");
  EXPECT_EQ(v.rc, 0) << v.out;
  EXPECT_NE(v.err.find("all good"), std::string::npos);
}

TEST_F(CliTest, ReadingCommandsWorkWhileAnotherProcessWrites) {
  auto db = open_store(); // holds the write lock, as a running orchestrator would
  must_append(*db, make_event("t", "task:state:running"));
  EXPECT_EQ(lines(cli("read t").out), 1u);
  EXPECT_EQ(lines(cli("query task:").out), 1u);
  EXPECT_EQ(cli("stats").rc, 0);
  auto w = cli("append --task t --type a:b --actor agent");
  EXPECT_NE(w.rc, 0);
  EXPECT_NE(w.err.find("locked"), std::string::npos) << w.err;
}

TEST_F(CliTest, TailFollowsWhatAnotherProcessWrites) {
  auto db = open_store();
  must_append(*db, make_event("old", "task:state:running")); // before tail started: not printed
  // Tail starts at the end of the files whenever its process gets there (under a sanitizer on a
  // busy machine, later than any fixed sleep), so the writer goes on writing the same three
  // events until tail has ended: whichever cycle it starts in, its two lines are a review and a
  // done.
  std::atomic<bool> tail_ended{false};
  std::thread writer{[&] {
    while (!tail_ended) {
      // A cycle a second, far longer than tail's 50 ms polls.
      std::this_thread::sleep_for(std::chrono::milliseconds(1000));
      must_append(*db, make_event("t1", "agent:message"));
      must_append(*db, make_event("t1", "task:state:review"));
      must_append(*db, make_event("t2", "task:state:done"));
    }
  }};
  auto r = cli("tail 'task:state:*' --interval-ms 50 --count 2 --timeout 20");
  tail_ended = true;
  writer.join();
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(lines(r.out), 2u) << r.out;
  EXPECT_NE(r.out.find("task:state:review"), std::string::npos);
  EXPECT_NE(r.out.find("task:state:done"), std::string::npos);
  EXPECT_EQ(r.out.find("\"task\":\"old\""), std::string::npos);
}

TEST_F(CliTest, RootComesFromTheEnvironmentWhenNotGiven) {
  auto out = dir_.str("env-out");
  auto cmd = "EVSTORE_ROOT=" + quote(root()) + " " + EVSTORE_CLI +
             " append --task t --type a:b --actor agent >" + quote(out);
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(fs::path(root()) / "t" / "events.jsonl"));
}

// ---- Numbers on the command line are checked, never wrapped (issue 10, item 1) ----

TEST_F(CliTest, EveryNumericFlagRefusesWhatIsNotAPlainNumberAndChangesNothing) {
  append_n("t", 3);
  ASSERT_EQ(cli("append --type a:b --actor system").rc, 0);
  struct flag {
    const char* before; // the command up to the flag
    const char* name;
    const char* after;  // the rest, so a wrongly accepted value still ends quickly
    bool age;
  };
  const flag flags[] = {
    {"read t", "--from", "", false},
    {"query a:", "--limit", "", false},
    {"tail", "--count", "--timeout 1", false},
    {"tail", "--interval-ms", "--timeout 1", false},
    {"tail", "--timeout", "--count 1", false},
    {"compact", "--max-events", "--max-age none", false},
    {"compact t", "--max-events", "--max-age none --dry-run", false},
    {"compact", "--max-age", "--max-events none", true},
    {"compact t", "--max-age", "--max-events none --dry-run", true},
  };
  // value -> what stderr says, for a count and for an age
  const std::tuple<const char*, const char*, const char*> values[] = {
    {"-1", "must not be negative", "must not be negative"},
    {"1e3", "decimal digits", "a whole number and a unit"},
    {"99999999999999999999", "too large", "a whole number and a unit"},
    {"", "empty", "a whole number and a unit"},
    {"abc", "decimal digits", "a whole number and a unit"},
    {"5 d", "decimal digits", "a whole number and a unit"},
    {"+5d", "decimal digits", "a whole number and a unit"},
    {"-5d", "decimal digits", "must not be negative"},
    {"999999d", "decimal digits", "too long: at most 106751d"},
    {"18446744073709551615s", "decimal digits", "too long: at most 9223372036s"},
    {"0x10", "decimal digits", "a whole number and a unit"},
    {" 5", "decimal digits", "a whole number and a unit"},
    {"18446744073709551615", "too large", "a whole number and a unit"},
    {"9223372036854775808", "too large", "a whole number and a unit"},
  };
  // Under the sanitizers (each row is an `evstore` process, 0.3 s there) every value still goes
  // through one count flag and one age flag, and every flag gets values: the k-th of n flags of its
  // kind takes the values whose index is k modulo n (28 rows of 126). The first stage runs them all.
  const auto of_kind = [&](const flag& f) {
    return static_cast<size_t>(
      std::count_if(std::begin(flags), std::end(flags), [&](const flag& g) { return g.age == f.age; }));
  };
  const auto index_in_kind = [&](const flag& f) {
    return static_cast<size_t>(
      std::count_if(std::begin(flags), &f, [&](const flag& g) { return g.age == f.age; }));
  };
  size_t rows = 0;
  for (const auto& f : flags) {
    size_t v = 0;
    for (const auto& [value, count_says, age_says] : values) {
      if (sanitized && v++ % of_kind(f) != index_in_kind(f))
        continue;
      const auto args = std::string{f.before} + " " + f.name + " " + quote(value) + " " + f.after;
      const auto before = disk();
      auto r = cli(args);
      ++rows;
      EXPECT_EQ(r.rc, 2) << args << "\n" << r.err;
      EXPECT_TRUE(has(r.err, std::string{"evstore: usage: "} + f.name)) << args << "\n" << r.err;
      EXPECT_TRUE(has(r.err, f.age ? age_says : count_says)) << args << "\n" << r.err;
      EXPECT_TRUE(r.out.empty()) << args << "\n" << r.out;
      EXPECT_EQ(disk(), before) << args;
    }
  }
  EXPECT_EQ(rows, sanitized ? 2 * std::size(values) : std::size(flags) * std::size(values));
  EXPECT_EQ(lines(cli("read t").out), 3u);
}

TEST_F(CliTest, NumbersOutOfTheirRangeAndBadChoicesAreUsageErrors) {
  append_n("t", 2);
  const std::pair<const char*, const char*> rows[] = {
    {"tail --interval-ms 0 --timeout 1", "too small (at least 1)"},
    {"tail --interval-ms 3600001 --timeout 1", "too large (at most 3600000)"},
    {"tail --timeout 1000000001 --count 1", "too large"},
    {"tail --timeout 0.5e1 --count 1", "decimal digits"},
    {"tail --timeout 1. --count 1", "decimal digits"},
    {"tail --timeout nan --count 1", "decimal digits"},
    {"tail --timeout inf --count 1", "decimal digits"},
    {"compact --max-age 106752d", "too long"},
    {"compact --max-age 2562048h", "too long: at most 2562047h"},
    {"compact --max-age 153722868m", "too long: at most 153722867m"},
    {"compact --max-age 30D", "a whole number and a unit"},
    {"compact --max-age 30", "a whole number and a unit"},
    {"compact --max-age d", "a whole number and a unit"},
    {"compact --max-age 3w", "a whole number and a unit"},
    {"compact --max-age ''", "a whole number and a unit"},
    {"compact --max-events None", "decimal digits"},
    {"compact --max-events 0", "0 would remove every event; for no limit say none"},
    {"compact t --max-events 0 --dry-run", "0 would remove every event"},
    {"compact --max-age 0d", "would remove every event; for no age limit say none"},
    {"compact --max-age 0s --max-events none", "would remove every event"},
    {"compact --max-age 000h", "would remove every event"},
    {"compact --max-events 1.5", "decimal digits"},
    {"compact --durability sometimes", "--durability"},
    {"append --task t --type a:b --actor agent --durability sometimes", "--durability"},
    {"cleanup --durability ''", "--durability"},
    {"query a: --since lastweek", "--since takes an RFC 3339 time, a time ago"},
    {"query a: --until 5y", "--until takes an RFC 3339 time, a time ago"},
    {"query Not:A:Pattern", "is not a type pattern"},
    {"tail 'a:*:b' --count 1", "is not a type pattern"},
    {"query a: --actor robot", "--actor must be human"},
    {"read t --from 3 --follow", "--from and --follow do not go together"},
  };
  for (const auto& [args, says] : rows) {
    const auto before = disk();
    auto r = cli(args);
    EXPECT_EQ(r.rc, 2) << args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, says)) << args << "\n" << r.err;
    EXPECT_EQ(disk(), before) << args;
  }
  EXPECT_EQ(lines(cli("read t").out), 2u);
  // Not numbers, but the same rule: a task that is not in the store is an error, not "0 removed".
  for (auto args : {"compact nosuch", "compact ../x --max-age none", "compact '' --dry-run"}) {
    const auto before = disk();
    auto r = cli(args);
    EXPECT_EQ(r.rc, 1) << args << "\n" << r.err;
    EXPECT_TRUE(has(r.err, "the store has no task")) << args << "\n" << r.err;
    EXPECT_EQ(disk(), before) << args;
  }
}

TEST_F(CliTest, TheLargestValuesAreAcceptedAndKeepEverything) {
  append_n("t", 3);
  auto r = cli("compact --max-age 106751d --max-events 9223372036854775807");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(has(r.out, "\"removed\":0")) << r.out;
  for (auto age : {"2562047h", "153722867m", "9223372036s"})
    EXPECT_EQ(cli(std::string{"compact --max-age "} + age).rc, 0) << age;
  EXPECT_EQ(cli("read t --from 9223372036854775807").rc, 0);
  EXPECT_EQ(cli("query a: --limit 9223372036854775807").out, cli("read t").out);
  EXPECT_EQ(lines(cli("read t").out), 3u);
}

TEST_F(CliTest, CompactWithoutAPolicyPrintsThePolicyItApplies) {
  append_n("t", 3);
  auto d = cli("compact");
  ASSERT_EQ(d.rc, 0) << d.err;
  EXPECT_TRUE(has(d.err, "evstore: compacting with the default policy: keep the newest 10000 events "
                         "per task and events newer than 30d"))
    << d.err;
  auto half = cli("compact --max-events 5");
  ASSERT_EQ(half.rc, 0) << half.err;
  EXPECT_TRUE(has(half.err, "keep the newest 5 events per task and events newer than 30d "
                            "(default --max-age)"))
    << half.err;
  auto other = cli("compact --max-age 12h");
  EXPECT_TRUE(has(other.err, "keep the newest 10000 events per task and events newer than 12h "
                             "(default --max-events)"))
    << other.err;
  auto both = cli("compact --max-events 5 --max-age 90m");
  ASSERT_EQ(both.rc, 0) << both.err;
  EXPECT_FALSE(has(both.err, "policy")) << both.err;
  EXPECT_EQ(lines(cli("read t").out), 3u);
}

TEST_F(CliTest, MaxEventsNoneKeepsAnyNumberAndMaxAgeStillApplies) {
  append_n("t", 4, "--ts 2020-01-01T00:00:00Z");
  append_n("t", 3);
  auto none = cli("compact --max-events none --max-age none");
  ASSERT_EQ(none.rc, 0) << none.err;
  EXPECT_TRUE(has(none.out, "\"removed\":0,\"kept\":7")) << none.out;
  auto old = cli("compact t --max-events none --max-age 30d");
  ASSERT_EQ(old.rc, 0) << old.err;
  EXPECT_TRUE(has(old.out, "\"removed\":4,\"kept\":3")) << old.out;
  EXPECT_EQ(lines(cli("read t").out), 3u);
}

TEST_F(CliTest, DryRunReportsPerTaskAndChangesNothing) {
  append_n("a", 5);
  append_n("b", 2);
  { std::ofstream{log_of("b"), std::ios::app} << "{broken\n"; }
  const auto before = disk();
  auto r = cli("compact --dry-run --max-events 3 --max-age none");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(disk(), before);
  EXPECT_TRUE(has(r.out, "{\"task\":\"a\",\"would_remove\":2,\"would_keep\":3,"
                         "\"would_move_corrupt\":0}"))
    << r.out;
  EXPECT_TRUE(has(r.out, "{\"task\":\"b\",\"would_remove\":0,\"would_keep\":2,"
                         "\"would_move_corrupt\":1}"))
    << r.out;
  EXPECT_TRUE(has(r.err, "dry run, nothing changed: 2 events would be removed")) << r.err;
  // The default policy is named for a dry run too; one task can be asked about.
  auto one = cli("compact a --dry-run");
  ASSERT_EQ(one.rc, 0) << one.err;
  EXPECT_TRUE(has(one.err, "dry run with the default policy")) << one.err;
  EXPECT_EQ(lines(one.out), 1u) << one.out;
  EXPECT_EQ(disk(), before);
}

TEST_F(CliTest, DryRunWorksWhileAnotherProcessHoldsTheWriteLock) {
  auto db = open_store();
  for (int i = 0; i < 4; ++i)
    must_append(*db, make_event("t", "a:b"));
  auto r = cli("compact --dry-run --max-events 1 --max-age none");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(has(r.out, "\"would_remove\":3")) << r.out;
  EXPECT_EQ(db->read_task("t")->events.size(), 4u);
}

// ---- Failures are reported and exit non-zero (issue 10, item 10) ----

TEST_F(CliTest, VerifyReportsALogThatIsNotARegularFileAndDoesNotHang) {
  append_n("good", 2);
  append_n("dir", 1);
  append_n("fifo", 1);
  append_n("link", 1);
  spit(outside() / "elsewhere.jsonl", "{not an event, and not ours\n");
  fs::remove(log_of("dir"));
  fs::create_directory(log_of("dir"));
  fs::remove(log_of("fifo"));
  ASSERT_EQ(::mkfifo(log_of("fifo").c_str(), 0644), 0);
  fs::remove(log_of("link"));
  fs::create_symlink(outside() / "elsewhere.jsonl", log_of("link"));
  fs::create_directory_symlink(outside(), fs::path(root()) / "linked"); // a task dir elsewhere
  spit(outside() / "events.jsonl", "{not an event either\n");
  const auto before = disk();
  auto v = cli("verify");
  EXPECT_EQ(v.rc, 1) << v.err;
  EXPECT_FALSE(has(v.err, "all good")) << v.err;
  EXPECT_TRUE(has(v.err, "4 logs the store cannot read")) << v.err;
  EXPECT_TRUE(has(v.out, "{\"file\":\"" + (fs::path(root()) / "linked").string()
                           + "\",\"line\":0,\"problem\":\"not_regular_file: a symbolic link"))
    << v.out;
  for (auto task : {"dir", "fifo", "link"})
    EXPECT_TRUE(has(v.out, "{\"file\":\"" + log_of(task).string()
                             + "\",\"line\":0,\"problem\":\"not_regular_file: "))
      << task << "\n" << v.out;
  EXPECT_TRUE(has(v.out, "is a directory")) << v.out;
  EXPECT_TRUE(has(v.out, "is a FIFO")) << v.out;
  EXPECT_TRUE(has(v.out, "is a symbolic link")) << v.out;
  EXPECT_FALSE(has(v.out, "elsewhere")) << v.out; // the files outside were never read as logs
  EXPECT_FALSE(has(v.out, "outside")) << v.out;
  EXPECT_TRUE(has(v.err, "verified 2 lines in 1 files")) << v.err;
  EXPECT_EQ(disk(), before);
}

TEST_F(CliTest, VerifyReportsALogItMayNotRead) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root reads a file whatever its mode; the directory-as-log row covers this";
  append_n("t", 2);
  fs::permissions(log_of("t"), fs::perms::none);
  auto v = cli("verify");
  auto s = cli("stats");
  fs::permissions(log_of("t"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(v.rc, 1) << v.err;
  EXPECT_FALSE(has(v.err, "all good")) << v.err;
  EXPECT_TRUE(has(v.out, "Permission denied")) << v.out;
  EXPECT_EQ(s.rc, 1) << s.err;
  EXPECT_TRUE(has(s.err, "1 of 1 tasks could not be read")) << s.err;
}

TEST_F(CliTest, CompactOfEveryTaskGoesOnPastAFailureThenNamesItAndExitsNonZero) {
  append_n("a", 4);
  append_n("b", 4);
  append_n("c", 4);
  // b has a line to move aside and a directory where events.corrupt goes: its compaction fails,
  // even for root.
  { std::ofstream{log_of("b"), std::ios::app} << "{broken\n"; }
  fs::create_directory(log_of("b").parent_path() / "events.corrupt");
  const auto b_before = slurp(log_of("b"));
  auto r = cli("compact --max-events 1 --max-age none");
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_TRUE(has(r.err, "evstore: compact \"b\": ")) << r.err;
  EXPECT_TRUE(has(r.err, "compaction failed for 1 of 3 tasks: \"b\"; the others were compacted"))
    << r.err;
  EXPECT_TRUE(has(r.out, "\"tasks\":3,\"removed\":6,\"kept\":2,\"corrupt_moved\":0,\"failed\":1"))
    << r.out;
  EXPECT_EQ(lines(cli("read a").out), 1u);
  EXPECT_EQ(lines(cli("read c").out), 1u);
  EXPECT_EQ(slurp(log_of("b")), b_before);
  // One named task that fails is a failure too; so is a log that is not a regular file.
  EXPECT_EQ(cli("compact b --max-events 1 --max-age none").rc, 1);
  fs::remove(log_of("c"));
  fs::create_directory(log_of("c"));
  auto c = cli("compact c --max-events 1 --max-age none");
  EXPECT_EQ(c.rc, 1) << c.err;
  EXPECT_TRUE(has(c.err, "\"c\"")) << c.err;
}

TEST_F(CliTest, OutputThatCannotBeWrittenIsAFailure) {
  append_n("t", 1);
  auto cmd = std::string{EVSTORE_CLI} + " --root " + quote(root()) + " read t >/dev/full 2>"
             + quote(dir_.str("stderr"));
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_TRUE(has(slurp(dir_.str("stderr")), "cannot write to standard output"));
}

// ---- Duplicates are not plain success (issue 10, item 7) ----

TEST_F(CliTest, ARetriedIdIsReportedAsADuplicateWithTheStoredEvent) {
  const std::string id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  auto first = cli("append --task t --type a:b --actor agent --data '{\"n\":1}' --id " + id);
  ASSERT_EQ(first.rc, 0) << first.err;
  append_n("t", 1);
  const auto before = disk();
  auto again = cli("append --task t --type a:b --actor agent --data '{\"n\":1}' --id " + id);
  EXPECT_EQ(again.rc, 3) << again.err;
  EXPECT_TRUE(has(again.err, "evstore: duplicate: event " + id
                               + " already stored at position 0; nothing written"))
    << again.err;
  EXPECT_EQ(again.out, first.out); // the stored event, its ts included
  EXPECT_EQ(disk(), before);
  // The same id with other content is no retry: an error, nothing written.
  auto other = cli("append --task t --type a:b --actor agent --data '{\"n\":2}' --id " + id);
  EXPECT_EQ(other.rc, 1) << other.err;
  EXPECT_TRUE(has(other.err, "id_conflict")) << other.err;
  EXPECT_TRUE(other.out.empty()) << other.out;
  EXPECT_EQ(disk(), before);
}

TEST_F(CliTest, AppendFromStdinCountsDuplicatesAndExitsThree) {
  const std::string line =
    "{\"task\":\"t\",\"type\":\"a:b\",\"actor\":\"agent\",\"id\":\"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a\"}\n";
  auto r = cli("append -", line + "{\"task\":\"t\",\"type\":\"a:c\",\"actor\":\"agent\"}\n" + line);
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_TRUE(has(r.err, "stdin line 3: duplicate: event 0b7e5f9c")) << r.err;
  EXPECT_TRUE(has(r.err, "evstore: appended 2, duplicates 1, failed 0")) << r.err;
  EXPECT_EQ(lines(r.out), 3u);
  EXPECT_EQ(lines(cli("read t").out), 2u);
  auto bad = cli("append -", line + "{\"task\":\"t\",\"type\":\"Bad\",\"actor\":\"agent\"}\n");
  EXPECT_EQ(bad.rc, 1) << bad.err;
  EXPECT_TRUE(has(bad.err, "appended 0, duplicates 1, failed 1 (stopped at stdin line 2")) << bad.err;
}

TEST_F(CliTest, StdinDataKeepsItsNumbersAsWritten) {
  auto r = cli("append -", "{\"task\":\"t\",\"type\":\"a:b\",\"actor\":\"agent\","
                           "\"data\":{\"big\":123456789012345678901234567890,\"x\":0.1}}\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(has(cli("read t").out, "\"data\":{\"big\":123456789012345678901234567890,\"x\":0.1}"));
  auto flag = cli("append --task t --type a:b --actor agent --data '[1e400]'");
  EXPECT_NE(flag.rc, 0);
}

// ---- --durability (issue 10, item 12) ----

TEST_F(CliTest, WritingCommandsTakeDurability) {
  auto a = cli("append --task t --type a:b --actor agent --durability fsynced");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_EQ(cli("append --task t --type a:b --actor agent --durability written").rc, 0);
  EXPECT_EQ(cli("compact --durability fsynced --max-events 1 --max-age none").rc, 0);
  EXPECT_EQ(cli("cleanup --durability fsynced").rc, 0);
  EXPECT_EQ(lines(cli("read t").out), 1u);
  EXPECT_EQ(cli("read t --durability fsynced").rc, 2); // reading commands do not take it
}

TEST_F(CliTest, TheEpochIsStoredAsGivenAndAnEmptyTsOnStdinIsAnError) {
  auto a = cli("append --task t --type a:b --actor agent --ts 1970-01-01T00:00:00Z");
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_NE(a.out.find("\"ts\":\"1970-01-01T00:00:00Z\""), std::string::npos) << a.out;
  auto r = cli("append -", "{\"task\":\"t\",\"type\":\"a:b\",\"actor\":\"agent\",\"ts\":\"\"}\n");
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("invalid_timestamp"), std::string::npos) << r.err;
  EXPECT_EQ(lines(cli("read t").out), 1u);
}

namespace {

/// `evstore serve` on the test's store, as a child process; the endpoint file tells when it listens.
pid_t start_serve(const std::string& root, const fs::path& err) {
  return start_node_process(EVSTORE_CLI, root, {"serve"}, err);
}

} // namespace

TEST_F(CliTest, WhileANodeServesTheStoreCommandsGoThroughItAndSigtermStopsItCleanly) {
  ASSERT_EQ(cli("append --task t1 --type task:state:running --actor agent").rc, 0);
  auto serve_err = dir_.path() / "serve.err";
  pid_t node = start_serve(root(), serve_err);
  ASSERT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(serve_err);
  // The node holds the lock, yet appends work: they go through it.
  auto appended = cli("-v append --task t2 --type task:state:done --actor agent");
  EXPECT_EQ(appended.rc, 0) << appended.err;
  EXPECT_TRUE(has(appended.err, "answered by the node")) << appended.err;
  auto via_node = cli("--verbose query task:state:");
  EXPECT_EQ(via_node.rc, 0) << via_node.err;
  EXPECT_EQ(lines(via_node.out), 2u) << via_node.out;
  EXPECT_TRUE(has(via_node.err, "answered by the node")) << via_node.err;
  auto files = cli("--no-node -v query task:state:");
  EXPECT_EQ(files.out, via_node.out);
  EXPECT_TRUE(has(files.err, "reading the files (--no-node)")) << files.err;
  // Stopping: exit 0, the endpoint file gone, the lock free for the next writer.
  EXPECT_EQ(stop_node(node), 0) << slurp(serve_err);
  EXPECT_FALSE(fs::exists(fs::path(root()) / "NODE"));
  auto after = cli("-v append --task t3 --type task:state:done --actor agent");
  EXPECT_EQ(after.rc, 0) << after.err;
  EXPECT_TRUE(has(after.err, "reading the files")) << after.err;
  EXPECT_EQ(lines(cli("query task:state:").out), 3u);
}


// Three `evstore serve --cluster` processes, each with its own root, answer `evstore --cluster`
// as one store holding the same events would; a node killed with SIGKILL is named by every command
// that needs it (and spares appends to the others' tasks), and once restarted it answers again
// with everything it acknowledged.
TEST_F(CliTest, ThreeNodeProcessesAnswerAsOneStoreAndAKilledNodeIsNamedUntilItReturns) {
  auto cred = ensure_node_credential(dir_.str("credential"));
  ASSERT_TRUE(cred) << render(cred.error());
  const char* names[] = {"alpha", "beta", "gamma"};
  uint16_t ports[3];
  const auto cluster = dir_.str("cluster.conf");
  {
    std::ofstream out{cluster};
    out << "credential " << *cred << "\n";
    for (int i = 0; i < 3; ++i)
      out << names[i] << " 127.0.0.1:" << (ports[i] = free_port()) << "\n";
  }
  auto members = read_membership(cluster);
  ASSERT_TRUE(members) << render(members.error());
  // A node not in the file would take appends no query asks for: refused.
  auto stranger = cli("--cluster " + cluster + " serve --listen 127.0.0.1:1");
  EXPECT_EQ(stranger.rc, 2);
  EXPECT_TRUE(has(stranger.err, "is not the address of a node in")) << stranger.err;
  pid_t nodes[3];
  for (int i = 0; i < 3; ++i) {
    nodes[i] = start_cluster_node(EVSTORE_CLI, dir_.str(std::string{"node-"} + names[i]), ports[i],
                                  cluster, dir_.path() / (std::string{names[i]} + ".err"));
    ASSERT_TRUE(fs::exists(dir_.path() / (std::string{"node-"} + names[i]) / "NODE"))
      << slurp(dir_.path() / (std::string{names[i]} + ".err"));
  }
  // The same lines into the cluster and into one store (this test's root).
  std::string input;
  for (int i = 0; i < 60; ++i)
    input += "{\"task\":\"t" + std::to_string(i % 12) + "\",\"type\":\"task:state:s" + std::to_string(i % 3)
             + "\",\"actor\":\"agent\",\"ts\":\"2026-01-01T00:00:" + (i < 10 ? "0" : "")
             + std::to_string(i) + "Z\",\"id\":\"00000000-0000-4000-8000-" + std::string(10, '0')
             + (i < 10 ? "0" : "") + std::to_string(i) + "\"}\n";
  auto into_cluster = cli("--cluster " + cluster + " append -", input);
  ASSERT_EQ(into_cluster.rc, 0) << into_cluster.err;
  ASSERT_EQ(cli("append -", input).rc, 0);
  for (const char* q : {"query task: -n 100", "query task:state:s1 -n 7", "query '*' -n 5",
                        "read t3", "tasks"}) {
    auto one = cli(q);
    auto many = cli("--cluster " + cluster + " " + q);
    EXPECT_EQ(many.rc, 0) << q << ": " << many.err;
    EXPECT_EQ(many.out, one.out) << q;
  }
  // Each node holds its own tasks only.
  for (int i = 0; i < 3; ++i)
    for (auto& entry : fs::directory_iterator(dir_.path() / (std::string{"node-"} + names[i]))) {
      if (entry.is_directory()) {
        EXPECT_EQ(members->owner_of(entry.path().filename().string()), static_cast<size_t>(i))
          << entry.path();
      }
    }

  ::kill(nodes[1], SIGKILL);
  ::waitpid(nodes[1], nullptr, 0);
  auto down = cli("--cluster " + cluster + " query task: -n 100");
  EXPECT_EQ(down.rc, 1);
  EXPECT_TRUE(has(down.err, "node 'beta'")) << down.err;
  // --partial answers from alpha and gamma, says on stderr what is missing, and is only that.
  auto partial = cli("--cluster " + cluster + " query task: -n 100 --partial");
  EXPECT_EQ(partial.rc, 0) << partial.err;
  EXPECT_TRUE(has(partial.err, "partial answer: nothing from node(s) beta")) << partial.err;
  std::string expected_partial;
  {
    std::istringstream whole{cli("query task: -n 100").out};
    for (std::string line; std::getline(whole, line);)
      if (members->owner_of(std::string{boost::json::parse(line).at("task").as_string()}) != 1)
        expected_partial += line + "\n";
  }
  EXPECT_FALSE(expected_partial.empty());
  EXPECT_EQ(partial.out, expected_partial);
  EXPECT_EQ(cli("query task: --partial").rc, 2); // one store answers whole or not at all
  EXPECT_EQ(cli("--cluster " + cluster + " query task: --task t1 --partial").rc, 2);
  std::string on_alpha, on_beta;
  for (int k = 0; on_alpha.empty() || on_beta.empty(); ++k) {
    std::string t = "t" + std::to_string(k);
    (members->owner_of(t) == 0 ? on_alpha : members->owner_of(t) == 1 ? on_beta : t) = t;
  }
  auto to_beta = cli("--cluster " + cluster + " append --task " + on_beta + " --type a:b --actor agent");
  EXPECT_EQ(to_beta.rc, 1);
  EXPECT_TRUE(has(to_beta.err, "node 'beta'")) << to_beta.err;
  const std::string late = "append --task " + on_alpha
                           + " --type task:state:late --actor agent --ts 2026-01-02T00:00:00Z "
                             "--id 00000000-0000-4000-8000-000000000999";
  auto to_alpha = cli("--cluster " + cluster + " " + late);
  EXPECT_EQ(to_alpha.rc, 0) << to_alpha.err;
  ASSERT_EQ(cli(late).rc, 0);

  nodes[1] = start_cluster_node(EVSTORE_CLI, dir_.str("node-beta"), ports[1], cluster,
                                dir_.path() / "beta.err");
  auto back = cli("--cluster " + cluster + " query task: -n 100");
  EXPECT_EQ(back.rc, 0) << back.err << slurp(dir_.path() / "beta.err");
  EXPECT_EQ(back.out, cli("query task: -n 100").out);
  for (pid_t node : nodes)
    EXPECT_EQ(stop_node(node), 0);
}

// A root that holds a task the membership gives to another node is not served by this one: the
// task's history would stay here while routers send its appends there. Its owner serves it.
TEST_F(CliTest, ANodeWhoseRootHoldsAnotherNodesTasksIsNotServed) {
  auto cred = ensure_node_credential(dir_.str("credential"));
  ASSERT_TRUE(cred) << render(cred.error());
  const auto cluster = dir_.str("cluster.conf");
  const uint16_t alpha_port = free_port(), beta_port = free_port();
  {
    std::ofstream out{cluster};
    out << "credential " << *cred << "\nsystem beta\nalpha 127.0.0.1:" << alpha_port
        << "\nbeta 127.0.0.1:" << beta_port << "\n";
  }
  auto members = read_membership(cluster);
  ASSERT_TRUE(members) << render(members.error());
  std::string on_beta;
  for (int k = 0; on_beta.empty(); ++k)
    if (members->owner_of("t" + std::to_string(k)) == 1)
      on_beta = "t" + std::to_string(k);
  ASSERT_EQ(cli("append --task " + on_beta + " --type a:b --actor agent").rc, 0);
  ASSERT_EQ(cli("append --task '' --type a:b --actor system").rc, 0); // beta's too
  const auto before = snapshot(root());

  auto as_alpha = cli("--cluster " + cluster + " serve --listen 127.0.0.1:"
                      + std::to_string(alpha_port));
  EXPECT_EQ(as_alpha.rc, 1);
  EXPECT_TRUE(has(as_alpha.err, "holds 2 task(s) that")) << as_alpha.err;
  EXPECT_TRUE(has(as_alpha.err, "belongs to 'beta'")) << as_alpha.err;
  EXPECT_EQ(snapshot(root()), before); // nothing written, no NODE
  // Every node on one port, this one on a wildcard: it is the member at this machine's address.
  const auto same_port = dir_.str("same-port.conf");
  {
    std::ofstream out{same_port};
    out << "credential " << *cred << "\nsystem beta\nalpha 127.0.0.1:" << alpha_port
        << "\nbeta 203.0.113.1:" << alpha_port << "\n"; // 203.0.113.0/24: documentation
  }
  auto wildcard =
    cli("--cluster " + same_port + " serve --listen 0.0.0.0:" + std::to_string(alpha_port));
  EXPECT_EQ(wildcard.rc, 1);
  EXPECT_TRUE(has(wildcard.err, "belongs to 'beta'")) << wildcard.err;
  EXPECT_EQ(snapshot(root()), before);

  pid_t beta = start_cluster_node(EVSTORE_CLI, root(), beta_port, cluster, dir_.path() / "beta.err");
  EXPECT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(dir_.path() / "beta.err");
  EXPECT_EQ(stop_node(beta), 0);
}

// What the start-up check lets pass: a foreign task whose log is empty (nothing to split), and, on
// a wildcard address where no member names this machine, any member's task (with a warning). The
// gate then serves the tasks of every member the node may be.
TEST_F(CliTest, ANodeServesAnEmptyForeignLogAndWarnsWhenNoMemberIsAtThisMachinesAddress) {
  auto cred = ensure_node_credential(dir_.str("credential"));
  ASSERT_TRUE(cred) << render(cred.error());
  const uint16_t port = free_port();
  // 203.0.113.0/24 is for documentation (TEST-NET-3): no address of this machine (this sandbox has
  // one in 192.0.2.0/24, so not that one).
  const auto cluster = dir_.str("cluster.conf");
  {
    std::ofstream out{cluster};
    out << "credential " << *cred << "\nsystem alpha\nalpha 127.0.0.1:" << port
        << "\nbeta 203.0.113.2:" << port << "\n";
  }
  auto members = read_membership(cluster);
  ASSERT_TRUE(members) << render(members.error());
  std::string on_alpha, on_beta;
  for (int k = 0; on_alpha.empty() || on_beta.empty(); ++k) {
    std::string t = "t" + std::to_string(k);
    (members->owner_of(t) == 0 ? on_alpha : on_beta) = t;
  }
  ASSERT_EQ(cli("append --task " + on_alpha + " --type a:b --actor agent").rc, 0);
  // An empty log of beta's (a task compacted to nothing, or a crash before its first line): alpha
  // serves its root, since there is no history to split.
  fs::create_directories(fs::path(root()) / on_beta);
  { std::ofstream{fs::path(root()) / on_beta / "events.jsonl"}; }
  const auto err = dir_.path() / "node.err";
  pid_t node = start_cluster_node(EVSTORE_CLI, root(), port, cluster, err);
  ASSERT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(err);
  EXPECT_EQ(stop_node(node), 0) << slurp(err);
  // Every member on one port at addresses this machine does not have: a node on the wildcard
  // address cannot tell which it is, says so, and is checked against (and serves) all of them.
  const auto elsewhere = dir_.str("elsewhere.conf");
  {
    std::ofstream out{elsewhere};
    out << "credential " << *cred << "\nalpha 203.0.113.1:" << port << "\nbeta 203.0.113.2:" << port
        << "\n";
  }
  ASSERT_EQ(cli("append --task " + on_beta + " --type a:b --actor agent").rc, 0);
  node = start_node_process(EVSTORE_CLI, root(),
                            {"--cluster", elsewhere, "serve", "--listen",
                             "0.0.0.0:" + std::to_string(port)},
                            err);
  ASSERT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(err);
  EXPECT_TRUE(has(slurp(err), "none of the 2 members on port " + std::to_string(port)))
    << slurp(err);
  EXPECT_EQ(stop_node(node), 0) << slurp(err);
}

namespace {

/// `count` events over 7 tasks, numbered from `first` in their data; line `bad` (1-based, 0: none)
/// is not an event.
std::string numbered_events(int first, int count, int bad = 0) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    const int n = first + i;
    if (i + 1 == bad)
      text += "{\"task\":\"t0\",\"type\":\"Not A Type\",\"actor\":\"agent\"}\n";
    else
      text += "{\"task\":\"t" + std::to_string(n % 7) + "\",\"type\":\"agent:message\","
              + "\"actor\":\"agent\",\"data\":{\"n\":" + std::to_string(n) + "}}\n";
  }
  return text;
}

/// The data.n of each event `read` prints, in file order.
std::vector<int> numbers_in(const std::string& jsonl) {
  std::vector<int> out;
  for (size_t at = jsonl.find("\"n\":"); at != std::string::npos; at = jsonl.find("\"n\":", at + 1))
    out.push_back(std::stoi(jsonl.substr(at + 4)));
  return out;
}

} // namespace

// `append -` sends batches with several in flight; each task's events must still land in input
// order, every line up to a bad one must be written and none after it, locally and through a node.
TEST_F(CliTest, AppendFromStdinPipelinesBatchesInInputOrderPerTaskLocallyAndThroughANode) {
  auto local = cli("append -", numbered_events(0, 5000, 4001));
  EXPECT_EQ(local.rc, 1) << local.err;
  EXPECT_TRUE(has(local.err, "stdin line 4001: ")) << local.err;
  EXPECT_TRUE(has(local.err, "appended 4000, duplicates 0, failed 1 (stopped at stdin line 4001"))
    << local.err;
  EXPECT_EQ(lines(local.out), 4000u);
  auto serve_err = dir_.path() / "serve.err";
  pid_t node = start_serve(root(), serve_err);
  ASSERT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(serve_err);
  auto remote = cli("-v append -", numbered_events(5000, 3000));
  EXPECT_EQ(remote.rc, 0) << remote.err;
  EXPECT_TRUE(has(remote.err, "answered by the node")) << remote.err;
  EXPECT_TRUE(has(remote.err, "appended 3000, duplicates 0, failed 0")) << remote.err;
  EXPECT_EQ(stop_node(node), 0) << slurp(serve_err);
  for (int t = 0; t < 7; ++t) {
    std::vector<int> want;
    for (int n = 0; n < 8000; ++n)
      if (n % 7 == t && (n < 4000 || n >= 5000))
        want.push_back(n);
    EXPECT_EQ(numbers_in(cli("read t" + std::to_string(t)).out), want) << "t" << t;
  }
}

// What only the store refuses (here a line over its size limit) is learnt a batch later: the line
// is named, nothing is sent after its batch (here the only one), and every line sent is reported.
TEST_F(CliTest, AppendFromStdinNamesALineOnlyTheStoreRefusesAndReportsEveryLineItSent) {
  const std::string big(1 << 20, 'x');
  std::string input = numbered_events(0, 2);
  input += "{\"task\":\"t1\",\"type\":\"agent:message\",\"actor\":\"agent\",\"data\":{\"s\":\""
           + big + "\"}}\n";
  input += numbered_events(2, 1);
  auto r = cli("append -", input);
  EXPECT_EQ(r.rc, 1) << r.err.substr(0, 400);
  EXPECT_TRUE(has(r.err, "stdin line 3: ")) << r.err.substr(0, 400);
  EXPECT_TRUE(has(r.err, "appended 3, duplicates 0, failed 1 (the store refused stdin line 3"))
    << r.err.substr(0, 400);
  EXPECT_EQ(numbers_in(cli("read t0").out), std::vector<int>{0});
  EXPECT_EQ(numbers_in(cli("read t1").out), std::vector<int>{1});
  EXPECT_EQ(numbers_in(cli("read t2").out), std::vector<int>{2});
}

TEST_F(CliTest, ConnectNeedsAHostAndAPortAndANodeThatAnswers) {
  ASSERT_EQ(cli("append --task t --type task:state:done --actor agent").rc, 0);
  for (const char* bad : {"--connect nowhere query task:", "--connect host:99999 query task:",
                          "--connect :80 query task:", "serve --listen localhost"})
    EXPECT_EQ(cli(bad).rc, 2) << bad;
  // Without a credential: refused before connecting.
  auto no_credential = cli("--connect 127.0.0.1:1 query task:");
  EXPECT_EQ(no_credential.rc, 1);
  EXPECT_TRUE(has(no_credential.err, "bad_credential")) << no_credential.err;
  // Nothing listens there: an error, not the files.
  ASSERT_TRUE(ensure_node_credential(root()));
  auto refused = cli("--connect 127.0.0.1:1 query task:");
  EXPECT_EQ(refused.rc, 1);
  EXPECT_TRUE(has(refused.err, "node_unavailable")) << refused.err;
}

TEST_F(CliTest, TailThroughANodePrintsTheLastNThenFollowsAcrossACompactionWithNoGap) {
  for (int i = 1; i <= 6; ++i)
    ASSERT_EQ(cli("append --task t1 --type task:state:s" + std::to_string(i) + " --actor agent").rc,
              0);
  ASSERT_EQ(cli("append --task t2 --type agent:message --actor agent").rc, 0);
  auto serve_err = dir_.path() / "serve.err";
  pid_t node = start_serve(root(), serve_err);
  ASSERT_TRUE(fs::exists(fs::path(root()) / "NODE")) << slurp(serve_err);
  // tail in the background: the last 3, then 3 live ones, then it exits (--count 6).
  auto tail_out = dir_.path() / "tail.out";
  auto tail_err = dir_.path() / "tail.err";
  pid_t tail = ::fork();
  if (tail == 0) {
    int out = ::open(tail_out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(tail_err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execl(EVSTORE_CLI, EVSTORE_CLI, "--root", root().c_str(), "-v", "tail", "task:*", "-n", "3",
            "--count", "6", "--timeout", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 3000 && lines(slurp(tail_out)) < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(lines(slurp(tail_out)), 3u) << "no history within 30 s: " << slurp(tail_err);
  EXPECT_EQ(cli("compact t1 --max-events 2 --max-age none").rc, 0);
  for (int i = 7; i <= 9; ++i)
    ASSERT_EQ(cli("append --task t1 --type task:state:s" + std::to_string(i) + " --actor agent").rc,
              0);
  int status = 0;
  ::waitpid(tail, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
    << slurp(tail_err) << "\nthe node said:\n" << slurp(serve_err);
  auto printed = slurp(tail_out);
  EXPECT_TRUE(has(slurp(tail_err), "answered by the node")) << slurp(tail_err);
  ASSERT_EQ(lines(printed), 6u) << printed;
  size_t at = 0;
  for (int i = 4; i <= 9; ++i) {
    auto next = printed.find("\"task:state:s" + std::to_string(i) + "\"", at);
    EXPECT_NE(next, std::string::npos) << "s" << i << " missing or out of order:\n" << printed;
    at = next == std::string::npos ? at : next;
  }
  EXPECT_EQ(stop_node(node), 0) << slurp(serve_err);
}

TEST_F(CliTest, TailWithoutANodePrintsTheLastNMatchingEventsFirst) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(cli("append --task t1 --type task:state:s" + std::to_string(i) + " --actor agent").rc,
              0);
    ASSERT_EQ(cli("append --task t2 --type task:statex --actor agent").rc, 0);
  }
  // An exact type among others sharing its prefix, across tasks and in one task.
  auto across = cli("tail task:state:s2 -n 3 --count 1");
  EXPECT_EQ(across.rc, 0) << across.err;
  EXPECT_EQ(lines(across.out), 1u);
  EXPECT_TRUE(has(across.out, "\"task:state:s2\"")) << across.out;
  auto one_task = cli("tail 'task:*' --task t1 -n 2 --count 2");
  EXPECT_EQ(one_task.rc, 0) << one_task.err;
  ASSERT_EQ(lines(one_task.out), 2u) << one_task.out;
  EXPECT_LT(one_task.out.find("s4"), one_task.out.find("s5")) << one_task.out;
}

// --- The conventions of git, journalctl and kubectl (issue 14) ---

TEST_F(CliTest, VersionNamesTheLibraryAndTheStoreFormat) {
  auto r = cli("--version");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_TRUE(has(r.out, "evstore 0.1.0 (store format version 1)")) << r.out;
}

TEST_F(CliTest, AMistypedCommandIsAUsageErrorThatSuggestsTheNearOne) {
  auto typo = cli("quer task:");
  EXPECT_EQ(typo.rc, 2);
  EXPECT_TRUE(has(typo.err, "unknown command 'quer'; did you mean 'query'?")) << typo.err;
  auto prefix = cli("-o table verif");
  EXPECT_EQ(prefix.rc, 2);
  EXPECT_TRUE(has(prefix.err, "did you mean 'verify'?")) << prefix.err;
  auto ambiguous = cli("comp"); // compact or completion
  EXPECT_EQ(ambiguous.rc, 2);
  EXPECT_FALSE(has(ambiguous.err, "did you mean")) << ambiguous.err;
  auto far = cli("frobnicate");
  EXPECT_EQ(far.rc, 2);
  EXPECT_TRUE(has(far.err, "unknown command 'frobnicate'")) << far.err;
  EXPECT_FALSE(has(far.err, "did you mean")) << far.err;
}

TEST_F(CliTest, GlobalOptionsShowInEverySubcommandsHelpAndWorkAfterIt) {
  for (const char* sub : {"append", "read", "query", "tail", "tasks", "stats", "compact", "serve"}) {
    auto help = cli(std::string{sub} + " --help");
    EXPECT_EQ(help.rc, 0) << sub;
    for (const char* option : {"--root", "-o,--output,--format", "--no-node", "-v,--verbose"})
      EXPECT_TRUE(has(help.out, option)) << sub << " --help lacks " << option;
  }
  append_n("t", 2);
  auto r = cli("query 'a:*' -n 1 -o json");
  EXPECT_EQ(r.rc, 0) << r.err;
  auto parsed = boost::json::parse(r.out);
  ASSERT_TRUE(parsed.is_array()) << r.out;
  EXPECT_EQ(parsed.as_array().size(), 1u);
  auto empty = cli("query 'none:*' --output json");
  EXPECT_EQ(boost::json::parse(empty.out), boost::json::array{}) << empty.out;
}

TEST_F(CliTest, QueryTakesTailsPatternSyntaxWithThePrefixFormKept) {
  for (const char* type : {"a:b", "a:bc", "a:b:c", "x:y"})
    ASSERT_EQ(cli(std::string{"append --task t --type "} + type + " --actor agent").rc, 0);
  auto count = [&](const std::string& args) { return lines(cli(args).out); };
  EXPECT_EQ(count("query a:b"), 1u);     // exactly that type
  EXPECT_EQ(count("query 'a:*'"), 3u);   // every type under a:
  EXPECT_EQ(count("query a:b:"), 1u);    // the prefix form: a:b:*
  EXPECT_EQ(count("query 'a:b:*'"), 1u);
  EXPECT_EQ(count("query '*'"), 4u);
  EXPECT_EQ(count("query ''"), 4u);
  EXPECT_EQ(count("query '*' -n 2"), 2u);
}

TEST_F(CliTest, RelativeTimesAndTaskAndActorFiltersNarrowQueriesAndReads) {
  const auto two_days_ago = to_rfc3339(timestamp::now() - std::chrono::hours{48});
  ASSERT_EQ(cli("append --task t --type a:b --actor human --ts " + two_days_ago).rc, 0);
  ASSERT_EQ(cli("append --task t --type a:b --actor agent").rc, 0);
  ASSERT_EQ(cli("append --task u --type a:b --actor agent").rc, 0);
  auto count = [&](const std::string& args) {
    auto r = cli(args);
    EXPECT_EQ(r.rc, 0) << args << ": " << r.err;
    return lines(r.out);
  };
  EXPECT_EQ(count("query 'a:*' --since 1h"), 2u);
  EXPECT_EQ(count("query 'a:*' --since 3d"), 3u);
  EXPECT_EQ(count("query 'a:*' --until 1d"), 1u);
  EXPECT_EQ(count("query 'a:*' --since yesterday"), 2u);
  EXPECT_EQ(count("query 'a:*' --task t"), 2u);
  EXPECT_EQ(count("query 'a:*' --actor agent"), 2u);
  EXPECT_EQ(count("query 'a:*' --actor agent --task t -n 5"), 1u);
  EXPECT_EQ(count("read t --actor human"), 1u);
  EXPECT_EQ(count("read t --since 1h"), 1u);
  EXPECT_EQ(count("read t -n 1"), 1u);
  EXPECT_TRUE(has(cli("read t -n 1").out, "\"actor\":\"agent\""));
}

TEST_F(CliTest, ReadingATaskThatDoesNotExistIsAnErrorLikeAnUnknownRef) {
  append_n("t", 1);
  auto r = cli("read no-such-task");
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(has(r.err, "no such task 'no-such-task'")) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(cli("read t").rc, 0);
}

namespace {

/// Display columns of UTF-8 text, as a terminal counts them.
size_t columns_of(const std::string& text) {
  std::setlocale(LC_CTYPE, "C.UTF-8");
  std::mbstate_t state{};
  size_t cols = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    wchar_t wc;
    size_t n = std::mbrtowc(&wc, p, static_cast<size_t>(end - p), &state);
    if (n == 0 || n > static_cast<size_t>(end - p))
      return SIZE_MAX; // not valid UTF-8
    cols += static_cast<size_t>(std::max(0, ::wcwidth(wc)));
    p += n;
  }
  return cols;
}

} // namespace

TEST_F(CliTest, TablesAlignWideAndCombiningCharactersAndCutOnlyBetweenCharacters) {
  // A wide task id, one with a combining accent, and data far wider than its 60 columns in
  // characters of three bytes and two columns each.
  std::string wide_data = "{\"text\":\"";
  for (int i = 0; i < 50; ++i)
    wide_data += "\xe6\xbc\xa2"; // 漢
  wide_data += "\"}";
  ASSERT_EQ(cli("append --task \xe4\xbb\xbb\xe5\x8a\xa1 --type a:b --actor agent --data "
                + quote(wide_data)).rc, 0);
  ASSERT_EQ(cli("append --task 'cafe\xcc\x81' --type a:b --actor agent").rc, 0);
  ASSERT_EQ(cli("append --task plain --type a:b --actor agent").rc, 0);
  auto r = cli("query 'a:*' -o table");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<std::string> rows;
  for (size_t at = 0, nl; (nl = r.out.find('\n', at)) != std::string::npos; at = nl + 1)
    rows.push_back(r.out.substr(at, nl - at));
  ASSERT_EQ(rows.size(), 4u) << r.out;
  // The type column starts at the same display column on every row, header included.
  std::set<size_t> type_columns;
  for (const auto& row : rows) {
    auto at = row.find(row == rows.front() ? "type" : "a:b");
    ASSERT_NE(at, std::string::npos) << row;
    type_columns.insert(columns_of(row.substr(0, at)));
  }
  EXPECT_EQ(type_columns.size(), 1u) << r.out;
  for (const auto& row : rows)
    EXPECT_NE(columns_of(row), SIZE_MAX) << "not valid UTF-8: " << row;
  EXPECT_TRUE(has(r.out, "\xe2\x80\xa6")) << "no ellipsis where the data was cut: " << r.out;
}

TEST_F(CliTest, StatsInATableGivesHumanSizesAndBytesOnRequest) {
  append_n("t", 3);
  auto human = cli("stats -o table");
  EXPECT_EQ(human.rc, 0) << human.err;
  EXPECT_TRUE(has(human.out, " B ") || has(human.out, "KiB")) << human.out;
  auto raw = cli("stats -o table --bytes");
  EXPECT_FALSE(has(raw.out, "KiB")) << raw.out;
  auto json = boost::json::parse(cli("stats").out);
  EXPECT_TRUE(json.as_object().at("bytes").is_number());
}

TEST_F(CliTest, ReadFollowPrintsTheTaskThenItsNewEventsUntilSigterm) {
  append_n("t", 2);
  auto out = dir_.path() / "follow.out";
  auto err = dir_.path() / "follow.err";
  // Waits (up to 30 s each) for the history, then for the new event, before the SIGTERM.
  auto lines_are = [&](int n) {
    return "for i in $(seq 300); do [ \"$(wc -l < " + quote(out.string()) + ")\" -ge " + std::to_string(n)
           + " ] && break; sleep 0.1; done; ";
  };
  auto script = std::string{EVSTORE_CLI} + " --root " + quote(root()) + " read t -f >"
                + quote(out.string()) + " 2>" + quote(err.string()) + " & p=$!; " + lines_are(2)
                + EVSTORE_CLI + " --root " + quote(root())
                + " append --task t --type a:c --actor agent >/dev/null; " + lines_are(3)
                + "kill -TERM $p; wait $p";
  int status = std::system(("timeout -k 5 60 sh -c " + quote(script)).c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(out) << slurp(err);
  auto printed = slurp(out);
  EXPECT_EQ(lines(printed), 3u) << printed;
  EXPECT_TRUE(has(printed, "\"type\":\"a:c\"")) << printed;
}

// Through a pseudo-terminal (util-linux's script(1)): the progress line with its rate and time
// left, and the table's bold header; NO_COLOR keeps the colour off; without a terminal, neither.
TEST_F(CliTest, OnATerminalLongWorkShowsProgressAndTablesColourUnlessNoColor) {
  for (int t = 0; t < 3; ++t)
    append_n("t" + std::to_string(t), 1);
  auto on_terminal = [&](const std::string& env, const std::string& args) {
    auto out = dir_.path() / "pty.out";
    auto cmd = env + " " + EVSTORE_CLI + " --root " + quote(root()) + " " + args;
    auto shell = "timeout -k 5 60 script -qec " + quote(cmd) + " /dev/null >" + quote(out.string())
                 + " 2>&1";
    EXPECT_EQ(std::system(shell.c_str()), 0) << shell;
    return slurp(out);
  };
  auto stats = on_terminal("", "stats -o table");
  EXPECT_TRUE(has(stats, "scanning [")) << stats;
  // The last line drawn: all three tasks, a rate in digits and the time left as m:ss.
  EXPECT_TRUE(std::regex_search(stats, std::regex{R"(\] 3/3  [0-9,]+/s  [0-9]+:[0-5][0-9] left)"}))
    << stats;
  EXPECT_TRUE(has(stats, "\x1b[1mtasks")) << stats;
  auto verify = on_terminal("", "verify");
  EXPECT_TRUE(has(verify, "verifying [")) << verify;
  auto plain = on_terminal("NO_COLOR=1", "stats -o table");
  EXPECT_FALSE(has(plain, "\x1b[")) << plain;
  EXPECT_TRUE(has(plain, "scanning [")) << plain; // progress is not colour
  auto piped = cli("stats -o table");
  EXPECT_FALSE(has(piped.out + piped.err, "\x1b[")) << piped.out;
  EXPECT_FALSE(has(piped.err, "scanning")) << piped.err;
}

// The bash completion, sourced in bash and driven as bash drives it: commands, a subcommand's
// options, an option's values and the store's task ids. The zsh one must at least parse.
TEST_F(CliTest, CompletionScriptsCompleteCommandsOptionsValuesAndTaskIds) {
  append_n("build-42", 1);
  append_n("deploy-7", 1);
  auto script = dir_.path() / "evstore.bash";
  auto generated = cli("completion bash");
  ASSERT_EQ(generated.rc, 0) << generated.err;
  spit(script, generated.out);
  const std::string bin_dir = fs::path(EVSTORE_CLI).parent_path().string();
  auto complete = [&](const std::string& line) {
    // COMP_WORDS as bash splits the line; the last word is the one being completed.
    auto cmd = "PATH=" + quote(bin_dir) + ":$PATH; . " + quote(script.string())
               + "; COMP_WORDS=(" + line + "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _evstore; "
               + "printf '%s\\n' \"${COMPREPLY[@]}\"";
    FILE* p = ::popen(("bash -c " + quote(cmd)).c_str(), "r");
    std::string out;
    std::array<char, 4096> buf{};
    for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
      out.append(buf.data(), n);
    ::pclose(p);
    return out;
  };
  EXPECT_EQ(complete("evstore qu"), "query\n");
  EXPECT_TRUE(has(complete("evstore query --li"), "--limit\n"));
  EXPECT_EQ(complete("evstore query -o t"), "table\n");
  EXPECT_EQ(complete("evstore --root " + quote(root()) + " read d"), "deploy-7\n");
  EXPECT_EQ(complete("evstore --root " + quote(root()) + " query a: --task b"), "build-42\n");
  if (std::system("command -v zsh >/dev/null 2>&1") == 0) {
    auto zsh = dir_.path() / "_evstore";
    spit(zsh, cli("completion zsh").out);
    EXPECT_EQ(std::system(("zsh -n " + quote(zsh.string())).c_str()), 0);
  }
}

// The man page help2man builds (when it is installed) names the tool and its options.
TEST_F(CliTest, TheManPageDescribesTheToolWhenHelp2manBuiltIt) {
  const auto page = fs::path(EVSTORE_CLI).parent_path() / "evstore.1";
  if (!fs::exists(page))
    GTEST_SKIP() << "no help2man at build time";
  auto text = slurp(page);
  EXPECT_TRUE(has(text, ".TH EVSTORE")) << text.substr(0, 200);
  EXPECT_TRUE(has(text, "\\-\\-root")) << text.substr(0, 400);
  EXPECT_TRUE(has(text, "evstore 0.1.0")) << text.substr(0, 400);
}

TEST_F(CliTest, TailWithAnActorPrintsTheLastNOfThatActorOnly) {
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(cli("append --task t" + std::to_string(i) + " --type a:b --actor human").rc, 0);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(cli("append --task t" + std::to_string(i) + " --type a:b --actor agent").rc, 0);
  auto r = cli("tail 'a:*' --actor human -n 2 --count 2 --timeout 20");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(lines(r.out), 2u) << r.out;
  EXPECT_FALSE(has(r.out, "\"actor\":\"agent\"")) << r.out;
  EXPECT_EQ(cli("tail --actor robot --count 1").rc, 2);
}

// A producer that writes a line now and then: each is written when it comes, not when 1,024 have
// or stdin closes.
TEST_F(CliTest, AppendFromASlowProducerWritesEachLineAsItComes) {
  const std::string line = "{\"task\":\"t\",\"type\":\"a:b\",\"actor\":\"agent\"}";
  auto script = "(echo '" + line + "'; sleep 20; echo '" + line + "') 2>/dev/null | " + EVSTORE_CLI
                + " --root " + quote(root()) + " append - >/dev/null 2>&1 & p=$!; "
                + "for i in $(seq 100); do " + EVSTORE_CLI + " --root " + quote(root())
                + " read t 2>/dev/null | grep -q . && { kill $p; exit 0; }; sleep 0.1; done; "
                + "kill $p; exit 1";
  EXPECT_EQ(std::system(("timeout -k 5 60 sh -c " + quote(script)).c_str()), 0)
    << "the first line was not written within 10 s while the producer waited";
}

// cleanup is one request to the store; on a terminal its progress comes from the store's
// counters, polled meanwhile. Without a terminal, nothing is drawn.
TEST_F(CliTest, CleanupOfManyEmptyTasksShowsProgressOnATerminal) {
  append_n("keep", 1);
  for (int i = 0; i < 3000; ++i)
    fs::create_directories(fs::path(root()) / ("empty-" + std::to_string(i)));
  auto out = dir_.path() / "pty.out";
  auto cmd = std::string{EVSTORE_CLI} + " --root " + quote(root()) + " cleanup";
  auto shell = "timeout -k 5 60 script -qec " + quote(cmd) + " /dev/null >" + quote(out.string())
               + " 2>&1";
  ASSERT_EQ(std::system(shell.c_str()), 0);
  auto drawn = slurp(out);
  EXPECT_TRUE(std::regex_search(drawn, std::regex{R"(cleaning up \[[#.]+\] [0-9,]+/3,000  [0-9,]+/s)"}))
    << drawn.substr(0, 300);
  EXPECT_TRUE(has(drawn, "{\"removed\":3000}")) << drawn.substr(drawn.size() > 300 ? drawn.size() - 300 : 0);
  append_n("keep", 1);
  for (int i = 0; i < 10; ++i)
    fs::create_directories(fs::path(root()) / ("again-" + std::to_string(i)));
  auto piped = cli("cleanup");
  EXPECT_EQ(piped.rc, 0) << piped.err;
  EXPECT_FALSE(has(piped.err, "cleaning up")) << piped.err;
}
