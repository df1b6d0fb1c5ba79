// The blocking facade over the store actor: opening, the write lock, bad input, and every operation.
#include "src/facade/store.hpp"

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <fstream>
#include <set>
#include <random>
#include <thread>

#include <caf/scoped_actor.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/storage/full_scan.hpp"
#include "src/storage/store_lock.hpp"
#include "support/store_fixture.hpp"
#include "src/format/timestamp_format.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

timestamp at(const char* text) {
  return *parse_rfc3339(text);
}

size_t open_fd_count() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

} // namespace

TEST_F(StoreTest, NewStoreGetsFormatVersionFile) {
  auto db = open_store();
  EXPECT_EQ(slurp(fs::path(root()) / "format_version"), "1\n");
}

TEST_F(StoreTest, StoreWithFormatVersionTwoIsRefused) {
  spit(fs::path(root()) / "format_version", "2\n");
  auto db = store::open(options());
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), errc::unsupported_format));
  EXPECT_NE(render(db.error()).find("format_version '2'"), std::string::npos)
    << render(db.error());
  auto ro = options();
  ro.read_only = true;
  EXPECT_TRUE(is(store::open(ro).error(), errc::unsupported_format));
}

TEST_F(StoreTest, SecondWritingProcessIsRefusedWithItsPid) {
  fs::create_directories(root());
  // The other process: takes the lock, says so, and holds it until told to go. Forked before this
  // test starts any thread, so the child may run ordinary code.
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto handle = store_root::open(root(), false);
    auto lock = handle ? store_lock::acquire(*handle) : caf::expected<store_lock>{handle.error()};
    char c = lock ? 'y' : 'n';
    (void) !write(ready[1], &c, 1);
    (void) !read(done[0], &c, 1);
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto db = store::open(options());
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), errc::store_locked));
  EXPECT_NE(render(db.error()).find("locked by process " + std::to_string(child)),
            std::string::npos)
    << render(db.error());
  // Read-only opens work beside the writer.
  auto ro = options();
  ro.read_only = true;
  auto reader = store::open(ro);
  ASSERT_TRUE(reader) << render(reader.error());
  EXPECT_TRUE((*reader)->list_tasks());
  (void) !write(done[1], "x", 1);
  int status = 0;
  waitpid(child, &status, 0);
  // Once that process is gone, the lock is free.
  EXPECT_TRUE(store::open(options()));
}

TEST_F(StoreTest, SecondWriterInTheSameProcessIsRefusedToo) {
  auto db = open_store();
  auto again = store::open(options());
  ASSERT_FALSE(again);
  EXPECT_TRUE(is(again.error(), errc::store_locked));
}

TEST_F(StoreTest, ReadOnlyStoreServesReadsAndRefusesWrites) {
  {
    auto db = open_store();
    must_append(*db, make_event("t", "task:created"));
  }
  auto ro = options();
  ro.read_only = true;
  auto db = open_store(ro);
  EXPECT_EQ(db->read_task("t")->events.size(), 1u);
  EXPECT_EQ(db->query_by_type_prefix("task:", 10)->events.size(), 1u);
  EXPECT_TRUE(is(db->append(make_event("t", "a")).error(), errc::read_only));
  EXPECT_TRUE(is(db->compact_task("t").error(), errc::read_only));
  EXPECT_TRUE(is(db->cleanup_orphaned_tasks().error(), errc::read_only));
}

TEST_F(StoreTest, ReadOnlyOpenOfMissingRootIsNotFound) {
  auto ro = options();
  ro.read_only = true;
  EXPECT_TRUE(is(store::open(ro).error(), errc::not_found));
  EXPECT_FALSE(fs::exists(root()));
}

TEST_F(StoreTest, AppendReadAndListTasks) {
  auto db = open_store();
  auto first = must_append(*db, make_event("alpha", "task:created", actor_kind::human));
  must_append(*db, make_event("alpha", "task:state:running"));
  must_append(*db, make_event("beta", "task:created"));
  must_append(*db, make_event("", "system:started", actor_kind::system));
  auto events = db->read_task("alpha");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->events.size(), 2u);
  EXPECT_EQ(events->events[0], first.ev);
  EXPECT_EQ(db->read_task("alpha", 1)->events.size(), 1u);
  EXPECT_EQ(db->read_task("nobody")->events.size(), 0u);
  EXPECT_EQ(*db->list_tasks(), (std::vector<std::string>{"alpha", "beta"})); // as the Rust crate
  EXPECT_EQ(*db->list_tasks(true), (std::vector<std::string>{"", "alpha", "beta"}));
}

TEST_F(StoreTest, BadTaskIdsAreRejectedAndNothingIsCreated) {
  auto db = open_store();
  for (const std::string& bad : std::vector<std::string>{"../x", "a/b", ".", "..",
                                                         std::string("a\0b", 3),
                                                         std::string(256, 'x')}) {
    auto res = db->append(make_event(bad, "task:created"));
    ASSERT_FALSE(res) << bad;
    EXPECT_TRUE(is(res.error(), errc::invalid_task_id)) << render(res.error());
    EXPECT_TRUE(is(db->read_task(bad).error(), errc::invalid_task_id));
    EXPECT_TRUE(is(db->compact_task(bad).error(), errc::invalid_task_id));
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "x"));
  std::set<std::string> entries;
  for (auto& e : fs::directory_iterator(root()))
    entries.insert(e.path().filename().string());
  EXPECT_EQ(entries, (std::set<std::string>{"LOCK", "format_version"}));
}

TEST_F(StoreTest, BadEventsNameTheFieldAndWriteNothing) {
  store_options opts = options();
  opts.max_line_bytes = 1024;
  auto db = open_store(opts);
  auto bad_type = make_event("t", "Not A Type");
  EXPECT_NE(render(db->append(bad_type).error()).find("type"), std::string::npos);
  auto big = make_event("t", "agent:message");
  big.data = boost::json::string(2000, 'x');
  EXPECT_TRUE(is(db->append(big).error(), errc::event_too_large));
  EXPECT_FALSE(fs::exists(fs::path(root()) / "t"));
}

TEST_F(StoreTest, QueryOrdersByTsThenTaskThenPositionAndKeepsTheLast) {
  auto db = open_store();
  auto put = [&](const char* task, const char* type, const char* ts) {
    auto ev = make_event(task, type);
    ev.ts = at(ts);
    return must_append(*db, ev).ev.id;
  };
  auto a1 = put("b", "task:state:running", "2026-01-01T00:00:01Z");
  auto a2 = put("a", "task:state:running", "2026-01-01T00:00:01Z");
  auto a3 = put("a", "task:state:done", "2026-01-01T00:00:01Z");
  auto a4 = put("", "task:state:x", "2026-01-01T00:00:00Z");
  put("a", "agent:message", "2026-01-01T00:00:05Z");
  auto all = db->query_by_type_prefix("task:state:", 100);
  ASSERT_TRUE(all);
  std::vector<std::string> ids;
  for (auto& ev : all->events)
    ids.push_back(ev.id);
  EXPECT_EQ(ids, (std::vector<std::string>{a4, a2, a3, a1}));
  auto last2 = db->query_by_type_prefix("task:state:", 2);
  ASSERT_EQ(last2->events.size(), 2u);
  EXPECT_EQ(last2->events[0].id, a3);
  EXPECT_EQ(last2->events[1].id, a1);
  EXPECT_TRUE(db->query_by_type_prefix("task:", 0)->events.empty());
  EXPECT_EQ(db->query_by_type_prefix("", 100)->events.size(), 5u);
}

TEST_F(StoreTest, CompactTaskCompactAllAndCleanup) {
  auto db = open_store();
  for (int i = 0; i < 30; ++i) {
    must_append(*db, make_event("x", "agent:message"));
    must_append(*db, make_event("y", "agent:message"));
  }
  fs::create_directories(fs::path(root()) / "empty-dir");
  spit(fs::path(root()) / "empty-file" / "events.jsonl", "");
  retention_policy keep10;
  keep10.max_events = 10;
  auto one = db->compact_task("x", keep10);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->removed, 20u);
  retention_policy keep5;
  keep5.max_events = 5;
  auto all = db->compact_all(keep5);
  ASSERT_TRUE(all) << render(all.error());
  EXPECT_EQ(all->removed, 5u + 25u);
  EXPECT_EQ(db->read_task("x")->events.size(), 5u);
  EXPECT_EQ(db->read_task("y")->events.size(), 5u);
  auto cleaned = db->cleanup_orphaned_tasks();
  ASSERT_TRUE(cleaned) << render(cleaned.error());
  EXPECT_EQ(*cleaned, 2u);
  EXPECT_EQ(*db->list_tasks(), (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(fs::exists(fs::path(root()) / "empty-dir"));
}

TEST_F(StoreTest, FsyncDurabilityAcknowledgesEveryAppend) {
  auto opts = options();
  opts.ack = durability::fsynced;
  auto db = open_store(opts);
  for (int i = 0; i < 50; ++i)
    must_append(*db, make_event("t" + std::to_string(i % 5), "agent:message"));
  size_t total = 0;
  auto tasks = db->list_tasks();
  ASSERT_TRUE(tasks);
  for (auto& task : *tasks)
    total += db->read_task(task)->events.size();
  EXPECT_EQ(total, 50u);
}

TEST_F(StoreTest, IdleWritersCloseTheirFiles) {
  auto opts = options();
  // Long enough that the 20 appends below finish (even under ASan on a loaded machine) before any
  // writer can go idle (1 s was not: ci46 saw 2 of 20 retire first); the waits below allow for it.
  opts.writer_idle_timeout = std::chrono::milliseconds{3000};
  auto db = open_store(opts);
  // After population: while it lists the root it holds a directory descriptor, which would make the
  // baseline one too high.
  ASSERT_TRUE(db->wait_for_index());
  auto baseline = open_fd_count();
  for (int i = 0; i < 20; ++i)
    must_append(*db, make_event("t" + std::to_string(i), "agent:message"));
  EXPECT_GE(open_fd_count(), baseline + 20);
  for (int tries = 0; tries < 1000 && open_fd_count() > baseline; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  EXPECT_LE(open_fd_count(), baseline);
  // And the writers themselves retire, so idle tasks cost no memory.
  for (int tries = 0; tries < 1000 && db->index_statistics()->live_writers > 0; ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  EXPECT_EQ(db->index_statistics()->live_writers, 0u);
  // A retired writer's task still works.
  must_append(*db, make_event("t0", "agent:message"));
  EXPECT_EQ(db->read_task("t0")->events.size(), 2u);
}

// Writers retiring and respawning all the time (a period of 1 ms, appends a moment apart): a late
// ask to retire from a writer that already retired must never retire its successor (two writers
// would then share the file, and the index would be told of lines twice). Every query stays exact.
TEST_F(StoreTest, WritersRetiringEveryMillisecondNeverShareAFileAndQueriesStayExact) {
  auto opts = options();
  opts.writer_idle_timeout = std::chrono::milliseconds{1};
  auto db = open_store(opts);
  ASSERT_TRUE(db->wait_for_index());
  std::mt19937 rng{7};
  for (int i = 0; i < 600; ++i) {
    must_append(*db, make_event("t" + std::to_string(rng() % 3), "agent:message"));
    if (rng() % 4 == 0)
      std::this_thread::sleep_for(std::chrono::microseconds{rng() % 2500});
    if (i % 50 == 49) {
      auto got = db->query_by_type_prefix("agent:", 1000);
      ASSERT_TRUE(got) << render(got.error());
      EXPECT_EQ(got->events.size(), static_cast<size_t>(i + 1));
    }
  }
  auto tasks = db->list_tasks();
  ASSERT_TRUE(tasks);
  size_t total = 0;
  for (auto& task : *tasks)
    total += db->read_task(task)->events.size();
  EXPECT_EQ(total, 600u);
  EXPECT_EQ(db->index_statistics()->events, 600u);
}

TEST_F(StoreTest, TenThousandTasksUnderALowOpenFileLimit) {
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  lim.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
  auto db = open_store();
  caf::scoped_actor self{db->system()};
  constexpr int tasks = 10'000;
  int acked = 0;
  int failed = 0;
  // All in flight at once: the worst case for open files. Replies come back as messages.
  for (int i = 0; i < tasks; ++i)
    self->send(db->handle(),
               append_request{make_event("task-" + std::to_string(i), "task:created"), caf::none});
  for (int i = 0; i < tasks; ++i)
    self->receive([&](const append_result&) { ++acked; }, [&](caf::error& err) {
      ++failed;
      ADD_FAILURE() << render(err);
    });
  EXPECT_EQ(acked + failed, tasks);
  EXPECT_EQ(failed, 0);
  auto listed = db->list_tasks();
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), static_cast<size_t>(tasks));
  EXPECT_EQ(db->read_task("task-9999")->events.size(), 1u);
  EXPECT_LT(open_fd_count(), 256u);
}

TEST_F(StoreTest, LinesLongerThanTheAppendLimitAreStillAnsweredByTheIndex) {
  auto opts = options();
  opts.max_line_bytes = 1 << 20;
  {
    auto db = open_store(opts);
    auto ev = make_event("long", "task:note");
    ev.data = boost::json::object{{"text", std::string(20'000, 'x')}};
    must_append(*db, ev);
    must_append(*db, make_event("short", "task:note"));
  }
  opts.max_line_bytes = 4096; // reopened with a smaller limit (or a file the Rust crate wrote)
  auto db = open_store(opts);
  ASSERT_TRUE(db->wait_for_index());
  auto got = db->query_by_type_prefix("task:note", 10);
  ASSERT_TRUE(got) << render(got.error());
  auto want = full_scan_query(root(), "task:note", 10);
  ASSERT_TRUE(want);
  ASSERT_EQ(got->events.size(), 2u);
  EXPECT_EQ(got->events, want->events);
  auto too_big = make_event("long", "task:note");
  too_big.data = boost::json::object{{"text", std::string(20'000, 'x')}};
  EXPECT_FALSE(db->append(too_big)); // appends keep their limit
}

TEST_F(StoreTest, TheFileALineLivesInNamesItsTaskForReadsQueriesAndTheFullScan) {
  {
    auto db = open_store();
    must_append(*db, make_event("a", "task:created"));
  }
  // A line merged by hand from another task's log: its "task" field says "zzz".
  std::ofstream(fs::path(root()) / "a" / "events.jsonl", std::ios::app)
    << R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:created","task":"zzz",)"
    << R"("actor":"agent","ts":"2099-01-02T03:04:05Z","data":{},"schema_version":1})" << "\n";
  auto db = open_store();
  auto read = db->read_task("a");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 2u);
  EXPECT_EQ(read->events[1].task, "a");
  auto got = db->query_by_type_prefix("task:", 10);
  auto want = full_scan_query(root(), "task:", 10);
  ASSERT_TRUE(got && want);
  EXPECT_EQ(got->events, want->events);
  ASSERT_EQ(got->events.size(), 2u);
  EXPECT_EQ(got->events.back().task, "a");
}

TEST_F(StoreTest, AnAppendLimitAboveWhatReadersHoldIsRefused) {
  auto opts = options();
  opts.max_line_bytes = (size_t{64} << 20) + 2; // a line of 64 MiB + 1 byte would be unreadable
  auto db = store::open(opts);
  ASSERT_FALSE(db);
  EXPECT_TRUE(is(db.error(), errc::invalid_argument)) << render(db.error());
  opts.max_line_bytes = (size_t{64} << 20) + 1; // 64 MiB and its newline: readable
  EXPECT_TRUE(store::open(opts));
}

TEST_F(StoreTest, ALineLongerThanReadersHoldIsCorruptEverywhereAndTheNextLineIsReadOnce) {
  {
    auto db = open_store();
    must_append(*db, make_event("t", "task:created"));
  }
  // A valid event padded with spaces past 64 MiB: its first bytes alone would decode.
  std::string padded = R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:created","task":"t",)"
                       R"("actor":"agent","ts":"2026-01-02T03:04:05Z","data":{},"schema_version":1})";
  padded.append((size_t{64} << 20) + 10 - padded.size(), ' ');
  std::ofstream(fs::path(root()) / "t" / "events.jsonl", std::ios::app) << padded << "\n";
  {
    auto db = open_store();
    must_append(*db, make_event("t", "task:created"));
    auto read = db->read_task("t");
    ASSERT_TRUE(read);
    EXPECT_EQ(read->events.size(), 2u);
    EXPECT_EQ(read->stats.corrupt_lines, 1u);
    auto got = db->query_by_type_prefix("task:", 10);
    auto want = full_scan_query(root(), "task:", 10);
    ASSERT_TRUE(got && want);
    EXPECT_EQ(got->events.size(), 2u);
    EXPECT_EQ(got->events, want->events);
    auto compacted = db->compact_task("t");
    ASSERT_TRUE(compacted) << render(compacted.error());
    EXPECT_EQ(compacted->corrupt_moved, 1u); // moved aside byte for byte, not kept as an event
    EXPECT_EQ(db->read_task("t")->events.size(), 2u);
  }
  EXPECT_EQ(fs::file_size(fs::path(root()) / "t" / "events.corrupt"), padded.size() + 1);
}

TEST_F(StoreTest, CrateEventsFromAnyFourDigitYearReadBackExactlyAndAgeOutByTheirTime) {
  {
    auto db = open_store();
    must_append(*db, make_event("t", "task:created"));
  }
  // chrono writes years 0000 to 9999; 64-bit nanoseconds would hold only 1677 to 2262.
  const std::string ancient =
    R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:created","task":"t",)"
    R"("actor":"agent","ts":"0500-01-01T00:00:00.000000001Z","data":{},"schema_version":1})";
  const std::string far =
    R"({"id":"1b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:created","task":"t",)"
    R"("actor":"agent","ts":"9999-12-31T23:59:59.999999999Z","data":{},"schema_version":1})";
  std::ofstream(fs::path(root()) / "t" / "events.jsonl", std::ios::app) << ancient << "\n"
                                                                         << far << "\n";
  auto db = open_store();
  auto read = db->read_task("t");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 3u);
  EXPECT_EQ(to_rfc3339(*read->events[1].ts), "0500-01-01T00:00:00.000000001Z");
  EXPECT_EQ(to_rfc3339(*read->events[2].ts), "9999-12-31T23:59:59.999999999Z");
  EXPECT_EQ(read->stats.corrupt_lines, 0u);
  // Ordered by their time like any other (oldest first): the year 500, now, then 9999.
  auto got = db->query_by_type_prefix("task:", 10);
  auto want = full_scan_query(root(), "task:", 10);
  ASSERT_TRUE(got && want);
  EXPECT_EQ(got->events, want->events);
  ASSERT_EQ(got->events.size(), 3u);
  EXPECT_EQ(got->events.front().id, "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a");
  EXPECT_EQ(got->events.back().id, "1b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a");
  auto since_2262 = db->query_by_type_prefix("task:", 10, *parse_rfc3339("2262-04-12T00:00:00Z"));
  ASSERT_TRUE(since_2262);
  ASSERT_EQ(since_2262->events.size(), 1u);
  EXPECT_EQ(since_2262->events[0].id, "1b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a");
  // Retention judges them by their time: the year 500 is older than an hour, 9999 is not.
  retention_policy by_age;
  by_age.max_events = caf::none;
  by_age.max_age = std::chrono::hours{1};
  auto compacted = db->compact_task("t", by_age);
  ASSERT_TRUE(compacted) << render(compacted.error());
  EXPECT_EQ(compacted->removed, 1u);
  auto text = slurp(fs::path(root()) / "t" / "events.jsonl");
  EXPECT_EQ(text.find(ancient), std::string::npos);
  EXPECT_NE(text.find(far + "\n"), std::string::npos);
}

TEST_F(StoreTest, AppendRefusesATimestampNoReaderCouldParse) {
  auto db = open_store();
  for (auto ts : {earliest_writable_timestamp - std::chrono::nanoseconds{1},
                  latest_writable_timestamp + std::chrono::nanoseconds{1}, timestamp::min(),
                  timestamp::max()}) {
    auto ev = make_event("t", "task:created");
    ev.ts = ts;
    auto res = db->append(ev);
    ASSERT_FALSE(res) << to_rfc3339(ts);
    EXPECT_TRUE(is(res.error(), errc::invalid_timestamp)) << render(res.error());
  }
  for (auto ts : {earliest_writable_timestamp, latest_writable_timestamp}) {
    auto ev = make_event("t", "task:created");
    ev.ts = ts;
    auto res = db->append(ev);
    ASSERT_TRUE(res) << render(res.error());
    EXPECT_EQ(res->ev.ts, ts);
  }
  auto read = db->read_task("t");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 2u);
  EXPECT_EQ(read->events[0].ts, earliest_writable_timestamp);
  EXPECT_EQ(read->events[1].ts, latest_writable_timestamp);
}

TEST_F(StoreTest, ABatchAppendsEachEventAsItsOwnAppendWouldInOrder) {
  auto db = open_store();
  auto first = must_append(*db, make_event("t", "task:state:running"));
  std::vector<append_request> batch;
  batch.push_back({make_event("t", "task:state:testing"), caf::none});
  batch.push_back({make_event("bad/task", "task:state:testing"), caf::none}); // refused alone
  batch.push_back({make_event("t", "task:state:done"), uint64_t{7}});         // wrong version
  batch.push_back({first.ev, caf::none});                                     // a retry
  batch.push_back({make_event("u", "agent:message"), caf::none});
  batch.push_back({make_event("t", "task:state:done"), uint64_t{2}});         // right version
  auto res = db->append_batch(batch);
  ASSERT_TRUE(res) << render(res.error());
  ASSERT_EQ(res->size(), 6u);
  ASSERT_TRUE((*res)[0].result);
  EXPECT_EQ((*res)[0].result->position, 1u);
  EXPECT_TRUE(is((*res)[1].error, errc::invalid_task_id)) << render((*res)[1].error);
  EXPECT_TRUE(is((*res)[2].error, errc::version_conflict)) << render((*res)[2].error);
  ASSERT_TRUE((*res)[3].result);
  EXPECT_TRUE((*res)[3].result->duplicate);
  EXPECT_EQ((*res)[3].result->position, 0u);
  ASSERT_TRUE((*res)[4].result);
  EXPECT_EQ((*res)[4].result->position, 0u);
  ASSERT_TRUE((*res)[5].result) << render((*res)[5].error);
  EXPECT_EQ((*res)[5].result->position, 2u);
  auto t = db->read_task("t");
  ASSERT_TRUE(t);
  ASSERT_EQ(t->events.size(), 3u);
  EXPECT_EQ(t->events[1].type, "task:state:testing");
  EXPECT_EQ(t->events[2].type, "task:state:done");
  auto empty = db->append_batch({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

// Batches in flight together still reach each task in the order given (expected versions prove
// it: each holds only if every earlier event of its task is written), their outcomes come back in
// that order, and `done` returning false stops the sending.
TEST_F(StoreTest, PipelinedBatchesKeepEachTasksOrderAndStopWhenDoneSaysSo) {
  auto db = open_store();
  constexpr int batches = 40, per_batch = 25, tasks = 3;
  int made = 0;
  std::vector<uint64_t> versions(tasks, 0);
  auto next = [&](std::vector<append_request>& batch) {
    for (int i = 0; i < per_batch; ++i, ++made) {
      const int t = made % tasks;
      batch.push_back({make_event("t" + std::to_string(t), "agent:message"), versions[t]++});
    }
    return made < batches * per_batch;
  };
  int seen = 0;
  auto done = [&](std::vector<append_outcome>& outcomes) {
    for (auto& o : outcomes) {
      EXPECT_TRUE(o.result) << render(o.error);
      if (o.result) {
        EXPECT_EQ(o.result->position, uint64_t(seen / tasks)) << seen;
      }
      ++seen;
    }
    return true;
  };
  ASSERT_FALSE(db->append_pipelined(next, done, 4));
  EXPECT_EQ(seen, batches * per_batch);
  for (int t = 0; t < tasks; ++t)
    EXPECT_EQ(db->read_task("t" + std::to_string(t))->events.size(), versions[t]);
  // With one batch in flight, a `done` that says stop after the second batch ends it there.
  int answered = 0;
  made = 0;
  auto stop_after_two = [&](std::vector<append_outcome>&) { return ++answered < 2; };
  auto more = [&](std::vector<append_request>& batch) {
    batch.push_back({make_event("s", "agent:message"), caf::none});
    return ++made < 10;
  };
  ASSERT_FALSE(db->append_pipelined(more, stop_after_two, 1));
  EXPECT_EQ(answered, 2);
  EXPECT_EQ(db->read_task("s")->events.size(), 2u);
}

TEST_F(StoreTest, AStoreUsedFromAThreadThatLivesOnClosesAtOnce) {
  // Each call's scoped actor leaves CAF's logger in a thread-local reference of the calling
  // thread, and CAF's actor system waits, as it ends, until every such reference is gone: a store
  // used from a pool's thread, closed from another, waited for that thread to end.
  auto db = open_store();
  ASSERT_TRUE(db);
  std::mutex mtx;
  std::condition_variable cv;
  bool used = false, release = false;
  std::thread user{[&] {
    EXPECT_TRUE(db->append(make_event("t-1", "task:state:running")));
    EXPECT_TRUE(db->read_task("t-1"));
    std::unique_lock<std::mutex> lock{mtx};
    used = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; }); // the thread lives on, idle, as a pool's does
  }};
  {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return used; });
  }
  auto closing = std::async(std::launch::async, [&] { db.reset(); });
  const bool closed = closing.wait_for(std::chrono::seconds{10}) == std::future_status::ready;
  {
    std::lock_guard<std::mutex> lock{mtx};
    release = true;
  }
  cv.notify_all();
  user.join();
  closing.wait();
  EXPECT_TRUE(closed) << "closing the store waited for the thread that used it to end";
}
