#pragma once

// RFC 3339 timestamps as SPEC §2 states them: readers accept 0-9 fraction digits and any numeric offset
// (normalised to UTC); writers emit `Z` and 0, 3, 6 or 9 fraction digits as needed, as chrono's
// AutoSi format in the Rust crate does.

#include <optional>
#include <string>
#include <string_view>

#include "messages/event.hpp"

namespace evstore {

/// Parses "2026-03-01T10:00:00.123+02:00" and friends, any year 0000 to 9999 (chrono writes them
/// all); nullopt if the text is not RFC 3339. A leap second ("23:59:60.5Z", chrono writes them) reads
/// as the last nanosecond of the second before it: 23:59:59.999999999Z.
std::optional<timestamp> parse_timestamp(std::string_view text);

/// The instants a log can hold: those whose UTC form has a four-digit year.
constexpr timestamp earliest_writable_timestamp = timestamp::from_parts(-62'167'219'200, 0);
constexpr timestamp latest_writable_timestamp = timestamp::from_parts(253'402'300'799, 999'999'999);

/// Formats as UTC with 'Z': "2026-03-01T08:00:00.123Z".
std::string format_timestamp(timestamp ts);


} // namespace evstore
