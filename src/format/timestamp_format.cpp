#include "timestamp_format.hpp"

#include <array>
#include <chrono>
#include <cstdint>

namespace evstore {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct civil {
  int64_t y;
  unsigned m;
  unsigned d;
};

civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` digits at `pos`; false if any is not a digit.
bool digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

} // namespace

std::optional<timestamp> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
  unsigned year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month)
      || s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't')
      || !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':'
      || !digits(s, 17, 2, second))
    return std::nullopt;
  // Second 60 is a leap second, which chrono (the Rust crate) writes as "23:59:60.5Z".
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23
      || minute > 59 || second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 9)
        return std::nullopt;
      nanos = nanos * 10 + (s[pos] - '0');
      ++pos;
    }
    if (n == 0)
      return std::nullopt;
    for (; n < 9; ++n)
      nanos *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    unsigned oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':'
        || !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_seconds = (s[pos] == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  if (second == 60) {
    // Unix time has no leap seconds: every instant of one reads as the last nanosecond of the
    // second before it, so a log's order is kept (never ahead of the next minute's events).
    second = 59;
    nanos = 999'999'999;
  }
  // Four-digit years and offsets under a day keep the seconds far inside 64 bits.
  const int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
                       - offset_seconds;
  const auto ts = timestamp::from_parts(secs, nanos);
  // An offset can move year 0000 or 9999 out of four digits in UTC ("0000-01-01T10:00:03+22:00"),
  // which no writer could write back: such a text is not a timestamp the store holds.
  if (ts < earliest_writable_timestamp || ts > latest_writable_timestamp)
    return std::nullopt;
  return ts;
}

namespace {

void put_digits(char*& p, uint64_t value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  p += width;
}

// ".123", ".123456" or ".123456789": the shortest of millis, micros or nanos that is exact.
void append_fraction(std::string& out, int64_t nanos) {
  if (nanos == 0)
    return;
  char buf[16];
  char* p = buf;
  *p++ = '.';
  auto value = static_cast<uint64_t>(nanos);
  if (nanos % 1'000'000 == 0)
    put_digits(p, value / 1'000'000, 3);
  else if (nanos % 1'000 == 0)
    put_digits(p, value / 1'000, 6);
  else
    put_digits(p, value, 9);
  out.append(buf, static_cast<size_t>(p - buf));
}

} // namespace

std::string to_rfc3339(timestamp ts) {
  const int64_t secs = ts.seconds_since_epoch();
  const int64_t nanos = ts.nanoseconds();
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  const civil c = civil_from_days(days);
  char buf[48];
  if (c.y < 0 || c.y > 9999) { // never written by a clock, but representable: keep them exact
    int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d",
                          static_cast<long long>(c.y), c.m, c.d, static_cast<int>(rem / 3600),
                          static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
    std::string out(buf, static_cast<size_t>(n));
    append_fraction(out, nanos);
    out += 'Z';
    return out;
  }
  // Every append formats one timestamp: digits by hand skip snprintf's format parsing.
  char* p = buf;
  put_digits(p, static_cast<uint64_t>(c.y), 4);
  *p++ = '-';
  put_digits(p, c.m, 2);
  *p++ = '-';
  put_digits(p, c.d, 2);
  *p++ = 'T';
  put_digits(p, static_cast<uint64_t>(rem / 3600), 2);
  *p++ = ':';
  put_digits(p, static_cast<uint64_t>(rem / 60 % 60), 2);
  *p++ = ':';
  put_digits(p, static_cast<uint64_t>(rem % 60), 2);
  std::string out(buf, static_cast<size_t>(p - buf));
  append_fraction(out, nanos);
  out += 'Z';
  return out;
}

} // namespace evstore
