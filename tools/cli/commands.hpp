#pragma once

// The evstore tool's subcommands. Each returns the process exit code; errors go to stderr.

#include <cstdint>
#include <optional>
#include <string>

#include <caf/optional.hpp>
#include <caf/timespan.hpp>

#include "actors/store_options.hpp"
#include "output.hpp"

namespace evstore::cli {

/// Exit statuses (also in `evstore --help` and the README).
constexpr int exit_success = 0;
/// A command failed: the store refused it, a file could not be read, verify found bad lines, some
/// tasks could not be compacted. Details on stderr.
constexpr int exit_failure = 1;
/// The command line is wrong: an unknown command or flag, a number that is negative, too large or
/// not a number. Nothing was done.
constexpr int exit_usage = 2;
/// `append` met an event already stored under its id: a retry. The stored event is printed, nothing
/// is written for it. Only when nothing failed.
constexpr int exit_duplicate = 3;

/// The largest count any flag accepts: 2^63 - 1, so a count never wraps into a negative signed value.
constexpr uint64_t max_count = 9'223'372'036'854'775'807ull;

/// A value parsed from the command line, or the problem with the text, in words.
template <class T>
struct parsed {
  std::optional<T> value;
  std::string problem;
  explicit operator bool() const {
    return value.has_value();
  }
  const T& operator*() const {
    return *value;
  }
  const T* operator->() const {
    return &*value;
  }
  const std::string& error() const {
    return problem;
  }
};

/// A whole number in decimal digits only (no sign, spaces, base prefix, exponent or fraction), in
/// [min, max].
parsed<uint64_t> parse_whole_number(const std::string& text, uint64_t min, uint64_t max);

/// An age: a whole number and one unit, d, h, m or s ("30d"), from 1 to what a timespan holds
/// (about 292 years); "none" means no limit (an empty optional). 0 is refused: it would remove every
/// event, and many read it as "no limit".
parsed<caf::optional<caf::timespan>> parse_age(const std::string& text);

/// Seconds: digits with an optional fraction ("20", "0.5"), at most 10^9.
parsed<double> parse_seconds(const std::string& text);

struct common {
  std::string root;
  format fmt = format::jsonl;
  /// For the writing commands.
  durability ack = durability::written;
  /// --crate-types: refuse types the Rust crate does not read (store_options::crate_types_only).
  bool crate_types_only = false;
  /// --no-node: work on the files even when a node serves the store.
  bool no_node = false;
  /// --connect HOST:PORT: the node to use (checked by the parser); --credential: its credential
  /// file (default <root>/node.pem).
  std::string connect, credential;
  /// --cluster FILE: the membership file of a cluster of nodes (src/cluster/membership.hpp). Other
  /// commands go to the cluster; serve serves this root as one of its nodes.
  std::string cluster;
  /// --verbose: say on stderr whether a node or the files answered.
  bool verbose = false;
};

/// HOST:PORT with a port in 0..65535 (0 only where `zero_ok`: a listener's "any free port").
parsed<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text, bool zero_ok);

/// evstore serve: serves the store as a CAF node until SIGINT or SIGTERM, then shuts down cleanly.
int run_serve(const common& c, const std::string& listen);

/// rebalance --from OLD (with --cluster NEW): src/cluster/rebalance.hpp.
int run_rebalance(const common& c, const std::string& from, uint64_t chunk_bytes);

struct append_args {
  bool from_stdin = false;
  std::string task, type, actor, data = "{}", id, ts;
  /// A ts was given, even an empty one (which is an error, never "now").
  bool has_ts = false;
};
int run_append(const common& c, const append_args& a);

/// What the listing commands keep, as given on the command line: --since and --until (RFC 3339,
/// or a time ago: 45s, 30m, 1h, 2d; or today, yesterday: midnight UTC), --task, --actor.
struct event_filter {
  std::string since, until;
  std::string task;
  bool has_task = false;
  std::string actor;
  /// query --partial: through a cluster, answer without the nodes that cannot be reached (named on
  /// stderr) instead of failing.
  bool partial = false;
};

/// One pattern syntax for query and tail: "*" (or ""), "a:b:*" (or the prefix form "a:b:"), or an
/// exact type. Returns it as "*", "a:b:*" or the type; a usage problem otherwise.
parsed<std::string> parse_type_pattern(const std::string& text);

struct read_args {
  std::string task;
  uint64_t from = 0;
  /// -n: only the last N (0: all).
  uint64_t last = 0;
  /// -f: then follow the task's new events.
  bool follow = false;
  event_filter filter;
};
int run_read(const common& c, const read_args& a);

int run_query(const common& c, const std::string& pattern, uint64_t limit, const event_filter& f);

struct tail_args {
  std::string pattern = "*";
  std::string task;
  bool has_task = false;
  uint64_t interval_ms = 200;
  /// Stop after printing this many events (0: follow until interrupted).
  uint64_t count = 0;
  /// -n: print the last N matching events first (0: start at the end).
  uint64_t last = 0;
  double timeout_s = 0;
  /// --actor: only events of this actor (empty: any).
  std::string actor;
};
int run_tail(const common& c, const tail_args& a);

int run_tasks(const common& c);

struct compact_args {
  std::string task;
  bool has_task = false;
  /// Empty: no limit. The defaults are retention_policy's.
  caf::optional<uint64_t> max_events = retention_policy{}.max_events;
  caf::optional<caf::timespan> max_age = retention_policy{}.max_age;
  /// Whether the command line set them; if not, the policy applied is printed on stderr.
  bool max_events_given = false;
  bool max_age_given = false;
  /// Count per task what would be removed; change nothing.
  bool dry_run = false;
};
int run_compact(const common& c, const compact_args& a);

int run_cleanup(const common& c);
int run_stats(const common& c, bool raw_bytes);
/// With `crate`, also reports valid lines the Rust crate would skip (and its compaction delete).
int run_verify(const common& c, bool crate = false);

} // namespace evstore::cli
