#pragma once

#include <chrono>
#include <cstdint>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/timespan.hpp>

#include "export.hpp"
namespace evstore {

/// What compaction keeps (SPEC §3). Both limits are optional and apply together: an event survives only
/// if it is among the newest `max_events` lines of its task AND not older than now - `max_age`.
struct retention_policy {
  /// Keep the last N lines in file order, as the Rust crate does. Default 10,000.
  caf::optional<uint64_t> max_events = uint64_t{10'000};
  /// Drop events whose ts is older than now - max_age. Default 30 days.
  caf::optional<caf::timespan> max_age = caf::timespan{std::chrono::hours{24 * 30}};
};

/// Refuses a policy no caller can mean, with errc::invalid_argument naming the field: a negative
/// `max_age`, or a `max_events` above 2^63 - 1 (a negative count converted to unsigned wraps there;
/// "no limit" is an empty optional). Compaction checks it before touching any file; every
/// non-negative `max_age` is usable, since now - max_age cannot overflow the clock's range.
EVSTORE_API caf::error validate(const retention_policy& policy);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retention_policy& x) {
  return f(caf::meta::type_name("evstore::retention_policy"), x.max_events, x.max_age);
}

} // namespace evstore
