#include "commands.hpp"

// GCC 12 at -O2 reports caf::optional's union member as maybe uninitialised when a retention_policy
// is copied into a message; it is always initialised (a false positive, also seen with std::optional).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <atomic>
#include <csignal>
#include <deque>
#include <filesystem>
#include <poll.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <boost/json/parse.hpp>

// The library's public API only, as any other program uses it.
#include "messages/bus_messages.hpp"
#include "messages/timestamp.hpp"
#include "src/cluster/membership.hpp"
#include "src/cluster/rebalance.hpp"
#include "src/facade/log_inspection.hpp"
#include "src/facade/store.hpp"
#include "src/format/pattern.hpp"
#include "src/format/validation.hpp"

namespace evstore::cli {

namespace {

int fail(const std::string& what) {
  std::cerr << "evstore: " << what << "\n";
  return exit_failure;
}

int fail(const caf::error& err) {
  std::cerr << render(err) << "\n"; // already "evstore: <code>: <context>"
  return exit_failure;
}

/// An error as "<code>: <context>", without render()'s "evstore: ", to follow a prefix of our own.
std::string reason(const caf::error& err) {
  auto text = render(err);
  constexpr std::string_view ours = "evstore: ";
  return text.compare(0, ours.size(), ours) == 0 ? text.substr(ours.size()) : text;
}

/// How a task is named in messages: the system-wide log has the empty id.
std::string task_label(const std::string& task) {
  return task.empty() ? std::string{"(system)"} : "\"" + task + "\"";
}

std::unique_ptr<store> open_files(const common& c, bool writable) {
  store_options opts;
  opts.root = c.root;
  opts.read_only = !writable;
  opts.ack = c.ack;
  opts.crate_types_only = c.crate_types_only;
  auto db = store::open(opts);
  if (!db) {
    fail(db.error());
    return nullptr;
  }
  return std::move(*db);
}

/// The store a command works on: the node named by --connect; else the node serving the root, if
/// one does (its live index answers queries, and it is the one writer, so writes go through it);
/// else the files themselves (--no-node forces them). --verbose says which, on stderr.
std::unique_ptr<store> open_store(const common& c, bool writable) {
  if (!c.cluster.empty()) {
    auto db = store::connect_cluster(c.cluster);
    if (!db) {
      fail(db.error());
      return nullptr;
    }
    if (c.verbose)
      std::cerr << "evstore: answered by the cluster in " << c.cluster << "\n";
    return std::move(*db);
  }
  if (!c.connect.empty() || !c.no_node) {
    connect_options co;
    co.root = c.root;
    co.credential = c.credential;
    if (!c.connect.empty()) {
      auto colon = c.connect.rfind(':');
      co.host = c.connect.substr(0, colon);
      co.port = static_cast<uint16_t>(std::stoul(c.connect.substr(colon + 1)));
    }
    auto db = store::connect(co);
    if (db) {
      if (c.verbose)
        std::cerr << "evstore: answered by the node serving " << c.root << "\n";
      return std::move(*db);
    }
    // A node named explicitly must answer; a root's node is used when there is one.
    if (!c.connect.empty()) {
      fail(db.error());
      return nullptr;
    }
    if (c.verbose)
      std::cerr << "evstore: reading the files (" << reason(db.error()) << ")\n";
  } else if (c.verbose) {
    std::cerr << "evstore: reading the files (--no-node)\n";
  }
  return open_files(c, writable);
}

caf::expected<timestamp> parse_ts(const std::string& text, const char* field) {
  if (auto ts = parse_rfc3339(text))
    return *ts;
  return make_error(errc::invalid_timestamp,
                    std::string{field} + " is not an RFC 3339 timestamp: \"" + text + "\"");
}

// --since and --until: RFC 3339, a time ago ("45s", "30m", "1h", "2d"), today or yesterday (from
// midnight UTC).
parsed<timestamp> parse_when(const std::string& text, const char* flag) {
  parsed<timestamp> out;
  if (auto ts = parse_rfc3339(text)) {
    out.value = *ts;
    return out;
  }
  const auto now = timestamp::now();
  const int64_t midnight = now.seconds_since_epoch() - (now.seconds_since_epoch() % 86400 + 86400) % 86400;
  if (text == "today" || text == "yesterday") {
    out.value = timestamp::from_parts(midnight - (text == "yesterday" ? 86400 : 0), 0);
    return out;
  }
  auto ago = parse_age(text);
  if (!ago || !*ago) {
    out.problem = std::string{flag} + " takes an RFC 3339 time, a time ago (45s, 30m, 1h, 2d), "
                  + "today or yesterday; got \"" + text + "\"";
    return out;
  }
  out.value = now - **ago;
  return out;
}

// An event from the command line's fields or a stdin line's JSON object; errors name the field.
caf::expected<event> make_event(const append_args& a) {
  event ev;
  ev.task = a.task;
  ev.type = a.type;
  ev.id = a.id;
  if (a.type.empty())
    return make_error(errc::invalid_type, "type is required (--type)");
  if (!from_string(a.actor, ev.actor))
    return make_error(errc::invalid_actor, "actor must be human, orchestrator, scheduler, agent "
                                           "or system, not \"" + a.actor + "\"");
  // Kept as written: big integers, decimals and escapes reach the log byte for byte.
  auto data = json_payload::parse(a.data);
  if (!data)
    return data.error();
  ev.data = std::move(*data);
  if (a.has_ts || !a.ts.empty()) {
    auto ts = parse_ts(a.ts, "ts");
    if (!ts)
      return ts.error();
    ev.ts = *ts;
  }
  return ev;
}

caf::expected<event> event_from_json(const std::string& line) {
  boost::json::parse_options deep;
  deep.max_depth = 1024; // the reader's limit; data's own limit is json_payload::parse's
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec, {}, deep);
  if (ec || !v.is_object())
    return make_error(errc::invalid_event, "not a JSON object");
  const auto& o = v.as_object();
  append_args a;
  auto text = [&](const char* key, std::string& out) -> caf::error {
    if (auto* f = o.if_contains(key)) {
      if (!f->is_string())
        return make_error(errc::invalid_event, std::string{key} + " must be a string");
      out = std::string{f->as_string()};
    }
    return {};
  };
  for (auto [key, out] : {std::pair{"task", &a.task}, {"type", &a.type}, {"actor", &a.actor},
                          {"id", &a.id}, {"ts", &a.ts}})
    if (auto err = text(key, *out))
      return err;
  a.has_ts = o.contains("ts");
  // data as its bytes in the line, not the DOM's rendering of it (which turns big integers into
  // doubles).
  a.data = "{}";
  if (o.contains("data")) {
    auto data = data_text(line);
    if (!data)
      return make_error(errc::invalid_event, "data cannot be read");
    a.data = std::string{*data};
  }
  return make_event(a);
}

/// A log removed since the listing (as cleanup does) is no finding: verify, stats and tail pass over
/// it. Whatever else stops an open is one.
bool missing(const caf::error& err) {
  return is(err, errc::not_found);
}

/// The size of `task`'s log on disk now, which tail polls (another process writes it); 0 if it has
/// none.
caf::expected<uint64_t> log_size(const log_inspector& logs, const std::string& task) {
  auto log = logs.open_log(task);
  if (log)
    return log->size();
  if (missing(log.error()))
    return uint64_t{0};
  return log.error();
}

// The one task asked for, or every task in the store.
caf::expected<std::vector<std::string>> chosen_tasks(store& db, bool has_task,
                                                     const std::string& task) {
  if (has_task)
    return std::vector<std::string>{task};
  return db.list_tasks(/*include_system_log=*/true);
}

std::atomic<bool> interrupted{false};

/// "30d", "12h", "90m", "45s" or "1234ns": the largest unit the age is a whole number of.
std::string describe_age(caf::timespan age) {
  using namespace std::chrono;
  const std::pair<nanoseconds, const char*> units[] = {
    {hours{24}, "d"}, {hours{1}, "h"}, {minutes{1}, "m"}, {seconds{1}, "s"}};
  for (auto [unit, name] : units)
    if (age.count() % unit.count() == 0)
      return std::to_string(age.count() / unit.count()) + name;
  return std::to_string(age.count()) + "ns";
}

std::string describe(const retention_policy& p) {
  const auto count = p.max_events ? std::to_string(*p.max_events) : std::string{};
  const auto age = p.max_age ? describe_age(*p.max_age) : std::string{};
  if (p.max_events && p.max_age)
    return "keep the newest " + count + " events per task and events newer than " + age;
  if (p.max_events)
    return "keep the newest " + count + " events per task, of any age";
  if (p.max_age)
    return "keep any number of events newer than " + age;
  return "keep every event (only unparsable lines are moved aside)";
}

} // namespace

parsed<uint64_t> parse_whole_number(const std::string& text, uint64_t min, uint64_t max) {
  parsed<uint64_t> out;
  const std::string quoted = "\"" + text + "\"";
  auto all_digits = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (text.empty()) {
    out.problem = "expected a whole number, got an empty string";
    return out;
  }
  if (text[0] == '-' && all_digits(std::string_view{text}.substr(1))) {
    out.problem = "must not be negative, got " + quoted;
    return out;
  }
  if (!all_digits(text)) {
    out.problem = "expected a whole number in decimal digits, got " + quoted;
    return out;
  }
  uint64_t n = 0;
  bool overflow = false;
  for (char ch : text) {
    const auto digit = static_cast<uint64_t>(ch - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      overflow = true;
      break;
    }
    n = n * 10 + digit;
  }
  if (overflow || n > max)
    out.problem = quoted + " is too large (at most " + std::to_string(max) + ")";
  else if (n < min)
    out.problem = quoted + " is too small (at least " + std::to_string(min) + ")";
  else
    out.value = n;
  return out;
}

parsed<caf::optional<caf::timespan>> parse_age(const std::string& text) {
  using namespace std::chrono;
  parsed<caf::optional<caf::timespan>> out;
  if (text == "none") {
    out.value = caf::optional<caf::timespan>{};
    return out;
  }
  const std::string quoted = "\"" + text + "\"";
  static const std::map<std::string, nanoseconds> units{
    {"d", hours{24}}, {"h", hours{1}}, {"m", minutes{1}}, {"s", seconds{1}}};
  const auto digits_end = text.find_first_not_of("0123456789");
  const auto unit = digits_end == std::string::npos ? units.end()
                                                    : units.find(text.substr(digits_end));
  if (text.size() > 1 && text[0] == '-' && text[1] >= '0' && text[1] <= '9') {
    out.problem = "must not be negative, got " + quoted;
    return out;
  }
  if (digits_end == 0 || unit == units.end()) {
    out.problem = "expected a whole number and a unit, like 30d, 12h, 90m or 45s, or none; got "
                  + quoted;
    return out;
  }
  // The age must fit a timespan (signed 64-bit nanoseconds, about 292 years), or now - age wraps.
  const auto most = static_cast<uint64_t>(caf::timespan::max().count() / unit->second.count());
  auto n = parse_whole_number(text.substr(0, digits_end), 0, most);
  if (!n) {
    out.problem = quoted + " is too long: at most " + std::to_string(most) + unit->first
                  + " (about 292 years, the range of a time span)";
    return out;
  }
  if (*n == 0) { // "no limit" to many people; it would remove every event
    out.problem = quoted + " would remove every event; for no age limit say none";
    return out;
  }
  out.value = caf::optional<caf::timespan>{
    caf::timespan{static_cast<int64_t>(*n) * unit->second.count()}};
  return out;
}

parsed<std::string> parse_type_pattern(const std::string& text) {
  parsed<std::string> out;
  std::string pattern = text.empty() ? "*" : text;
  if (pattern.back() == ':')
    pattern += '*'; // the prefix form "a:b:" is "a:b:*"
  if (auto err = validate_pattern(pattern)) {
    out.problem = "\"" + text + "\" is not a type pattern: *, a:b:* (or a:b:), or an exact type "
                  + "such as task:state:running";
    return out;
  }
  out.value = std::move(pattern);
  return out;
}

parsed<double> parse_seconds(const std::string& text) {
  parsed<double> out;
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto fraction = dot == std::string::npos ? std::string{"0"} : text.substr(dot + 1);
  auto w = parse_whole_number(whole, 0, 1'000'000'000);
  if (!w) {
    out.problem = w.error() + " (seconds, e.g. 20 or 0.5)";
    return out;
  }
  if (fraction.empty() || fraction.find_first_not_of("0123456789") != std::string::npos) {
    out.problem = "expected seconds in decimal digits, e.g. 20 or 0.5; got \"" + text + "\"";
    return out;
  }
  out.value = std::strtod(text.c_str(), nullptr); // the syntax is checked: digits[.digits]
  return out;
}

// True if a line (or part of one) can be read from stdin without waiting.
static bool input_ready() {
  if (std::cin.rdbuf()->in_avail() > 0)
    return true;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

// `append -`: lines are parsed and checked here, in input order, and sent in batches with several
// in flight (one round trip per batch, not per line); the store writes a batch's events in order,
// so each task's events keep the input's order. A line that is not a valid event stops the
// reading, and nothing after it is sent. What only the store can refuse (a line over its size
// limit, a type outside the Rust crate's under crate_types_only, a failing disk) is learnt a batch
// later: sending stops there, and every line sent is still reported, written or not.
// What `append` says of each event, and its counts.
struct append_report {
  event_printer& out;
  uint64_t appended = 0, duplicates = 0, failed = 0;

  /// Prints the event as stored (for a duplicate: the one already in the file, not ours).
  void stored(const append_result& res, const std::string& where) {
    out.print(res.ev);
    if (res.duplicate) {
      ++duplicates;
      out.flush(); // the event before the notice about it
      std::cerr << "evstore: " << where << "duplicate: event " << res.ev.id
                << " already stored at position " << res.position << "; nothing written\n";
    } else {
      ++appended;
    }
  }

  void refused(const std::string& why) {
    ++failed;
    out.flush(); // what was stored before it comes first
    fail(why);
  }
};

static void append_lines(store& db, append_report& report) {
  constexpr size_t batch_size = 1024;
  std::string line;
  uint64_t n = 0;
  std::string bad_line;           // why the reading stopped, said after what came before it
  uint64_t store_refused = 0;     // the first line the store refused
  std::deque<std::vector<uint64_t>> lines_in_flight; // the line number of each append sent
  auto next = [&](std::vector<append_request>& batch) {
    std::vector<uint64_t> lines;
    while (batch.size() < batch_size && bad_line.empty() && std::getline(std::cin, line)) {
      ++n;
      if (is_blank_line(line))
        continue;
      auto ev = event_from_json(line);
      caf::error err = ev ? validate_for_append(*ev) : ev.error();
      if (err) {
        bad_line = "stdin line " + std::to_string(n) + ": " + reason(err);
        break;
      }
      lines.push_back(n);
      batch.push_back(append_request{std::move(*ev), caf::none});
      // A producer that writes a line now and then must not wait for 1,024 of them: what has
      // been read goes out as soon as no more input is ready.
      if (!input_ready())
        break;
    }
    if (!batch.empty())
      lines_in_flight.push_back(std::move(lines));
    return bad_line.empty() && std::cin.good();
  };
  auto done = [&](std::vector<append_outcome>& outcomes) {
    auto lines = std::move(lines_in_flight.front());
    lines_in_flight.pop_front();
    if (outcomes.size() != lines.size()) {
      report.refused("the store answered a batch of " + std::to_string(lines.size())
                     + " appends with " + std::to_string(outcomes.size()) + " outcomes");
      store_refused = lines.empty() ? 1 : lines.front();
      return false;
    }
    for (size_t i = 0; i < outcomes.size(); ++i) {
      const auto where = "stdin line " + std::to_string(lines[i]) + ": ";
      auto& o = outcomes[i];
      if (o.error || !o.result) {
        if (store_refused == 0)
          store_refused = lines[i];
        report.refused(where + reason(o.error));
        continue;
      }
      report.stored(*o.result, where);
    }
    return store_refused == 0;
  };
  auto err = db.append_pipelined(next, done);
  if (err)
    report.refused("stdin: " + reason(err) + " (events sent but unanswered may have been written; "
                                             "appending them again is safe)");
  if (!bad_line.empty())
    report.refused(bad_line);
  if (std::cin.bad())
    report.refused("cannot read standard input");
  report.out.flush();
  std::cerr << "evstore: appended " << report.appended << ", duplicates " << report.duplicates
            << ", failed " << report.failed;
  if (!bad_line.empty())
    std::cerr << " (stopped at stdin line " << n << "; the lines after it were not read)";
  else if (store_refused)
    std::cerr << " (the store refused stdin line " << store_refused
              << "; the lines after it sent with it are reported above, later ones were not sent)";
  std::cerr << "\n";
}

int run_append(const common& c, const append_args& a) {
  auto db = open_store(c, true);
  if (!db)
    return exit_failure;
  event_printer out{c.fmt};
  append_report report{out};
  if (a.from_stdin) {
    append_lines(*db, report);
  } else {
    auto ev = make_event(a);
    auto res = ev ? db->append(std::move(*ev)) : caf::expected<append_result>{ev.error()};
    if (res)
      report.stored(*res, "");
    else
      report.refused(reason(res.error()));
  }
  out.flush();
  return report.failed ? exit_failure : report.duplicates ? exit_duplicate : exit_success;
}


namespace {

/// An event and its position among its task's events.
struct positioned {
  event ev;
  uint64_t position = 0;
};

/// Everything the listing commands filter on, parsed.
struct resolved_filter {
  /// Pattern (one, as parse_type_pattern returns it), task and actor: what a subscription judges.
  subscription_filter what;
  caf::optional<timestamp> since, until;
  /// query --partial (query_request::allow_partial).
  bool partial = false;

  const std::string& pattern() const {
    return what.patterns.front();
  }

  bool keeps(const event& ev) const {
    if ((since || until) && !ev.ts)
      return false;
    if ((since && *ev.ts < *since) || (until && *until < *ev.ts))
      return false;
    return matches(what, ev);
  }
};

/// The last `n` events `filter` keeps, oldest first: of the task if the filter names one (read
/// whole), else across all tasks through the index (a query for the pattern, widened until `n`
/// events of the filter are found or there are no more).
caf::expected<std::vector<positioned>> last_matching(store& db, const resolved_filter& filter,
                                                     uint64_t n, read_stats* stats = nullptr,
                                                     std::vector<std::string>* missing = nullptr) {
  std::vector<positioned> out;
  if (n == 0)
    return out;
  if (filter.what.task) {
    auto res = db.read_task(*filter.what.task);
    if (!res)
      return res.error();
    if (stats)
      *stats = res->stats;
    for (size_t i = 0; i < res->events.size(); ++i)
      if (filter.keeps(res->events[i]))
        out.push_back({std::move(res->events[i]), i});
    if (out.size() > n)
      out.erase(out.begin(), out.end() - static_cast<ptrdiff_t>(n));
    return out;
  }
  const auto& pattern = filter.pattern();
  const bool exact = pattern_is_exact(pattern);
  const std::string target{pattern_prefix(pattern)};
  for (uint64_t limit = n;; limit = limit > max_count / 4 ? max_count : limit * 4) {
    auto res = db.query(query_request{target, limit, filter.since, exact, filter.partial});
    if (!res)
      return res.error();
    if (stats)
      *stats = res->stats;
    if (missing)
      *missing = res->missing_nodes;
    out.clear();
    // Queries answer oldest first; the newest n kept are the answer.
    for (size_t i = res->events.size(); i-- > 0 && out.size() < n;)
      if (filter.keeps(res->events[i]))
        out.push_back({std::move(res->events[i]), i < res->positions.size() ? res->positions[i] : 0});
    if (out.size() >= n || res->events.size() < limit || limit == max_count) {
      std::reverse(out.begin(), out.end());
      return out;
    }
  }
}

/// Parses --since, --until, --task and --actor; a usage problem otherwise.
parsed<resolved_filter> resolve(const event_filter& f, std::string pattern = "*") {
  parsed<resolved_filter> out;
  resolved_filter r;
  r.what.patterns = {std::move(pattern)};
  r.partial = f.partial;
  for (auto [text, into, flag] : {std::tuple{&f.since, &r.since, "--since"},
                                  std::tuple{&f.until, &r.until, "--until"}}) {
    if (text->empty())
      continue;
    auto when = parse_when(*text, flag);
    if (!when) {
      out.problem = when.error();
      return out;
    }
    *into = *when;
  }
  if (f.has_task) {
    if (auto err = validate_task_id(f.task)) {
      out.problem = reason(err);
      return out;
    }
    r.what.task = f.task;
  }
  if (!f.actor.empty()) {
    actor_kind kind;
    if (!from_string(f.actor, kind)) {
      out.problem = "--actor must be human, orchestrator, scheduler, agent or system; got \""
                    + f.actor + "\"";
      return out;
    }
    r.what.actor = kind;
  }
  out.value = std::move(r);
  return out;
}

/// tail through a node: one subscription, history (with -n) then live, no polling, no gap, no
/// duplicate, and compactions change nothing for it.
int tail_subscribed(const common& c, store& db, const tail_args& a,
                    const subscription_filter& filter) {
  subscribe_options so;
  so.filter = filter;
  // A task's history is its events from a position on; the last N of the pattern are kept here
  // until caught_up, so no position is ever computed from a read that a compaction could make stale
  // before the subscription starts. Across tasks the bus keeps the last N itself.
  std::deque<event> held;
  const bool hold = a.last > 0 && filter.task;
  if (a.last > 0) {
    catch_up_spec cu;
    if (filter.task)
      cu.from = 0;
    else
      cu.limit = a.last;
    so.catch_up = cu;
  }
  auto sub = db.subscribe(so);
  if (!sub)
    return fail(sub.error());
  event_printer out{c.fmt};
  uint64_t printed = 0;
  bool holding = hold;
  auto show = [&](const event& ev) {
    out.print(ev);
    return a.count && ++printed >= a.count;
  };
  auto start = std::chrono::steady_clock::now();
  while (!interrupted) {
    if (a.timeout_s > 0
        && std::chrono::steady_clock::now() - start > std::chrono::duration<double>(a.timeout_s))
      break;
    auto d = (*sub)->next(std::chrono::milliseconds{100});
    if (!d) {
      if (auto err = (*sub)->error()) {
        out.flush();
        return fail(err);
      }
      out.flush();
      continue;
    }
    if (d->what == delivery::kind::lagged) {
      std::cerr << "evstore: tail fell behind and skipped " << d->missed << " events\n";
      continue;
    }
    if (d->what == delivery::kind::caught_up && holding) {
      holding = false;
      bool done = false;
      for (const auto& ev : held)
        if ((done = show(ev)))
          break;
      held.clear();
      if (done)
        break;
      continue;
    }
    if (d->what != delivery::kind::event)
      continue;
    if (holding) {
      held.push_back(std::move(d->ev));
      if (held.size() > a.last)
        held.pop_front();
      continue;
    }
    if (show(d->ev))
      break;
  }
  out.flush();
  return 0;
}

} // namespace

// Lines a read or query skipped are said on stderr, never silently dropped.
static void warn_skipped(const read_stats& stats) {
  if (stats.corrupt_lines || stats.future_schema_lines)
    std::cerr << "evstore: skipped " << stats.corrupt_lines << " corrupt and "
              << stats.future_schema_lines << " future-schema lines (see `evstore verify`)\n";
}

// As git does for an unknown ref: a task that does not exist is an error (exit 1), not an empty
// answer. The system-wide log ("") always exists.
static int require_task(store& db, const std::string& task) {
  if (task.empty())
    return exit_success;
  auto tasks = db.list_tasks();
  if (!tasks)
    return fail(tasks.error());
  if (!std::binary_search(tasks->begin(), tasks->end(), task))
    return fail("no such task '" + task + "'");
  return exit_success;
}

int run_read(const common& c, const read_args& a) {
  auto filter = resolve(a.filter);
  if (!filter) {
    fail(filter.error());
    return exit_usage;
  }
  if (a.follow && a.from > 0) {
    fail("--from and --follow do not go together (--follow starts with the task's first event)");
    return exit_usage;
  }
  if (a.follow) {
    // A task's events, then its new ones: what tail does for one task, with all its history.
    if (filter->since || filter->until || filter->what.actor) {
      fail("--follow takes no --since, --until or --actor (use tail for live filtering)");
      return exit_usage;
    }
    {
      auto db = open_store(c, false); // closed before tail opens its own
      if (!db)
        return exit_failure;
      if (int rc = require_task(*db, a.task); rc != exit_success)
        return rc;
    }
    tail_args t;
    t.task = a.task;
    t.has_task = true;
    t.last = a.last > 0 ? a.last : max_count;
    return run_tail(c, t);
  }
  auto db = open_store(c, false);
  if (!db)
    return exit_failure;
  auto res = db->read_task(a.task, a.from);
  if (!res)
    return fail(res.error());
  if (res->events.empty())
    if (int rc = require_task(*db, a.task); rc != exit_success)
      return rc;
  std::vector<const event*> kept;
  for (const auto& ev : res->events)
    if (filter->keeps(ev))
      kept.push_back(&ev);
  if (a.last > 0 && kept.size() > a.last)
    kept.erase(kept.begin(), kept.end() - static_cast<ptrdiff_t>(a.last));
  event_printer out{c.fmt};
  for (const auto* ev : kept)
    out.print(*ev);
  out.flush();
  warn_skipped(res->stats);
  return 0;
}

int run_query(const common& c, const std::string& pattern_text, uint64_t limit,
              const event_filter& f) {
  auto pattern = parse_type_pattern(pattern_text);
  if (!pattern) {
    fail(pattern.error());
    return exit_usage;
  }
  auto filter = resolve(f, *pattern);
  if (!filter) {
    fail(filter.error());
    return exit_usage;
  }
  if (f.partial && c.cluster.empty()) {
    fail("--partial is for a cluster (--cluster FILE): a single store answers whole or not at all");
    return exit_usage;
  }
  if (f.partial && f.has_task) {
    fail("--partial is for queries across tasks: with --task, the task's own node answers or the "
         "query fails");
    return exit_usage;
  }
  auto db = open_store(c, false);
  if (!db)
    return exit_failure;
  read_stats skipped;
  std::vector<std::string> missing;
  auto res = last_matching(*db, *filter, limit, &skipped, &missing);
  if (!res)
    return fail(res.error());
  event_printer out{c.fmt};
  for (const auto& p : *res)
    out.print(p.ev);
  out.flush();
  warn_skipped(skipped);
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    std::cerr << "evstore: partial answer: nothing from node(s) " << names
              << ", which could not be reached or did not answer in time\n";
  }
  return 0;
}

int run_tail(const common& c, const tail_args& a) {
  auto pattern = parse_type_pattern(a.pattern);
  if (!pattern) {
    fail(pattern.error());
    return exit_usage;
  }
  event_filter given;
  given.task = a.task;
  given.has_task = a.has_task;
  given.actor = a.actor;
  auto history_filter = resolve(given, *pattern);
  if (!history_filter) {
    fail(history_filter.error());
    return exit_usage;
  }
  // The tool reads the tasks itself; the filter judges types, task and actor.
  const subscription_filter& filter = history_filter->what;
  auto db = open_store(c, false);
  if (!db)
    return exit_failure;
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  if (db->connected())
    return tail_subscribed(c, *db, a, filter);
  // --count counts the history too, as through a node.
  uint64_t printed = 0;
  auto logs = log_inspector::open(c.root);
  if (!logs)
    return fail(logs.error());
  // Another process writes; we poll: a file whose size changed is read from the last event we saw.
  struct seen {
    uint64_t bytes = 0;
    uint64_t events = 0;
  };
  std::map<std::string, seen> files;
  event_printer out{c.fmt};
  auto start = std::chrono::steady_clock::now();
  for (bool first = true; !interrupted; first = false) {
    auto tasks = chosen_tasks(*db, a.has_task, a.task);
    if (!tasks)
      return fail(tasks.error());
    for (const auto& task : *tasks) {
      auto& s = files[task];
      auto size = log_size(*logs, task);
      if (!size)
        return fail(size.error());
      const uint64_t bytes = *size;
      if (bytes == s.bytes)
        continue;
      // Shrunk: compacted, positions changed; start over at its end (what was appended between the
      // compaction and this look is not printed).
      const bool rewritten = bytes < s.bytes;
      auto res = db->read_task(task, rewritten ? 0 : s.events);
      if (!res)
        return fail(res.error());
      s.bytes = bytes;
      if (first || rewritten) { // start at the end: only new events are printed
        s.events = res->events.size();
        continue;
      }
      s.events += res->events.size();
      for (const auto& ev : res->events) {
        if (!matches(filter, ev))
          continue;
        out.print(ev);
        if (a.count && ++printed >= a.count) {
          out.flush();
          return 0;
        }
      }
    }
    // History after the first look, and only what that look counted: an event appended since is
    // printed by the next look, never twice and never skipped.
    if (first && a.last > 0) {
      auto history = last_matching(*db, *history_filter, a.last);
      if (!history)
        return fail(history.error());
      for (const auto& h : *history) {
        auto f = files.find(h.ev.task);
        if (f == files.end() || h.position >= f->second.events)
          continue;
        out.print(h.ev);
        if (a.count && ++printed >= a.count) {
          out.flush();
          return 0;
        }
      }
    }
    out.flush();
    if (a.timeout_s > 0
        && std::chrono::steady_clock::now() - start > std::chrono::duration<double>(a.timeout_s))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(a.interval_ms)));
  }
  return 0;
}

int run_tasks(const common& c) {
  auto db = open_store(c, false);
  if (!db)
    return exit_failure;
  auto tasks = db->list_tasks(/*include_system_log=*/true);
  if (!tasks)
    return fail(tasks.error());
  printer out{c.fmt, {"task"}};
  for (const auto& t : *tasks)
    out.row({t.empty() ? "(system)" : t}, {{"task", t}});
  out.flush();
  return 0;
}

int run_compact(const common& c, const compact_args& a) {
  const retention_policy policy{a.max_events, a.max_age};
  if (auto err = validate(policy)) {
    fail(err);
    return exit_usage;
  }
  if (!a.max_events_given || !a.max_age_given) {
    std::cerr << "evstore: " << (a.dry_run ? "dry run" : "compacting") << " with "
              << (a.max_events_given || a.max_age_given ? "the policy" : "the default policy")
              << ": " << describe(policy);
    if (a.max_events_given || a.max_age_given)
      std::cerr << " (default " << (a.max_events_given ? "--max-age" : "--max-events") << ")";
    else
      std::cerr << " (set --max-events and --max-age, or none, to choose)";
    std::cerr << "\n";
  }
  // A dry run only reads: it takes no lock, and a store open read-only refuses to write anyway.
  auto db = open_store(c, !a.dry_run);
  if (!db)
    return exit_failure;
  auto tasks = chosen_tasks(*db, a.has_task, a.task);
  if (!tasks)
    return fail(tasks.error());
  if (a.has_task) { // a misspelt task would otherwise "succeed" with nothing removed
    auto all = db->list_tasks(/*include_system_log=*/true);
    if (!all)
      return fail(all.error());
    if (std::find(all->begin(), all->end(), a.task) == all->end())
      return fail("compact: the store has no task " + task_label(a.task));
  }
  compact_result total;
  std::vector<std::string> failed;
  // Rows only in a dry run; otherwise a JSON Lines printer that prints nothing, so -o json gives one
  // document (the totals), not an empty array after it.
  printer per_task{a.dry_run ? c.fmt : format::jsonl,
                   {"task", "would_remove", "would_keep", "would_move_corrupt"}};
  {
    progress bar{a.dry_run ? "counting" : "compacting", tasks->size()};
    // One task failing does not stop the others; the failures are listed at the end.
    for (const auto& task : *tasks) {
      auto res = db->compact_task(task, policy, a.dry_run);
      bar.advance();
      if (!res) {
        failed.push_back(task);
        std::cerr << "evstore: compact " << task_label(task) << ": " << reason(res.error()) << "\n";
        continue;
      }
      total.removed += res->removed;
      total.kept += res->kept;
      total.corrupt_moved += res->corrupt_moved;
      if (a.dry_run)
        per_task.row({task.empty() ? "(system)" : task, std::to_string(res->removed),
                      std::to_string(res->kept), std::to_string(res->corrupt_moved)},
                     {{"task", task}, {"would_remove", res->removed}, {"would_keep", res->kept},
                      {"would_move_corrupt", res->corrupt_moved}});
    }
  }
  if (a.dry_run) {
    per_task.flush();
    std::cerr << "evstore: dry run, nothing changed: " << total.removed << " events would be removed, "
              << total.kept << " kept and " << total.corrupt_moved
              << " unparsable lines moved aside, in " << tasks->size() - failed.size() << " tasks\n";
  } else {
    printer out{c.fmt, {"tasks", "removed", "kept", "corrupt_moved", "failed"}};
    out.counts({tasks->size(), total.removed, total.kept, total.corrupt_moved, failed.size()});
    out.flush();
  }
  if (failed.empty())
    return exit_success;
  std::cerr << "evstore: " << (a.dry_run ? "counting" : "compaction") << " failed for "
            << failed.size() << " of " << tasks->size() << " tasks:";
  for (size_t i = 0; i < failed.size() && i < 20; ++i)
    std::cerr << " " << task_label(failed[i]);
  if (failed.size() > 20)
    std::cerr << " and " << failed.size() - 20 << " more";
  std::cerr << (a.dry_run || failed.size() == tasks->size() ? "" : "; the others were compacted")
            << "\n";
  return exit_failure;
}

int run_cleanup(const common& c) {
  auto db = open_store(c, true);
  if (!db)
    return exit_failure;
  // One request does the whole cleanup; on a terminal, the store's counters of it are polled
  // meanwhile for the progress line (each stats request is answered at once, beside it).
  caf::expected<uint64_t> removed{caf::error{}};
  {
    progress bar{"cleaning up", 0};
    std::atomic<bool> done{false};
    std::thread worker([&] {
      removed = db->cleanup_orphaned_tasks();
      done = true;
    });
    while (bar.shown() && !done) {
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
      if (auto s = db->index_statistics(); s && s->cleanup_total > 0)
        bar.update(s->cleanup_done, s->cleanup_total);
    }
    worker.join();
  }
  if (!removed)
    return fail(removed.error());
  printer out{c.fmt, {"removed"}};
  out.counts({*removed});
  out.flush();
  return 0;
}

/// stats and verify read the files themselves; a cluster has no root of its own to read.
int refuse_cluster(const common& c, const char* command) {
  std::cerr << "evstore: usage: " << command << " reads a store's files; run it with --root on each "
            << "node of " << c.cluster << " instead of --cluster\n";
  return exit_usage;
}

int run_stats(const common& c, bool raw_bytes) {
  if (!c.cluster.empty())
    return refuse_cluster(c, "stats");
  auto db = open_store(c, false);
  if (!db)
    return exit_failure;
  auto tasks = db->list_tasks(/*include_system_log=*/true);
  if (!tasks)
    return fail(tasks.error());
  auto logs = log_inspector::open(c.root);
  if (!logs)
    return fail(logs.error());
  uint64_t events = 0, bytes = 0, corrupt = 0, future = 0, torn = 0, unreadable = 0;
  std::set<std::string> types;
  {
    progress bar{"scanning", tasks->size()};
    // A task that cannot be read is reported and counted; the others are still scanned.
    for (const auto& task : *tasks) {
      bar.advance();
      auto log = logs->open_log(task);
      if (!log) {
        if (!missing(log.error())) {
          ++unreadable;
          fail(log.error());
        }
        continue;
      }
      auto counts = log->stats();
      if (!counts) {
        ++unreadable;
        fail("task " + task_label(task) + ": " + reason(counts.error()));
        continue;
      }
      events += counts->events;
      corrupt += counts->corrupt_lines;
      future += counts->future_schema_lines;
      torn += counts->torn_tail;
      bytes += counts->bytes;
      types.insert(counts->types.begin(), counts->types.end());
    }
  }
  printer out{c.fmt, {"tasks", "events", "bytes", "types", "corrupt_lines", "future_schema_lines",
                      "torn_tails", "unreadable_tasks"}};
  const std::vector<uint64_t> values{tasks->size(), events, bytes, types.size(),
                                     corrupt,       future, torn,  unreadable};
  if (c.fmt == format::table && !raw_bytes) {
    // For people: sizes in IEC units and counts with separators; JSON keeps the numbers.
    std::vector<std::string> cells;
    for (size_t i = 0; i < values.size(); ++i)
      cells.push_back(i == 2 ? human_bytes(values[i]) : human_count(values[i]));
    out.row(std::move(cells), {});
  } else {
    out.counts(values);
  }
  out.flush();
  if (unreadable)
    return fail(std::to_string(unreadable) + " of " + std::to_string(tasks->size())
                + " tasks could not be read; the counts leave them out");
  return exit_success;
}

int run_verify(const common& c, bool crate) {
  if (!c.cluster.empty())
    return refuse_cluster(c, "verify");
  auto logs = log_inspector::open(c.root); // also checks format_version
  if (!logs)
    return fail(logs.error());
  // Every entry named like a task, not only those the store would use: a task directory or a log
  // that is a symbolic link, a directory or a FIFO is ignored by the store, and verify says so.
  auto entries = logs->entries();
  if (!entries)
    return fail(entries.error());
  printer out{c.fmt, {"file", "line", "problem"}};
  uint64_t lines = 0, bad = 0, files = 0, unreadable = 0;
  auto report = [&](const std::string& path, uint64_t number, const std::string& problem) {
    out.row({path, std::to_string(number), problem},
            {{"file", path}, {"line", number}, {"problem", problem}});
  };
  for (const auto& entry : *entries) {
    if (!entry.symbolic_link)
      continue;
    ++unreadable;
    report(entry.path, 0,
           "not_regular_file: a symbolic link where a task directory belongs; the store does not "
           "read it");
  }
  const auto dirs = std::count_if(entries->begin(), entries->end(),
                                  [](const task_entry& e) { return !e.symbolic_link; });
  {
    progress bar{"verifying", static_cast<uint64_t>(dirs)};
    for (const auto& entry : *entries) {
      if (entry.symbolic_link)
        continue;
      bar.advance();
      auto log = logs->open_log(entry.task);
      if (!log) {
        if (!missing(log.error())) {
          ++unreadable;
          report(entry.path, 0, reason(log.error()));
        }
        continue;
      }
      ++files;
      uint64_t number = 0;
      auto err = log->for_each_line(
        [&](const log_line& line) {
          number = line.number;
          ++lines;
          if (line.problem.empty())
            return;
          ++bad;
          report(entry.path, line.number, line.problem);
        },
        log_checks{crate});
      if (err) {
        ++unreadable;
        report(entry.path, number + 1, reason(err));
      }
    }
  }
  out.flush();
  std::cerr << "evstore: verified " << lines << " lines in " << files << " files: ";
  if (!bad && !unreadable)
    std::cerr << "all good\n";
  else
    std::cerr << bad << " bad lines, " << unreadable << " logs the store cannot read\n";
  return bad || unreadable ? exit_failure : exit_success;
}

parsed<std::pair<std::string, uint16_t>> parse_host_port(const std::string& text, bool zero_ok) {
  parsed<std::pair<std::string, uint16_t>> out;
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    out.problem = "\"" + text + "\" is not HOST:PORT";
    return out;
  }
  auto port = parse_whole_number(text.substr(colon + 1), zero_ok ? 0 : 1, 65535);
  if (!port) {
    out.problem = "the port of \"" + text + "\": " + port.error();
    return out;
  }
  out.value = std::make_pair(text.substr(0, colon), static_cast<uint16_t>(*port));
  return out;
}

/// This machine's interface addresses, as canonical_address() writes them.
std::set<std::string> local_addresses() {
  std::set<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    return out;
  for (auto* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr)
      continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* bytes = nullptr;
    if (a->ifa_addr->sa_family == AF_INET)
      bytes = &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr;
    else if (a->ifa_addr->sa_family == AF_INET6)
      bytes = &reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr;
    if (bytes != nullptr
        && ::inet_ntop(a->ifa_addr->sa_family, bytes, text, sizeof(text)) != nullptr)
      out.insert(text);
  }
  ::freeifaddrs(list);
  return out;
}

/// An IP address in the one form inet_ntop writes (so "::0001" and "::1" compare equal); a host
/// name as it is.
std::string canonical_address(const std::string& host) {
  unsigned char bytes[sizeof(in6_addr)];
  char text[INET6_ADDRSTRLEN] = {};
  for (int family : {AF_INET, AF_INET6})
    if (::inet_pton(family, host.c_str(), bytes) == 1
        && ::inet_ntop(family, bytes, text, sizeof(text)) != nullptr)
      return text;
  return host;
}

/// A node's root must hold only tasks the membership gives it: a task it holds but another node
/// owns would have its history here and its new appends there (routers send them by the file),
/// which is what changing the membership without moving the tasks does. Refused before serving;
/// 0 if all is well, else the exit status (1, with what is wrong on stderr).
int refuse_foreign_tasks(const common& c, const cluster_membership& members,
                         const std::vector<size_t>& me) {
  std::error_code rebalancing;
  if (std::filesystem::exists(std::filesystem::path{c.root} / rebalance_file_name, rebalancing)) {
    // Tasks are moving: the root holds what the move left, and the node takes no writes until a
    // run of evstore rebalance ends it.
    std::cerr << "evstore: " << c.root << " is in a rebalance that did not end; the node refuses "
              << "requests until evstore rebalance is run again\n";
    return 0;
  }
  auto logs = log_inspector::open(c.root);
  if (!logs)
    return is(logs.error(), errc::not_found) ? 0 : fail(logs.error()); // a new node holds nothing
  auto tasks = logs->tasks();
  if (!tasks)
    return fail(tasks.error());
  uint64_t foreign = 0;
  std::string example;
  for (const auto& task : *tasks) {
    const size_t owner = members.owner_of(task);
    if (std::find(me.begin(), me.end(), owner) != me.end())
      continue;
    // An empty log (a system-wide log never written to, a task whose first append was refused)
    // holds nothing to lose. tasks() lists no link, so the path names the file it listed.
    std::error_code ec;
    const std::filesystem::path root{c.root};
    const auto dir = task.empty() ? root : root / task;
    if (std::filesystem::file_size(dir / "events.jsonl", ec) == 0 && !ec)
      continue;
    if (foreign++ == 0)
      example = task_label(task) + " belongs to '" + members.nodes[owner].name + "'";
  }
  if (foreign == 0)
    return 0;
  std::cerr << "evstore: " << c.root << " holds " << foreign << " task(s) that " << c.cluster
            << " gives to other nodes (" << example << "); served, their history would stay here "
            << "while their appends go there. Serve it under the membership it was written with "
            << "(or move them to their owners: evstore rebalance --from OLD --cluster NEW)\n";
  return exit_failure;
}

int run_serve(const common& c, const std::string& listen) {
  auto where = parse_host_port(listen, true);
  if (!where) {
    std::cerr << "evstore: usage: --listen " << where.error() << "\n";
    return exit_usage;
  }
  // SIGINT and SIGTERM are taken by sigwait below: blocked before the actor system starts, so
  // none of its threads is chosen to run a handler.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  store_options opts;
  opts.root = c.root;
  opts.ack = c.ack;
  opts.crate_types_only = c.crate_types_only;
  opts.serve = true;
  opts.listen_host = (*where).first;
  opts.listen_port = (*where).second;
  if (!c.cluster.empty()) {
    // One of a cluster's nodes: it presents and trusts the cluster's credential, and must be one
    // of its members (a node nobody routes to would take appends no query ever asks for).
    auto members = read_membership(c.cluster);
    if (!members)
      return fail(members.error());
    std::string host = opts.listen_host;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2); // the file keeps IPv6 hosts without brackets
    const bool wildcard = host == "0.0.0.0" || host == "::";
    std::vector<size_t> me; // the members this address can be (a wildcard: each on this port)
    for (size_t i = 0; i < members->nodes.size(); ++i)
      if (members->nodes[i].port == opts.listen_port && (wildcard || members->nodes[i].host == host))
        me.push_back(i);
    if (me.empty()) {
      std::cerr << "evstore: " << listen << " is not the address of a node in " << c.cluster << "\n";
      return exit_usage;
    }
    if (wildcard && me.size() > 1) {
      // Every node on the same port (the usual layout): this one is the member at one of this
      // machine's addresses.
      const auto here = local_addresses();
      std::vector<size_t> mine;
      for (size_t i : me)
        if (here.count(canonical_address(members->nodes[i].host)) > 0)
          mine.push_back(i);
      if (!mine.empty())
        me = std::move(mine);
      else
        std::cerr << "evstore: warning: none of the " << me.size() << " members on port "
                  << opts.listen_port << " names an address of this machine, so this node's "
                  << "tasks are checked against all of them, at start and while it serves (a "
                  << "client whose file swaps these members' addresses goes unnoticed); listen "
                  << "on its own address to have them checked as its own\n";
    }
    if (int rc = refuse_foreign_tasks(c, *members, me))
      return rc;
    opts.serve_credential = members->credential;
    opts.serve_cluster = c.cluster;
    for (size_t i : me)
      opts.serve_as.push_back(members->nodes[i].name);
  }
  auto db = store::open(opts);
  if (!db)
    return fail(db.error());
  std::cerr << "evstore: serving " << c.root << " (the endpoint is in " << c.root
            << "/NODE); stop with SIGINT or SIGTERM\n";
  int sig = 0;
  sigwait(&stop, &sig);
  // Stops accepting, lets the writers finish and sync what they acknowledged, releases the lock
  // and removes NODE.
  db->reset();
  if (c.verbose)
    std::cerr << "evstore: stopped serving on signal " << sig << "\n";
  return 0;
}

int run_rebalance(const common& c, const std::string& from, uint64_t chunk_bytes) {
  if (c.cluster.empty()) {
    std::cerr << "evstore: usage: rebalance needs --cluster NEW (the membership to move to)\n";
    return exit_usage;
  }
  rebalance_options opts;
  opts.from_file = from;
  opts.to_file = c.cluster;
  opts.chunk_bytes = chunk_bytes;
  if (c.verbose)
    opts.after_step = [](const std::string& step) {
      std::cerr << "evstore: " << step << "\n";
      return true;
    };
  auto report = rebalance_cluster(opts);
  if (!report)
    return fail(report.error());
  std::cerr << "evstore: moved " << report->moved << " task(s) (" << report->resumed
            << " committed by an earlier run), " << report->bytes_copied
            << " bytes copied; give every node and client " << c.cluster << " now\n";
  return exit_success;
}

} // namespace evstore::cli
