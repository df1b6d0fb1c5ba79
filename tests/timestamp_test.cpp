#include "messages/timestamp.hpp"

#include <limits>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <gtest/gtest.h>

using namespace evstore;
using namespace std::chrono_literals;

namespace {

constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();

} // namespace

TEST(Timestamp, DefaultIsTheEpoch) {
  timestamp t;
  EXPECT_EQ(t.seconds_since_epoch(), 0);
  EXPECT_EQ(t.nanoseconds(), 0u);
  EXPECT_EQ(t, timestamp{caf::timestamp{}});
}

TEST(Timestamp, ConvertsFromSystemClockTimePointsOfAnyResolution) {
  caf::timestamp ns{caf::timespan{1'772'359'200'123'456'789}};
  timestamp t = ns;
  EXPECT_EQ(t.seconds_since_epoch(), 1'772'359'200);
  EXPECT_EQ(t.nanoseconds(), 123'456'789u);
  EXPECT_EQ(t.to_time_point(), ns);
  std::chrono::time_point<std::chrono::system_clock, std::chrono::seconds> secs{-5s};
  EXPECT_EQ(timestamp{secs}, timestamp::from_parts(-5, 0));
  // Before the epoch the nanoseconds still count forward from the whole second below.
  timestamp before{caf::timespan{-1}};
  EXPECT_EQ(before.seconds_since_epoch(), -1);
  EXPECT_EQ(before.nanoseconds(), 999'999'999u);
  EXPECT_EQ(before.to_time_point().time_since_epoch().count(), -1);
}

TEST(Timestamp, FromPartsCarriesNanosecondsIntoSeconds) {
  EXPECT_EQ(timestamp::from_parts(1, 1'500'000'000), timestamp::from_parts(2, 500'000'000));
  EXPECT_EQ(timestamp::from_parts(0, -1), timestamp::from_parts(-1, 999'999'999));
  EXPECT_EQ(timestamp::from_parts(0, -2'000'000'000), timestamp::from_parts(-2, 0));
  // A carry past either end saturates instead of overflowing.
  EXPECT_EQ(timestamp::from_parts(i64_max, 1'000'000'000), timestamp::max());
  EXPECT_EQ(timestamp::from_parts(i64_min, -1), timestamp::min());
}

TEST(Timestamp, OrdersBySecondsThenNanoseconds) {
  EXPECT_LT(timestamp::from_parts(-1, 999'999'999), timestamp{});
  EXPECT_LT(timestamp::from_parts(5, 1), timestamp::from_parts(5, 2));
  EXPECT_LT(timestamp::from_parts(5, 999'999'999), timestamp::from_parts(6, 0));
  EXPECT_LT(timestamp::min(), timestamp::from_parts(i64_min, 1));
  EXPECT_GT(timestamp::max(), timestamp::from_parts(i64_max, 0));
  EXPECT_LE(timestamp{}, timestamp{});
  EXPECT_GE(timestamp{}, timestamp{});
  EXPECT_NE(timestamp{}, timestamp::from_parts(0, 1));
}

TEST(Timestamp, KnowsWhichInstantsFitCafTimestampAndSaturatesTheRest) {
  const timestamp lowest{caf::timespan{i64_min}};
  const timestamp highest{caf::timespan{i64_max}};
  EXPECT_TRUE(lowest.fits_time_point());
  EXPECT_TRUE(highest.fits_time_point());
  EXPECT_EQ(lowest.to_time_point().time_since_epoch().count(), i64_min);
  EXPECT_EQ(highest.to_time_point().time_since_epoch().count(), i64_max);
  EXPECT_FALSE((lowest - 1ns).fits_time_point());
  EXPECT_FALSE((highest + 1ns).fits_time_point());
  EXPECT_EQ((lowest - 1ns).to_time_point(), lowest.to_time_point());
  EXPECT_EQ((highest + 1ns).to_time_point(), highest.to_time_point());
  EXPECT_EQ(timestamp::min().to_time_point(), lowest.to_time_point());
}

TEST(Timestamp, AddsAndSubtractsDurationsAcrossSecondBoundaries) {
  auto t = timestamp::from_parts(10, 900'000'000);
  EXPECT_EQ(t + 200ms, timestamp::from_parts(11, 100'000'000));
  EXPECT_EQ(t - 1'000'000'000ns, timestamp::from_parts(9, 900'000'000));
  EXPECT_EQ(t - 950ms, timestamp::from_parts(9, 950'000'000));
  EXPECT_EQ(t + (-950ms), timestamp::from_parts(9, 950'000'000));
  EXPECT_EQ(timestamp{} - 1ns, timestamp::from_parts(-1, 999'999'999));
  // 300 years of hours reach past caf::timestamp's range without wrapping.
  auto year_1600 = timestamp{} - std::chrono::hours{24 * 365 * 370};
  EXPECT_LT(year_1600, timestamp{caf::timespan{i64_min}});
  EXPECT_EQ(year_1600.seconds_since_epoch(), -int64_t{24} * 365 * 370 * 3600);
  // Durations far beyond int64 seconds saturate, and huge ones in both directions cancel exactly.
  using years = std::chrono::duration<int64_t, std::ratio<31'556'952>>;
  EXPECT_EQ(timestamp{} + years{i64_max / 2}, timestamp::max());
  EXPECT_EQ(timestamp{} - years{i64_max / 2}, timestamp::min());
  EXPECT_EQ(timestamp::min() + std::chrono::seconds{i64_max}, timestamp::from_parts(-1, 0));
  EXPECT_EQ(timestamp::max() - std::chrono::seconds{i64_max}, timestamp::from_parts(0, 999'999'999));
  EXPECT_EQ(timestamp::max() + std::chrono::seconds{i64_min}, timestamp::from_parts(-1, 999'999'999));
  EXPECT_EQ(timestamp::min() + std::chrono::seconds{i64_max} + std::chrono::seconds{i64_max},
            timestamp::from_parts(i64_max - 1, 0));
  EXPECT_EQ(timestamp::from_parts(0, 1) - std::chrono::duration<double>{0.5},
            timestamp::from_parts(-1, 500'000'001));
}

TEST(Timestamp, ArithmeticSaturatesInsteadOfWrapping) {
  EXPECT_EQ(timestamp::max() + 1ns, timestamp::max());
  EXPECT_EQ(timestamp::max() + caf::timespan{i64_max}, timestamp::max());
  EXPECT_EQ(timestamp::min() - 1s, timestamp::min());
  EXPECT_EQ(timestamp::min() - caf::timespan{i64_min + 1}, timestamp::min() + caf::timespan{i64_max});
  EXPECT_EQ(timestamp::min() + caf::timespan{i64_min}, timestamp::min());
  // Subtracting the most negative duration adds its magnitude, one more than the largest duration.
  EXPECT_EQ(timestamp{} - caf::timespan{i64_min},
            timestamp{} + caf::timespan{i64_max} + caf::timespan{1});
}

TEST(Timestamp, DifferenceIsADurationSaturatedAtItsRange) {
  EXPECT_EQ(timestamp::from_parts(2, 0) - timestamp::from_parts(1, 999'999'999), 1ns);
  EXPECT_EQ(timestamp::from_parts(1, 0) - timestamp::from_parts(3, 500'000'000), -2500ms);
  EXPECT_EQ(timestamp::max() - timestamp::min(), caf::timespan{i64_max});
  EXPECT_EQ(timestamp::min() - timestamp::max(), caf::timespan{i64_min});
}

TEST(Timestamp, SerialisesExactlyAndRefusesNanosecondsBeyondASecond) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  for (auto t : {timestamp{}, timestamp::min(), timestamp::max(), timestamp::from_parts(-62'000'000'000, 7)}) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    ASSERT_FALSE(sink(t));
    timestamp back = timestamp::from_parts(1, 1);
    caf::binary_deserializer source{sys, buf};
    ASSERT_FALSE(source(back));
    EXPECT_EQ(back, t);
  }
  // A peer's bytes: seconds 0, nanoseconds 1e9. Not an instant; refused on load.
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  int64_t secs = 0;
  uint32_t nanos = 1'000'000'000;
  ASSERT_FALSE(sink(secs, nanos));
  timestamp back;
  caf::binary_deserializer source{sys, buf};
  EXPECT_TRUE(source(back));
}

// The public text form (messages/timestamp.hpp): what the store reads and writes in a log's `ts`.
TEST(TimestampTest, Rfc3339IsReadAndWrittenAsTheStoreDoes) {
  auto ts = parse_rfc3339("2026-03-01T10:00:00.123+02:00");
  ASSERT_TRUE(ts);
  EXPECT_EQ(*ts, timestamp::from_parts(1772352000, 123'000'000)); // normalised to UTC
  EXPECT_EQ(to_rfc3339(*ts), "2026-03-01T08:00:00.123Z");
  EXPECT_EQ(to_rfc3339(timestamp{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(to_rfc3339(timestamp::from_parts(0, 1)), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(parse_rfc3339("2026-06-30T23:59:60.5Z"), parse_rfc3339("2026-06-30T23:59:59.999999999Z"));
  for (auto text : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"}) {
    auto read = parse_rfc3339(text);
    ASSERT_TRUE(read) << text;
    EXPECT_EQ(to_rfc3339(*read), text);
  }
  for (auto bad : {"", "2026-03-01", "2026-03-01 10:00:00Z", "2026-13-01T00:00:00Z", "yesterday"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}
