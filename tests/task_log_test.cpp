#include "src/storage/task_log.hpp"

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include <unistd.h>

#include "src/format/line_codec.hpp"
#include "src/format/uuid.hpp"
#include "support/equivalence.hpp"
#include "support/task_log_fixture.hpp"

using namespace evstore;
using namespace evstore::testing;

TEST_F(TaskLogTest, AppendThenReadReturnsEventsInFileOrder) {
  auto log = make_log();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(append_ok(*log, make_event("t1", "agent:message")).position, static_cast<uint64_t>(i));
  auto res = log->read(0);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->events.size(), 5u);
  for (size_t i = 1; i < res->events.size(); ++i)
    EXPECT_LE(res->events[i - 1].ts, res->events[i].ts);
  EXPECT_EQ(log->read(3)->events.size(), 2u);
  EXPECT_EQ(log->read(9)->events.size(), 0u);
}

TEST_F(TaskLogTest, AppendFillsIdAndTimestampAndReportsTheLine) {
  auto log = make_log();
  auto res = log->append(append_request{make_event("t1", "task:created"), caf::none});
  ASSERT_TRUE(res);
  EXPECT_TRUE(parse_uuid(res->ev.id));
  EXPECT_GT(res->ev.ts->seconds_since_epoch(), 0);
  // The file was loaded first: there was none, so no task yet (the index forgets it, if it knew it).
  EXPECT_TRUE(seen_.loaded.empty());
  ASSERT_EQ(seen_.removals.size(), 1u);
  EXPECT_EQ(seen_.removals[0].task, "t1");
  ASSERT_EQ(seen_.appends.size(), 1u);
  const auto& note = seen_.appends[0];
  EXPECT_EQ(note.task, "t1");
  EXPECT_EQ(note.type, "task:created");
  EXPECT_EQ(note.line.ts, res->ev.ts);
  EXPECT_EQ(note.line.position, 0u);
  EXPECT_EQ(note.line.offset, 0u);
  EXPECT_NE(note.file_id, 0u);
  auto second = append_ok(*log, make_event("t1", "task:updated"));
  EXPECT_EQ(seen_.appends[1].line.offset, encode_line(res->ev).size());
  EXPECT_EQ(slurp(file()), encode_line(res->ev) + encode_line(second.ev));
}

TEST_F(TaskLogTest, LoadReportsASummaryPerTypeWithRecentLines) {
  {
    auto writer = make_log();
    for (int i = 0; i < 7; ++i)
      append_ok(*writer, make_event("t1", i < 6 ? "agent:message" : "task:created",
                                    at(i == 0 ? "2026-01-09T00:00:00Z" : "2026-01-01T00:00:00Z")));
  }
  seen_ = recorder{};
  auto log = make_log();
  ASSERT_TRUE(log->populate());
  ASSERT_EQ(seen_.loaded.size(), 1u);
  const auto& sum = seen_.loaded[0];
  EXPECT_EQ(sum.events, 7u);
  ASSERT_EQ(sum.types.size(), 2u);
  const auto& msgs = sum.types[0];
  EXPECT_EQ(msgs.type, "agent:message");
  EXPECT_EQ(msgs.count, 6u);
  EXPECT_EQ(msgs.newest_ts, at("2026-01-09T00:00:00Z"));
  ASSERT_EQ(msgs.recent.size(), default_sketch_size);
  EXPECT_EQ(msgs.recent.back().position, 5u);
  EXPECT_TRUE(msgs.has_older); // the first line, the newest by ts, fell out of the recent lines
  EXPECT_EQ(msgs.older_max_ts, at("2026-01-09T00:00:00Z"));
  EXPECT_EQ(msgs.older_max_position, 0u);
  EXPECT_FALSE(sum.types[1].has_older);
  EXPECT_TRUE(log->populate()); // already loaded: says nothing changed, without reading
  EXPECT_EQ(seen_.loaded.size(), 1u);
  ASSERT_EQ(seen_.extensions.size(), 1u);
  EXPECT_EQ(seen_.extensions[0].from_events, 7u);
  EXPECT_EQ(seen_.extensions[0].events, 7u);
  EXPECT_TRUE(seen_.extensions[0].lines.empty());
}

TEST_F(TaskLogTest, AKnownExtentIsNotReadAgainOnlyTheLinesAfterIt) {
  auto first = make_log();
  for (int i = 0; i < 3; ++i)
    append_ok(*first, make_event("t1", "a:b"));
  const auto known = *first->extent();
  auto fourth = append_ok(*first, make_event("t1", "a:c"));
  append_ok(*first, make_event("t1", "a:b"));
  first.reset();
  auto next = populated_from(known);
  EXPECT_TRUE(seen_.loaded.empty());
  ASSERT_EQ(seen_.extensions.size(), 1u);
  const auto& ext = seen_.extensions[0];
  EXPECT_EQ(ext.from_events, 3u);
  EXPECT_EQ(ext.events, 5u);
  EXPECT_EQ(ext.bytes, std::filesystem::file_size(file()));
  ASSERT_EQ(ext.lines.size(), 2u);
  EXPECT_EQ(ext.lines[0].type, "a:c");
  EXPECT_EQ(ext.lines[0].line.position, 3u);
  EXPECT_EQ(ext.lines[0].line.offset, known.bytes);
  EXPECT_EQ(ext.lines[0].line.ts, *fourth.ev.ts);
  EXPECT_EQ(ext.lines[1].line.position, 4u);
  // Positions and versions continue from what was known.
  EXPECT_EQ(append_ok(*next, make_event("t1", "a:d")).position, 5u);
}

TEST_F(TaskLogTest, AKnownExtentThatNoLongerFitsTheFileIsIgnoredAndTheFileReadWhole) {
  struct row {
    const char* name;
    std::function<void(const file_extent&)> change;
  };
  std::vector<row> rows = {
    {"replaced by a new inode (renamed over, as tools do)",
     [&](const file_extent&) {
       auto text = slurp(file());
       spit(file() + ".new", text);
       std::filesystem::rename(file() + ".new", file());
     }},
    {"deleted and re-created alike (ext4 may give it the same inode number)",
     [&](const file_extent&) {
       auto text = slurp(file());
       std::filesystem::remove(file());
       spit(file(), text);
     }},
    {"cut shorter than known", [&](const file_extent& k) {
       ASSERT_EQ(::truncate(file().c_str(), static_cast<off_t>(k.bytes - 1)), 0);
     }},
    {"cut and rewritten so no line starts where the known bytes end",
     [&](const file_extent& k) {
       ASSERT_EQ(::truncate(file().c_str(), static_cast<off_t>(k.bytes - 5)), 0);
       std::ofstream(file(), std::ios::app) << "0123456789\n";
     }},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    std::filesystem::remove_all(dir_.path() / "t1");
    auto first = make_log();
    for (int i = 0; i < 3; ++i)
      append_ok(*first, make_event("t1", "a:b"));
    const auto known = *first->extent();
    first.reset();
    r.change(known);
    auto next = populated_from(known);
    EXPECT_TRUE(seen_.extensions.empty());
    ASSERT_EQ(seen_.loaded.size(), 1u);
    auto read = next->read(0);
    ASSERT_TRUE(read);
    EXPECT_EQ(seen_.loaded[0].events, read->events.size());
  }
}

TEST_F(TaskLogTest, AKnownFileThatIsGoneIsReportedRemoved) {
  auto first = make_log();
  append_ok(*first, make_event("t1", "a:b"));
  const auto known = *first->extent();
  first.reset();
  std::filesystem::remove_all(dir_.path() / "t1");
  auto next = populated_from(known);
  EXPECT_TRUE(seen_.loaded.empty());
  ASSERT_EQ(seen_.removals.size(), 1u);
  EXPECT_EQ(seen_.removals[0].task, "t1");
}

TEST_F(TaskLogTest, AfterACompactionTheNextLoadReadsNothing) {
  auto log = make_log();
  for (int i = 0; i < 5; ++i)
    append_ok(*log, make_event("t1", "a:b"));
  retention_policy keep_two;
  keep_two.max_events = 2;
  keep_two.max_age = caf::none;
  ASSERT_TRUE(log->compact(keep_two, timestamp::now()));
  seen_ = recorder{};
  EXPECT_EQ(append_ok(*log, make_event("t1", "a:c")).position, 2u);
  // The compaction's summary told the index everything: the load reads nothing and says nothing.
  EXPECT_TRUE(seen_.loaded.empty());
  EXPECT_TRUE(seen_.extensions.empty());
  ASSERT_EQ(seen_.appends.size(), 1u);
  EXPECT_EQ(seen_.appends[0].line.position, 2u);
}

// A populate() of a file as it was known reads nothing, yet reports it (an extension of nothing):
// the index counts every task a population pass names.
TEST_F(TaskLogTest, PopulatingAFileAsItWasKnownReportsAnEmptyExtension) {
  auto first = make_log();
  for (int i = 0; i < 3; ++i)
    append_ok(*first, make_event("t1", "a:b"));
  const auto known = *first->extent();
  first.reset();
  auto next = populated_from(known);
  EXPECT_TRUE(seen_.loaded.empty());
  ASSERT_EQ(seen_.extensions.size(), 1u);
  EXPECT_EQ(seen_.extensions[0].from_events, 3u);
  EXPECT_EQ(seen_.extensions[0].events, 3u);
  EXPECT_TRUE(seen_.extensions[0].lines.empty());
}

TEST_F(TaskLogTest, AReadOnlyLogLearnsWhatAnotherProcessAppendedWhenPopulatedAgain) {
  auto writer = make_log();
  append_ok(*writer, make_event("t1", "a:b"));
  task_log_config cfg;
  cfg.fds = std::make_shared<fd_budget>(1);
  cfg.root = root_handle();
  cfg.read_only = true;
  recorder seen;
  task_log reader{dir_.str(), "t1", cfg, &seen};
  ASSERT_TRUE(reader.populate());
  ASSERT_EQ(seen.loaded.size(), 1u);
  append_ok(*writer, make_event("t1", "a:c"));
  // A line still being written is not known yet: what is known ends where it starts.
  auto line = encode_line([&] {
    auto ev = make_event("t1", "a:d", at("2026-01-01T00:00:00Z"));
    ev.id = make_uuid_v4();
    return ev;
  }());
  std::ofstream(file(), std::ios::app) << line.substr(0, 10);
  ASSERT_TRUE(reader.populate());
  ASSERT_EQ(seen.extensions.size(), 1u);
  ASSERT_EQ(seen.extensions[0].lines.size(), 1u);
  EXPECT_EQ(seen.extensions[0].lines[0].type, "a:c");
  EXPECT_EQ(seen.extensions[0].bytes, std::filesystem::file_size(file()) - 10);
  std::ofstream(file(), std::ios::app) << line.substr(10);
  ASSERT_TRUE(reader.populate());
  ASSERT_EQ(seen.extensions.size(), 2u);
  ASSERT_EQ(seen.extensions[1].lines.size(), 1u);
  EXPECT_EQ(seen.extensions[1].lines[0].type, "a:d");
  EXPECT_EQ(seen.extensions[1].lines[0].line.position, 2u);
  EXPECT_TRUE(seen.loaded.size() == 1u);
}

TEST_F(TaskLogTest, SystemWideEventsLiveInTheRootFile) {
  auto log = make_log("");
  append_ok(*log, make_event("", "system:started"));
  EXPECT_FALSE(slurp(dir_.path() / "events.jsonl").empty());
}

TEST_F(TaskLogTest, AppendAfterTornTailStartsOnNewLine) {
  auto good = encode_line([&] {
    auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
    ev.id = make_uuid_v4();
    return ev;
  }());
  spit(file(), good + R"({"id":"x","type":"a:)");
  auto log = make_log();
  append_ok(*log, make_event("t1", "a:c"));
  auto text = slurp(file());
  EXPECT_EQ(text.substr(0, good.size()), good);
  const std::string torn = R"({"id":"x","type":"a:)";
  EXPECT_EQ(text.substr(good.size(), torn.size() + 1), torn + "\n");
  auto res = log->read(0);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->events.size(), 2u);
  EXPECT_EQ(res->events[1].type, "a:c");
  EXPECT_EQ(res->stats.corrupt_lines, 1u);
  EXPECT_FALSE(res->stats.torn_tail);
}

TEST_F(TaskLogTest, TornTailMissingOnlyItsNewlineBecomesAnEvent) {
  auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
  ev.id = make_uuid_v4();
  auto line = encode_line(ev);
  spit(file(), line.substr(0, line.size() - 1));
  auto log = make_log();
  EXPECT_EQ(append_ok(*log, make_event("t1", "a:c")).position, 1u);
  EXPECT_EQ(log->read(0)->events.size(), 2u);
}

TEST_F(TaskLogTest, ReadOnlyReaderReportsTornTailWithoutRepairing) {
  spit(file(), R"({"id":"x")");
  task_log_config cfg;
  cfg.fds = std::make_shared<fd_budget>(1);
  cfg.root = root_handle();
  cfg.read_only = true;
  task_log log{dir_.str(), "t1", cfg};
  auto res = log.read(0);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->stats.torn_tail);
  EXPECT_EQ(res->stats.corrupt_lines, 0u);
  EXPECT_EQ(slurp(file()), R"({"id":"x")");
  EXPECT_TRUE(is(log.append(append_request{make_event("t1", "a"), caf::none}).error(),
                 errc::read_only));
}

TEST_F(TaskLogTest, ExpectedVersionConflictWritesNothing) {
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  auto before = slurp(file());
  auto res = log->append(append_request{make_event("t1", "a"), uint64_t{0}});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::version_conflict));
  EXPECT_EQ(slurp(file()), before);
  EXPECT_TRUE(log->append(append_request{make_event("t1", "a"), uint64_t{1}}));
}

TEST_F(TaskLogTest, RetriedAppendIsStoredOnce) {
  auto log = make_log();
  auto ev = make_event("t1", "agent:message");
  ev.id = make_uuid_v4();
  auto first = append_ok(*log, ev);
  EXPECT_FALSE(first.duplicate);
  append_ok(*log, make_event("t1", "agent:message"));
  auto again = append_ok(*log, ev);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.position, first.position);
  EXPECT_EQ(log->read(0)->events.size(), 2u);
}

TEST_F(TaskLogTest, RetriedAppendIsRecognisedAfterReopen) {
  auto ev = make_event("t1", "agent:message");
  ev.id = make_uuid_v4();
  append_ok(*make_log(), ev);
  auto log = make_log();
  EXPECT_TRUE(append_ok(*log, ev).duplicate);
  // A retry that also carries its expected version is a duplicate, not a conflict.
  auto res = log->append(append_request{ev, uint64_t{0}});
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->duplicate);
  EXPECT_EQ(log->read(0)->events.size(), 1u);
}

TEST_F(TaskLogTest, BadInputIsRejectedAndNothingIsWritten) {
  max_line_bytes_ = 512;
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  auto before = slurp(file());
  auto reject = [&](event ev, errc code) {
    auto res = log->append(append_request{std::move(ev), caf::none});
    ASSERT_FALSE(res);
    EXPECT_TRUE(is(res.error(), code)) << render(res.error());
  };
  reject(make_event("t1", "Bad:Type"), errc::invalid_type);
  auto bad_id = make_event("t1", "a");
  bad_id.id = "123";
  reject(bad_id, errc::invalid_id);
  auto big = make_event("t1", "a");
  big.data = boost::json::string(600, 'x');
  reject(big, errc::event_too_large);
  reject(make_event("other", "a"), errc::invalid_argument);
  EXPECT_EQ(slurp(file()), before);
}

TEST_F(TaskLogTest, CorruptAndFutureLinesAreSkippedAndCounted) {
  auto ev = make_event("t1", "a:b", at("2026-01-01T00:00:00Z"));
  ev.id = make_uuid_v4();
  spit(file(), "garbage\n\n" + encode_line(ev)
                 + R"({"id":"y","type":"a","task":"t1","actor":"agent","ts":"2026-01-01T00:00:00Z","schema_version":9})"
                   "\n{\"id\":1}\n");
  auto res = make_log()->read(0);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->events.size(), 1u);
  EXPECT_EQ(res->stats.corrupt_lines, 2u);
  EXPECT_EQ(res->stats.future_schema_lines, 1u);
}

// A file of `events` valid lines with a corrupt line after every seventh, a future-schema line
// after every eleventh and a blank line after every thirteenth (so chunks start and stop beside
// lines that are not events).
static std::string mixed_log(int events) {
  std::string text;
  for (int i = 0; i < events; ++i) {
    event ev;
    ev.id = make_uuid_v4();
    ev.task = "t1";
    ev.type = "agent:message";
    ev.actor = actor_kind::agent;
    ev.ts = timestamp::from_parts(1'700'000'000 + i, 0);
    text += encode_line(ev);
    if (i % 7 == 3)
      text += "garbage\n";
    if (i % 11 == 5)
      text += R"({"id":"y","type":"a","task":"t1","actor":"agent","ts":"2026-01-01T00:00:00Z","schema_version":9})"
              "\n";
    if (i % 13 == 7)
      text += "\n"; // blank: neither an event nor counted
  }
  return text;
}

// Writes `bytes` over the file from `offset` on, in place (the same file, its length unchanged
// unless the bytes reach past its end).
static void overwrite_in_place(const std::filesystem::path& file, uint64_t offset,
                               const std::string& bytes) {
  std::fstream out{file, std::ios::in | std::ios::out | std::ios::binary};
  out.seekp(static_cast<std::streamoff>(offset));
  out << bytes;
}

// Ids `begin` to `end` (not included).
static std::vector<std::string> slice(const std::vector<std::string>& ids, size_t begin,
                                      size_t end) {
  using diff = std::ptrdiff_t;
  return {ids.begin() + static_cast<diff>(begin), ids.begin() + static_cast<diff>(end)};
}

// The offset just after the `n`-th event's line of a mixed_log.
static size_t after_event_line(const std::string& text, int n) {
  size_t at = 0;
  for (int seen = 0; seen < n;) {
    const auto end = text.find('\n', at);
    const auto line = std::string_view{text}.substr(at, end - at);
    seen += line.rfind(R"({"id":")", 0) == 0 && line.find("\"schema_version\":9") == line.npos;
    at = end + 1;
  }
  return at;
}

TEST_F(TaskLogTest, ReadsInChunksReturnWhatOneReadReturnsAndCountTheLinesUpToTheirLastEvent) {
  spit(file(), mixed_log(300));
  auto log = make_log();
  auto whole = log->read(0);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->events.size(), 300u);
  EXPECT_EQ(whole->stats.corrupt_lines, 43u);
  EXPECT_EQ(whole->stats.future_schema_lines, 27u);
  for (uint64_t chunk : {1, 7, 64, 299, 300, 1000}) {
    SCOPED_TRACE(chunk);
    std::vector<event> got;
    read_stats last;
    for (;;) {
      auto part = log->read(got.size(), chunk);
      ASSERT_TRUE(part);
      ASSERT_LE(part->events.size(), chunk);
      // Never fewer counted than the lines before its last event hold.
      EXPECT_GE(part->stats.corrupt_lines, last.corrupt_lines);
      last = part->stats;
      got.insert(got.end(), part->events.begin(), part->events.end());
      if (part->events.size() < chunk)
        break;
    }
    EXPECT_EQ(ids_of(got), ids_of(whole->events));
    // The last read went to the end of the file: it counted every line.
    EXPECT_EQ(last.corrupt_lines, 43u);
    EXPECT_EQ(last.future_schema_lines, 27u);
  }
  // A chunk from the middle, by itself, counts the lines up to its last event only.
  auto mid = make_log()->read(10, 10);
  ASSERT_TRUE(mid);
  ASSERT_EQ(mid->events.size(), 10u);
  const auto all_ids = ids_of(whole->events);
  EXPECT_EQ(ids_of(mid->events), slice(all_ids, 10, 20));
  EXPECT_EQ(mid->stats.corrupt_lines, 3u); // after events 3, 10 and 17
  EXPECT_EQ(mid->stats.future_schema_lines, 2u); // after events 5 and 16
  // No events asked for: none returned, every line counted.
  auto none = make_log()->read(0, 0);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->events.empty());
  EXPECT_EQ(none->stats.corrupt_lines, 43u);
}

TEST_F(TaskLogTest, AReadFromWhereTheLastStoppedDoesNotReadTheLinesBeforeAgain) {
  spit(file(), mixed_log(40));
  auto log = make_log();
  auto first = log->read(0, 20);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->events.size(), 20u);
  // The first event's line, overwritten in place (same file, same length): a read that started at
  // the file's first line again would count it corrupt and number every event one lower.
  auto text = slurp(file());
  overwrite_in_place(file(), 0, std::string(text.find('\n'), 'x'));
  auto next = log->read(20, 20);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->events.size(), 20u);
  EXPECT_EQ(next->stats.corrupt_lines, 6u) << "the line after every seventh event, counted once";
  // A new reader reads the changed file from its start: one event fewer, one corrupt line more.
  auto again = make_log()->read(19);
  ASSERT_TRUE(again);
  EXPECT_EQ(ids_of(again->events), ids_of(next->events));
  EXPECT_EQ(again->stats.corrupt_lines, 7u);
}

TEST_F(TaskLogTest, AChunkAfterACompactionACutOrAnAppendFollowsTheFileAsItIsNow) {
  spit(file(), mixed_log(60));
  auto log = make_log();
  ASSERT_EQ(log->read(0, 30)->events.size(), 30u);
  // Appended to: the next chunk holds the new event too.
  auto added = append_ok(*log, make_event("t1", "task:created"));
  auto rest = log->read(30, 100);
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->events.size(), 31u);
  EXPECT_EQ(rest->events.back().id, added.ev.id);
  // Compacted (another file renamed over it): numbered as the new file says.
  ASSERT_EQ(log->read(0, 30)->events.size(), 30u);
  retention_policy keep_ten;
  keep_ten.max_events = 10;
  keep_ten.max_age = caf::none;
  ASSERT_TRUE(log->compact(keep_ten, timestamp::now()));
  auto after = log->read(30, 100);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->events.empty());
  auto kept = log->read(0);
  ASSERT_TRUE(kept);
  ASSERT_FALSE(kept->events.empty());
  EXPECT_LE(kept->events.size(), 10u);
  EXPECT_EQ(kept->events.back().id, added.ev.id);
  // Cut behind the store's back below where the last chunk stopped: read from the file's start.
  ASSERT_EQ(log->read(0, 8)->events.size(), 8u);
  const auto text = slurp(file());
  size_t cut = 0;
  for (int line = 0; line < 3; ++line)
    cut = text.find('\n', cut) + 1;
  ASSERT_EQ(::truncate(file().c_str(), static_cast<off_t>(cut)), 0);
  auto short_read = make_log()->read(0);
  ASSERT_TRUE(short_read);
  auto from_cursor = log->read(8, 100);
  ASSERT_TRUE(from_cursor);
  EXPECT_TRUE(from_cursor->events.empty()) << "the file holds " << short_read->events.size();
  auto head = log->read(1, 100);
  ASSERT_TRUE(head);
  const auto short_ids = ids_of(short_read->events);
  ASSERT_FALSE(short_ids.empty());
  EXPECT_EQ(ids_of(head->events), slice(short_ids, 1, short_ids.size()));
}

// A read-only log (the CLI beside a running writer) cannot see the writer's changes coming: it
// checks, before it goes on, that the file is the same one and still holds the last line it read.
TEST_F(TaskLogTest, AReadOnlyReaderGoesOnOnlyInTheFileItReadAndOnlyIfItStillHoldsItsLastLine) {
  spit(file(), mixed_log(60));
  task_log_config cfg;
  cfg.fds = std::make_shared<fd_budget>(1);
  cfg.root = root_handle();
  cfg.read_only = true;
  task_log reader{dir_.str(), "t1", cfg};
  auto fresh = [&](uint64_t from) {
    task_log other{dir_.str(), "t1", cfg};
    auto r = other.read(from);
    EXPECT_TRUE(r);
    return r ? ids_of(r->events) : std::vector<std::string>{};
  };
  // Compacted by the writer: another file renamed over this one.
  ASSERT_EQ(reader.read(0, 30)->events.size(), 30u);
  {
    auto writer = make_log();
    retention_policy keep_forty;
    keep_forty.max_events = 40;
    keep_forty.max_age = caf::none;
    ASSERT_TRUE(writer->compact(keep_forty, timestamp::now()));
  }
  auto after_compaction = reader.read(30, 100);
  ASSERT_TRUE(after_compaction);
  EXPECT_EQ(ids_of(after_compaction->events), fresh(30));
  // Cut back and written again (the same file): after the 11th event, one unparsable line up to
  // exactly where the last chunk stopped, then new events. A line still ends there, but the last
  // line read is gone, so the reader reads from the start: the new events are the 12th to 16th.
  spit(file(), mixed_log(60));
  auto first = reader.read(0, 20);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->events.size(), 20u);
  const auto text = slurp(file());
  const size_t cut = after_event_line(text, 11), stop = after_event_line(text, 20);
  const auto more = mixed_log(5);
  overwrite_in_place(file(), cut, std::string(stop - cut - 1, 'x') + '\n' + more);
  ASSERT_EQ(::truncate(file().c_str(), static_cast<off_t>(stop + more.size())), 0);
  ASSERT_EQ(fresh(0).size(), 16u);
  auto next = reader.read(20, 100);
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->events.empty()) << "the file holds 16 events; going on would have given "
                                       "the 5 new ones as the 21st on";
  auto from_start = reader.read(11, 100);
  ASSERT_TRUE(from_start);
  EXPECT_EQ(ids_of(from_start->events), fresh(11));
  EXPECT_EQ(from_start->events.size(), 5u);
}

// Two subscribers catching up on one task, side by side: each goes on from where its own last
// chunk stopped (the first event's line overwritten after both started: neither reads it again).
TEST_F(TaskLogTest, TwoReadersInChunksOfOneTaskEachGoOnFromTheirOwnChunk) {
  spit(file(), mixed_log(80));
  auto log = make_log();
  auto whole = log->read(0);
  ASSERT_TRUE(whole);
  const auto all_ids = ids_of(whole->events);
  ASSERT_EQ(log->read(0, 10)->events.size(), 10u);
  ASSERT_EQ(log->read(0, 30)->events.size(), 30u);
  overwrite_in_place(file(), 0, std::string(slurp(file()).find('\n'), 'x'));
  auto slow = log->read(10, 10);
  auto fast = log->read(30, 10);
  ASSERT_TRUE(slow && fast);
  EXPECT_EQ(ids_of(slow->events), slice(all_ids, 10, 20));
  EXPECT_EQ(ids_of(fast->events), slice(all_ids, 30, 40));
  EXPECT_EQ(slow->stats.corrupt_lines, 3u) << "the first line, overwritten, read again";
  EXPECT_EQ(fast->stats.corrupt_lines, 6u) << "the first line, overwritten, read again";
}

TEST_F(TaskLogTest, CleanupRemovesEmptyDirAndEmptyFileButKeepsEvidence) {
  std::filesystem::create_directories(dir_.path() / "empty-dir");
  spit(dir_.path() / "empty-file" / "events.jsonl", "");
  spit(dir_.path() / "has-corrupt" / "events.jsonl", "");
  spit(dir_.path() / "has-corrupt" / "events.corrupt", "junk\n");
  EXPECT_TRUE(*make_log("empty-dir")->remove_if_empty());
  EXPECT_TRUE(*make_log("empty-file")->remove_if_empty());
  EXPECT_FALSE(*make_log("has-corrupt")->remove_if_empty());
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  EXPECT_FALSE(*log->remove_if_empty());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "empty-dir"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "empty-file"));
  ASSERT_EQ(seen_.removals.size(), 3u); // and t1, found without a file before its first append
  EXPECT_EQ(seen_.removals[0].task, "empty-dir");
  EXPECT_EQ(seen_.removals[1].task, "empty-file");
  EXPECT_EQ(seen_.removals[2].task, "t1");
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "has-corrupt"));
}

TEST_F(TaskLogTest, AppendsWithoutAFileSlotOpenWriteAndClose) {
  auto log = make_log("t1", 0);
  for (int i = 0; i < 3; ++i) {
    append_ok(*log, make_event("t1", "a"));
    EXPECT_FALSE(log->has_open_file());
  }
  EXPECT_EQ(log->read(0)->events.size(), 3u);
}

TEST_F(TaskLogTest, HoldsItsFileWhileItHasASlotAndReleasesIt) {
  auto slots = std::make_shared<fd_budget>(1);
  task_log_config cfg;
  cfg.fds = slots;
  cfg.root = root_handle();
  task_log log{dir_.str(), "t1", cfg};
  ASSERT_TRUE(log.append(append_request{make_event("t1", "a"), caf::none}));
  EXPECT_TRUE(log.has_open_file());
  EXPECT_EQ(slots->available(), 0);
  log.release();
  EXPECT_EQ(slots->available(), 1);
}

TEST_F(TaskLogTest, FetchReadsPlannedLinesAndScansWhenTheFileChanged) {
  auto log = make_log();
  for (int i = 0; i < 6; ++i)
    append_ok(*log, make_event("t1", i % 2 ? "task:state:running" : "agent:message"));
  std::vector<line_ref> lines;
  for (const auto& a : seen_.appends)
    if (a.type == "task:state:running")
      lines.push_back(a.line);
  fetch_request req{"task:state:", 10, caf::none,
                    task_fetch{"t1", lines, seen_.appends.back().file_id, false}};
  auto planned = log->fetch(req);
  ASSERT_TRUE(planned);
  EXPECT_FALSE(planned->scanned);
  ASSERT_EQ(planned->events.size(), 3u);
  EXPECT_EQ(planned->events[2].position, 5u);
  // Compaction moves every line: the same plan is now answered by a scan, still exactly.
  retention_policy keep4;
  keep4.max_events = 4;
  ASSERT_TRUE(log->compact(keep4, timestamp::now()));
  auto after = log->fetch(req);
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->scanned);
  ASSERT_EQ(after->events.size(), 2u);
  EXPECT_EQ(after->events[0].position, 1u);
  EXPECT_EQ(after->events[1].position, 3u);
}

TEST_F(TaskLogTest, FileDeletedBehindTheStoresBackIsRecreatedAndKeepsNewAppends) {
  auto log = make_log();
  append_ok(*log, make_event("t1", "a"));
  ASSERT_TRUE(log->has_open_file());
  std::filesystem::remove(file());
  // Appends after the deletion must land in a file that exists, not in the unlinked one.
  auto after = append_ok(*log, make_event("t1", "b"));
  EXPECT_EQ(after.position, 0u);
  auto read = log->read(0);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->events.size(), 1u);
  EXPECT_EQ(read->events[0].id, after.ev.id);
}

TEST_F(TaskLogTest, FileTruncatedBehindTheStoresBackIsReloaded) {
  auto log = make_log();
  for (int i = 0; i < 3; ++i)
    append_ok(*log, make_event("t1", "a"));
  ASSERT_EQ(::truncate(file().c_str(), 0), 0);
  // Positions and versions follow what is on disk now.
  EXPECT_EQ(append_ok(*log, make_event("t1", "b")).position, 0u);
  auto conflict = log->append(append_request{make_event("t1", "c"), uint64_t{3}});
  EXPECT_TRUE(is(conflict.error(), errc::version_conflict));
  EXPECT_TRUE(log->append(append_request{make_event("t1", "c"), uint64_t{1}}));
  EXPECT_EQ(log->read(0)->events.size(), 2u);
}

TEST_F(TaskLogTest, FetchCacheNeverOutlivesTheFileItCameFrom) {
  task_log_config cfg;
  cfg.fds = std::make_shared<fd_budget>(8);
  cfg.root = root_handle();
  cfg.fetch_cache_lines = 8; // holds all six lines
  task_log log{dir_.str(), "t1", cfg, &seen_};
  // Same type, same ts and the same line length: after a compaction, a new line sits at the very
  // offset of an old one and the plan's ts check alone cannot tell them apart; only the id can.
  const timestamp ts = timestamp::now();
  for (int i = 0; i < 6; ++i)
    append_ok(log, make_event("t1", "task:state:running", ts));
  auto plan_of = [&](size_t first) {
    std::vector<line_ref> lines;
    for (size_t i = first; i < seen_.appends.size(); ++i)
      lines.push_back(seen_.appends[i].line);
    return fetch_request{"task:", 10, caf::none,
                         task_fetch{"t1", lines, seen_.appends.back().file_id, false}};
  };
  auto before = log.fetch(plan_of(0)); // fills the cache
  ASSERT_TRUE(before);
  ASSERT_EQ(before->events.size(), 6u);
  auto again = log.fetch(plan_of(0)); // served from the cache, the same events
  ASSERT_TRUE(again);
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(again->events[i].ev, before->events[i].ev);
  retention_policy keep2;
  keep2.max_events = 2;
  ASSERT_TRUE(log.compact(keep2, timestamp::now()));
  ASSERT_EQ(seen_.compactions.size(), 1u);
  // The compacted file's lines, planned from its summary: offsets 0 and one line on, as before.
  const auto& summary = seen_.compactions.back().summary;
  std::vector<line_ref> lines;
  for (const auto& entry : summary.types)
    lines.insert(lines.end(), entry.recent.begin(), entry.recent.end());
  std::sort(lines.begin(), lines.end(),
            [](const line_ref& x, const line_ref& y) { return x.offset < y.offset; });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].offset, 0u);
  auto after = log.fetch(fetch_request{"task:", 10, caf::none,
                                       task_fetch{"t1", lines, summary.file_id, false}});
  ASSERT_TRUE(after);
  ASSERT_EQ(after->events.size(), 2u);
  EXPECT_EQ(after->events[0].ev.id, before->events[4].ev.id);
  EXPECT_EQ(after->events[1].ev.id, before->events[5].ev.id);
}

TEST_F(TaskLogTest, ARetriedIdReturnsTheStoredEventAndSaysItWasADuplicate) {
  auto log = make_log();
  auto first = make_event("t1", "task:created");
  first.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  auto stored = log->append(append_request{first, caf::none});
  ASSERT_TRUE(stored);
  ASSERT_TRUE(log->append(append_request{make_event("t1", "task:other"), caf::none}));
  const auto before = slurp(file());
  for (bool fresh_log : {false, true}) { // the same answer from memory and after a reload
    SCOPED_TRACE(fresh_log ? "after a reload" : "same writer");
    if (fresh_log)
      log = make_log();
    auto retry = log->append(append_request{first, caf::none}); // no ts: the caller left it unset
    ASSERT_TRUE(retry) << render(retry.error());
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->position, 0u);
    EXPECT_EQ(retry->ev, stored->ev); // the stored ts, not the caller's unset one
    EXPECT_EQ(slurp(file()), before);
  }
}

TEST_F(TaskLogTest, TheSameIdWithDifferentContentIsAnIdConflictAndWritesNothing) {
  auto log = make_log();
  auto first = make_event("t1", "task:created", at("2026-01-01T00:00:00Z"));
  first.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  ASSERT_TRUE(log->append(append_request{first, caf::none}));
  const auto before = slurp(file());
  auto other_type = first;
  other_type.type = "task:deleted";
  auto other_actor = first;
  other_actor.actor = actor_kind::human;
  auto other_data = first;
  other_data.data = boost::json::object{{"n", 2}};
  auto other_ts = first;
  other_ts.ts = at("2026-01-01T00:00:01Z");
  for (const auto& [field, retry] : std::vector<std::pair<std::string, event>>{
         {"type", other_type}, {"actor", other_actor}, {"data", other_data}, {"ts", other_ts}}) {
    SCOPED_TRACE(field);
    auto res = log->append(append_request{retry, caf::none});
    ASSERT_FALSE(res);
    EXPECT_TRUE(is(res.error(), errc::id_conflict)) << render(res.error());
    EXPECT_NE(render(res.error()).find(field), std::string::npos) << render(res.error());
    EXPECT_EQ(slurp(file()), before);
  }
}

TEST_F(TaskLogTest, UncheckedPayloadTextIsCheckedAndWrittenWithoutWhitespace) {
  auto log = make_log();
  auto ev = make_event("t1", "a");
  ev.data = json_payload::adopt_checked("{\n  \"a\" : [1, 2.50 ,\"x y\"]\n}");
  auto res = log->append(append_request{ev, caf::none});
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_EQ(res->ev.data.text(), R"({"a":[1,2.50,"x y"]})");
  auto back = log->read(0);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->events.size(), 1u); // one line, not split by the newline
  EXPECT_EQ(back->events[0].data.text(), R"({"a":[1,2.50,"x y"]})");
  ev.data = json_payload::adopt_checked("[1,\n");
  EXPECT_FALSE(log->append(append_request{ev, caf::none}));
}

TEST_F(TaskLogTest, ARetryOfAnEventStoredWithSpacesInItsDataIsADuplicateNotAConflict) {
  // A line written by another tool, with spaces inside data.
  spit(file(), R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"a","task":"t1",)"
               R"("actor":"agent","ts":"2026-01-02T03:04:05Z","data":{ "n" : 1 },"schema_version":1})"
               "\n");
  auto log = make_log();
  auto retry = make_event("t1", "a");
  retry.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  retry.data = boost::json::object{{"n", 1}};
  auto res = log->append(append_request{retry, caf::none});
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_TRUE(res->duplicate);
}

TEST_F(TaskLogTest, AFileItMayNotWriteIsStillLoadedAndReadOnlyAppendsFail) {
  if (::geteuid() == 0)
    GTEST_SKIP() << "root may write any file";
  append_ok(*make_log(), make_event("t1", "a:b"));
  std::filesystem::permissions(file(), std::filesystem::perms::owner_read);
  seen_ = recorder{};
  auto log = make_log();
  ASSERT_TRUE(log->populate());
  ASSERT_EQ(seen_.loaded.size(), 1u);
  EXPECT_EQ(seen_.loaded[0].events, 1u);
  ASSERT_TRUE(log->read(0));
  auto refused = log->append(append_request{make_event("t1", "a:c"), caf::none});
  EXPECT_TRUE(is(refused.error(), errc::io_error)) << render(refused.error());
  std::filesystem::permissions(file(), std::filesystem::perms::owner_read
                                         | std::filesystem::perms::owner_write);
  EXPECT_EQ(log->read(0)->events.size(), 1u);
}
