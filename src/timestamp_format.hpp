#pragma once

// RFC 3339 timestamps as SPEC §2 states them: readers accept 0-9 fraction digits and any numeric offset
// (normalised to UTC); writers emit `Z` and 0, 3, 6 or 9 fraction digits as needed, as chrono's
// AutoSi format in the Rust crate does.

#include <optional>
#include <string>
#include <string_view>

#include "evstore/messages/event.hpp"

namespace evstore {

/// Parses "2026-03-01T10:00:00.123+02:00" and friends; nullopt if the text is not RFC 3339, or lies
/// outside what 64-bit nanoseconds hold (1677-09-21 to 2262-04-11). A leap second ("23:59:60.5Z",
/// chrono writes them) reads as the last nanosecond of the second before it: 23:59:59.999999999Z.
/// `out_of_range`, if given, is set when the text is a well-formed timestamp that 64-bit nanoseconds
/// cannot hold (chrono writes years 1 to 9999).
std::optional<timestamp> parse_timestamp(std::string_view text, bool* out_of_range = nullptr);

/// Formats as UTC with 'Z': "2026-03-01T08:00:00.123Z".
std::string format_timestamp(timestamp ts);

/// The current time, truncated to nothing: nanoseconds as the clock gives them.
timestamp now();

} // namespace evstore
