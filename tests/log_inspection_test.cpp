// The public log inspection API (<evstore/log_inspection.hpp>), what `evstore verify`, `stats` and
// `tail` are built on: every line reported with its number, offset and status, counts equal to what a
// read of the task reports, and a hostile root (links, FIFOs, directories where logs belong) refused
// as the store refuses it, without hanging and without changing anything on disk.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "src/facade/log_inspection.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {

const std::string uuid = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";

std::string line_of(const std::string& type, const std::string& data = "{}",
                    int schema_version = 1) {
  return R"({"id":")" + uuid + R"(","type":")" + type + R"(","task":"t","actor":"agent",)"
         + R"("ts":"2026-01-02T03:04:05Z","data":)" + data + R"(,"schema_version":)"
         + std::to_string(schema_version) + "}";
}

std::vector<log_line> lines_of(const log_reader& log, log_checks checks = {}) {
  std::vector<log_line> out;
  auto err = log.for_each_line([&](const log_line& line) { out.push_back(line); }, checks);
  EXPECT_FALSE(err) << render(err);
  return out;
}

size_t open_descriptors() {
  return static_cast<size_t>(std::distance(fs::directory_iterator("/proc/self/fd"),
                                           fs::directory_iterator{}));
}

} // namespace

class LogInspectionTest : public StoreTest {
protected:
  void SetUp() override {
    fs::create_directories(outside());
    ::alarm(60); // a FIFO must not hang anything: if it does, the alarm fails the test
  }
  void TearDown() override {
    ::alarm(0);
  }

  fs::path outside() const {
    return dir_.path() / "outside";
  }
  fs::path log_path(const std::string& task) const {
    return fs::path(root()) / task / "events.jsonl";
  }
  /// Appends `n` events to `task` through the store, which then closes.
  void append_n(const std::string& task, int n) {
    auto db = open_store();
    for (int i = 0; i < n; ++i)
      must_append(*db, make_event(task, "task:state:running"));
  }
  log_inspector inspector() const {
    auto logs = log_inspector::open(root());
    if (!logs) {
      ADD_FAILURE() << render(logs.error());
      std::abort(); // every row needs it
    }
    return std::move(*logs);
  }
};

TEST_F(LogInspectionTest, EveryLineIsReportedWithItsNumberOffsetAndStatus) {
  append_n("t", 1);
  const auto first = slurp(log_path("t"));
  const std::string future = line_of("a:b", "{}", 99);
  { std::ofstream{log_path("t"), std::ios::app} << "  \t\n{broken\n" << future << "\n" << line_of("a:c"); }
  const auto before = snapshot_tree(dir_.path());
  auto log = inspector().open_log("t");
  ASSERT_TRUE(log) << render(log.error());
  EXPECT_EQ(log->task(), "t");
  EXPECT_EQ(log->path(), log_path("t").string());
  EXPECT_EQ(log->size(), fs::file_size(log_path("t")));
  auto lines = lines_of(*log);
  ASSERT_EQ(lines.size(), 5u);
  const log_line_status expected[] = {log_line_status::ok, log_line_status::blank,
                                      log_line_status::corrupt, log_line_status::future_schema,
                                      log_line_status::torn_tail};
  uint64_t offset = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].number, i + 1);
    EXPECT_EQ(lines[i].offset, offset) << i;
    EXPECT_EQ(lines[i].status, expected[i]) << i;
    offset += lines[i].length + 1;
  }
  EXPECT_EQ(lines[0].length, first.size() - 1);
  EXPECT_EQ(lines[0].ev.task, "t");
  EXPECT_EQ(lines[0].ev.type, "task:state:running");
  EXPECT_EQ(lines[0].problem, "");
  EXPECT_EQ(lines[1].problem, "");
  EXPECT_EQ(lines[2].problem, "not a valid event");
  EXPECT_EQ(lines[3].problem, ""); // a newer reader's line, not damage
  EXPECT_EQ(lines[3].length, future.size());
  EXPECT_EQ(lines[4].problem, "torn last line (no newline): an interrupted write");
  EXPECT_EQ(snapshot_tree(dir_.path()), before);
}

TEST_F(LogInspectionTest, StatsCountAsAReadOfTheTaskDoes) {
  append_n("t", 3);
  { std::ofstream{log_path("t"), std::ios::app} << "{broken\n\n" << line_of("a:b", "{}", 2) << "\n" << line_of("x:y"); }
  auto log = inspector().open_log("t");
  ASSERT_TRUE(log) << render(log.error());
  auto counts = log->stats();
  ASSERT_TRUE(counts) << render(counts.error());
  store_options opts = options();
  opts.read_only = true;
  auto db = open_store(opts);
  auto read = db->read_task("t");
  ASSERT_TRUE(read) << render(read.error());
  EXPECT_EQ(counts->events, read->events.size());
  EXPECT_EQ(counts->corrupt_lines, read->stats.corrupt_lines);
  EXPECT_EQ(counts->future_schema_lines, read->stats.future_schema_lines);
  EXPECT_EQ(counts->torn_tail, read->stats.torn_tail);
  EXPECT_EQ(counts->events, 3u);
  EXPECT_EQ(counts->corrupt_lines, 1u);
  EXPECT_EQ(counts->future_schema_lines, 1u);
  EXPECT_TRUE(counts->torn_tail);
  EXPECT_EQ(counts->lines, 7u);
  EXPECT_EQ(counts->bytes, fs::file_size(log_path("t")));
  EXPECT_EQ(counts->types, (std::set<std::string>{"task:state:running"}));
}

TEST_F(LogInspectionTest, ALineTooLongForReadersIsReportedAndTheNextOneStillRead) {
  append_n("t", 1);
  const uint64_t long_length = (uint64_t{64} << 20) + 1;
  {
    std::ofstream out{log_path("t"), std::ios::app};
    out << std::string(long_length, 'x') << "\n" << line_of("a:b") << "\n";
  }
  const auto size_before = fs::file_size(log_path("t"));
  auto log = inspector().open_log("t");
  ASSERT_TRUE(log) << render(log.error());
  auto lines = lines_of(*log);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].status, log_line_status::too_long);
  EXPECT_EQ(lines[1].length, long_length);
  EXPECT_EQ(lines[1].problem, "longer than 64 MiB: no reader holds it, so it counts as corrupt");
  EXPECT_EQ(lines[2].status, log_line_status::ok);
  EXPECT_EQ(lines[2].offset, lines[1].offset + long_length + 1);
  auto counts = log->stats();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->corrupt_lines, 1u); // as every reader counts it
  EXPECT_EQ(counts->events, 2u);
  EXPECT_EQ(fs::file_size(log_path("t")), size_before);
}

TEST_F(LogInspectionTest, TheRustCrateCheckNamesEventsTheCrateWouldSkip) {
  fs::create_directories(log_path("t").parent_path());
  spit(log_path("t"), line_of("custom:thing") + "\n" + line_of("task:created") + "\n");
  auto log = inspector().open_log("t");
  ASSERT_TRUE(log);
  auto plain = lines_of(*log);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].problem, ""); // the store reads any valid type
  auto crate = lines_of(*log, log_checks{/*rust_crate=*/true});
  ASSERT_EQ(crate.size(), 2u);
  EXPECT_EQ(crate[0].status, log_line_status::ok);
  EXPECT_NE(crate[0].problem.find("type not in the Rust crate's list"), std::string::npos);
  EXPECT_EQ(crate[1].problem, "");
}

TEST_F(LogInspectionTest, TasksAreListedAsTheStoreListsThem) {
  append_n("b", 1);
  append_n("a", 1);
  append_n("", 1);
  fs::create_directories(fs::path(root()) / "empty");
  auto tasks = inspector().tasks();
  ASSERT_TRUE(tasks) << render(tasks.error());
  EXPECT_EQ(*tasks, (std::vector<std::string>{"", "a", "b"}));
  auto db = open_store();
  auto listed = db->list_tasks(/*include_system_log=*/true);
  ASSERT_TRUE(listed);
  EXPECT_EQ(*tasks, *listed);
}

// The hostile root: each row plants something where a log or a task directory belongs; opening it
// is refused as the store refuses it (or not found), a FIFO does not block, entries() names the
// links, and nothing under the test's directory changes, the files the links point at included.
TEST_F(LogInspectionTest, AHostileRootIsReportedAndNothingOnDiskChanges) {
  append_n("good", 2);
  append_n("linked_log", 1);
  append_n("fifo", 1);
  append_n("dir", 1);
  append_n("gone", 1);
  spit(outside() / "elsewhere.jsonl", line_of("a:b") + "\n");
  spit(outside() / "events.jsonl", line_of("a:b") + "\n");
  fs::remove(log_path("linked_log"));
  fs::create_symlink(outside() / "elsewhere.jsonl", log_path("linked_log"));
  fs::remove(log_path("fifo"));
  ASSERT_EQ(::mkfifo(log_path("fifo").c_str(), 0644), 0);
  fs::remove(log_path("dir"));
  fs::create_directory(log_path("dir"));
  fs::remove(log_path("gone"));
  fs::create_directory_symlink(outside(), fs::path(root()) / "linked_dir");
  spit(fs::path(root()) / "stray", "x"); // a file, not a task directory: not an entry
  const auto before = snapshot_tree(dir_.path());

  auto logs = inspector();
  auto entries = logs.entries();
  ASSERT_TRUE(entries) << render(entries.error());
  std::vector<std::string> names;
  for (const auto& e : *entries)
    names.push_back(e.task + (e.symbolic_link ? " (link)" : ""));
  EXPECT_EQ(names, (std::vector<std::string>{"", "dir", "fifo", "gone", "good", "linked_dir (link)",
                                             "linked_log"}));
  EXPECT_EQ(entries->front().path, root() + "/events.jsonl");
  EXPECT_EQ((*entries)[5].path, root() + "/linked_dir");
  EXPECT_EQ((*entries)[1].path, log_path("dir").string());

  struct row {
    std::string task;
    errc code;
    const char* says; // part of the error's text
  };
  const row rows[] = {
    {"linked_log", errc::not_regular_file, "is a symbolic link"},
    {"fifo", errc::not_regular_file, "is a FIFO"},
    {"dir", errc::not_regular_file, "is a directory"},
    {"linked_dir", errc::not_regular_file, "directory; the store refuses it"},
    {"gone", errc::not_found, "does not exist"},
    {"never", errc::not_found, "does not exist"},
    {"", errc::not_found, "does not exist"},
    {"../outside", errc::invalid_task_id, ""},
    {"good/../../outside", errc::invalid_task_id, ""},
  };
  for (const auto& r : rows) {
    auto log = logs.open_log(r.task);
    ASSERT_FALSE(log) << r.task;
    EXPECT_TRUE(is(log.error(), r.code)) << r.task << ": " << render(log.error());
    EXPECT_NE(render(log.error()).find(r.says), std::string::npos)
      << r.task << ": " << render(log.error());
  }
  auto good = logs.open_log("good");
  ASSERT_TRUE(good) << render(good.error());
  EXPECT_EQ(lines_of(*good).size(), 2u);
  auto tasks = logs.tasks(); // what the store reads: no link, no FIFO, no directory
  ASSERT_TRUE(tasks);
  EXPECT_EQ(*tasks, std::vector<std::string>{"good"});
  EXPECT_EQ(snapshot_tree(dir_.path()), before);
}

TEST_F(LogInspectionTest, ALogHoldsOneDescriptorUntilItIsDestroyed) {
  append_n("t", 1);
  auto logs = inspector();
  const auto before = open_descriptors();
  {
    auto log = logs.open_log("t");
    ASSERT_TRUE(log);
    EXPECT_EQ(open_descriptors(), before + 1);
    log_reader moved = std::move(*log);
    EXPECT_EQ(open_descriptors(), before + 1);
    EXPECT_EQ(lines_of(moved).size(), 1u);
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST_F(LogInspectionTest, OpeningARootThatIsNoStoreIsAnError) {
  auto missing = log_inspector::open(dir_.str("nothing-here"));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(is(missing.error(), errc::not_found)) << render(missing.error());
  EXPECT_FALSE(fs::exists(dir_.path() / "nothing-here")); // read-only: creates nothing
  fs::create_directories(root());
  spit(fs::path(root()) / "format_version", "7\n");
  auto newer = log_inspector::open(root());
  ASSERT_FALSE(newer);
  EXPECT_TRUE(is(newer.error(), errc::unsupported_format)) << render(newer.error());
}

// ---- One line ----

TEST_F(LogInspectionTest, AStoredEventsLineIsToLogLineOfIt) {
  auto db = open_store();
  auto stored = must_append(*db, make_event("t", "task:state:running"));
  db.reset();
  EXPECT_EQ(slurp(log_path("t")), to_log_line(stored.ev));
}

TEST(LogLineTest, DataTextIsTheDataMemberAsWritten) {
  EXPECT_EQ(data_text(R"({"type":"a:b","data":{"n":123456789012345678901234567890,"x":1.50}})"),
            std::optional<std::string_view>{R"({"n":123456789012345678901234567890,"x":1.50})"});
  EXPECT_EQ(data_text(R"({"data":"caf\u00e9","more":{"data":1}})"),
            std::optional<std::string_view>{R"("caf\u00e9")"});
  EXPECT_EQ(data_text(R"({"data":null})"), std::optional<std::string_view>{"null"});
  EXPECT_FALSE(data_text(R"({"type":"a:b"})"));        // no data
  EXPECT_FALSE(data_text(R"({"nested":{"data":1}})")); // only the line's own member counts
  EXPECT_FALSE(data_text(R"({"data":1)"));             // not one JSON object
  EXPECT_FALSE(data_text(R"([{"data":1}])"));
  EXPECT_FALSE(data_text(""));
}

TEST(LogLineTest, BlankLinesAreSpacesTabsAndCarriageReturnsOnly) {
  EXPECT_TRUE(is_blank_line(""));
  EXPECT_TRUE(is_blank_line(" \t\r"));
  EXPECT_FALSE(is_blank_line(" x "));
  EXPECT_FALSE(is_blank_line("{}"));
}
