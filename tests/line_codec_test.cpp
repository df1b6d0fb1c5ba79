#include "src/format/line_codec.hpp"

#include <gtest/gtest.h>

#include "src/format/line_header.hpp"
#include "support/json_gen.hpp"
#include "src/format/timestamp_format.hpp"
#include "src/format/validation.hpp"
#include "src/format/uuid.hpp"

using namespace evstore;
using evstore::testing::json_gen;

namespace {

// A line exactly as the Rust crate's serde writes it.
const char* rust_line
  = R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:state:running","task":"t-1",)"
    R"("actor":"agent","ts":"2026-03-01T10:00:00Z","data":{"from":"waiting","n":3},)"
    R"("schema_version":1})";

std::string line_with(const std::string& data, const std::string& ts = "2026-03-01T10:00:00Z") {
  return R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"agent:message","task":"t",)"
         R"("actor":"agent","ts":")"
         + ts + R"(","data":)" + data + R"(,"schema_version":1})";
}

event sample(json_payload data) {
  event ev;
  ev.id = "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a";
  ev.type = "agent:message";
  ev.task = "t";
  ev.actor = actor_kind::agent;
  ev.ts = *parse_rfc3339("2026-03-01T10:00:00.5Z");
  ev.data = std::move(data);
  return ev;
}

// encode, then decode the line without its newline.
decoded_line round_trip(const event& ev) {
  auto line = encode_line(ev);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  return decode_line(std::string_view(line).substr(0, line.size() - 1));
}

} // namespace

TEST(LineCodec, DecodesTheRustCratesLine) {
  auto d = decode_line(rust_line);
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev.id, "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a");
  EXPECT_EQ(d.ev.type, "task:state:running");
  EXPECT_EQ(d.ev.task, "t-1");
  EXPECT_EQ(d.ev.actor, actor_kind::agent);
  EXPECT_EQ(d.ev.ts, *parse_rfc3339("2026-03-01T10:00:00Z"));
  EXPECT_EQ(d.ev.data.text(), R"({"from":"waiting","n":3})");
  EXPECT_EQ(d.ev.data.value().at("n").as_int64(), 3);
  EXPECT_EQ(d.ev.schema_version, 1u);
}

TEST(LineCodec, EncodesInTheRustCratesFieldOrderAndForm) {
  auto d = decode_line(rust_line);
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(encode_line(d.ev), std::string(rust_line) + "\n");
}

TEST(LineCodec, KeepsFractionDigitsAsNeeded) {
  for (const char* ts : {"2026-03-01T10:00:00.123Z", "2026-03-01T10:00:00.123456Z",
                         "2026-03-01T10:00:00.123456789Z"}) {
    std::string line = R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"a:b","task":"",)"
                       R"("actor":"system","ts":")"
                       + std::string(ts) + R"(","data":null,"schema_version":1})";
    auto d = decode_line(line);
    ASSERT_EQ(d.status, line_status::ok) << ts;
    EXPECT_EQ(encode_line(d.ev), line + "\n");
  }
}

TEST(LineCodec, NormalisesOffsetTimestampsToUtc) {
  auto d = decode_line(R"({"id":"x","type":"a","task":"t","actor":"human",)"
                       R"("ts":"2026-03-01T12:00:00+02:00","data":{}})");
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(to_rfc3339(*d.ev.ts), "2026-03-01T10:00:00Z");
}

TEST(LineCodec, MigratesLinesWithoutSchemaVersion) {
  auto d = decode_line(R"({"id":"x","type":"task:created","task":"t","actor":"human",)"
                       R"("ts":"2026-03-01T10:00:00Z","data":{"title":"x"}})");
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev.schema_version, 1u);
}

TEST(LineCodec, SkipsFutureSchemaWithoutGuessing) {
  auto d = decode_line(R"({"id":"x","type":"task:created","task":"t","actor":"martian",)"
                       R"("ts":"2026-03-01T10:00:00Z","schema_version":2})");
  EXPECT_EQ(d.status, line_status::future_schema);
  EXPECT_EQ(d.ev.schema_version, 2u);
  EXPECT_EQ(to_rfc3339(*d.ev.ts), "2026-03-01T10:00:00Z");
}

TEST(LineCodec, ToleratesUnknownFields) {
  auto d = decode_line(R"({"id":"x","type":"a","task":"t","actor":"agent","extra":[1,2],)"
                       R"("ts":"2026-03-01T10:00:00Z","data":1,"schema_version":1,"z":{}})");
  EXPECT_EQ(d.status, line_status::ok);
}

TEST(LineCodec, CountsGarbageAndInvalidEventsAsCorrupt) {
  for (const char* bad :
       {"not json", "[1,2]", "{\"id\":1}", R"({"id":"x","type":"a","task":"t","actor":"alien",)"
                                           R"("ts":"2026-03-01T10:00:00Z"})",
        R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"yesterday"})",
        R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z",)"
        R"("schema_version":"one"})",
        "{\"id\":\"x\",\"type\":\"a\""})
    EXPECT_EQ(decode_line(bad).status, line_status::corrupt) << bad;
}

TEST(LineCodec, DataNumbersUnicodeAndEscapesSurviveARoundTrip) {
  event ev;
  ev.id = make_uuid_v4();
  ev.type = "agent:message";
  ev.task = "t";
  ev.actor = actor_kind::agent;
  ev.ts = *parse_rfc3339("2026-03-01T10:00:00.5Z");
  ev.data = *json_payload::parse(R"({"big":18446744073709551615,"neg":-9223372036854775808,)"
                                 R"("pi":3.141592653589793,"tiny":5e-324,"s":"é \"q\" \\ \n \t \u0001 😀"})");
  auto line = encode_line(ev);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "the newline inside data must be escaped";
  auto d = decode_line(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev, ev);
}

TEST(LineCodec, KeepsTheDataOfALineByteForByte) {
  // Numbers a double would change, escapes a DOM would decode, whitespace the crate never writes.
  for (std::string data : std::vector<std::string>{
         R"({"big":123456789012345678901234567890,"neg":-123456789012345678901234567890})",
        R"([1.0,1.50,-0,-0.0,1E-1,0.1,1e400,2.5E+3,5e-324,100000000000000000000.0])",
        R"("\u00e9\/\ud83d\ude00 \"é\" \\")", R"({ "a" : [ 1 , 2 ] ,	"b":{} })", "null", "0",
        R"({"deep":)" + json_gen::nested(1000) + "}"}) {
    auto line = line_with(data);
    auto d = decode_line(line);
    ASSERT_EQ(d.status, line_status::ok) << data;
    EXPECT_EQ(d.ev.data.text(), data);
    EXPECT_EQ(encode_line(d.ev), line + "\n");
  }
}

TEST(LineCodec, ReadsALineWithoutDataAsNull) {
  auto d = decode_line(R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z"})");
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev.data.text(), "null");
}

TEST(LineCodec, ReadsDataAsDeepAsTheReaderAllowsAndNoDeeper) {
  EXPECT_EQ(decode_line(line_with(json_gen::nested(1024))).status, line_status::ok);
  EXPECT_EQ(decode_line(line_with(json_gen::nested(1025))).status, line_status::corrupt);
  EXPECT_EQ(decode_line(line_with(json_gen::nested(100'000))).status, line_status::corrupt);
  EXPECT_EQ(decode_line(std::string(100'000, '{')).status, line_status::corrupt);
}

TEST(LineCodec, ReadsWhatTheRustCrateWritesAtItsLimits) {
  // serde_json nests 127 containers per line, the line's own object included.
  EXPECT_EQ(decode_line(line_with(json_gen::nested(126))).status, line_status::ok);
  // chrono writes leap seconds; they read as the last nanosecond before them.
  auto d = decode_line(line_with("{}", "2016-12-31T23:59:60.5Z"));
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(to_rfc3339(*d.ev.ts), "2016-12-31T23:59:59.999999999Z");
}

TEST(LineCodec, TheEpochIsATimestampLikeAnyOther) {
  auto ev = sample(nullptr);
  ev.ts = timestamp{};
  auto line = encode_line(ev);
  EXPECT_NE(line.find(R"("ts":"1970-01-01T00:00:00Z")"), std::string::npos) << line;
  auto d = round_trip(ev);
  ASSERT_EQ(d.status, line_status::ok);
  ASSERT_TRUE(d.ev.ts);
  EXPECT_EQ(*d.ev.ts, timestamp{});
  EXPECT_EQ(d.ev, ev);
}

TEST(LineCodec, RefusesLinesNoReaderTakes) {
  for (std::string data : {std::string("\"\xff\""), std::string(R"("\ud800")"),
                           std::string("{\"\xc3\":1}"), std::string("[1,]")})
    EXPECT_EQ(decode_line(line_with(data)).status, line_status::corrupt) << data;
  EXPECT_EQ(decode_line(R"({"id":"x","type":"a","task":"\xff","actor":"agent","ts":"2026-03-01T10:00:00Z"})")
              .status,
            line_status::corrupt);
}

TEST(LineCodec, DecodesEscapedEnvelopeStringsAndKeys) {
  auto d = decode_line(R"({"\u0069d":"x","type":"a","task":"caf\u00e9 \"q\"","actor":"agent",)"
                       R"("ts":"2026-03-01T10:00:00Z"})");
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev.id, "x");
  EXPECT_EQ(d.ev.task, "caf\xc3\xa9 \"q\"");
  EXPECT_EQ(round_trip(d.ev).ev, d.ev);
}

TEST(LineCodec, RandomPayloadsSurviveEncodeAndDecodeByteForByte) {
  // Property: whatever json_payload::parse accepts, a line carries and gives back unchanged.
  json_gen gen{2026};
  for (int i = 0; i < 5'000; ++i) {
    std::string text = i % 50 == 0 ? json_gen::nested(126, gen.value(0)) : gen.value(10, i % 2 == 1);
    auto data = json_payload::parse(text);
    ASSERT_TRUE(data) << text << ": " << render(data.error());
    auto ev = sample(*data);
    // Random task ids (unicode, quotes, backslashes) and timestamps across the whole range.
    static const char* task_pieces[] = {"t", "-", "é", "😀", "\"", "'", " ", ".", "中", "x"};
    ev.task.clear();
    for (int k = static_cast<int>(gen.rng()() % 6); k > 0; --k)
      ev.task += task_pieces[gen.rng()() % (sizeof(task_pieces) / sizeof(task_pieces[0]))];
    if (ev.task == "." || ev.task == "..")
      ev.task = "t";
    ev.ts = timestamp{std::chrono::nanoseconds{static_cast<int64_t>(gen.rng()())}};
    if (i % 7 == 0)
      ev.ts = timestamp{};
    ASSERT_FALSE(validate_for_append(ev)) << text << " task " << ev.task;
    auto d = round_trip(ev);
    ASSERT_EQ(d.status, line_status::ok) << text;
    EXPECT_EQ(d.ev.data.text(), data->text());
    EXPECT_EQ(d.ev, ev);
    line_header h;
    auto line = encode_line(ev);
    peek_line(std::string_view(line).substr(0, line.size() - 1), h);
    EXPECT_EQ(h.status, line_status::ok);
  }
}
