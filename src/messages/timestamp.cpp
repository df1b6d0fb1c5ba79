#include "messages/timestamp.hpp"

namespace evstore {

namespace {

constexpr int64_t nanos_per_second = 1'000'000'000;

// caf::timestamp's range, split like ours: 64-bit nanoseconds from the epoch.
constexpr timestamp time_point_min = timestamp::from_parts(
  std::numeric_limits<int64_t>::min() / nanos_per_second - 1,
  std::numeric_limits<int64_t>::min() % nanos_per_second + nanos_per_second);
constexpr timestamp time_point_max = timestamp::from_parts(
  std::numeric_limits<int64_t>::max() / nanos_per_second,
  std::numeric_limits<int64_t>::max() % nanos_per_second);

} // namespace

timestamp timestamp::now() {
  return std::chrono::system_clock::now();
}

bool timestamp::fits_time_point() const {
  return time_point_min <= *this && *this <= time_point_max;
}

caf::timestamp timestamp::to_time_point() const {
  if (*this < time_point_min)
    return caf::timestamp{caf::timespan{std::numeric_limits<int64_t>::min()}};
  if (*this > time_point_max)
    return caf::timestamp{caf::timespan{std::numeric_limits<int64_t>::max()}};
  // In range, seconds * 1e9 + nanos fits; for the lowest second the product alone would not, so
  // the nanoseconds are borrowed from it first.
  int64_t secs = seconds_;
  int64_t nanos = nanos_;
  if (secs < 0 && nanos > 0) {
    ++secs;
    nanos -= nanos_per_second;
  }
  return caf::timestamp{caf::timespan{secs * nanos_per_second + nanos}};
}

timestamp& timestamp::add_parts(int64_t secs, int64_t nanos) {
  nanos += static_cast<int64_t>(nanos_);
  // nanos is in (-1e9, 2e9): carry into the seconds.
  if (nanos >= nanos_per_second) {
    nanos -= nanos_per_second;
    ++secs;
  } else if (nanos < 0) {
    nanos += nanos_per_second;
    --secs;
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(seconds_, secs, &sum))
    return *this = secs > 0 ? max() : min();
  seconds_ = sum;
  nanos_ = static_cast<uint32_t>(nanos);
  return *this;
}

timestamp& timestamp::add_whole_seconds(bool negative, uint64_t magnitude) {
  // In unsigned arithmetic: the distance to either end of the range fits in 64 bits.
  const auto offset = static_cast<uint64_t>(seconds_) - static_cast<uint64_t>(min().seconds_);
  const uint64_t to_max = std::numeric_limits<uint64_t>::max() - offset;
  if (negative ? magnitude > offset : magnitude > to_max)
    return *this = negative ? min() : max();
  seconds_ = static_cast<int64_t>(static_cast<uint64_t>(min().seconds_)
                                  + (negative ? offset - magnitude : offset + magnitude));
  return *this;
}

caf::timespan timestamp::difference(timestamp x, timestamp y) {
  constexpr auto lowest = std::numeric_limits<int64_t>::min();
  constexpr auto highest = std::numeric_limits<int64_t>::max();
  int64_t secs = 0;
  int64_t total = 0;
  if (__builtin_sub_overflow(x.seconds_, y.seconds_, &secs)
      || __builtin_mul_overflow(secs, nanos_per_second, &total)
      || __builtin_add_overflow(total, static_cast<int64_t>(x.nanos_) - y.nanos_, &total))
    return caf::timespan{x < y ? lowest : highest};
  return caf::timespan{total};
}

} // namespace evstore
