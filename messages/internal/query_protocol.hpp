#pragma once

// The indexed query's protocol between the store's own actors: the plan the index makes, the fetches
// a query actor sends to the writers the plan names, and the population of the index on open.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "messages/event.hpp"
#include "messages/internal/notifications.hpp"

namespace evstore {

/// A position in the SPEC §3 order: ts, then task id, then position in the task's file.
struct rank_key {
  timestamp ts{};
  std::string task;
  uint64_t position = 0;
};

/// An event and its position in its task's file (the last tie-breaker of the order).
struct located_event {
  uint64_t position = 0;
  event ev;
};

/// Asks the index which lines and tasks can hold the answer to a query.
struct plan_request {
  std::string prefix;
  uint64_t limit = 0;
  caf::optional<timestamp> since;
  bool exact_type = false; // as in query_request
};

/// What to ask one writer.
struct task_fetch {
  std::string task;
  /// Lines known to rank at or above the bound; valid only if the file is still `file_id`.
  std::vector<line_ref> lines;
  uint64_t file_id = 0;
  /// The task may hold more qualifying events than `lines`: scan its file.
  bool scan = false;
};

struct query_plan {
  /// Only events ranking at or above this can be in the answer; none means everything qualifies.
  caf::optional<rank_key> bound;
  std::vector<task_fetch> fetches;
};

/// Sent to a writer: its events whose type starts with `prefix`, ranked at or above `bound`, at most
/// `limit` of the highest-ranked. Replies `fetch_result`.
struct fetch_request {
  std::string prefix;
  uint64_t limit = 0;
  caf::optional<rank_key> bound;
  task_fetch what;
  bool exact_type = false; // as in query_request
};

struct fetch_result {
  std::vector<located_event> events;
  /// True if the writer had to scan its file (asked to, or the file changed under the plan).
  bool scanned = false;
  /// The file is not the one the plan was made for (compacted, deleted or cut since): the plan's
  /// bound may be wrong, so the query must plan again from the updated index.
  bool stale_plan = false;
};

/// A population pass begins (at open, and before a read-only store's query, which cannot hear of
/// another process's writes): the index holds queries back until the pass's plan is done, and
/// replies what it knows of every task's file, so the pass loads only files that differ.
struct population_start {};

struct known_files {
  std::vector<std::string> tasks;
  std::vector<file_extent> extents;
};

/// The tasks a population pass has its writers load (files the index does not know as they are
/// now: new, grown, replaced, or gone), and how many tasks are on disk.
struct population_plan {
  std::vector<std::string> tasks;
  uint64_t listed = 0;
};

/// The `task` of a population_failed that says the store's tasks could not be listed: no task id
/// contains a slash. The next pass that lists them clears it.
constexpr const char* listing_failure = "/";

/// The population worker could not load a task's file: the index cannot answer exactly, and says so
/// instead of answering wrong.
struct population_failed {
  std::string task;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rank_key& x) {
  return f(caf::meta::type_name("evstore::rank_key"), x.ts, x.task, x.position);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, located_event& x) {
  return f(caf::meta::type_name("evstore::located_event"), x.position, x.ev);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_request& x) {
  return f(caf::meta::type_name("evstore::plan_request"), x.prefix, x.limit, x.since,
           x.exact_type);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_fetch& x) {
  return f(caf::meta::type_name("evstore::task_fetch"), x.task, x.lines, x.file_id, x.scan);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_plan& x) {
  return f(caf::meta::type_name("evstore::query_plan"), x.bound, x.fetches);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_request& x) {
  return f(caf::meta::type_name("evstore::fetch_request"), x.prefix, x.limit, x.bound, x.what,
           x.exact_type);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_result& x) {
  return f(caf::meta::type_name("evstore::fetch_result"), x.events, x.scanned,
           x.stale_plan);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_plan& x) {
  return f(caf::meta::type_name("evstore::population_plan"), x.tasks, x.listed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_start&) {
  return f(caf::meta::type_name("evstore::population_start"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, known_files& x) {
  return f(caf::meta::type_name("evstore::known_files"), x.tasks, x.extents);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_failed& x) {
  return f(caf::meta::type_name("evstore::population_failed"), x.task, x.reason);
}

} // namespace evstore
