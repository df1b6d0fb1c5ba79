#include "timestamp_format.hpp"

#include <limits>
#include <random>

#include <gtest/gtest.h>

using namespace evstore;

namespace {

int64_t ns(std::string_view text) {
  auto ts = parse_timestamp(text);
  EXPECT_TRUE(ts.has_value()) << text;
  return ts ? ts->time_since_epoch().count() : -1;
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
    EXPECT_FALSE(parse_timestamp(bad).has_value()) << bad;
}

TEST(TimestampFormat, AcceptsLeapDay) {
  EXPECT_TRUE(parse_timestamp("2024-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2025-02-29T00:00:00Z").has_value());
}

TEST(TimestampFormat, WritesShortestOfZeroThreeSixNineDigits) {
  auto at = [](int64_t extra) { return timestamp{std::chrono::nanoseconds{march_first_10h + extra}}; };
  EXPECT_EQ(format_timestamp(at(0)), "2026-03-01T10:00:00Z");
  EXPECT_EQ(format_timestamp(at(120'000'000)), "2026-03-01T10:00:00.120Z");
  EXPECT_EQ(format_timestamp(at(123'456'000)), "2026-03-01T10:00:00.123456Z");
  EXPECT_EQ(format_timestamp(at(123'456'789)), "2026-03-01T10:00:00.123456789Z");
  EXPECT_EQ(format_timestamp(at(1)), "2026-03-01T10:00:00.000000001Z");
}

TEST(TimestampFormat, RoundTripsAcrossCenturies) {
  for (const char* text : {"1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
                           "2000-02-29T12:34:56.789Z", "2262-04-11T23:47:16.854775807Z"}) {
    auto ts = parse_timestamp(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(format_timestamp(*ts), text);
  }
}

TEST(TimestampFormat, RejectsTimestampsOutsideTheNanosecondRange) {
  EXPECT_FALSE(parse_timestamp("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(parse_timestamp("1000-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(parse_timestamp("2262-04-11T23:47:16.854775808Z").has_value());
  EXPECT_TRUE(parse_timestamp("2262-04-11T23:47:16.854775807Z").has_value());
}

TEST(TimestampFormat, ReadsLeapSecondsAsTheLastNanosecondBeforeThem) {
  // chrono (the Rust crate) writes a leap second as second 60, with or without a fraction.
  for (const char* text : {"2016-12-31T23:59:60Z", "2016-12-31T23:59:60.5Z",
                           "2016-12-31T23:59:60.999999999Z", "2017-01-01T00:59:60+01:00"}) {
    auto ts = parse_timestamp(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(format_timestamp(*ts), "2016-12-31T23:59:59.999999999Z") << text;
  }
  // Order is kept: after every instant of the second before, before the next minute.
  EXPECT_LT(*parse_timestamp("2016-12-31T23:59:59.5Z"), *parse_timestamp("2016-12-31T23:59:60.5Z"));
  EXPECT_LT(*parse_timestamp("2016-12-31T23:59:60.5Z"), *parse_timestamp("2017-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_timestamp("2016-12-31T23:59:61Z").has_value());
}

TEST(TimestampFormat, TheEpochRoundTrips) {
  auto ts = parse_timestamp("1970-01-01T00:00:00Z");
  ASSERT_TRUE(ts);
  EXPECT_EQ(ts->time_since_epoch().count(), 0);
  EXPECT_EQ(format_timestamp(*ts), "1970-01-01T00:00:00Z");
}

TEST(TimestampFormat, EveryRepresentableTimestampRoundTrips) {
  // What the writer formats, the reader must read back: down to the first nanosecond of the range.
  std::mt19937_64 rng{5};
  std::vector<int64_t> samples = {std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::min() + 1,
                                  std::numeric_limits<int64_t>::min() + 854'775'807,
                                  std::numeric_limits<int64_t>::min() + 854'775'808,
                                  std::numeric_limits<int64_t>::max(), -1, 0, 1};
  for (int i = 0; i < 100'000; ++i)
    samples.push_back(static_cast<int64_t>(rng()));
  for (int64_t n : samples) {
    timestamp ts{std::chrono::nanoseconds{n}};
    auto text = format_timestamp(ts);
    auto back = parse_timestamp(text);
    ASSERT_TRUE(back) << n << " " << text;
    EXPECT_EQ(*back, ts) << text;
  }
  EXPECT_FALSE(parse_timestamp("1677-09-21T00:12:43.145224191Z").has_value());
  EXPECT_TRUE(parse_timestamp("1677-09-21T00:12:43.145224192Z").has_value());
}
