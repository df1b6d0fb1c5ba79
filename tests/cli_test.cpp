// The evstore command-line tool, end to end: the built binary run on a temporary store.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <sys/wait.h>

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

class CliTest : public StoreTest {
protected:
  /// Runs `evstore <args>` with --root set to the test's store, `input` on stdin.
  run_result cli(const std::string& args, const std::string& input = "") {
    auto in = dir_.str("stdin");
    auto err = dir_.str("stderr");
    spit(in, input);
    auto cmd = std::string{EVSTORE_CLI} + " --root " + quote(root()) + " " + args + " <"
               + quote(in) + " 2>" + quote(err);
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
  std::thread writer{[&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    must_append(*db, make_event("t1", "agent:message"));
    must_append(*db, make_event("t1", "task:state:review"));
    must_append(*db, make_event("t2", "task:state:done"));
  }};
  auto r = cli("tail 'task:state:*' --interval-ms 50 --count 2 --timeout 20");
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
