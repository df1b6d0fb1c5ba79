// The index checkpoint's bytes (src/index/index_checkpoint.hpp): summaries come back exactly, and any
// damaged or foreign input is refused whole with the documented error code (errc::unsupported_format
// for another version, sketch size or device; errc::io_error for damage), never decoded into a wrong
// summary: pair records that do not parse as the index writes them are damage too. load_checkpoint
// discards what was decoded before the damage.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include <caf/deep_to_string.hpp>

#include "messages/errc.hpp"
#include "src/index/index_checkpoint.hpp"
#include "src/storage/checkpoint_loader.hpp"
#include "src/storage/store_layout.hpp"
#include "support/sanitized.hpp"
#include "support/store_fixture.hpp"

// GCC sees std::free of what its idea of operator new returned; they are this file's own pair.
// With that operator new in view, GCC also misjudges std::string's buffer sizes (a write to a
// 200-byte string "into a region of size 0").
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif

// The largest single allocation made while `tracking` is set: a count in the input must never turn
// into a huge allocation. Replacing the global operator new is allowed (and works under ASan); not
// under clang's TSan, whose runtime brings its own, so there the test that reads it is skipped (it
// decodes on one thread: the other stages run it).
namespace {
bool tracking = false;
size_t largest_allocation = 0;
} // namespace

#ifndef EVSTORE_THREAD_SANITIZED

void* operator new(size_t n) {
  if (tracking && n > largest_allocation)
    largest_allocation = n;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
// The nothrow forms too (std::stable_sort's temporary buffer uses them): every new must pair with
// the delete above, or ASan reports a new/free mismatch.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (tracking && n > largest_allocation)
    largest_allocation = n;
  return std::malloc(n ? n : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
#endif

using namespace evstore;
using namespace evstore::testing;

namespace {

constexpr checkpoint_scope scope{4, 0x0123456789abcdefULL};
constexpr size_t header_size = 40;
constexpr uint64_t big = (uint64_t{1} << 63) - 1;

timestamp ts(const char* text) {
  auto t = parse_rfc3339(text);
  EXPECT_TRUE(t) << text;
  return t ? *t : timestamp{};
}

line_ref ref(timestamp t, uint64_t position, uint64_t offset) {
  line_ref r;
  r.ts = t;
  r.position = position;
  r.offset = offset;
  return r;
}

type_summary summary_of(std::string type, uint64_t count, timestamp newest, std::vector<line_ref> recent,
                        bool has_older = false, timestamp older_max_ts = {},
                        uint64_t older_max_position = 0) {
  type_summary s;
  s.type = std::move(type);
  s.count = count;
  s.newest_ts = newest;
  s.recent = std::move(recent);
  s.has_older = has_older;
  s.older_max_ts = older_max_ts;
  s.older_max_position = older_max_position;
  return s;
}

task_summary task_of(std::string task, uint64_t file_id, uint64_t events, uint64_t bytes,
                     std::vector<type_summary> types) {
  task_summary t;
  t.task = std::move(task);
  t.file_id = file_id;
  t.events = events;
  t.bytes = bytes;
  t.types = std::move(types);
  return t;
}

// Every field, in a form gtest prints on mismatch.
std::string describe(const task_summary& t) {
  std::string out = "task '" + t.task + "' file " + std::to_string(t.file_id) + " events "
                    + std::to_string(t.events) + " bytes " + std::to_string(t.bytes) + "\n";
  // By name: a task's types come back in the index's type order, which the checkpoint keeps.
  auto types = t.types;
  std::sort(types.begin(), types.end(),
            [](const type_summary& x, const type_summary& y) { return x.type < y.type; });
  for (const auto& s : types) {
    out += "  " + s.type + " count " + std::to_string(s.count) + " newest "
           + std::to_string(s.newest_ts.seconds_since_epoch()) + "."
           + std::to_string(s.newest_ts.nanoseconds()) + " recent [";
    for (const auto& r : s.recent)
      out += " (" + std::to_string(r.ts.seconds_since_epoch()) + "." + std::to_string(r.ts.nanoseconds())
             + " p" + std::to_string(r.position) + " o" + std::to_string(r.offset) + ")";
    out += " ] older " + std::to_string(s.has_older);
    if (s.has_older)
      out += " " + std::to_string(s.older_max_ts.seconds_since_epoch()) + "."
             + std::to_string(s.older_max_ts.nanoseconds()) + " p"
             + std::to_string(s.older_max_position);
    out += "\n";
  }
  return out;
}

std::vector<std::string> describe_all(const std::vector<task_summary>& tasks) {
  std::vector<std::string> out;
  for (const auto& t : tasks)
    out.push_back(describe(t));
  return out;
}

// Through an index, as a store saves one: the tasks applied in order, then encoded.
std::string encode(const std::vector<task_summary>& tasks, checkpoint_scope s = scope) {
  type_index index{s.sketch_size};
  for (const auto& t : tasks)
    index.apply(t);
  return encode_checkpoint(index, s);
}

struct decoded {
  caf::error err;
  std::vector<task_summary> tasks;
};

decoded decode(std::string_view bytes, checkpoint_scope s = scope) {
  decoded out;
  out.err = decode_checkpoint(bytes, s, [&](task_summary& t) { out.tasks.push_back(t); });
  return out;
}

// A small but complete checkpoint: every kind of field, several tasks sharing types.
std::vector<task_summary> sample_tasks() {
  const auto t0 = ts("2026-11-01T10:00:00.123456789Z");
  const auto t1 = ts("2026-11-01T10:00:05Z");
  return {
    task_of("", 11, 3, 400,
            {summary_of("system:accounting:tokens", 3, t1,
                        {ref(t0, 0, 0), ref(t1, 2, 260)}, true, t0, 1)}),
    task_of("task-a", 12, 5, 900,
            {summary_of("agent:message", 4, t1, {ref(t0, 0, 0), ref(t1, 3, 700)}),
             summary_of("task:state:running", 1, t0, {ref(t0, 4, 800)})}),
    task_of("task-b", 13, 1, 120, {summary_of("agent:message", 1, t0, {ref(t0, 0, 0)})}),
  };
}

void expect_round_trip(const std::vector<task_summary>& tasks) {
  auto bytes = encode(tasks);
  auto got = decode(bytes);
  ASSERT_FALSE(got.err) << render(got.err);
  EXPECT_EQ(describe_all(got.tasks), describe_all(tasks));
}

// Puts a little-endian field into an encoded checkpoint's header.
void put_le(std::string& bytes, size_t at, uint64_t v, size_t width) {
  for (size_t i = 0; i < width; ++i)
    bytes[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::string flipped(std::string b, size_t at, int mask) {
  b.at(at) = static_cast<char>(b.at(at) ^ mask);
  return b;
}

// A checkpoint whose header is valid for `payload` (length and CRC-32 recomputed): only the payload's
// own structure can make it fail.
std::string with_valid_header(std::string_view payload) {
  std::string bytes = encode({});
  bytes.resize(header_size);
  put_le(bytes, 24, payload.size(), 8);
  // CRC-32 (the same as boost::crc_32_type: reflected 0xEDB88320, init and xorout all ones).
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : payload) {
    crc ^= c;
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  put_le(bytes, 32, crc ^ 0xffffffffu, 4);
  bytes += payload;
  return bytes;
}

// Pieces of a payload (docs/FORMAT.md), to build ones the encoder never writes. A pair record:
// its length, its type word (type id << 1, | 1 if its summary is kept whole), the rest.
std::string record(uint64_t type_word, const std::string& body) {
  std::string inner;
  put_varint(inner, type_word);
  inner += body;
  std::string out;
  put_varint(out, inner.size());
  return out + inner;
}

// One line reference of a compact record: seconds, 4 bytes of nanoseconds, position and offset
// (zigzag differences from the line before; the first from zero).
std::string line_bytes(uint64_t seconds, uint32_t nanos, uint64_t position = 0, uint64_t offset = 0) {
  std::string out;
  put_varint(out, seconds << 1);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>(nanos >> 8 * i));
  put_varint(out, position << 1);
  put_varint(out, offset << 1);
  return out;
}

// A compact record's body: a count of one and its line.
std::string one_line() {
  std::string out;
  put_varint(out, 1);
  return out + line_bytes(1'700'000'000, 5);
}

// A summary kept whole, of type `type`: count 1, newest at second 0 with `nanos`, no lines.
std::string whole_summary(uint64_t type, uint64_t nanos = 0) {
  std::string out;
  put_varint(out, type);
  put_varint(out, 1);
  put_varint(out, 0);
  put_varint(out, nanos);
  put_varint(out, 0);
  out.push_back(0);
  return out;
}

struct crafted_task {
  std::string name;
  std::string records;
  std::vector<std::string> whole = {};
};

std::string payload_of(const std::vector<std::string>& types, const std::vector<crafted_task>& tasks) {
  std::string p;
  put_varint(p, types.size());
  for (const auto& t : types) {
    put_varint(p, t.size());
    p += t;
  }
  put_varint(p, tasks.size());
  for (const auto& t : tasks) {
    put_varint(p, t.name.size());
    p += t.name;
    put_varint(p, 7);  // file
    put_varint(p, 1);  // events
    put_varint(p, 10); // bytes
    put_varint(p, t.records.size());
    p += t.records;
    put_varint(p, t.whole.size());
    for (const auto& w : t.whole)
      p += w;
  }
  return p;
}

} // namespace

// --- round trips ---

TEST(IndexCheckpointTest, EmptyTaskListRoundTrips) {
  auto bytes = encode({});
  EXPECT_EQ(bytes.size(), header_size + 2); // two zero counts
  expect_round_trip({});
}

TEST(IndexCheckpointTest, SampleWithSystemTaskRoundTrips) {
  expect_round_trip(sample_tasks());
}

TEST(IndexCheckpointTest, TimestampsAtTheEndsOfFourDigitYearsRoundTripToTheNanosecond) {
  const auto y0 = ts("0000-01-01T00:00:00Z");
  const auto y0n = ts("0000-01-01T00:00:00.000000001Z");
  const auto y9999 = ts("9999-12-31T23:59:59.999999999Z");
  const auto epoch_minus = timestamp::from_parts(-1, 999'999'999);
  expect_round_trip({
    // newest in 9999, references back to year 0: the largest deltas the store can produce
    task_of("wide", 1, 4, 100,
            {summary_of("a:b", 4, y9999, {ref(y0, 0, 0), ref(y0n, 1, 10), ref(y9999, 3, 50)}, true,
                        y0, 2)}),
    // newest in year 0, references later than it (a file out of ts order: positive deltas)
    task_of("low", 2, 2, 100,
            {summary_of("a:b", 2, y0, {ref(y9999, 0, 0), ref(y0, 1, 40)}, true, y9999, 0)}),
    task_of("epoch", 3, 1, 10, {summary_of("c", 1, epoch_minus, {ref(epoch_minus, 0, 0)})}),
  });
}

TEST(IndexCheckpointTest, TimestampsAtTheRepresentableExtremesRoundTrip) {
  // Outside what the store writes, but the codec says deltas wrap and come back exactly.
  expect_round_trip({task_of("x", 1, 2, 2,
                             {summary_of("a", 2, timestamp::max(),
                                         {ref(timestamp::min(), 0, 0), ref(timestamp::max(), 1, 1)},
                                         true, timestamp::min(), 0)}),
                     task_of("y", 2, 1, 1,
                             {summary_of("a", 1, timestamp::min(), {ref(timestamp::max(), 0, 0)})})});
}

TEST(IndexCheckpointTest, LargeNumbersRoundTrip) {
  const auto t = ts("2026-11-01T10:00:00.5Z");
  const auto max = std::numeric_limits<uint64_t>::max();
  expect_round_trip({
    task_of("big", big, big, big,
            {summary_of("agent:message", big, t, {ref(t, big - 1, big - 2), ref(t, big, big)}, true,
                        t, big - 3)}),
    task_of("max", max, max, max,
            {summary_of("agent:message", max, t, {ref(t, max, max)}, true, t, max)}),
    task_of("zero", 0, 0, 0, {}),
  });
}

TEST(IndexCheckpointTest, ManyTasksAndTypesRoundTrip) {
  std::vector<task_summary> tasks;
  const auto base = ts("2026-01-01T00:00:00Z");
  for (int i = 0; i < 300; ++i) {
    std::vector<type_summary> types;
    for (int k = 0; k <= i % 5; ++k) {
      auto newest = base + std::chrono::seconds{i * 7 + k};
      std::vector<line_ref> recent;
      for (int r = 0; r <= (i + k) % 4; ++r)
        recent.push_back(ref(newest - std::chrono::milliseconds{r * 1500}, uint64_t(r * 3 + k),
                             uint64_t(r * 200 + k)));
      bool older = (i + k) % 3 == 0;
      types.push_back(summary_of("type:" + std::to_string((i * 13 + k) % 40), uint64_t(10 + k),
                                 newest, recent, older,
                                 older ? newest - std::chrono::hours{30} : timestamp{},
                                 older ? uint64_t(i) : 0));
    }
    tasks.push_back(task_of("task-" + std::to_string(i), uint64_t(1000 + i), uint64_t(i), uint64_t(i * 100),
                            std::move(types)));
  }
  expect_round_trip(tasks);
}

TEST(IndexCheckpointTest, TheTasksASaveLeavesOutAreNotInIt) {
  type_index index{scope.sketch_size};
  for (const auto& t : sample_tasks())
    index.apply(t);
  auto got = decode(encode_checkpoint(index, scope, [](std::string_view t) { return t != "task-a"; }));
  ASSERT_FALSE(got.err) << render(got.err);
  auto want = sample_tasks();
  want.erase(want.begin() + 1);
  EXPECT_EQ(describe_all(got.tasks), describe_all(want));
}

namespace {

/// Every plan a few prefixes and limits make, and the totals: what two indexes must agree on.
std::string plans_of(const type_index& index) {
  // (Not the heap bytes: capacities differ between an index built change by change and a loaded one.)
  const auto stats = index.stats();
  std::string out = "tasks " + std::to_string(stats.tasks) + " types " + std::to_string(stats.types)
                    + " pairs " + std::to_string(stats.entries) + " events "
                    + std::to_string(stats.events) + "\n";
  for (const char* prefix : {"", "task:", "agent:message", "odd", "gone"})
    for (uint64_t limit : {1, 5, 1000}) {
      plan_request req;
      req.prefix = prefix;
      req.limit = limit;
      out += std::string{prefix} + "/" + std::to_string(limit) + ": "
             + caf::deep_to_string(index.plan(req)) + "\n";
    }
  return out;
}

appended note_of(int i) {
  appended note;
  note.task = "task-" + std::to_string(i % 23);
  note.type = i % 3 ? "task:state:running" : "agent:message";
  note.line.ts = ts("2026-01-01T00:00:00Z") + std::chrono::seconds{(i * 37) % 101};
  note.line.position = uint64_t(i / 23);
  note.line.offset = uint64_t(i) * 120;
  note.file_id = 7;
  note.end = uint64_t(i + 1) * 120;
  return note;
}

type_index loaded_from(const type_index& saved) {
  type_index loaded{scope.sketch_size};
  loaded.begin_bulk();
  auto err = decode_checkpoint(encode_checkpoint(saved, scope), scope, loaded,
                               [](std::string_view, const file_extent&) { return caf::error{}; });
  EXPECT_FALSE(err) << render(err);
  loaded.end_bulk();
  return loaded;
}

} // namespace

TEST(IndexCheckpointTest, ALoadedIndexPlansAndChangesAsTheIndexThatWasSaved) {
  type_index saved{scope.sketch_size};
  // A type whose only task goes away, named first: every type after it is renumbered in the save.
  saved.apply(task_of("doomed", 2, 1, 1, {summary_of("gone:soon", 1, ts("2026-01-01T00:00:00Z"),
                                                     {ref(ts("2026-01-01T00:00:00Z"), 0, 0)})}));
  for (int i = 0; i < 200; ++i)
    saved.apply(note_of(i));
  // Pairs kept whole (shaped unlike this sketch).
  for (const auto& t : sample_tasks())
    saved.apply(task_of("odd-" + t.task, 1, 1, 1, {summary_of("odd:" + t.types[0].type, 3,
                                                              t.types[0].newest_ts,
                                                              {t.types[0].recent[0]})}));
  saved.remove_task("doomed");
  type_index loaded = loaded_from(saved);
  EXPECT_EQ(plans_of(loaded), plans_of(saved));
  auto names = loaded.type_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "gone:soon"), 0) << "a type with no pair left";
  // The same changes to both: appends, a task replaced, one removed, a pair kept whole changed.
  for (auto* index : {&saved, &loaded}) {
    for (int i = 200; i < 260; ++i)
      index->apply(note_of(i));
    index->apply(task_of("task-3", 9, 2, 240, {summary_of("agent:message", 2, ts("2026-01-01T00:09:00Z"),
                                                          {ref(ts("2026-01-01T00:08:00Z"), 0, 0),
                                                           ref(ts("2026-01-01T00:09:00Z"), 1, 120)})}));
    index->remove_task("task-5");
    index->remove_task("odd-task-a");
  }
  EXPECT_EQ(plans_of(loaded), plans_of(saved));
  // And saved again, loaded again: the same.
  EXPECT_EQ(plans_of(loaded_from(loaded)), plans_of(saved));
}

// --- refusals ---

namespace {

struct refusal_row {
  const char* name;
  std::function<std::string(std::string)> mutate;
  errc expected;
  checkpoint_scope reader = scope;
};

} // namespace

// The control for the crafted rows below: built by hand the same way, valid, it decodes.
TEST(IndexCheckpointTest, AHandBuiltPayloadOfCompactAndWholeRecordsDecodes) {
  auto got = decode(with_valid_header(payload_of(
    {"a", "b"}, {{"t", record(0, one_line()) + record(1 << 1, one_line())},
                 {"u", record(1, ""), {whole_summary(0, 7)}}})));
  ASSERT_FALSE(got.err) << render(got.err);
  ASSERT_EQ(got.tasks.size(), 2u);
  EXPECT_EQ(got.tasks[0].types.size(), 2u);
  ASSERT_EQ(got.tasks[1].types.size(), 1u);
  EXPECT_EQ(got.tasks[1].types[0].type, "a");
  EXPECT_EQ(got.tasks[1].types[0].newest_ts, timestamp::from_parts(0, 7));
  // A full sketch and its older line (the rows below take one piece of this away).
  std::string body(1, '\x05');
  for (int i = 0; i < 4; ++i)
    body += line_bytes(i == 0 ? 5 : 0, 0);
  body += std::string(1, '\x01') + std::string("\x07\x00\x00\x00", 4) + '\x01';
  auto older = decode(with_valid_header(payload_of({"a"}, {{"t", record(0, body)}})));
  ASSERT_FALSE(older.err) << render(older.err);
  ASSERT_EQ(older.tasks.size(), 1u);
  ASSERT_EQ(older.tasks[0].types.size(), 1u);
  EXPECT_TRUE(older.tasks[0].types[0].has_older);
  EXPECT_EQ(older.tasks[0].types[0].count, 5u);
}

TEST(IndexCheckpointTest, EveryRowOfTheRefusalTableIsRefusedWithItsCode) {
  const auto valid = encode(sample_tasks());
  ASSERT_FALSE(decode(valid).err);
  auto truncate = [](size_t n) { return [n](std::string b) { return b.substr(0, n); }; };
  const std::vector<refusal_row> rows = {
    {"empty", truncate(0), errc::io_error},
    {"1 byte", truncate(1), errc::io_error},
    {"magic only", truncate(8), errc::io_error},
    {"inside the version", truncate(10), errc::io_error},
    {"inside the length", truncate(28), errc::io_error},
    {"header less one byte", truncate(header_size - 1), errc::io_error},
    {"header only", truncate(header_size), errc::io_error},
    {"header and one payload byte", truncate(header_size + 1), errc::io_error},
    {"half", [](std::string b) { return b.substr(0, b.size() / 2); }, errc::io_error},
    {"last byte missing", [](std::string b) { return b.substr(0, b.size() - 1); }, errc::io_error},
    {"trailing byte", [](std::string b) { return b + '\0'; }, errc::io_error},
    {"trailing garbage", [](std::string b) { return b + "garbage\n"; }, errc::io_error},
    {"a second copy appended", [](std::string b) { return b + b; }, errc::io_error},
    {"other magic", [](std::string b) { b[0] = 'X'; return b; }, errc::io_error},
    {"text file", [](std::string) { return std::string(200, 'a'); }, errc::io_error},
    {"zeros", [](std::string b) { return std::string(b.size(), '\0'); }, errc::io_error},
    {"version 0", [](std::string b) { put_le(b, 8, 0, 4); return b; }, errc::unsupported_format},
    {"version 1 (a summary per pair)", [](std::string b) { put_le(b, 8, 1, 4); return b; },
     errc::unsupported_format},
    {"version 3", [](std::string b) { put_le(b, 8, 3, 4); return b; }, errc::unsupported_format},
    {"version 0xffffffff", [](std::string b) { put_le(b, 8, 0xffffffffu, 4); return b; },
     errc::unsupported_format},
    {"other sketch size", [](std::string b) { put_le(b, 12, 5, 4); return b; },
     errc::unsupported_format},
    {"read with another sketch size", [](std::string b) { return b; }, errc::unsupported_format,
     checkpoint_scope{3, scope.root_device}},
    {"other device", [](std::string b) { put_le(b, 16, 42, 8); return b; }, errc::unsupported_format},
    {"read on another device", [](std::string b) { return b; }, errc::unsupported_format,
     checkpoint_scope{scope.sketch_size, scope.root_device + 1}},
    {"length one more", [](std::string b) { put_le(b, 24, b.size() - header_size + 1, 8); return b; },
     errc::io_error},
    {"length 2^63", [](std::string b) { put_le(b, 24, uint64_t{1} << 63, 8); return b; },
     errc::io_error},
    {"crc off by one",
     [](std::string b) { return flipped(std::move(b), 32, 0x01); }, errc::io_error},
    {"payload byte changed",
     [](std::string b) { return flipped(std::move(b), header_size + 3, 0x04); },
     errc::io_error},
    // With a valid header (length and CRC fixed up), only the payload's structure can refuse it.
    {"valid crc, payload cut at the end",
     [](std::string b) { return with_valid_header(b.substr(header_size, b.size() - header_size - 1)); },
     errc::io_error},
    {"valid crc, payload with a trailing byte",
     [](std::string b) { return with_valid_header(b.substr(header_size) + '\0'); }, errc::io_error},
    {"valid crc, empty payload", [](std::string) { return with_valid_header(""); }, errc::io_error},
    // Pair records the index would never write: each refused whole (a control below parses).
    {"valid crc, a record names an unknown type",
     [](std::string) { return with_valid_header(payload_of({"a", "b"}, {{"t", record(2 << 1, one_line())}})); },
     errc::io_error},
    {"valid crc, records out of type order",
     [](std::string) {
       return with_valid_header(
         payload_of({"a", "b"}, {{"t", record(1 << 1, one_line()) + record(0, one_line())}}));
     },
     errc::io_error},
    {"valid crc, one type's record twice",
     [](std::string) {
       return with_valid_header(payload_of({"a"}, {{"t", record(0, one_line()) + record(0, one_line())}}));
     },
     errc::io_error},
    {"valid crc, a line's nanoseconds out of range",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(0, std::string(1, '\x01') + line_bytes(5, 1'000'000'000))}}));
     },
     errc::io_error},
    {"valid crc, a pair of count 0",
     [](std::string) { return with_valid_header(payload_of({"a"}, {{"t", record(0, std::string(1, '\0'))}})); },
     errc::io_error},
    {"valid crc, a record with a byte left over",
     [](std::string) { return with_valid_header(payload_of({"a"}, {{"t", record(0, one_line() + '\0')}})); },
     errc::io_error},
    {"valid crc, a record with fewer lines than its count",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(0, std::string(1, '\x02') + line_bytes(5, 0))}}));
     },
     errc::io_error},
    {"valid crc, a record longer than its task's bytes",
     [](std::string) {
       auto r = record(0, one_line());
       r[0] = static_cast<char>(r.size() + 5);
       return with_valid_header(payload_of({"a"}, {{"t", r}}));
     },
     errc::io_error},
    {"valid crc, a record of no bytes",
     [](std::string) { return with_valid_header(payload_of({"a"}, {{"t", std::string(1, '\0')}})); },
     errc::io_error},
    {"valid crc, a whole-summary record without its summary",
     [](std::string) { return with_valid_header(payload_of({"a"}, {{"t", record(1, "")}})); },
     errc::io_error},
    {"valid crc, a whole summary no record points to",
     [](std::string) {
       return with_valid_header(payload_of({"a"}, {{"t", record(0, one_line()), {whole_summary(0)}}}));
     },
     errc::io_error},
    {"valid crc, a whole-summary record with bytes after its type",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(1, std::string(1, '\0')), {whole_summary(0)}}}));
     },
     errc::io_error},
    {"valid crc, a whole summary's newest nanoseconds out of range",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(1, ""), {whole_summary(0, 1'000'000'000)}}}));
     },
     errc::io_error},
    {"valid crc, a whole summary of a type id past 32 bits",
     [](std::string) {
       std::string whole = whole_summary(uint64_t{1} << 32);
       return with_valid_header(payload_of({"a"}, {{"t", record(1, ""), {whole}}}));
     },
     errc::io_error},
    {"valid crc, two whole summaries of one type",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(1, ""), {whole_summary(0), whole_summary(0)}}}));
     },
     errc::io_error},
    {"valid crc, a varint of 11 bytes inside a record",
     [](std::string) {
       return with_valid_header(
         payload_of({"a"}, {{"t", record(0, std::string(10, '\xff') + '\x01' + line_bytes(5, 0))}}));
     },
     errc::io_error},
    {"valid crc, a count past the sketch without its older line",
     [](std::string) {
       std::string body(1, '\x05'); // 5 events, 4 lines held (the scope's sketch size)
       for (int i = 0; i < 4; ++i)
         body += line_bytes(i == 0 ? 5 : 0, 0);
       return with_valid_header(payload_of({"a"}, {{"t", record(0, body)}}));
     },
     errc::io_error},
    {"valid crc, an older line's nanoseconds out of range",
     [](std::string) {
       std::string body(1, '\x05');
       for (int i = 0; i < 4; ++i)
         body += line_bytes(i == 0 ? 5 : 0, 0);
       body += std::string(1, '\x01') + std::string("\x00\xca\x9a\x3b", 4) + '\x01';
       return with_valid_header(payload_of({"a"}, {{"t", record(0, body)}}));
     },
     errc::io_error},
    {"valid crc, a type named twice",
     [](std::string) { return with_valid_header(payload_of({"a", "a"}, {})); }, errc::io_error},
    {"valid crc, a varint of 11 bytes",
     [](std::string) { return with_valid_header(std::string(10, '\xff') + '\x01'); },
     errc::io_error},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    auto bytes = row.mutate(valid);
    auto got = decode(bytes, row.reader);
    ASSERT_TRUE(got.err) << "accepted";
    EXPECT_TRUE(is(got.err, row.expected)) << render(got.err);
    EXPECT_TRUE(got.tasks.empty()); // decode() hands out nothing of a refused checkpoint
  }
}

TEST(IndexCheckpointTest, EveryTruncationIsRefusedAsDamage) {
  const auto valid = encode(sample_tasks());
  for (size_t n = 0; n < valid.size(); ++n) {
    auto got = decode(std::string_view{valid}.substr(0, n));
    ASSERT_TRUE(got.err) << "truncated to " << n << " bytes was accepted";
    EXPECT_TRUE(is(got.err, errc::io_error)) << n << ": " << render(got.err);
    EXPECT_TRUE(got.tasks.empty()) << n;
  }
}

TEST(IndexCheckpointTest, EverySingleBitFlipIsRefusedOrChangesNothing) {
  const auto valid = encode(sample_tasks());
  const auto want = describe_all(sample_tasks());
  size_t accepted = 0;
  for (size_t bit = 0; bit < valid.size() * 8; ++bit) {
    auto bytes = valid;
    bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
    const size_t at = bit / 8;
    auto got = decode(bytes);
    SCOPED_TRACE("byte " + std::to_string(at) + " bit " + std::to_string(bit % 8));
    if (at >= 36 && at < header_size) {
      // The header's reserved bytes are read by nobody: the checkpoint is still exactly the same.
      ASSERT_FALSE(got.err) << render(got.err);
      EXPECT_EQ(describe_all(got.tasks), want);
      ++accepted;
      continue;
    }
    ASSERT_TRUE(got.err) << "a flipped bit was accepted";
    // Version, sketch size, device: foreign. Magic, length, CRC and payload: damage (a single-bit
    // error in the payload is always caught by CRC-32, before anything is handed out).
    const errc expected = at >= 8 && at < 24 ? errc::unsupported_format : errc::io_error;
    EXPECT_TRUE(is(got.err, expected)) << render(got.err);
    EXPECT_TRUE(got.tasks.empty());
  }
  EXPECT_EQ(accepted, 4u * 8);
}

TEST(IndexCheckpointTest, ACountClaimingMoreItemsThanBytesIsRefusedWithoutAHugeAllocation) {
#ifdef EVSTORE_THREAD_SANITIZED
  GTEST_SKIP() << "operator new is TSan's here: nothing would count the allocations";
#endif
  for (uint64_t claim : {uint64_t{1} << 40, uint64_t{1} << 62, std::numeric_limits<uint64_t>::max(),
                         uint64_t{1000}}) {
    SCOPED_TRACE(claim);
    // Type count, then (with one type) the task count, then a task's record bytes, then its count
    // of whole summaries, then a whole summary's line count: each claiming `claim` items in a
    // payload of a few dozen bytes.
    std::vector<std::string> payloads;
    {
      std::string p;
      put_varint(p, claim);
      payloads.push_back(p + std::string(16, '\0'));
    }
    // One type, then a task's name and file.
    auto one_task = [] {
      std::string p;
      put_varint(p, 1);
      put_varint(p, 1);
      p += "a";
      put_varint(p, 1); // one task
      put_varint(p, 1);
      p += "t";
      put_varint(p, 7);
      put_varint(p, 1);
      put_varint(p, 10);
      return p;
    };
    {
      std::string p;
      put_varint(p, 1);
      put_varint(p, 1);
      p += "a";
      put_varint(p, claim);
      payloads.push_back(p + std::string(16, '\0'));
    }
    {
      std::string p = one_task();
      put_varint(p, claim); // record bytes
      payloads.push_back(p + std::string(16, '\0'));
    }
    {
      std::string p = one_task();
      put_varint(p, 0);
      put_varint(p, claim); // whole summaries
      payloads.push_back(p + std::string(16, '\0'));
    }
    {
      std::string p = one_task();
      auto r = record(1, "");
      put_varint(p, r.size());
      p += r;
      put_varint(p, 1); // one whole summary
      put_varint(p, 0); // type a
      put_varint(p, 1); // count
      put_varint(p, 0);
      put_varint(p, 0);
      put_varint(p, claim); // its lines
      payloads.push_back(p + std::string(16, '\0'));
    }
    {
      std::string p;
      put_varint(p, 0);
      put_varint(p, 0);
      // a string's length
      std::string q;
      put_varint(q, 1);
      put_varint(q, claim);
      payloads.push_back(q + "abc");
    }
    for (size_t i = 0; i < payloads.size(); ++i) {
      SCOPED_TRACE("payload " + std::to_string(i));
      auto bytes = with_valid_header(payloads[i]);
      largest_allocation = 0;
      tracking = true;
      auto got = decode(bytes);
      tracking = false;
      ASSERT_TRUE(got.err);
      EXPECT_TRUE(is(got.err, errc::io_error)) << render(got.err);
      EXPECT_TRUE(got.tasks.empty());
      // A few items of ~100 bytes for the bytes actually there, never the claim.
      EXPECT_LT(largest_allocation, 64u * 1024) << "for a payload of " << payloads[i].size() << " bytes";
    }
  }
}

// load_checkpoint: a checkpoint whose payload parses for its first tasks and then fails gives nothing
// at all, not the tasks before the damage.
class CheckpointLoaderTest : public StoreTest {};

TEST_F(CheckpointLoaderTest, ADamagedCheckpointGivesAnEmptyIndexEvenIfItsFirstTasksDecoded) {
  auto root = open_store_root(this->root(), false);
  ASSERT_TRUE(root) << render(root.error());
  const uint64_t device = device_of(**root);
  ASSERT_NE(device, 0u);
  const checkpoint_scope here{4, device};
  auto tasks = sample_tasks();
  // Valid: every task loads.
  auto good = encode(tasks, here);
  spit(this->root() + "/index.checkpoint", good);
  {
    auto loaded = load_checkpoint(**root, 4);
    EXPECT_EQ(loaded.refused, "");
    EXPECT_EQ(loaded.tasks, tasks.size());
    EXPECT_EQ(loaded.extents.size(), tasks.size());
    ASSERT_EQ(loaded.extents.count("task-a"), 1u);
    EXPECT_EQ(loaded.extents["task-a"].file_id, 12u);
    EXPECT_EQ(loaded.extents["task-a"].bytes, 900u);
    EXPECT_EQ(loaded.extents["task-a"].events, 5u);
    EXPECT_EQ(loaded.index->stats().tasks, tasks.size());
  }
  // The payload cut inside its last task, with length and CRC made to match: the first tasks decode.
  auto payload = good.substr(header_size, good.size() - header_size - 3);
  auto damaged = with_valid_header(payload);
  put_le(damaged, 16, device, 8);
  {
    size_t handed_out = 0;
    type_index into{here.sketch_size};
    into.begin_bulk();
    auto err = decode_checkpoint(damaged, here, into, [&](std::string_view, const file_extent&) {
      ++handed_out;
      return caf::error{};
    });
    ASSERT_TRUE(err);
    ASSERT_GT(handed_out, 0u) << "the row must hand out tasks before failing to test the loader";
  }
  spit(this->root() + "/index.checkpoint", damaged);
  {
    auto loaded = load_checkpoint(**root, 4);
    EXPECT_NE(loaded.refused, "");
    EXPECT_EQ(loaded.tasks, 0u);
    EXPECT_TRUE(loaded.extents.empty());
    ASSERT_TRUE(loaded.index);
    EXPECT_EQ(loaded.index->stats().tasks, 0u);
  }
  // The loader's sketch size is part of the scope.
  spit(this->root() + "/index.checkpoint", good);
  {
    auto loaded = load_checkpoint(**root, 3);
    EXPECT_NE(loaded.refused, "");
    EXPECT_EQ(loaded.tasks, 0u);
  }
  // No checkpoint, or an empty file: nothing, and nothing refused.
  std::filesystem::remove(this->root() + "/index.checkpoint");
  EXPECT_EQ(load_checkpoint(**root, 4).refused, "");
  spit(this->root() + "/index.checkpoint", "");
  EXPECT_EQ(load_checkpoint(**root, 4).refused, "");
  EXPECT_EQ(load_checkpoint(**root, 4).tasks, 0u);
}
