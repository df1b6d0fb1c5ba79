#pragma once

// The live event bus (SPEC §3 "Bus"): subscribing, what a subscriber receives, and what a writer tells
// the bus. A subscriber acknowledges every bus_event it handled with a bus_ack to the bus (the
// sender of the bus_event); the bus never has more unacknowledged or queued events for one
// subscription than its buffer holds, so a slow subscriber costs bounded memory and never slows
// publishers.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "event.hpp"
#include "export.hpp"

namespace evstore {

/// Which events a subscription wants: those of `task` (if set) whose type matches any of `patterns`
/// ("*", "a:b:*" or an exact type; none means every type).
struct subscription_filter {
  std::vector<std::string> patterns;
  caf::optional<std::string> task;
  /// Only events of this actor.
  caf::optional<actor_kind> actor;
};

/// True if `filter` wants `ev`: of its task and actor, if it names them, and of a type one of its
/// patterns matches ("*" every type, "a:b:*" the types starting with "a:b:", any other exactly that
/// type).
EVSTORE_API bool matches(const subscription_filter& filter, const event& ev);

/// Checks a filter as subscribing does: a valid task id, and every pattern "*", a valid type, or a
/// valid type followed by ":*". The error names what is wrong.
EVSTORE_API caf::error validate(const subscription_filter& filter);

/// History delivered before live events, then a caught_up marker. With a task filter: the task's
/// events from position `from` on. Without: the last `limit` matching events across all tasks (with
/// ts >= `since` if set), found through the type index.
struct catch_up_spec {
  uint64_t from = 0;
  uint64_t limit = 1000;
  caf::optional<timestamp> since;
};

/// Subscribe `subscriber` (a subscriber_actor: it handles bus_event, caught_up and lagged). Replies
/// `subscribed`.
struct subscribe_request {
  subscription_filter filter;
  caf::strong_actor_ptr subscriber;
  /// Events queued or unacknowledged at most; beyond it the subscription overflows.
  uint32_t buffer = 1024;
  /// On overflow: false catches up from disk and rejoins live (misses nothing); true skips events
  /// and tells the subscriber how many with `lagged` once it has room again.
  bool drop_on_overflow = false;
  caf::optional<catch_up_spec> catch_up;
};

struct subscribed {
  uint64_t id = 0;
};

/// Ends a subscription. Ending the subscriber actor ends its subscriptions too.
struct unsubscribe_request {
  uint64_t id = 0;
};

/// One event for a subscription, in per-task order. `position` is its index among the task's events
/// when it was written (compaction renumbers positions).
struct bus_event {
  uint64_t subscription = 0;
  event ev;
  uint64_t position = 0;
};

/// The history of a catch-up subscription has been delivered; live events follow.
struct caught_up {
  uint64_t subscription = 0;
};

/// A subscription with drop_on_overflow skipped `missed` matching events.
struct lagged {
  uint64_t subscription = 0;
  uint64_t missed = 0;
};

/// The subscriber handled `count` more bus_events of `subscription`.
struct bus_ack {
  uint64_t subscription = 0;
  uint32_t count = 1;
};

struct bus_stats_request {};

struct bus_stats {
  uint64_t subscriptions = 0;
  uint64_t events_seen = 0;
  uint64_t events_delivered = 0;
  /// Times a subscription overflowed and fell back to reading from disk.
  uint64_t recoveries = 0;
  /// Events skipped by subscriptions with drop_on_overflow.
  uint64_t events_dropped = 0;
  /// The most events any subscription had queued or unacknowledged (its high-water mark).
  uint64_t max_backlog = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscription_filter& x) {
  return f(caf::meta::type_name("evstore::subscription_filter"), x.patterns, x.task, x.actor);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catch_up_spec& x) {
  return f(caf::meta::type_name("evstore::catch_up_spec"), x.from, x.limit, x.since);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscribe_request& x) {
  return f(caf::meta::type_name("evstore::subscribe_request"), x.filter, x.subscriber, x.buffer,
           x.drop_on_overflow, x.catch_up);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscribed& x) {
  return f(caf::meta::type_name("evstore::subscribed"), x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unsubscribe_request& x) {
  return f(caf::meta::type_name("evstore::unsubscribe_request"), x.id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_event& x) {
  return f(caf::meta::type_name("evstore::bus_event"), x.subscription, x.ev, x.position);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, caught_up& x) {
  return f(caf::meta::type_name("evstore::caught_up"), x.subscription);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lagged& x) {
  return f(caf::meta::type_name("evstore::lagged"), x.subscription, x.missed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_ack& x) {
  return f(caf::meta::type_name("evstore::bus_ack"), x.subscription, x.count);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_stats_request&) {
  return f(caf::meta::type_name("evstore::bus_stats_request"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bus_stats& x) {
  return f(caf::meta::type_name("evstore::bus_stats"), x.subscriptions, x.events_seen,
           x.events_delivered, x.recoveries, x.events_dropped, x.max_backlog);
}

} // namespace evstore
