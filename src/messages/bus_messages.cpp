#include "messages/bus_messages.hpp"

#include <algorithm>

#include "src/format/pattern.hpp"
#include "src/format/validation.hpp"

namespace evstore {

bool matches(const subscription_filter& filter, const event& ev) {
  if (filter.task && ev.task != *filter.task)
    return false;
  if (filter.actor && ev.actor != *filter.actor)
    return false;
  if (filter.patterns.empty())
    return true;
  return std::any_of(filter.patterns.begin(), filter.patterns.end(),
                     [&](const std::string& p) { return pattern_matches(p, ev.type); });
}

caf::error validate(const subscription_filter& filter) {
  if (filter.task)
    if (auto err = validate_task_id(*filter.task))
      return err;
  for (const auto& p : filter.patterns)
    if (auto err = validate_pattern(p))
      return err;
  return {};
}

} // namespace evstore
