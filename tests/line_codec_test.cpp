#include "line_codec.hpp"

#include <gtest/gtest.h>

#include "timestamp_format.hpp"
#include "uuid.hpp"

using namespace evstore;

namespace {

// A line exactly as the Rust crate's serde writes it.
const char* rust_line
  = R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:state:running","task":"t-1",)"
    R"("actor":"agent","ts":"2026-03-01T10:00:00Z","data":{"from":"waiting","n":3},)"
    R"("schema_version":1})";

} // namespace

TEST(LineCodec, DecodesTheRustCratesLine) {
  auto d = decode_line(rust_line);
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev.id, "0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a");
  EXPECT_EQ(d.ev.type, "task:state:running");
  EXPECT_EQ(d.ev.task, "t-1");
  EXPECT_EQ(d.ev.actor, actor_kind::agent);
  EXPECT_EQ(d.ev.ts, *parse_timestamp("2026-03-01T10:00:00Z"));
  EXPECT_EQ(d.ev.data.at("n").as_int64(), 3);
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
  EXPECT_EQ(format_timestamp(d.ev.ts), "2026-03-01T10:00:00Z");
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
  EXPECT_EQ(format_timestamp(d.ev.ts), "2026-03-01T10:00:00Z");
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
  ev.ts = *parse_timestamp("2026-03-01T10:00:00.5Z");
  ev.data = boost::json::parse(R"({"big":18446744073709551615,"neg":-9223372036854775808,)"
                               R"("pi":3.141592653589793,"tiny":5e-324,"s":"é \"q\" \\ \n \t \u0001 😀"})");
  auto line = encode_line(ev);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "the newline inside data must be escaped";
  auto d = decode_line(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_EQ(d.status, line_status::ok);
  EXPECT_EQ(d.ev, ev);
}
