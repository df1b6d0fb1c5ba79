#pragma once

// Subscription patterns (SPEC §3): "*" matches every type, "a:b:*" matches types starting with
// "a:b:", anything else matches exactly that type.

#include <string_view>

#include <caf/error.hpp>

namespace evstore {

/// True if `type` matches `pattern`.
bool pattern_matches(std::string_view pattern, std::string_view type);

/// The longest prefix every type matching `pattern` starts with: what to ask the type index for when
/// catching up on the pattern ("" for "*", "a:b:" for "a:b:*", the type itself for an exact pattern).
std::string_view pattern_prefix(std::string_view pattern);

/// True for a pattern that names one type (neither "*" nor "a:b:*").
bool pattern_is_exact(std::string_view pattern);

/// True if a query for `prefix` selects `type`: every type starting with it, or, if `exact`, that
/// one type only.
inline bool query_selects(std::string_view prefix, bool exact, std::string_view type) {
  return exact ? type == prefix : type.substr(0, prefix.size()) == prefix;
}

/// A pattern is "*", a valid type, or a valid type followed by ":*".
caf::error validate_pattern(std::string_view pattern);

} // namespace evstore
