#include "commands.hpp"

// GCC 12 at -O2 reports caf::optional's union member as maybe uninitialised when a retention_policy
// is copied into a message; it is always initialised (a false positive, also seen with std::optional).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <atomic>
#include <csignal>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evstore/store.hpp"
#include "line_codec.hpp"
#include "line_reader.hpp"
#include "pattern.hpp"
#include "store_layout.hpp"
#include "timestamp_format.hpp"

namespace evstore::cli {

namespace {

int fail(const std::string& what) {
  std::cerr << "evstore: " << what << "\n";
  return 1;
}

int fail(const caf::error& err) {
  std::cerr << render(err) << "\n"; // already "evstore: <code>: <context>"
  return 1;
}

std::unique_ptr<store> open_store(const common& c, bool writable) {
  store_options opts;
  opts.root = c.root;
  opts.read_only = !writable;
  auto db = store::open(opts);
  if (!db) {
    fail(db.error());
    return nullptr;
  }
  return std::move(*db);
}

caf::expected<timestamp> parse_ts(const std::string& text, const char* field) {
  if (auto ts = parse_timestamp(text))
    return *ts;
  return make_error(errc::invalid_timestamp,
                    std::string{field} + " is not an RFC 3339 timestamp: \"" + text + "\"");
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
  boost::system::error_code ec;
  ev.data = boost::json::parse(a.data, ec);
  if (ec)
    return make_error(errc::invalid_event, "data is not JSON: " + ec.message());
  if (!a.ts.empty()) {
    auto ts = parse_ts(a.ts, "ts");
    if (!ts)
      return ts.error();
    ev.ts = *ts;
  }
  return ev;
}

caf::expected<event> event_from_json(const std::string& line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
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
  a.data = "{}";
  auto ev = make_event(a);
  if (ev)
    if (auto* d = o.if_contains("data"))
      ev->data = *d;
  return ev;
}

uint64_t file_size(const std::string& path) {
  struct stat sb {};
  return ::stat(path.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

// Parses "30d", "12h", "90m", "45s"; "none" means no age limit.
caf::expected<caf::optional<caf::timespan>> parse_age(const std::string& text) {
  if (text == "none")
    return caf::optional<caf::timespan>{};
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (...) {
    used = 0;
  }
  static const std::map<std::string, std::chrono::seconds> units{
    {"d", std::chrono::hours{24}}, {"h", std::chrono::hours{1}},
    {"m", std::chrono::minutes{1}}, {"s", std::chrono::seconds{1}}};
  auto unit = units.find(text.substr(used));
  if (used == 0 || unit == units.end())
    return make_error(errc::invalid_argument,
                      "--max-age must look like 30d, 12h, 90m, 45s or none, not \"" + text + "\"");
  return caf::optional<caf::timespan>{caf::timespan{unit->second * n}};
}

// The one task asked for, or every task in the store.
caf::expected<std::vector<std::string>> chosen_tasks(store& db, bool has_task,
                                                     const std::string& task) {
  if (has_task)
    return std::vector<std::string>{task};
  return db.list_tasks();
}

std::atomic<bool> interrupted{false};

} // namespace

int run_append(const common& c, const append_args& a) {
  auto db = open_store(c, true);
  if (!db)
    return 1;
  event_printer out{c.fmt};
  auto append_one = [&](caf::expected<event> ev, const std::string& where) {
    if (!ev)
      return fail(where + render(ev.error()).substr(sizeof("evstore: ") - 1));
    auto res = db->append(std::move(*ev));
    if (!res)
      return fail(where + render(res.error()).substr(sizeof("evstore: ") - 1));
    out.print(res->ev);
    return 0;
  };
  int rc = 0;
  if (!a.from_stdin) {
    rc = append_one(make_event(a), "");
  } else {
    std::string line;
    for (uint64_t n = 1; rc == 0 && std::getline(std::cin, line); ++n)
      if (!is_blank_line(line))
        rc = append_one(event_from_json(line), "stdin line " + std::to_string(n) + ": ");
  }
  out.flush();
  return rc;
}

int run_read(const common& c, const std::string& task, uint64_t from) {
  auto db = open_store(c, false);
  if (!db)
    return 1;
  auto res = db->read_task(task, from);
  if (!res)
    return fail(res.error());
  event_printer out{c.fmt};
  for (const auto& ev : res->events)
    out.print(ev);
  out.flush();
  if (res->stats.corrupt_lines || res->stats.future_schema_lines)
    std::cerr << "evstore: skipped " << res->stats.corrupt_lines << " corrupt and "
              << res->stats.future_schema_lines << " future-schema lines (see `evstore verify`)\n";
  return 0;
}

int run_query(const common& c, const std::string& prefix, uint64_t limit, const std::string& since) {
  caf::optional<timestamp> from;
  if (!since.empty()) {
    auto ts = parse_ts(since, "--since");
    if (!ts)
      return fail(ts.error());
    from = *ts;
  }
  auto db = open_store(c, false);
  if (!db)
    return 1;
  auto res = db->query_by_type_prefix(prefix, limit, from);
  if (!res)
    return fail(res.error());
  event_printer out{c.fmt};
  for (const auto& ev : res->events)
    out.print(ev);
  out.flush();
  return 0;
}

int run_tail(const common& c, const tail_args& a) {
  if (auto err = validate_pattern(a.pattern))
    return fail(err);
  auto db = open_store(c, false);
  if (!db)
    return 1;
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  // Another process writes; we poll: a file whose size changed is read from the last event we saw.
  struct seen {
    uint64_t bytes = 0;
    uint64_t events = 0;
  };
  std::map<std::string, seen> files;
  event_printer out{c.fmt};
  uint64_t printed = 0;
  auto start = std::chrono::steady_clock::now();
  for (bool first = true; !interrupted; first = false) {
    auto tasks = chosen_tasks(*db, a.has_task, a.task);
    if (!tasks)
      return fail(tasks.error());
    for (const auto& task : *tasks) {
      auto& s = files[task];
      auto bytes = file_size(events_path(c.root, task));
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
        if (!pattern_matches(a.pattern, ev.type))
          continue;
        out.print(ev);
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
    std::this_thread::sleep_for(std::chrono::milliseconds(a.interval_ms));
  }
  return 0;
}

int run_tasks(const common& c) {
  auto db = open_store(c, false);
  if (!db)
    return 1;
  auto tasks = db->list_tasks();
  if (!tasks)
    return fail(tasks.error());
  printer out{c.fmt, {"task"}};
  for (const auto& t : *tasks)
    out.row({t.empty() ? "(system)" : t}, {{"task", t}});
  out.flush();
  return 0;
}

int run_compact(const common& c, const compact_args& a) {
  auto age = parse_age(a.max_age);
  if (!age)
    return fail(age.error());
  const retention_policy policy{
    a.max_events ? caf::optional<uint64_t>{*a.max_events} : caf::optional<uint64_t>{}, *age};
  auto db = open_store(c, true);
  if (!db)
    return 1;
  auto tasks = chosen_tasks(*db, a.has_task, a.task);
  if (!tasks)
    return fail(tasks.error());
  compact_result total;
  {
    progress bar{"compacting", tasks->size()};
    for (const auto& task : *tasks) {
      auto res = db->compact_task(task, policy);
      if (!res)
        return fail(res.error());
      total.removed += res->removed;
      total.kept += res->kept;
      total.corrupt_moved += res->corrupt_moved;
      bar.advance();
    }
  }
  printer out{c.fmt, {"tasks", "removed", "kept", "corrupt_moved"}};
  out.counts({tasks->size(), total.removed, total.kept, total.corrupt_moved});
  out.flush();
  return 0;
}

int run_cleanup(const common& c) {
  auto db = open_store(c, true);
  if (!db)
    return 1;
  auto removed = db->cleanup_orphaned_tasks();
  if (!removed)
    return fail(removed.error());
  printer out{c.fmt, {"removed"}};
  out.counts({*removed});
  out.flush();
  return 0;
}

int run_stats(const common& c) {
  auto db = open_store(c, false);
  if (!db)
    return 1;
  auto tasks = db->list_tasks();
  if (!tasks)
    return fail(tasks.error());
  uint64_t events = 0, bytes = 0, corrupt = 0, future = 0, torn = 0;
  std::set<std::string> types;
  {
    progress bar{"scanning", tasks->size()};
    for (const auto& task : *tasks) {
      auto res = db->read_task(task);
      if (!res)
        return fail(res.error());
      events += res->events.size();
      corrupt += res->stats.corrupt_lines;
      future += res->stats.future_schema_lines;
      torn += res->stats.torn_tail;
      bytes += file_size(events_path(c.root, task));
      for (const auto& ev : res->events)
        types.insert(ev.type);
      bar.advance();
    }
  }
  printer out{c.fmt, {"tasks", "events", "bytes", "types", "corrupt_lines", "future_schema_lines",
                      "torn_tails"}};
  out.counts({tasks->size(), events, bytes, types.size(), corrupt, future, torn});
  out.flush();
  return 0;
}

int run_verify(const common& c) {
  if (auto err = open_root(c.root, true))
    return fail(err);
  auto tasks = list_task_ids(c.root);
  if (!tasks)
    return fail(tasks.error());
  printer out{c.fmt, {"file", "line", "problem"}};
  uint64_t lines = 0, bad = 0;
  {
    progress bar{"verifying", tasks->size()};
    for (const auto& task : *tasks) {
      auto path = events_path(c.root, task);
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        bar.advance();
        continue; // removed since the listing
      }
      uint64_t number = 0;
      int err = for_each_line(fd, 0, [&](const raw_line& line) {
        ++number;
        ++lines;
        const char* problem = nullptr;
        if (!line.terminated)
          problem = "torn last line (no newline): an interrupted write";
        else if (!is_blank_line(line.text) && decode_line(line.text).status == line_status::corrupt)
          problem = "not a valid event";
        if (!problem)
          return;
        ++bad;
        out.row({path, std::to_string(number), problem},
                {{"file", path}, {"line", number}, {"problem", problem}});
      });
      ::close(fd);
      if (err != 0)
        return fail(io_error("cannot read", path, err));
      bar.advance();
    }
  }
  out.flush();
  std::cerr << "evstore: verified " << lines << " lines in " << tasks->size() << " files: "
            << (bad ? std::to_string(bad) + " bad" : std::string{"all good"}) << "\n";
  return bad ? 1 : 0;
}

} // namespace evstore::cli
