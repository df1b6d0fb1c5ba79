#pragma once

// An event's time (SPEC §2). The Rust crate's chrono writes any year from 0000 to 9999 with nanosecond
// precision; 64-bit nanoseconds (caf::timestamp, std::chrono::system_clock on Linux) reach only from
// 1677 to 2262. So the store keeps whole seconds and the nanoseconds into the second apart, and every
// timestamp a log holds is read back exactly.

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "errc.hpp"
#include "export.hpp"

namespace evstore {

/// An instant in UTC: whole seconds since the Unix epoch (negative before it) and the nanoseconds into
/// that second (0 to 999,999,999). Default-constructed, it is the Unix epoch, a time like any other.
///
/// Made implicitly from any system_clock time point (`caf::make_timestamp()`,
/// `std::chrono::system_clock::now()`, a caf::timestamp); `timestamp{d}` is the epoch plus the
/// duration `d`, as for a std::chrono time point. Adding or subtracting a duration saturates at min()
/// and max() instead of wrapping.
class EVSTORE_API timestamp {
public:
  constexpr timestamp() = default;

  template <class Duration>
  constexpr timestamp(std::chrono::time_point<std::chrono::system_clock, Duration> tp)
    : timestamp(tp.time_since_epoch()) {
  }

  template <class Rep, class Period>
  constexpr explicit timestamp(std::chrono::duration<Rep, Period> since_epoch) {
    // Truncated towards zero, so the whole seconds never exceed the duration and the remainder in
    // nanoseconds cannot overflow (rounding down would, near the lowest 64-bit nanosecond).
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count();
    seconds_ = secs.count();
    if (nanos < 0) {
      nanos += 1'000'000'000;
      --seconds_;
    }
    nanos_ = static_cast<uint32_t>(nanos);
  }

  /// `seconds` since the epoch plus `nanos` (taken modulo a second, carrying into the seconds);
  /// saturates at min() and max().
  static constexpr timestamp from_parts(int64_t seconds, int64_t nanos) {
    int64_t carry = nanos / 1'000'000'000;
    nanos %= 1'000'000'000;
    if (nanos < 0) {
      nanos += 1'000'000'000;
      --carry;
    }
    timestamp t;
    if (__builtin_add_overflow(seconds, carry, &t.seconds_)) {
      t.seconds_ = carry < 0 ? std::numeric_limits<int64_t>::min()
                             : std::numeric_limits<int64_t>::max();
      nanos = carry < 0 ? 0 : 999'999'999;
    }
    t.nanos_ = static_cast<uint32_t>(nanos);
    return t;
  }

  static constexpr timestamp min() {
    return from_parts(std::numeric_limits<int64_t>::min(), 0);
  }

  /// The system clock's current time.
  static timestamp now();

  static constexpr timestamp max() {
    return from_parts(std::numeric_limits<int64_t>::max(), 999'999'999);
  }

  constexpr int64_t seconds_since_epoch() const {
    return seconds_;
  }

  /// 0 to 999,999,999.
  constexpr uint32_t nanoseconds() const {
    return nanos_;
  }

  /// True if the instant fits a caf::timestamp (64-bit nanoseconds: 1677-09-21 to 2262-04-11).
  bool fits_time_point() const;

  /// The instant as a caf::timestamp, saturated at that type's range for an instant beyond it.
  caf::timestamp to_time_point() const;

  /// Any std::chrono duration, exactly to the nanosecond; saturates at min() and max() instead of
  /// wrapping, and never converts the whole duration to nanoseconds (which would overflow past 292
  /// years).
  template <class Rep, class Period>
  timestamp& operator+=(std::chrono::duration<Rep, Period> d) {
    return add(d, false);
  }

  template <class Rep, class Period>
  timestamp& operator-=(std::chrono::duration<Rep, Period> d) {
    return add(d, true);
  }

  template <class Rep, class Period>
  friend timestamp operator+(timestamp t, std::chrono::duration<Rep, Period> d) {
    return t += d;
  }
  template <class Rep, class Period>
  friend timestamp operator-(timestamp t, std::chrono::duration<Rep, Period> d) {
    return t -= d;
  }

  /// x - y, saturated at caf::timespan's range (about 292 years either way).
  friend caf::timespan operator-(timestamp x, timestamp y) {
    return difference(x, y);
  }

  friend constexpr bool operator==(timestamp x, timestamp y) {
    return x.seconds_ == y.seconds_ && x.nanos_ == y.nanos_;
  }
  friend constexpr bool operator!=(timestamp x, timestamp y) {
    return !(x == y);
  }
  friend constexpr bool operator<(timestamp x, timestamp y) {
    return x.seconds_ != y.seconds_ ? x.seconds_ < y.seconds_ : x.nanos_ < y.nanos_;
  }
  friend constexpr bool operator>(timestamp x, timestamp y) {
    return y < x;
  }
  friend constexpr bool operator<=(timestamp x, timestamp y) {
    return !(y < x);
  }
  friend constexpr bool operator>=(timestamp x, timestamp y) {
    return !(x < y);
  }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, timestamp& x) {
    // What arrives from another process must be a valid instant.
    auto check = caf::meta::load_callback([&]() -> caf::error {
      return x.nanos_ < 1'000'000'000 ? caf::error{}
                                    : make_error(errc::invalid_timestamp, "ts: nanoseconds beyond a second");
    });
    return f(caf::meta::type_name("evstore::timestamp"), x.seconds_, x.nanos_, check);
  }

private:
  static caf::timespan difference(timestamp x, timestamp y);

  template <class Rep, class Period>
  timestamp& add(std::chrono::duration<Rep, Period> d, bool subtract) {
    using long_seconds = std::chrono::duration<long double>;
    const bool negative = (d < d.zero()) != subtract;
    const long double magnitude = std::chrono::abs(long_seconds{d}).count();
    if (magnitude >= 0x1p64L) // beyond the whole span of the seconds: saturates from anywhere
      return *this = negative ? min() : max();
    if (magnitude >= 0x1p62L) { // whole seconds (a finer part is lost in the Rep long before this)
      // x86's long double holds every integer below 2^64 exactly.
      return add_whole_seconds(negative, static_cast<uint64_t>(magnitude));
    }
    // Below 2^62 seconds, the whole seconds and the nanoseconds beneath them convert exactly.
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(d);
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(d - secs);
    return subtract ? add_parts(-secs.count(), -nanos.count()) : add_parts(secs.count(), nanos.count());
  }

  /// Adds whole seconds and nanoseconds of the same sign, of magnitudes below 2^62 and 1e9.
  timestamp& add_parts(int64_t secs, int64_t nanos);

  /// Adds or subtracts `magnitude` whole seconds, saturating.
  timestamp& add_whole_seconds(bool negative, uint64_t magnitude);

  int64_t seconds_ = 0;
  uint32_t nanos_ = 0;
};

/// Reads an RFC 3339 timestamp as the store reads a log's `ts`: "2026-03-01T10:00:00.123+02:00",
/// 0 to 9 fraction digits, any numeric offset (normalised to UTC), any year 0000 to 9999. A leap
/// second ("23:59:60.5Z", chrono writes them) reads as the last nanosecond of the second before it.
/// nullopt if the text is not RFC 3339.
EVSTORE_API std::optional<timestamp> parse_rfc3339(std::string_view text);

/// `ts` as the store writes it: UTC with 'Z' and 0, 3, 6 or 9 fraction digits, as needed
/// ("2026-03-01T08:00:00.123Z").
EVSTORE_API std::string to_rfc3339(timestamp ts);

} // namespace evstore
