// evstore: the command-line tool over a store directory. Reading commands open the store read-only
// (no lock, so they work while another process writes); append, compact and cleanup take the write
// lock.
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  using namespace evstore::cli;
  CLI::App app{"evstore: read, query, follow and maintain an evstore event store"};
  app.require_subcommand(1);
  app.fallthrough();
  common c;
  c.root = "./events";
  if (const char* env = std::getenv("EVSTORE_ROOT"); env && *env)
    c.root = env;
  app.add_option("--root", c.root, "store directory (default $EVSTORE_ROOT, else ./events)");
  std::string fmt = "jsonl";
  app.add_option("--format", fmt, "output: jsonl (default) or table")
    ->check(CLI::IsMember({"jsonl", "table"}));

  append_args ap;
  auto* append = app.add_subcommand("append", "append one event, or JSON Lines from stdin with '-'");
  std::string source;
  append->add_option("source", source, "'-': read events as JSON Lines from stdin")
    ->check(CLI::IsMember({"-"}))
    ->each([&](const std::string&) { ap.from_stdin = true; });
  append->add_option("--task", ap.task, "task id (\"\" or omitted: the system-wide log)");
  append->add_option("--type", ap.type, "event type, e.g. task:state:running");
  append->add_option("--actor", ap.actor, "human, orchestrator, scheduler, agent or system");
  append->add_option("--data", ap.data, "JSON payload (default {})");
  append->add_option("--id", ap.id, "event id (default: a new UUID v4)");
  append->add_option("--ts", ap.ts, "RFC 3339 timestamp (default: now)");

  std::string read_task;
  uint64_t read_from = 0;
  auto* read = app.add_subcommand("read", "print a task's events in file order");
  read->add_option("task", read_task, "task id (\"\" for the system-wide log)")->required();
  read->add_option("--from", read_from, "skip the first N events");

  std::string prefix, since;
  uint64_t limit = 100;
  auto* query = app.add_subcommand("query", "the latest events whose type starts with PREFIX");
  query->add_option("prefix", prefix, "type prefix, e.g. task:state:")->required();
  query->add_option("--limit", limit, "how many events (default 100)");
  query->add_option("--since", since, "only events at or after this RFC 3339 time");

  tail_args tl;
  auto* tail = app.add_subcommand("tail", "follow new events as other processes write them");
  tail->add_option("pattern", tl.pattern, "\"*\" (default), a:b:* or an exact type");
  tail->add_option("--task", tl.task, "only this task")->each([&](const std::string&) {
    tl.has_task = true;
  });
  tail->add_option("--interval-ms", tl.interval_ms, "how often to look (default 200)")
    ->check(CLI::PositiveNumber);
  tail->add_option("--count", tl.count, "exit after printing N events");
  tail->add_option("--timeout", tl.timeout_s, "exit after this many seconds");

  auto* tasks = app.add_subcommand("tasks", "list task ids (\"\" is the system-wide log)");

  compact_args cp;
  auto* compact = app.add_subcommand("compact", "apply retention to one task or all");
  compact->add_option("task", cp.task, "task id (default: every task)")->each([&](const std::string&) {
    cp.has_task = true;
  });
  compact->add_option("--max-events", cp.max_events, "keep the newest N events (default 10000)");
  compact->add_option("--max-age", cp.max_age, "drop events older than this: 30d, 12h, 90m, 45s, or none");

  auto* cleanup = app.add_subcommand("cleanup", "remove task directories holding no events");
  auto* stats = app.add_subcommand("stats", "tasks, events, bytes, types and bad lines");
  auto* verify = app.add_subcommand("verify", "check every line; print file:line of each bad one");

  CLI11_PARSE(app, argc, argv);
  c.fmt = fmt == "table" ? format::table : format::jsonl;
  if (*append)
    return run_append(c, ap);
  if (*read)
    return run_read(c, read_task, read_from);
  if (*query)
    return run_query(c, prefix, limit, since);
  if (*tail)
    return run_tail(c, tl);
  if (*tasks)
    return run_tasks(c);
  if (*compact)
    return run_compact(c, cp);
  if (*cleanup)
    return run_cleanup(c);
  if (*stats)
    return run_stats(c);
  if (*verify)
    return run_verify(c);
  return 2;
}
