// The JSON text scanner and serialiser behind an event's data: what the writer refuses and why, what
// the reader accepts, how values are written, and that no depth can overflow the stack.
#include "src/format/json_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/json_gen.hpp"

using namespace evstore;
using namespace evstore::json_text;
using evstore::testing::json_gen;

namespace {

std::string serialized(const boost::json::value& v) {
  std::string out;
  auto why = serialize(v, out);
  EXPECT_FALSE(why) << why.what;
  return out;
}

std::string refusal(const boost::json::value& v) {
  std::string out;
  auto why = serialize(v, out);
  return why ? why.what : "";
}

boost::json::value nested_arrays(int depth) {
  boost::json::value v = 1;
  for (int i = 0; i < depth; ++i) {
    boost::json::array a;
    a.push_back(std::move(v));
    v = std::move(a);
  }
  return v;
}

} // namespace

TEST(JsonText, WriterRefusesWhatNoReaderReadsBackNamingWhy) {
  struct row {
    std::string text;
    const char* why; // a substring of the problem, or "" if accepted
  };
  const std::vector<row> table = {
    {json_gen::nested(126), ""},
    {json_gen::nested(127), "nesting deeper than 126"},
    {json_gen::nested(10'000), "nesting deeper than 126"},
    {std::string(100'000, '['), "nesting deeper than 126"},
    {"{\"a\":" + json_gen::nested(124, "{}") + "}", ""},
    {"{\"a\":" + json_gen::nested(125, "{}") + "}", "nesting deeper than 126"},
    {"1e400", "number is not finite"},
    {"-1e400", "number is not finite"},
    {"[1e309]", "number is not finite"},
    {"1.8e308", "number is not finite"},
    {"1.7976931348623159e308", "number is not finite"},
    {"1.7976931348623157e308", ""},
    {"17976931348623157" + std::string(292, '0') + ".5", ""}, // DBL_MAX, written out
    {"17976931348623159" + std::string(292, '0'), "number is not finite"},
    {"1" + std::string(400, '0'), "number is not finite"},
    {"0." + std::string(400, '0') + "1e710", "number is not finite"},
    {"0." + std::string(400, '0') + "1e300", ""},
    {"1e99999999999999999999999", "number is not finite"},
    {"1e-400", ""},
    {"0e999999", ""},
    {"123456789012345678901234567890", ""},
    {"Infinity", "not valid JSON"},
    {"-Infinity", "invalid number"},
    {"NaN", "not valid JSON"},
    {"\"\xff\"", "invalid UTF-8 in string"},
    {"\"\xc0\x80\"", "invalid UTF-8 in string"},         // overlong NUL
    {"\"\xed\xa0\x80\"", "invalid UTF-8 in string"},     // an encoded surrogate
    {"\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string"}, // above U+10FFFF
    {"\"\xe2\x82\"", "invalid UTF-8 in string"},         // cut short
    {"{\"\xff\":1}", "invalid UTF-8 in key"},
    {"[\"ok\",{\"k\":\"\x80\"}]", "invalid UTF-8 in string"},
    {"\"\\ud800\"", "lone surrogate"},
    {"\"\\udc00\"", "lone surrogate"},
    {"\"\\ud800\\u0041\"", "lone surrogate"},
    {"\"\\ud83d\\ude00\"", ""},
    {"\"\\x\"", "invalid escape"},
    {"\"a\nb\"", "control character in string"},
    {"01", "text after the value"},
    {"[1,]", "not valid JSON"},
    {"{\"a\"}", "expected ':'"},
    {"", "truncated"},
    {"[", "truncated"},
    {"\"abc", "unterminated string"},
    {"1.", "invalid number"},
    {"-", "invalid number"},
    {"+1", "not valid JSON"},
    {" {\"a\" : [ 1 , 2 ] } ", ""},
  };
  for (const auto& r : table) {
    auto why = check(r.text, rules::write);
    std::string shown = r.text.substr(0, 60);
    if (*r.why == '\0') {
      EXPECT_FALSE(why) << shown << ": " << why.what;
    } else {
      ASSERT_TRUE(why) << shown;
      EXPECT_NE(std::string(why.what).find(r.why), std::string::npos) << shown << ": " << why.what;
    }
  }
}

TEST(JsonText, ReaderAcceptsDeeperDataAndNumbersTheWriterRefuses) {
  EXPECT_FALSE(check(json_gen::nested(127), rules::read));
  EXPECT_FALSE(check(json_gen::nested(1024), rules::read));
  auto why = check(json_gen::nested(1025), rules::read);
  ASSERT_TRUE(why);
  EXPECT_STREQ(why.what, "nesting deeper than 1024");
  EXPECT_TRUE(check(json_gen::nested(100'000), rules::read)); // refused, iteratively: no crash
  EXPECT_FALSE(check("[1e400,-1e400]", rules::read)); // kept as text, so nothing is lost
  EXPECT_TRUE(check("\"\\ud800\"", rules::read));     // no reader takes a lone surrogate
  EXPECT_TRUE(check("\"\xff\"", rules::read));
}

TEST(JsonText, ReaderAgreesWithBoostJsonOnMutatedText) {
  // Boost.JSON as the oracle for what is JSON (its depth limit raised to ours).
  json_gen gen{7};
  boost::json::parse_options opts;
  opts.max_depth = max_read_depth;
  const std::string alphabet = "{}[]\":,\\ 0123456789eE.+-tfnulrsa\xc3\xa9\xff\x01";
  for (int i = 0; i < 20'000; ++i) {
    std::string text = gen.value(6, true);
    for (int e = static_cast<int>(gen.rng()() % 3); e > 0 && !text.empty(); --e) {
      size_t pos = gen.rng()() % text.size();
      switch (gen.rng()() % 3) {
        case 0: text[pos] = alphabet[gen.rng()() % alphabet.size()]; break;
        case 1: text.erase(pos, 1 + gen.rng()() % 3); break;
        default: text.insert(pos, 1, alphabet[gen.rng()() % alphabet.size()]); break;
      }
    }
    boost::json::error_code ec;
    boost::json::parse(text, ec, {}, opts);
    if (ec == boost::json::error::exponent_overflow)
      continue; // Boost refuses exponents past its int; a reader keeping the text needs no limit
    auto why = check(text, rules::read);
    EXPECT_EQ(!ec, !why) << text << " ours: " << (why ? why.what : "ok") << ", boost: " << ec.message();
  }
}

TEST(JsonText, MinifyKeepsNumbersAndStringsByteForByte) {
  EXPECT_EQ(minify(" { \"a b\" : [ 1.50 , -0 , 1E-1 ] ,\n\"c\\\" d\":\"\\u00e9 \\\\\" } "),
            "{\"a b\":[1.50,-0,1E-1],\"c\\\" d\":\"\\u00e9 \\\\\"}");
}

TEST(JsonText, ReadStringDecodesEscapesAndSurrogatePairs) {
  std::string out;
  problem why;
  std::string text = R"("a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é")";
  EXPECT_EQ(read_string(text, 0, out, why), text.size());
  EXPECT_EQ(out, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9");
}

TEST(JsonText, WritesDoublesInTheShortestFormThatReadsBackTheSame) {
  EXPECT_EQ(serialized(0.1), "0.1");
  EXPECT_EQ(serialized(1.0), "1.0");
  EXPECT_EQ(serialized(-0.0), "-0.0");
  EXPECT_EQ(serialized(1.5), "1.5");
  EXPECT_EQ(serialized(1e22), "1e22");
  EXPECT_EQ(serialized(1e-7), "1e-7");
  EXPECT_EQ(serialized(5e-324), "5e-324");
  EXPECT_EQ(serialized(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(serialized(std::numeric_limits<double>::max()), "1.7976931348623157e308");
  std::mt19937_64 rng{3};
  for (int i = 0; i < 10'000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d))
      continue;
    auto text = serialized(d);
    double back = 0;
    auto res = std::from_chars(text.data(), text.data() + text.size(), back);
    ASSERT_EQ(res.ptr, text.data() + text.size()) << text;
    EXPECT_EQ(back, d) << text; // Boost.JSON 1.81's own parse is not exact: from_chars is
    EXPECT_NE(text.find_first_of(".e"), std::string::npos) << text << " must read back as a double";
  }
}

TEST(JsonText, WritesIntegersAsTheyAre) {
  EXPECT_EQ(serialized(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(serialized(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(serialized(boost::json::value(0)), "0");
}

TEST(JsonText, EscapesStringsAsSerdeJsonDoes) {
  EXPECT_EQ(serialized(boost::json::string("q\" b\\ \n\t\r\b\f \x01\x1f \x7f é 😀 /")),
            "\"q\\\" b\\\\ \\n\\t\\r\\b\\f \\u0001\\u001f \x7f é 😀 /\"");
  EXPECT_EQ(serialized(boost::json::object{{"k\n", nullptr}, {"b", true}}), "{\"k\\n\":null,\"b\":true}");
  EXPECT_EQ(serialized(boost::json::array{}), "[]");
  EXPECT_EQ(serialized(boost::json::object{}), "{}");
  EXPECT_EQ(serialized(boost::json::array{1, boost::json::array{}, boost::json::object{}}), "[1,[],{}]");
}

TEST(JsonText, SerialiserRefusesWhatNoReaderReadsBack) {
  EXPECT_EQ(refusal(std::numeric_limits<double>::infinity()), "number is not finite");
  EXPECT_EQ(refusal(-std::numeric_limits<double>::infinity()), "number is not finite");
  EXPECT_EQ(refusal(std::nan("")), "number is not finite");
  EXPECT_EQ(refusal(boost::json::array{1, boost::json::object{{"x", std::nan("")}}}),
            "number is not finite");
  EXPECT_EQ(refusal(boost::json::string("\xff")), "invalid UTF-8 in string");
  EXPECT_EQ(refusal(boost::json::object{{"\xc3", 1}}), "invalid UTF-8 in key");
  EXPECT_EQ(refusal(nested_arrays(126)), "");
  EXPECT_EQ(refusal(nested_arrays(127)), "nesting deeper than 126");
  EXPECT_EQ(refusal(nested_arrays(2'000)), "nesting deeper than 126");
}

TEST(JsonText, WhatTheSerialiserWritesTheWriterRulesAccept) {
  json_gen gen{11};
  for (int i = 0; i < 2'000; ++i) {
    auto text = gen.value(8);
    ASSERT_FALSE(check(text, rules::write)) << text;
    boost::json::parse_options opts;
    opts.max_depth = max_read_depth;
    auto v = boost::json::parse(text, {}, opts);
    auto out = serialized(v);
    EXPECT_FALSE(check(out, rules::write)) << out;
  }
}

TEST(JsonText, ValidUtf8FollowsRfc3629) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  for (const char* bad : {"\xff", "\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "ok\xe2\x82"})
    EXPECT_FALSE(valid_utf8(bad)) << bad;
}
