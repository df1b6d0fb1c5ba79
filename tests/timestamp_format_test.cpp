#include "src/format/timestamp_format.hpp"

#include <limits>
#include <random>

#include <gtest/gtest.h>

using namespace evstore;

namespace {

int64_t ns(std::string_view text) {
  auto ts = parse_rfc3339(text);
  EXPECT_TRUE(ts.has_value()) << text;
  return ts ? ts->to_time_point().time_since_epoch().count() : -1;
}

constexpr int64_t march_first_10h = 1772359200LL * 1'000'000'000; // 2026-03-01T10:00:00Z

} // namespace

TEST(TimestampFormat, ParsesWholeSeconds) {
  EXPECT_EQ(ns("2026-03-01T10:00:00Z"), march_first_10h);
}

TEST(TimestampFormat, ParsesEveryFractionLength) {
  EXPECT_EQ(ns("2026-03-01T10:00:00.1Z"), march_first_10h + 100'000'000);
  EXPECT_EQ(ns("2026-03-01T10:00:00.123Z"), march_first_10h + 123'000'000);
  EXPECT_EQ(ns("2026-03-01T10:00:00.123456Z"), march_first_10h + 123'456'000);
  EXPECT_EQ(ns("2026-03-01T10:00:00.123456789Z"), march_first_10h + 123'456'789);
  EXPECT_EQ(ns("2026-03-01T10:00:00.12345Z"), march_first_10h + 123'450'000);
}

TEST(TimestampFormat, NormalisesOffsetsToUtc) {
  EXPECT_EQ(ns("2026-03-01T12:00:00+02:00"), march_first_10h);
  EXPECT_EQ(ns("2026-03-01T05:30:00-04:30"), march_first_10h);
  EXPECT_EQ(ns("2026-03-01T10:00:00+00:00"), march_first_10h);
}

TEST(TimestampFormat, RejectsMalformedText) {
  for (const char* bad : {"", "2026-03-01", "2026-03-01T10:00:00", "2026-13-01T10:00:00Z",
                          "2026-02-30T10:00:00Z", "2026-03-01T24:00:00Z", "2026-03-01T10:00:00.Z",
                          "2026-03-01T10:00:00.1234567890Z", "2026-03-01T10:00:00+2:00",
                          "2026-03-01T10:00:00ZZ", "2026/03/01T10:00:00Z", "garbage"})
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
}

TEST(TimestampFormat, AcceptsLeapDay) {
  EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("2025-02-29T00:00:00Z").has_value());
}

TEST(TimestampFormat, WritesShortestOfZeroThreeSixNineDigits) {
  auto at = [](int64_t extra) { return timestamp{std::chrono::nanoseconds{march_first_10h + extra}}; };
  EXPECT_EQ(to_rfc3339(at(0)), "2026-03-01T10:00:00Z");
  EXPECT_EQ(to_rfc3339(at(120'000'000)), "2026-03-01T10:00:00.120Z");
  EXPECT_EQ(to_rfc3339(at(123'456'000)), "2026-03-01T10:00:00.123456Z");
  EXPECT_EQ(to_rfc3339(at(123'456'789)), "2026-03-01T10:00:00.123456789Z");
  EXPECT_EQ(to_rfc3339(at(1)), "2026-03-01T10:00:00.000000001Z");
}

TEST(TimestampFormat, RoundTripsAcrossCenturies) {
  for (const char* text : {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
                           "2000-02-29T12:34:56.789Z", "2262-04-11T23:47:16.854775807Z",
                           "2262-04-11T23:47:16.854775808Z", "1677-09-21T00:12:43.145224191Z",
                           "0000-01-01T00:00:00Z", "0001-01-01T00:00:00.000000001Z",
                           "1500-06-15T12:00:00.500Z", "9999-12-31T23:59:59.999999999Z"}) {
    auto ts = parse_rfc3339(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(to_rfc3339(*ts), text);
  }
}

TEST(TimestampFormat, ReadsEveryFourDigitYearExactlyBeyondTheNanosecondRange) {
  // chrono writes years 0000 to 9999; 64-bit nanoseconds would hold only 1677 to 2262.
  auto at = [](std::string_view text) {
    auto ts = parse_rfc3339(text);
    EXPECT_TRUE(ts) << text;
    return ts ? std::pair{ts->seconds_since_epoch(), ts->nanoseconds()} : std::pair{int64_t{0}, 0u};
  };
  EXPECT_EQ(at("0000-01-01T00:00:00Z"), (std::pair{int64_t{-62'167'219'200}, 0u}));
  EXPECT_EQ(at("0000-01-01T00:00:00.000000001Z"), (std::pair{int64_t{-62'167'219'200}, 1u}));
  EXPECT_EQ(at("1000-01-01T00:00:00Z"), (std::pair{int64_t{-30'610'224'000}, 0u}));
  EXPECT_EQ(at("9999-12-31T23:59:59.999999999Z"), (std::pair{int64_t{253'402'300'799}, 999'999'999u}));
  EXPECT_EQ(*parse_rfc3339("0000-01-01T00:00:00Z"), earliest_writable_timestamp);
  EXPECT_EQ(*parse_rfc3339("9999-12-31T23:59:59.999999999Z"), latest_writable_timestamp);
  // Beyond caf::timestamp's range, and still ordered.
  EXPECT_FALSE(parse_rfc3339("0500-01-01T00:00:00Z")->fits_time_point());
  EXPECT_LT(*parse_rfc3339("0500-01-01T00:00:00Z"), *parse_rfc3339("0500-01-01T00:00:00.1Z"));
  EXPECT_LT(*parse_rfc3339("1677-09-21T00:12:43.145224191Z"),
            *parse_rfc3339("1677-09-21T00:12:43.145224192Z"));
  EXPECT_FALSE(parse_rfc3339("10000-01-01T00:00:00Z").has_value());
  // An offset that moves the instant out of four-digit years in UTC: not readable, since it could
  // never be written back (the timestamp fuzzer found the first).
  EXPECT_FALSE(parse_rfc3339("0000-01-01T10:00:03+22:00").has_value());
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:00:00-01:00").has_value());
  EXPECT_TRUE(parse_rfc3339("0000-01-01T10:00:03-02:00").has_value());
}

TEST(TimestampFormat, ReadsLeapSecondsAsTheLastNanosecondBeforeThem) {
  // chrono (the Rust crate) writes a leap second as second 60, with or without a fraction.
  for (const char* text : {"2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z",
                           "2016-12-31T23:59:60.999999999Z", "2017-01-01T00:59:60+01:00"}) {
    auto ts = parse_rfc3339(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(to_rfc3339(*ts), "2016-12-31T23:59:59.999999999Z") << text;
  }
  // Order is kept: after every instant of the second before, before the next minute.
  EXPECT_LT(*parse_rfc3339("2016-12-31T23:59:59.5Z"), *parse_rfc3339("2016-12-31T23:59:60.5Z"));
  EXPECT_LT(*parse_rfc3339("2016-12-31T23:59:60.5Z"), *parse_rfc3339("2017-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2016-12-31T23:59:61Z").has_value());
}

TEST(TimestampFormat, TheEpochRoundTrips) {
  auto ts = parse_rfc3339("1970-01-01T00:00:00Z");
  ASSERT_TRUE(ts);
  EXPECT_EQ(*ts, timestamp{});
  EXPECT_EQ(ts->seconds_since_epoch(), 0);
  EXPECT_EQ(ts->nanoseconds(), 0u);
  EXPECT_EQ(to_rfc3339(*ts), "1970-01-01T00:00:00Z");
}

TEST(TimestampFormat, EveryWritableTimestampRoundTrips) {
  // What the writer formats, the reader must read back: every nanosecond of years 0000 to 9999,
  // caf::timestamp's whole range included.
  std::mt19937_64 rng{5};
  std::vector<timestamp> samples = {earliest_writable_timestamp, latest_writable_timestamp,
                                    timestamp{}, timestamp{std::chrono::nanoseconds{-1}},
                                    timestamp{std::chrono::nanoseconds{1}}};
  for (int64_t n : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()})
    samples.push_back(timestamp{std::chrono::nanoseconds{n}});
  std::uniform_int_distribution<int64_t> secs{earliest_writable_timestamp.seconds_since_epoch(),
                                              latest_writable_timestamp.seconds_since_epoch()};
  std::uniform_int_distribution<int64_t> nanos{0, 999'999'999};
  for (int i = 0; i < 100'000; ++i)
    samples.push_back(timestamp::from_parts(secs(rng), i % 4 == 0 ? 0 : nanos(rng)));
  for (timestamp ts : samples) {
    auto text = to_rfc3339(ts);
    auto back = parse_rfc3339(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, ts) << text;
  }
}
