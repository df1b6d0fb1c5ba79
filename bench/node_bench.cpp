// evstore-node-bench: what serving a store as a CAF node costs its clients. On one generated store,
// in one run: query latency through a connected client against the in-process facade, appends per
// second through a client (pipelined: a window of requests in flight) against in-process, and the
// `evstore query` process's wall time with a node against without one. Prints a table with ratios;
// with --json FILE also writes the figures.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <sys/wait.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <CLI/CLI.hpp>

#include "bench_util.hpp"
#include "dataset.hpp"
#include "sqlite_baseline.hpp"
#include "src/facade/store.hpp"

using namespace bench;
namespace fs = std::filesystem;

namespace {

struct latency {
  double p50 = 0, p99 = 0;
};

latency query_latency(evstore::store& db, const std::string& prefix, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clock_type::now();
    auto res = db.query_by_type_prefix(prefix, 100);
    ms.push_back(ms_since(t0));
    if (!res)
      die("query " + prefix, res.error());
  }
  return {percentile(ms, 0.5), percentile(ms, 0.99)};
}

/// Events per second appended in batches of `batch` by `threads` threads, each waiting for its
/// batch's answer before sending the next (so `threads` batches are in flight).
double batch_throughput(evstore::store& db, int total, int tasks, int batch, int threads) {
  auto t0 = clock_type::now();
  std::vector<std::thread> workers;
  const int per_thread = total / threads;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&, w] {
      for (int done = 0; done < per_thread; done += batch) {
        std::vector<evstore::append_request> reqs;
        for (int k = 0; k < batch && done + k < per_thread; ++k) {
          int n = w * per_thread + done + k;
          reqs.push_back({bench_event(task_name(n % tasks), n), caf::none});
        }
        auto res = db.append_batch(std::move(reqs));
        if (!res)
          die("append_batch", res.error());
        for (auto& o : *res)
          if (o.error)
            die("an append of a batch", o.error);
      }
    });
  for (auto& t : workers)
    t.join();
  return per_thread * threads / std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Lines a shell command prints; exits if it fails.
size_t command_lines(const std::string& cmd) {
  FILE* out = popen(cmd.c_str(), "r");
  size_t lines = 0;
  for (int c; out && (c = std::fgetc(out)) != EOF;)
    lines += c == '\n';
  if (!out || pclose(out) != 0) {
    std::cerr << "node-bench: `" << cmd << "` failed\n";
    std::exit(1);
  }
  return lines;
}

/// Median wall time of `runs` runs of a shell command, process start to exit.
double command_ms(const std::string& cmd, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clock_type::now();
    int rc = std::system((cmd + " >/dev/null").c_str());
    ms.push_back(ms_since(t0));
    if (rc != 0) {
      std::cerr << "node-bench: `" << cmd << "` failed\n";
      std::exit(1);
    }
  }
  return percentile(ms, 0.5);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"evstore-node-bench: a connected client against the in-process store"};
  std::string dir = "/tmp/evstore-node-bench", json_path, cli = EVSTORE_CLI;
  dataset_spec spec;
  int runs = 200, appends = 100'000, cli_runs = 10;
  app.add_option("--dir", dir, "store directory (replaced, removed at the end)");
  app.add_option("--tasks", spec.tasks, "tasks (default 1000)");
  app.add_option("--events", spec.events_per_task, "events per task (default 1000)");
  app.add_option("--runs", runs, "queries per prefix and path (default 200)");
  app.add_option("--appends", appends, "appends per path (default 100000)");
  app.add_option("--cli-runs", cli_runs, "runs of the evstore query process per path (default 10)");
  app.add_option("--cli", cli, "the evstore tool");
  app.add_option("--json", json_path, "also write the figures as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(dir);
  auto info = generate_dataset(dir, spec);
  std::cout << "store: " << spec.tasks << " tasks x " << spec.events_per_task << " events, "
            << info.events << " events, " << info.bytes / 1e6 << " MB\n";
  // The same events in SQLite, for the sqlite3 shell's wall time on the same query (before the
  // appends below, so it holds what the store held then).
  const std::string db_path = dir + "-baseline.sqlite";
  const bool sqlite_shell = std::system("command -v sqlite3 >/dev/null 2>&1") == 0;
  if (sqlite_shell) {
    fs::remove(db_path);
    bench::sqlite_baseline load(dir, db_path);
    std::cout << "sqlite: loaded in " << load.load_seconds() << " s\n";
  } else {
    std::cout << "sqlite: no sqlite3 shell on PATH; its column is left out\n";
  }
  evstore::store_options opts;
  opts.root = dir;
  opts.serve = true;
  auto node = evstore::store::open(opts);
  if (!node)
    die("open with serve", node.error());
  if (auto ready = (*node)->wait_for_index(); !ready)
    die("wait_for_index", ready.error());
  evstore::connect_options co;
  co.root = dir;
  auto client = evstore::store::connect(co);
  if (!client)
    die("connect", client.error());

  boost::json::object figures;
  std::printf("\n%-28s %12s %12s %12s %12s %8s\n", "query (limit 100)", "local p50", "local p99",
              "remote p50", "remote p99", "p50 +ms");
  for (const char* prefix : {"task:state:", "orchestrator:", "agent:message", "merge:"}) {
    // Interleaved rounds, so both paths see the same machine.
    latency local, remote;
    for (int round = 0; round < 2; ++round) {
      local = query_latency(**node, prefix, runs);
      remote = query_latency(**client, prefix, runs);
    }
    std::printf("%-28s %10.3fms %10.3fms %10.3fms %10.3fms %8.3f\n", prefix, local.p50, local.p99,
                remote.p50, remote.p99, remote.p50 - local.p50);
    figures[std::string{"query "} + prefix] = {{"local_p50_ms", local.p50},
                                               {"local_p99_ms", local.p99},
                                               {"remote_p50_ms", remote.p50},
                                               {"remote_p99_ms", remote.p99}};
  }

  double local_rate = append_throughput(**node, appends, spec.tasks, 256);
  double remote_rate = append_throughput(**client, appends, spec.tasks, 256);
  std::printf("\n%-28s %14s %14s %8s\n", "appends (256 in flight)", "local ev/s", "remote ev/s",
              "ratio");
  std::printf("%-28s %14.0f %14.0f %8.2f\n", "agent:message ~200 B", local_rate, remote_rate,
              remote_rate / local_rate);
  double local_batched = batch_throughput(**node, appends, spec.tasks, 256, 4);
  double remote_batched = batch_throughput(**client, appends, spec.tasks, 256, 4);
  std::printf("%-28s %14.0f %14.0f %8.2f\n", "batches of 256, 4 in flight", local_batched,
              remote_batched, remote_batched / local_batched);
  figures["appends"] = {{"local_per_s", local_rate},
                        {"remote_per_s", remote_rate},
                        {"local_batched_per_s", local_batched},
                        {"remote_batched_per_s", remote_batched}};

  auto query_cmd = cli + " --root " + dir + " query task:state: --limit 100";
  double with_node = command_ms(query_cmd, cli_runs);
  double files = command_ms(cli + " --no-node --root " + dir + " query task:state: --limit 100",
                            std::max(1, cli_runs / 3));
  client->reset();
  node->reset();
  // Without a node at all: the reading process opens the store itself (checkpoint plus tails).
  double no_node = command_ms(query_cmd, std::max(1, cli_runs / 3));
  double shell = 0;
  if (sqlite_shell) {
    auto sqlite_cmd = "sqlite3 -readonly " + db_path + " \""
                      + sqlite_baseline::query_text("task:state:", 100) + "\"";
    if (command_lines(sqlite_cmd) != 100) {
      std::cerr << "node-bench: the sqlite3 shell did not print 100 rows\n";
      return 1;
    }
    shell = command_ms(sqlite_cmd, cli_runs);
  }
  std::printf("\n%-28s %12s %12s %12s %12s %8s\n", "query process, start to exit", "node",
              "--no-node", "no node", "sqlite3", "node/sq");
  std::printf("%-28s %10.1fms %10.1fms %10.1fms %10.1fms %8.2f\n", "task:state: --limit 100",
              with_node, files, no_node, shell, sqlite_shell ? with_node / shell : 0.0);
  figures["cli_query"] = {{"node_ms", with_node}, {"no_node_flag_ms", files},
                          {"without_node_ms", no_node}};
  if (sqlite_shell)
    figures["cli_query"].as_object()["sqlite3_shell_ms"] = shell;
  if (!json_path.empty())
    std::ofstream(json_path) << boost::json::serialize(figures) << "\n";
  fs::remove_all(dir);
  fs::remove(db_path);
  return 0;
}
