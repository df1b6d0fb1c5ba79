// The bad-input table (SPEC §4): hundreds of malformed task ids, types, ids, events and lines, each
// answered with the right error, and the store's files byte for byte the same afterwards.
#include <filesystem>
#include <map>

#include <cmath>
#include <limits>

#include "src/format/line_codec.hpp"
#include "support/json_gen.hpp"
#include "support/store_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;
namespace fs = std::filesystem;

namespace {


std::vector<std::string> bad_task_ids() {
  std::vector<std::string> out = {".", "..", "/", "/abs", "a/b", "../x", "x/..", "a\\b", "..\\x",
                                  "./x", "a/../b", std::string(256, 'x'), std::string(1000, 'y'),
                                  std::string("a\0b", 3), std::string(1, '\0')};
  for (int c = 1; c < 0x20; ++c) // every control character, alone and inside an id
    for (auto form : {std::string(1, static_cast<char>(c)), "t" + std::string(1, char(c)) + "t"})
      out.push_back(form);
  out.push_back("\x7f");
  out.push_back("del\x7f");
  return out;
}

// Task ids the store keeps for its own files, and ids that are not UTF-8.
std::vector<std::string> reserved_and_non_utf8_task_ids() {
  return {"events.jsonl", "events.corrupt", "events.jsonl.compact.tmp", "LOCK", "format_version",
          "format_version.tmp", "\xff", "t\xfe", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80",
          "\xf4\x90\x80\x80", "ok\x80ok"};
}

boost::json::value nested_arrays(int depth) {
  boost::json::value v = 1;
  for (int i = 0; i < depth; ++i)
    v = boost::json::array{std::move(v)};
  return v;
}

std::vector<std::string> bad_types() {
  std::vector<std::string> out = {"", ":", "a:", ":a", "a::b", "Task:Created", "TASK", "a b",
                                  "a:b:*", "*", "a.b", "a/b", "é", "a:é", "tab\t", "a\nb",
                                  std::string(256, 'a'), "a:" + std::string(300, 'b'), "a:B"};
  for (char c : std::string("!\"#$%&'()*+,./;<=>?@[\\]^`{|}~ABCXYZ"))
    out.push_back(std::string("task:") + c);
  return out;
}

std::vector<std::string> bad_ids() {
  return {"x", "123", "not-a-uuid", "0B7E5F9C-8A55-4D1E-9C3A-1F2E3D4C5B6A",
          "0b7e5f9c8a554d1e9c3a1f2e3d4c5b6a", "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6",
          "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6aa", "0b7e5f9c_8a55_4d1e_9c3a_1f2e3d4c5b6a",
          "{0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a}", "gb7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a", " "};
}

} // namespace

TEST_F(StoreTest, EveryBadInputGetsItsErrorAndChangesNothing) {
  auto opts = options();
  opts.max_line_bytes = 4096;
  auto db = open_store(opts);
  must_append(*db, make_event("existing", "task:created"));
  must_append(*db, make_event("", "system:started"));
  const auto before = snapshot_tree(dir_.path());
  size_t cases = 0;
  auto expect = [&](caf::error err, errc code, const std::string& what) {
    ++cases;
    EXPECT_TRUE(is(err, code)) << what << ": " << render(err);
  };
  for (const auto& task : bad_task_ids()) {
    expect(db->append(make_event(task, "task:created")).error(), errc::invalid_task_id, task);
    expect(db->read_task(task).error(), errc::invalid_task_id, task);
    expect(db->compact_task(task).error(), errc::invalid_task_id, task);
  }
  for (const auto& type : bad_types())
    expect(db->append(make_event("existing", type)).error(), errc::invalid_type, type);
  for (const auto& id : bad_ids()) {
    auto ev = make_event("existing", "task:updated");
    ev.id = id;
    expect(db->append(ev).error(), errc::invalid_id, id);
  }
  for (size_t size : {4096u, 5000u, 100'000u, 2u << 20}) {
    auto ev = make_event("existing", "agent:message");
    ev.data = boost::json::string(size, 'x');
    expect(db->append(ev).error(), errc::event_too_large, std::to_string(size));
  }
  // Optimistic versions that do not match.
  for (uint64_t wrong : {0u, 2u, 100u})
    expect(db->append(make_event("existing", "task:updated"), wrong).error(),
           errc::version_conflict, std::to_string(wrong));
  EXPECT_GT(cases, 200u);
  EXPECT_EQ(snapshot_tree(dir_.path()), before) << "bad input changed the store";
  std::printf("[ figures  ] %zu bad inputs rejected, store unchanged\n", cases);
}

TEST_F(StoreTest, NothingIsAcknowledgedThatCannotBeReadBack) {
  // Each row: an event no reader could read back as it was given, the error, and the words that
  // name the field. Nothing may reach the disk.
  struct row {
    std::string what;
    event ev;
    errc code;
    std::string names;
  };
  const double inf = std::numeric_limits<double>::infinity();
  auto with_data = [](json_payload data) {
    auto ev = make_event("existing", "agent:message");
    ev.data = std::move(data);
    return ev;
  };
  auto with_task = [](std::string task) { return make_event(task, "task:created"); };
  std::vector<row> table = {
    {"data 127 deep", with_data(nested_arrays(127)), errc::invalid_event, "data: nesting deeper than 126"},
    {"data 1,000 deep", with_data(nested_arrays(1'000)), errc::invalid_event, "data: nesting deeper than 126"},
    {"data 10,000 deep, as a line would hold it",
     with_data(json_payload::adopt_checked(evstore::testing::json_gen::nested(10'000))),
     errc::invalid_event, "data: nesting deeper than 126"},
    {"Infinity", with_data(inf), errc::invalid_event, "data: number is not finite"},
    {"-Infinity", with_data(boost::json::object{{"x", -inf}}), errc::invalid_event, "data: number is not finite"},
    {"NaN", with_data(boost::json::array{std::nan("")}), errc::invalid_event, "data: number is not finite"},
    {"1e400 read from a line", with_data(json_payload::adopt_checked("1e400")), errc::invalid_event,
     "data: number is not finite"},
    {"invalid UTF-8 in a data string", with_data(boost::json::string("\xff")), errc::invalid_event,
     "data: invalid UTF-8 in string"},
    {"invalid UTF-8 in a data key", with_data(boost::json::object{{"\xc3(", 1}}), errc::invalid_event,
     "data: invalid UTF-8 in key"},
    {"invalid UTF-8 in the type", make_event("existing", "task:\xff"), errc::invalid_type, "type"},
  };
  for (const auto& task : reserved_and_non_utf8_task_ids())
    table.push_back({"task id " + task, with_task(task), errc::invalid_task_id, "task"});
  auto opts = options();
  auto db = open_store(opts);
  must_append(*db, make_event("existing", "task:created"));
  must_append(*db, make_event("", "system:started"));
  const auto before = snapshot_tree(dir_.path());
  for (const auto& r : table) {
    auto res = db->append(r.ev);
    ASSERT_FALSE(res) << r.what << " was acknowledged";
    EXPECT_TRUE(is(res.error(), r.code)) << r.what << ": " << render(res.error());
    EXPECT_NE(render(res.error()).find(r.names), std::string::npos) << r.what << ": " << render(res.error());
  }
  for (const auto& task : reserved_and_non_utf8_task_ids()) {
    EXPECT_TRUE(is(db->read_task(task).error(), errc::invalid_task_id)) << task;
    EXPECT_TRUE(is(db->compact_task(task).error(), errc::invalid_task_id)) << task;
  }
  EXPECT_EQ(snapshot_tree(dir_.path()), before) << "refused input changed the store";
  auto read = db->read_task("existing");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->events.size(), 1u);
  EXPECT_EQ(read->stats.corrupt_lines, 0u);
}

TEST_F(StoreTest, AppendThenReadReturnsTheAcceptedDataByteForByte) {
  // Property: random payloads (deep, big numbers, unicode, escapes, whitespace in the caller's
  // text) are accepted, and read back, from the writer and from a reopened store, exactly as
  // json_payload::parse accepted them.
  evstore::testing::json_gen gen{42};
  std::vector<std::string> system_wide, in_task; // the accepted texts, per log, in order
  auto expect_read_back = [&](store& db) {
    for (const auto& [task, want] : {std::pair{"", &system_wide}, std::pair{"round-trip", &in_task}}) {
      auto read = db.read_task(task);
      ASSERT_TRUE(read) << render(read.error());
      EXPECT_EQ(read->stats.corrupt_lines, 0u);
      std::vector<std::string> seen;
      for (const auto& ev : read->events)
        seen.push_back(ev.data.text());
      EXPECT_EQ(seen, *want) << "task '" << task << "'";
    }
  };
  {
    auto db = open_store();
    for (int i = 0; i < 600; ++i) {
      std::string text = i % 40 == 0 ? evstore::testing::json_gen::nested(126, gen.value(0))
                                     : gen.value(8, i % 2 == 1);
      auto data = json_payload::parse(text);
      ASSERT_TRUE(data) << text << ": " << render(data.error());
      auto ev = make_event(i % 3 ? "round-trip" : "", "agent:message");
      ev.data = *data;
      auto res = must_append(*db, ev);
      EXPECT_EQ(res.ev.data.text(), data->text());
      (i % 3 ? in_task : system_wide).push_back(data->text());
    }
    expect_read_back(*db);
  }
  auto reopened = open_store();
  ASSERT_TRUE(reopened);
  expect_read_back(*reopened);
}

TEST_F(StoreTest, TheEpochIsStoredAsGivenAndAnUnsetTsMeansNow) {
  auto db = open_store();
  auto ev = make_event("epoch", "task:created");
  ev.ts = timestamp{};
  auto at_epoch = must_append(*db, ev);
  ASSERT_TRUE(at_epoch.ev.ts);
  EXPECT_EQ(*at_epoch.ev.ts, timestamp{});
  ev.id.clear();
  ev.ts = caf::none;
  auto now_ish = must_append(*db, ev);
  ASSERT_TRUE(now_ish.ev.ts);
  EXPECT_GT(now_ish.ev.ts->seconds_since_epoch(), 0);
  auto read = db->read_task("epoch");
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 2u);
  EXPECT_EQ(*read->events[0].ts, timestamp{});
  EXPECT_EQ(read->events[1].ts, now_ish.ev.ts);
}

TEST_F(StoreTest, MalformedLinesAreSkippedCountedAndNeverFatal) {
  auto db = open_store();
  auto good = must_append(*db, make_event("mixed", "task:created")).ev;
  std::vector<std::string> bad = {
    "", "{", "}", "[]", "null", "true", "1", "\"str\"", "{}", "{\"id\":1}", "not json",
    R"({"id":"x","type":"a","task":"t","actor":"agent"})",                      // no ts
    R"({"id":"x","type":"a","task":"t","ts":"2026-01-01T00:00:00Z"})",          // no actor
    R"({"id":"x","type":"a","task":"t","actor":"robot","ts":"2026-01-01T00:00:00Z"})",
    R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-13-01T00:00:00Z"})",
    R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z","schema_version":-1})",
    R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z","schema_version":"1"})",
    R"({"id":"","type":"a","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z"})",
    R"({"id":"x","type":"","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z"})",
    R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z"}{})",
    "\xff\xfe{}", R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-01-01T00:00:00Z",)",
  };
  // Generated: every prefix of a valid line is invalid JSON.
  auto line = encode_line(good);
  for (size_t cut = 1; cut + 2 < line.size(); cut += 3)
    bad.push_back(line.substr(0, cut));
  std::string content = line;
  size_t non_blank = 0;
  for (const auto& b : bad) {
    content += b + "\n";
    non_blank += b.empty() ? 0 : 1;
    EXPECT_EQ(decode_line(b).status, line_status::corrupt) << b;
  }
  content += line; // the same valid event again, at the end
  spit(fs::path(root()) / "mixed" / "events.jsonl", content);
  auto read = db->read_task("mixed");
  ASSERT_TRUE(read) << render(read.error());
  EXPECT_EQ(read->events.size(), 2u);
  EXPECT_EQ(read->stats.corrupt_lines, non_blank);
  std::printf("[ figures  ] %zu malformed lines skipped and counted\n", non_blank);
}
