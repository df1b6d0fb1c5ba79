#include "messages/retention_policy.hpp"

#include <limits>
#include <string>

#include "messages/errc.hpp"

namespace evstore {

caf::error validate(const retention_policy& policy) {
  constexpr auto max_count = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (policy.max_events && *policy.max_events > max_count)
    return make_error(errc::invalid_argument,
                      "retention max_events " + std::to_string(*policy.max_events)
                        + " is above 2^63 - 1 (a negative number converted to unsigned?); "
                          "leave it unset to keep any number of events");
  if (policy.max_age && policy.max_age->count() < 0)
    return make_error(errc::invalid_argument,
                      "retention max_age must not be negative (got "
                        + std::to_string(policy.max_age->count())
                        + " ns); leave it unset to keep events of any age");
  return {};
}

} // namespace evstore
