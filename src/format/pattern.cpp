#include "pattern.hpp"

#include <string>

#include "messages/errc.hpp"
#include "validation.hpp"

namespace evstore {

namespace {

constexpr std::string_view wildcard_suffix = ":*";

bool is_prefix_pattern(std::string_view pattern) {
  return pattern.size() >= wildcard_suffix.size()
         && pattern.substr(pattern.size() - wildcard_suffix.size()) == wildcard_suffix;
}

} // namespace

std::string_view pattern_prefix(std::string_view pattern) {
  if (pattern == "*")
    return {};
  if (is_prefix_pattern(pattern))
    return pattern.substr(0, pattern.size() - 1); // keep the colon: "a:*" must not match "ab"
  return pattern;
}

bool pattern_is_exact(std::string_view pattern) {
  return pattern != "*" && !is_prefix_pattern(pattern);
}

bool pattern_matches(std::string_view pattern, std::string_view type) {
  if (pattern == "*")
    return true;
  if (is_prefix_pattern(pattern))
    return type.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  return type == pattern;
}

caf::error validate_pattern(std::string_view pattern) {
  if (pattern == "*")
    return {};
  auto type = is_prefix_pattern(pattern) ? pattern.substr(0, pattern.size() - 2) : pattern;
  if (validate_type(type))
    return make_error(errc::invalid_argument,
                      "pattern must be \"*\", a type, or a type followed by \":*\": \""
                        + std::string{pattern} + "\"");
  return {};
}

} // namespace evstore
