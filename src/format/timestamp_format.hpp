#pragma once

// RFC 3339 timestamps as SPEC §2 states them: readers accept 0-9 fraction digits and any numeric offset
// (normalised to UTC); writers emit `Z` and 0, 3, 6 or 9 fraction digits as needed, as chrono's
// AutoSi format in the Rust crate does.

#include <optional>
#include <string>
#include <string_view>

#include "messages/event.hpp"

namespace evstore {

// parse_rfc3339 and to_rfc3339 are declared with timestamp (messages/timestamp.hpp) and defined in
// timestamp_format.cpp.

/// The instants a log can hold: those whose UTC form has a four-digit year.
constexpr timestamp earliest_writable_timestamp = timestamp::from_parts(-62'167'219'200, 0);
constexpr timestamp latest_writable_timestamp = timestamp::from_parts(253'402'300'799, 999'999'999);

} // namespace evstore
