// peek_line (envelope only) must agree with decode_line (whole event) on every line: status, id, type,
// ts. Both run detail::scan_line; json_text_test checks that scanner against Boost.JSON.
#include "src/format/line_header.hpp"

#include <random>

#include <gtest/gtest.h>

#include "src/format/timestamp_format.hpp"
#include "src/format/uuid.hpp"

using namespace evstore;

namespace {

void expect_agree(const std::string& line) {
  auto d = decode_line(line);
  line_header h;
  h.id = "stale";
  h.type = "stale";
  peek_line(line, h);
  ASSERT_EQ(static_cast<int>(h.status), static_cast<int>(d.status)) << line;
  if (d.status == line_status::ok) { // braces: the EXPECT macros hide an if/else
    EXPECT_EQ(h.id, d.ev.id) << line;
    EXPECT_EQ(h.type, d.ev.type) << line;
    EXPECT_EQ(h.ts, d.ev.ts) << line;
  }
  if (d.status == line_status::future_schema) {
    EXPECT_EQ(h.ts, d.ev.ts ? *d.ev.ts : timestamp{}) << line;
  }
}

const char* samples[] = {
  R"({"id":"0b7e5f9c-8a55-4d1e-9c3a-1f2e3d4c5b6a","type":"task:state:running","task":"t-1","actor":"agent","ts":"2026-03-01T10:00:00Z","data":{"from":"waiting","n":3},"schema_version":1})",
  R"({"id":"x","type":"a","task":"t","actor":"human","ts":"2026-03-01T12:00:00+02:00","data":{}})",
  R"({"id":"x","type":"a","task":"t","actor":"martian","ts":"2026-03-01T10:00:00Z","schema_version":2})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","extra":[1,{"type":"no"}],"ts":"2026-03-01T10:00:00Z","data":1,"schema_version":1,"z":{}})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","schema_version":"one"})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","schema_version":-1})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","schema_version":1.0})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","schema_version":18446744073709551615})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","id":"y"})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","id":7})",
  R"({"id":7,"type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z","id":"z"})",
  R"({"id":"","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z"})",
  R"({"id":"x","type":"","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z"})",
  R"({"id":"x","type":"a","task":null,"actor":"agent","ts":"2026-03-01T10:00:00Z"})",
  R"({"id":"x","type":"a","actor":"agent","ts":"2026-03-01T10:00:00Z"})",
  R"({"id":"x\u0041\n","type":"a\"b","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z"})",
  R"({"id":"x","type":"a","task":"t","actor":"agent","ts":"2026-03-01T10:00:00Z"} trailing)",
  R"([{"id":"x"}])", "null", "", "{", "not json", "{}", R"({"ts":"2026-03-01T10:00:00Z","schema_version":5})",
};

} // namespace

TEST(LineHeader, AgreesWithTheDomDecoderOnSamples) {
  for (const char* line : samples)
    expect_agree(line);
}

TEST(LineHeader, AgreesWithTheDomDecoderOnMutatedLines) {
  // Random byte edits, truncations and splices of valid lines: mostly corrupt, sometimes not.
  std::mt19937_64 rng{2026};
  const std::string alphabet = "{}[]\":,\\ 0123456789abcxyz-TZ.+eE";
  for (int i = 0; i < 20'000; ++i) {
    std::string line = samples[rng() % 4];
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % line.size();
      switch (rng() % 3) {
        case 0: line[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: line.erase(pos, 1 + rng() % 4); break;
        default: line.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (line.empty())
        line = "x";
    }
    expect_agree(line);
  }
}
