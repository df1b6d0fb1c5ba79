#pragma once

// Requests and replies of the store and writer actors. One struct per request; each names its reply.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "event.hpp"
#include "retention_policy.hpp"

namespace evstore {

/// Append one event. Replies `append_result`.
struct append_request {
  event ev;
  /// If set, the append succeeds only if the task holds exactly this many events (optimistic
  /// concurrency); otherwise it fails with errc::version_conflict and writes nothing.
  caf::optional<uint64_t> expected_version;
};

struct append_result {
  /// The event as stored: id and ts filled in if the request left them empty.
  event ev;
  /// Index of the event among the task's events (what `read_request::from` counts).
  uint64_t position = 0;
  /// True if an event with this id was already among the task's recent events; nothing was written.
  bool duplicate = false;
};

/// Appends many events with one request, each exactly as its own append_request (validation,
/// expected version, retried ids), in order (so in order per task), and every one of them whatever
/// happens to the others. Replies `append_batch_result`. For a client of a node, one round trip
/// instead of one per event.
struct append_batch_request {
  std::vector<append_request> appends;
};

/// One append of a batch: its result, or why it failed.
struct append_outcome {
  caf::optional<append_result> result;
  caf::error error;
};

/// The outcomes of a batch, in the order of its appends.
struct append_batch_result {
  std::vector<append_outcome> outcomes;
};

/// Counters a read reports beside its events, so bad lines are never silent.
struct read_stats {
  /// Lines that are not JSON or not a valid event; skipped.
  uint64_t corrupt_lines = 0;
  /// Lines with a schema_version above ours; skipped, never guessed at.
  uint64_t future_schema_lines = 0;
  /// The file ends in a line without its newline (a torn write); not returned.
  bool torn_tail = false;
};

/// Events of one task in file order, from the `from`-th valid event on. Replies `read_result`.
struct read_request {
  std::string task;
  uint64_t from = 0;
  /// At most this many events (a subscriber catching up reads in bounded chunks). A read that
  /// stops here reports, in read_result::stats, the skipped lines up to its last event only, and
  /// the next read from where it stopped goes on from there instead of reading the file again.
  uint64_t max_events = std::numeric_limits<uint64_t>::max();
};

struct read_result {
  std::vector<event> events;
  read_stats stats;
};

/// Rewrite one task's file under a retention policy. Replies `compact_result`.
struct compact_request {
  std::string task;
  retention_policy policy;
  /// Only count: the reply says what the policy would remove and move aside; nothing is written.
  bool dry_run = false;
};

struct compact_result {
  uint64_t removed = 0;
  uint64_t kept = 0;
  /// Unparsable lines moved byte for byte to `<task>/events.corrupt`.
  uint64_t corrupt_moved = 0;

  /// Adds another task's counts (compacting many tasks sums them).
  compact_result& operator+=(const compact_result& other) {
    removed += other.removed;
    kept += other.kept;
    corrupt_moved += other.corrupt_moved;
    return *this;
  }
};

/// Compact every task. Replies `compact_result` summed over all tasks.
struct compact_all_request {
  retention_policy policy;
  /// Only count, as compact_request::dry_run; nothing is written.
  bool dry_run = false;
};

/// Task ids that have an events file ("" for the system-wide file). Replies `task_list`.
struct list_tasks_request {
  /// Also "" if the system-wide file exists. Off by default: the Rust crate's list_tasks names tasks
  /// only, and so does ours.
  bool include_system_log = false;
};

struct task_list {
  std::vector<std::string> tasks;
};

/// Remove task directories with no events file or an empty one. Replies `cleanup_result`.
struct cleanup_request {};

struct cleanup_result {
  uint64_t removed = 0;
};

/// The last `limit` events of all tasks whose type starts with `prefix`, ordered by ts ascending, ties
/// by task id then file position (SPEC §3). Replies `query_result`.
struct query_request {
  std::string prefix;
  uint64_t limit = 0;
  /// If set, only events with ts >= since qualify (for orchestrators resuming from a checkpoint).
  caf::optional<timestamp> since;
  /// Only events whose type is exactly `prefix` (what a subscription's exact pattern catches up
  /// on), not every type starting with it.
  bool exact_type = false;
  /// Through a cluster: when nodes cannot be reached, answer from the others and name the missing
  /// ones in query_result::missing_nodes, instead of failing. Ignored by a single store.
  bool allow_partial = false;
};

struct query_result {
  std::vector<event> events;
  read_stats stats;
  /// `positions[i]` is the index of `events[i]` among its task's events (what `read_request::from`
  /// counts), so a caller can resume that task from there.
  std::vector<uint64_t> positions;
  /// A partial answer (query_request::allow_partial): the cluster nodes whose events it lacks, by
  /// name. Empty for a complete answer.
  std::vector<std::string> missing_nodes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_request& x) {
  return f(caf::meta::type_name("evstore::append_request"), x.ev, x.expected_version);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_result& x) {
  return f(caf::meta::type_name("evstore::append_result"), x.ev, x.position, x.duplicate);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_batch_request& x) {
  return f(caf::meta::type_name("evstore::append_batch_request"), x.appends);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_outcome& x) {
  return f(caf::meta::type_name("evstore::append_outcome"), x.result, x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, append_batch_result& x) {
  return f(caf::meta::type_name("evstore::append_batch_result"), x.outcomes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_stats& x) {
  return f(caf::meta::type_name("evstore::read_stats"), x.corrupt_lines, x.future_schema_lines,
           x.torn_tail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_request& x) {
  return f(caf::meta::type_name("evstore::read_request"), x.task, x.from, x.max_events);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_result& x) {
  return f(caf::meta::type_name("evstore::read_result"), x.events, x.stats);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compact_request& x) {
  return f(caf::meta::type_name("evstore::compact_request"), x.task, x.policy, x.dry_run);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compact_result& x) {
  return f(caf::meta::type_name("evstore::compact_result"), x.removed, x.kept, x.corrupt_moved);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compact_all_request& x) {
  return f(caf::meta::type_name("evstore::compact_all_request"), x.policy, x.dry_run);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_tasks_request& x) {
  return f(caf::meta::type_name("evstore::list_tasks_request"), x.include_system_log);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_list& x) {
  return f(caf::meta::type_name("evstore::task_list"), x.tasks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cleanup_request&) {
  return f(caf::meta::type_name("evstore::cleanup_request"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cleanup_result& x) {
  return f(caf::meta::type_name("evstore::cleanup_result"), x.removed);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_request& x) {
  return f(caf::meta::type_name("evstore::query_request"), x.prefix, x.limit, x.since,
           x.exact_type, x.allow_partial);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, query_result& x) {
  return f(caf::meta::type_name("evstore::query_result"), x.events, x.stats, x.positions,
           x.missing_nodes);
}

} // namespace evstore
