// evstore: the command-line tool over a store directory. When a node serves the store (`evstore
// serve`, or an orchestrator with store_options::serve), every command goes through it: queries
// answer from its live index, writes go through the store's one writer. Otherwise reading commands
// open the store read-only (no lock, so they work while another process writes); append, compact
// and cleanup take the write lock (compact --dry-run only reads).
//
// Exit status: 0 success; 1 a command failed (see stderr); 2 a usage error (unknown command or flag,
// a number that is negative, too large or not a number, ...), nothing was done; 3 `append` found an
// event already stored under its id (a duplicate: nothing written for it) and nothing failed.
#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "completion.hpp"
#include "src/facade/version.hpp"

namespace {

using namespace evstore::cli;

/// A whole-number flag, parsed by the tool itself: CLI11 reads "-1" into an unsigned as 2^64 - 1, an
/// overflow as the largest value, and "0x10" or "010" in other bases. Anything but decimal digits
/// in [min, max] is a usage error naming the flag.
CLI::Option* add_number(CLI::App* cmd, const std::string& name, uint64_t& out,
                        const std::string& help, uint64_t min = 0, uint64_t max = max_count) {
  return cmd
    ->add_option_function<std::string>(
      name,
      [&out, flag = name.substr(name.rfind(',') + 1), min, max](const std::string& text) {
        auto n = parse_whole_number(text, min, max);
        if (!n)
          throw CLI::ValidationError(flag, n.error()); // "--limit", not "-n,--limit"
        out = *n;
      },
      help)
    ->type_name("N");
}

/// --since and --until on a listing command.
void add_time_filters(CLI::App* cmd, event_filter& f) {
  cmd->add_option("--since", f.since,
                  "only events at or after: RFC 3339, a time ago (45s, 30m, 1h, 2d), today or "
                  "yesterday")
    ->type_name("TIME");
  cmd->add_option("--until", f.until, "only events at or before (the same forms)")
    ->type_name("TIME");
}

/// `--durability` on a writing command.
void add_durability(CLI::App* cmd, std::string& out) {
  cmd->add_option("--durability", out,
                  "when an append is acknowledged: written (after write(2), default) or fsynced "
                  "(after fdatasync(2))")
    ->check(CLI::IsMember({"written", "fsynced"}));
}

/// The options every subcommand takes, before or after its name, and shows in its --help.
struct global_options {
  common& c;
  std::string& fmt;

  void add_to(CLI::App* cmd) const {
    auto& common = c;
    cmd->add_option("--root", common.root,
                    "store directory (default $EVSTORE_ROOT, else ./events)");
    cmd->add_option("-o,--output,--format", fmt, "output: jsonl (default), json or table")
      ->check(CLI::IsMember({"jsonl", "json", "table"}));
    cmd->add_flag("--no-node", common.no_node, "work on the files even when a node serves the store");
    cmd->add_option_function<std::string>(
          "--connect",
          [&common](const std::string& text) {
            auto where = parse_host_port(text, false);
            if (!where)
              throw CLI::ValidationError("--connect", where.error());
            common.connect = text;
          },
          "use the node at HOST:PORT (with --credential, or the root's node.pem)")
      ->type_name("HOST:PORT");
    cmd->add_option("--credential", common.credential,
                    "the store's node credential (default <root>/node.pem)");
    cmd->add_option("--cluster", common.cluster,
                    "a cluster's membership file: commands go to its nodes; serve serves the root "
                    "as one of them")
      ->type_name("FILE");
    cmd->add_flag("-v,--verbose", common.verbose,
                  "say on stderr whether a node or the files answered");
  }

  /// Global options that take a value: a word after one is its value, not a command.
  static bool takes_value(const std::string& arg) {
    for (const char* name :
         {"--root", "-o", "--output", "--format", "--connect", "--credential", "--cluster"})
      if (arg == name)
        return true;
    return false;
  }
};

/// Edits (insertions, deletions, substitutions) between two words.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// The first word of the command line that is not an option or an option's value, if it names no
/// subcommand: "unknown command 'quer'; did you mean 'query'?" (git's habit). Empty if the
/// command line has no such word.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--")
      return {};
    if (!arg.empty() && arg[0] == '-') {
      if (global_options::takes_value(arg))
        ++i;
      continue;
    }
    std::string best;
    size_t best_distance = 3; // at most two edits away, or no suggestion
    std::vector<std::string> starting_with_it;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == arg)
        return {};
      size_t d = edit_distance(arg, sub->get_name());
      if (d < best_distance) {
        best_distance = d;
        best = sub->get_name();
      }
      if (arg.size() >= 2 && sub->get_name().rfind(arg, 0) == 0)
        starting_with_it.push_back(sub->get_name());
    }
    // A prefix of exactly one command ("verif" for verify) is a clear intent too; "comp" is not.
    if (best.empty() && starting_with_it.size() == 1)
      best = starting_with_it.front();
    std::string msg = "unknown command '" + arg + "'";
    if (!best.empty())
      msg += "; did you mean '" + best + "'?";
    return msg;
  }
  return {};
}

} // namespace

int main(int argc, char** argv) {
  // std::cin with a buffer of its own, so `append -` can tell whether a line is already waiting
  // (in_avail); nothing here reads stdin through stdio.
  std::ios::sync_with_stdio(false);
  // Character widths for tables (wcwidth) need a UTF-8 character type; nothing else is localised.
  if (!std::setlocale(LC_CTYPE, "C.UTF-8"))
    std::setlocale(LC_CTYPE, "");
  CLI::App app{"evstore: read, query, follow and maintain an evstore event store"};
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "evstore: usage: " + std::string{e.what()} + "\nRun with --help for more information.\n";
  });
  app.footer("Exit status: 0 success, 1 failure, 2 usage error, 3 append found a duplicate.");
  app.require_subcommand(1);
  app.fallthrough();
  common c;
  c.root = "./events";
  if (const char* env = std::getenv("EVSTORE_ROOT"); env && *env)
    c.root = env;
  std::string fmt = "jsonl";
  const global_options globals{c, fmt};
  globals.add_to(&app);
  app.set_version_flag("--version", std::string{"evstore "} + evstore::version()
                                      + " (store format version "
                                      + std::to_string(evstore::format_version()) + ")");
  std::string durability = "written";

  append_args ap;
  auto* append = app.add_subcommand("append", "append one event, or JSON Lines from stdin with '-'");
  append->footer("Exit status 3: an event with this id was already stored (a retry); the stored "
                 "event is printed and nothing is written. With '-', a summary goes to stderr.");
  std::string source;
  append->add_option("source", source, "'-': read events as JSON Lines from stdin")
    ->check(CLI::IsMember({"-"}))
    ->each([&](const std::string&) { ap.from_stdin = true; });
  append->add_option("--task", ap.task, "task id (\"\" or omitted: the system-wide log)");
  append->add_option("--type", ap.type, "event type, e.g. task:state:running");
  append->add_option("--actor", ap.actor, "human, orchestrator, scheduler, agent or system");
  append->add_option("--data", ap.data, "JSON payload (default {})");
  append->add_option("--id", ap.id, "event id (default: a new UUID v4)");
  append->add_option("--ts", ap.ts, "RFC 3339 timestamp (default: now)")
    ->each([&](const std::string&) { ap.has_ts = true; });
  add_durability(append, durability);
  append->add_flag("--crate-types", c.crate_types_only,
                   "refuse types the Rust crate does not read (for a store shared with it)");

  read_args rd;
  auto* read = app.add_subcommand("read", "print a task's events in file order");
  read->add_option("task", rd.task, "task id (\"\" for the system-wide log)")->required();
  add_number(read, "--from", rd.from, "skip the first N events");
  add_number(read, "-n,--limit", rd.last, "only the last N events (after the filters)");
  read->add_flag("-f,--follow", rd.follow, "then print the task's new events as they come");
  add_time_filters(read, rd.filter);
  read->add_option("--actor", rd.filter.actor, "only events of this actor");

  std::string pattern;
  event_filter qf;
  uint64_t limit = 100;
  auto* query = app.add_subcommand(
    "query", "the latest events, across all tasks, whose type matches PATTERN");
  query->add_option("pattern", pattern,
                    "*, a:b:* (or a:b:, every type starting with it) or an exact type")
    ->required();
  add_number(query, "-n,--limit", limit, "how many events (default 100)");
  add_time_filters(query, qf);
  query->add_option("--task", qf.task, "only events of this task")->each([&](const std::string&) {
    qf.has_task = true;
  });
  query->add_option("--actor", qf.actor, "only events of this actor");
  query->add_flag("--partial", qf.partial,
                  "with --cluster: answer from the nodes that can be reached, naming the others "
                  "on stderr, instead of failing");

  tail_args tl;
  auto* tail = app.add_subcommand(
    "tail", "follow new events: through the node's bus when one serves the store, else by polling");
  tail->add_option("pattern", tl.pattern,
                   "* (default), a:b:* (or a:b:) or an exact type");
  bool follow_flag = false;
  tail->add_flag("-f,--follow", follow_flag, "follow (what tail always does; for journalctl's habit)");
  tail->add_option("--actor", tl.actor, "only events of this actor");
  tail->add_option("--task", tl.task, "only this task")->each([&](const std::string&) {
    tl.has_task = true;
  });
  add_number(tail, "--interval-ms", tl.interval_ms, "how often to look (default 200, at most 3600000)",
             1, 3'600'000);
  add_number(tail, "--count", tl.count, "exit after printing N events (default 0: follow)");
  add_number(tail, "-n,--last,--limit", tl.last,
             "first print the last N matching events (default 0: start at the end)");
  tail->add_option_function<std::string>(
        "--timeout",
        [&](const std::string& text) {
          auto s = parse_seconds(text);
          if (!s)
            throw CLI::ValidationError("--timeout", s.error());
          tl.timeout_s = *s;
        },
        "exit after this many seconds, e.g. 20 or 0.5 (default 0: never)")
    ->type_name("SECONDS");

  auto* tasks = app.add_subcommand("tasks", "list task ids (\"\" is the system-wide log)");

  compact_args cp;
  auto* compact = app.add_subcommand("compact", "apply retention to one task or all");
  compact->footer("Without --max-events or --max-age, the default applies (10000 events, 30d) and "
                  "is printed on stderr. A task that fails is reported and the others are still "
                  "compacted; the exit status is then 1.");
  compact->add_option("task", cp.task, "task id (default: every task)")->each([&](const std::string&) {
    cp.has_task = true;
  });
  compact
    ->add_option_function<std::string>(
      "--max-events",
      [&](const std::string& text) {
        cp.max_events_given = true;
        if (text == "none") {
          cp.max_events = caf::none;
          return;
        }
        auto n = parse_whole_number(text, 0, max_count);
        if (!n)
          throw CLI::ValidationError("--max-events", n.error() + " (or none)");
        // 0 reads as "no limit" to many people, and would remove every event: say which.
        if (*n == 0)
          throw CLI::ValidationError("--max-events", "0 would remove every event; for no limit "
                                                     "say none");
        cp.max_events = *n;
      },
      "keep the newest N events per task (N >= 1, default 10000), or none: any number")
    ->type_name("N|none");
  compact
    ->add_option_function<std::string>(
      "--max-age",
      [&](const std::string& text) {
        cp.max_age_given = true;
        auto age = parse_age(text);
        if (!age)
          throw CLI::ValidationError("--max-age", age.error());
        cp.max_age = *age;
      },
      "drop events older than this (default 30d): 30d, 12h, 90m, 45s, or none")
    ->type_name("AGE|none");
  compact->add_flag("--dry-run", cp.dry_run,
                    "report per task what would be removed; change nothing (takes no lock)");
  add_durability(compact, durability);

  auto* cleanup = app.add_subcommand("cleanup", "remove task directories holding no events");
  add_durability(cleanup, durability);
  auto* stats = app.add_subcommand("stats", "tasks, events, bytes, types and bad lines");
  bool raw_bytes = false;
  stats->add_flag("--bytes", raw_bytes, "in a table, sizes in bytes instead of KiB, MiB, GiB");
  auto* verify = app.add_subcommand("verify", "check every line; print file:line of each bad one");
  bool verify_crate = false;
  verify->add_flag("--crate", verify_crate,
                   "also report lines the Rust crate would skip (types outside its list, no data, "
                   "ids that are not uuids)");

  std::string listen = "127.0.0.1:0";
  auto* serve = app.add_subcommand(
    "serve", "serve the store to other processes as a CAF node until SIGINT or SIGTERM");
  serve->footer("Only processes that can read <root>/node.pem (created mode 0600) can connect. "
                "The endpoint is written to <root>/NODE; reading commands use it by themselves.");
  serve->add_option("--listen", listen,
                    "address to listen on (default 127.0.0.1:0: loopback, any free port)")
    ->type_name("HOST:PORT");
  add_durability(serve, durability);

  std::string rebalance_from;
  auto* rebalance = app.add_subcommand(
    "rebalance", "move the tasks whose owner differs between --from and --cluster to their new "
                 "owner (every node of both files must be up)");
  rebalance->footer("Writes and reads pause on every node until it ends; run it again if it was "
                    "stopped. Then give every node and client the new file.");
  rebalance->add_option("--from", rebalance_from, "the membership file the nodes serve now")
    ->required()
    ->type_name("FILE");
  uint64_t rebalance_chunk = uint64_t{1} << 20;
  rebalance->add_option("--chunk-bytes", rebalance_chunk, "bytes per copied chunk (default 1 MiB)")
    ->check(CLI::PositiveNumber)
    ->type_name("N");

  std::string shell;
  auto* completion = app.add_subcommand("completion", "print a shell completion script");
  completion->footer("bash: evstore completion bash > ~/.local/share/bash-completion/completions/"
                     "evstore; zsh: evstore completion zsh > a directory on $fpath, as _evstore. "
                     "cmake --install installs both.");
  completion->add_option("shell", shell, "bash or zsh")
    ->required()
    ->check(CLI::IsMember({"bash", "zsh"}));

  for (auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    globals.add_to(sub);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() != 0) {
      if (auto unknown = unknown_command(app, argc, argv); !unknown.empty()) {
        std::cerr << "evstore: usage: " << unknown << "\nRun with --help for more information.\n";
        return exit_usage;
      }
    }
    return app.exit(e) == 0 ? 0 : exit_usage; // --help and --version exit 0
  }
  c.fmt = fmt == "table" ? format::table : fmt == "json" ? format::json : format::jsonl;
  c.ack = durability == "fsynced" ? evstore::durability::fsynced : evstore::durability::written;
  int rc = exit_usage;
  if (*append)
    rc = run_append(c, ap);
  else if (*read)
    rc = run_read(c, rd);
  else if (*query)
    rc = run_query(c, pattern, limit, qf);
  else if (*tail)
    rc = run_tail(c, tl);
  else if (*tasks)
    rc = run_tasks(c);
  else if (*compact)
    rc = run_compact(c, cp);
  else if (*cleanup)
    rc = run_cleanup(c);
  else if (*stats)
    rc = run_stats(c, raw_bytes);
  else if (*verify)
    rc = run_verify(c, verify_crate);
  else if (*serve)
    rc = run_serve(c, listen);
  else if (*rebalance)
    rc = run_rebalance(c, rebalance_from, rebalance_chunk);
  else if (*completion) {
    std::cout << (shell == "bash" ? bash_completion(app) : zsh_completion(app));
    rc = exit_success;
  }
  // Output that never arrived (a full disk, a closed pipe) is a failure, not a success.
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "evstore: cannot write to standard output\n";
    return rc == 0 || rc == exit_duplicate ? exit_failure : rc;
  }
  return rc;
}
