// evstore-cluster-bench: what spreading a store over nodes costs and gives (issue 15). One generated
// store is split by the cluster's ownership rule among 1, 2 and 3 node processes (`evstore serve
// --cluster`, on loopback); each cluster is measured through store::connect_cluster, and the same
// events in one in-process store are measured in the same run: query latency (limit 100) and
// appends per second, single (a window in flight) and in batches. Prints a table with ratios to the
// in-process store; with --json FILE also writes the figures.
//
// On this 2-core machine every node and the client share the same two cores, so more nodes cannot
// show more throughput, only what each added node costs a query (one more round trip, merged) and
// what routing costs an append.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <CLI/CLI.hpp>

#include "bench_util.hpp"
#include "dataset.hpp"
#include "src/cluster/membership.hpp"
#include "src/cluster/rebalance.hpp"
#include "src/facade/node.hpp"
#include "src/facade/store.hpp"
#include "tests/support/node_process.hpp"

using namespace bench;
using evstore::testing::free_port;
using evstore::testing::start_cluster_node;
namespace fs = std::filesystem;

namespace {

const char* const prefixes[] = {"task:state:", "orchestrator:", "agent:message", ""};
const char* const node_names[] = {"alpha", "beta", "gamma"};

struct figures {
  double p50[std::size(prefixes)] = {};
  double p99[std::size(prefixes)] = {};
  double appends = 0;
  double batched = 0;
};

figures measure(evstore::store& db, int tasks, int runs, int appends) {
  figures out;
  for (size_t q = 0; q < std::size(prefixes); ++q) {
    std::vector<double> ms;
    for (int r = -5; r < runs; ++r) {
      auto t0 = clock_type::now();
      auto res = db.query_by_type_prefix(prefixes[q], 100);
      if (!res)
        die(std::string{"query "} + prefixes[q], res.error());
      if (r >= 0)
        ms.push_back(ms_since(t0));
    }
    out.p50[q] = percentile(ms, 0.5);
    out.p99[q] = percentile(ms, 0.99);
  }
  out.appends = append_throughput(db, appends, tasks, 256);
  // Batches of 256 from 4 threads, each waiting for its batch before the next.
  auto t0 = clock_type::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&, w] {
      for (int done = 0; done < appends / 4; done += 256) {
        std::vector<evstore::append_request> batch;
        for (int k = 0; k < 256; ++k) {
          const int n = w * appends + done + k;
          batch.push_back({bench_event(task_name(n % tasks), n), caf::none});
        }
        if (auto res = db.append_batch(std::move(batch)); !res)
          die("append_batch", res.error());
      }
    });
  for (auto& w : workers)
    w.join();
  out.batched = (appends / 4 + 255) / 256 * 256 * 4 / std::chrono::duration<double>(clock_type::now() - t0).count();
  return out;
}

/// The nodes of one cluster: their processes, stopped (SIGTERM, then waited for) on destruction.
struct cluster_run {
  std::vector<pid_t> pids;
  ~cluster_run() {
    for (pid_t p : pids)
      ::kill(p, SIGTERM);
    for (pid_t p : pids)
      ::waitpid(p, nullptr, 0);
  }
};

/// Writes a membership file naming the first `n` nodes at `ports`.
void write_membership(const std::string& file, const std::string& cred, int n,
                      const std::vector<uint16_t>& ports) {
  std::ofstream out{file};
  out << "credential " << cred << "\n";
  for (int i = 0; i < n; ++i)
    out << node_names[i] << " 127.0.0.1:" << ports[i] << "\n";
}

/// Fills `roots` (one per member of `file`) with the tasks of `whole` the file gives each (the
/// system-wide log: its system node's); every root gets a format_version.
void split_store(const std::string& whole, const std::string& file,
                 const std::vector<std::string>& roots) {
  auto members = evstore::read_membership(file);
  if (!members)
    die("membership", members.error());
  for (const auto& r : roots)
    fs::create_directories(r);
  for (const auto& entry : fs::directory_iterator(whole)) {
    const auto name = entry.path().filename().string();
    const bool task = entry.is_directory();
    if (!task && name != "events.jsonl" && name != "format_version")
      continue;
    if (name == "format_version") {
      for (const auto& r : roots)
        fs::copy(entry.path(), r + "/" + name);
      continue;
    }
    const size_t owner = task ? members->owner_of(name) : members->system_node;
    fs::copy(entry.path(), roots[owner] + "/" + name, fs::copy_options::recursive);
  }
}

struct move_figures {
  uint64_t tasks = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double plain_copy_seconds = 0;
};

/// Adds a third node to two holding `whole` and times evstore rebalance moving its tasks to it,
/// `parallel` at a time; the baseline is a plain copy of the same task directories (cp -r, one
/// file system) timed just before.
move_figures measure_rebalance(const std::string& dir, const std::string& whole,
                               const std::string& cred, const std::string& cli, size_t parallel) {
  std::vector<uint16_t> ports{free_port(), free_port(), free_port()};
  const auto old_file = dir + "/old.conf", new_file = dir + "/new.conf";
  write_membership(old_file, cred, 2, ports);
  write_membership(new_file, cred, 3, ports);
  std::vector<std::string> roots;
  for (const char* name : node_names)
    roots.push_back(dir + "/" + name);
  split_store(whole, old_file, {roots[0], roots[1]});
  fs::create_directories(roots[2]);
  fs::copy(whole + "/format_version", roots[2] + "/format_version");
  move_figures out;
  auto to = evstore::read_membership(new_file);
  const auto copy_dir = dir + "/plain-copy";
  fs::create_directories(copy_dir);
  auto t0 = clock_type::now();
  for (int i = 0; i < 2; ++i)
    for (const auto& entry : fs::directory_iterator(roots[i]))
      if (entry.is_directory() && to->owner_of(entry.path().filename().string()) == 2) {
        fs::copy(entry.path(), copy_dir + "/" + entry.path().filename().string(),
                 fs::copy_options::recursive);
        out.bytes += fs::file_size(entry.path() / "events.jsonl");
        ++out.tasks;
      }
  ::sync();
  out.plain_copy_seconds = ms_since(t0) / 1000;
  fs::remove_all(copy_dir);
  cluster_run nodes;
  for (int i = 0; i < 3; ++i)
    nodes.pids.push_back(start_cluster_node(cli, roots[i], ports[i], i < 2 ? old_file : new_file,
                                            {}));
  evstore::rebalance_options opts;
  opts.from_file = old_file;
  opts.to_file = new_file;
  opts.parallel_moves = parallel;
  t0 = clock_type::now();
  auto report = evstore::rebalance_cluster(opts);
  out.seconds = ms_since(t0) / 1000;
  if (!report)
    die("rebalance", report.error());
  if (report->moved != out.tasks)
    die("rebalance moved " + std::to_string(report->moved) + " tasks, not "
        + std::to_string(out.tasks), caf::error{});
  return out;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"evstore-cluster-bench: 1, 2 and 3 nodes against the in-process store"};
  std::string dir = "/tmp/evstore-cluster-bench", json_path, cli = EVSTORE_CLI;
  dataset_spec spec;
  spec.tasks = 1000;
  spec.events_per_task = 200;
  int runs = 200, appends = 60'000;
  app.add_option("--dir", dir, "work directory (replaced, removed at the end)");
  app.add_option("--tasks", spec.tasks, "tasks (default 1000)");
  app.add_option("--events", spec.events_per_task, "events per task (default 200)");
  app.add_option("--runs", runs, "queries per prefix and cluster size (default 200)");
  app.add_option("--appends", appends, "appends per way of appending and size (default 60000)");
  app.add_option("--cli", cli, "the evstore tool that serves the nodes");
  app.add_option("--json", json_path, "also write the figures as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string whole = dir + "/whole";
  auto info = generate_dataset(whole, spec);
  std::cout << "store: " << spec.tasks << " tasks x " << spec.events_per_task << " events, "
            << info.events << " events, " << info.bytes / 1e6 << " MB\n";
  auto cred = evstore::ensure_node_credential(dir + "/credential");
  if (!cred)
    die("credential", cred.error());

  std::vector<std::pair<std::string, figures>> rows;
  {
    // The baseline: the same events in one store in this process (a copy, since appends change it).
    const std::string single = dir + "/single";
    fs::copy(whole, single, fs::copy_options::recursive);
    evstore::store_options opts;
    opts.root = single;
    auto db = evstore::store::open(opts);
    if (!db)
      die("open", db.error());
    if (auto ready = (*db)->wait_for_index(); !ready)
      die("wait_for_index", ready.error());
    rows.emplace_back("in-process store", measure(**db, spec.tasks, runs, appends));
  }
  for (int n = 1; n <= 3; ++n) {
    const std::string file = dir + "/cluster-" + std::to_string(n) + ".conf";
    std::vector<uint16_t> ports;
    for (int i = 0; i < n; ++i)
      ports.push_back(free_port());
    write_membership(file, *cred, n, ports);
    std::vector<std::string> roots;
    for (int i = 0; i < n; ++i)
      roots.push_back(dir + "/n" + std::to_string(n) + "-" + node_names[i]);
    split_store(whole, file, roots);
    cluster_run nodes;
    for (int i = 0; i < n; ++i) {
      const std::string root = dir + "/n" + std::to_string(n) + "-" + node_names[i];
      nodes.pids.push_back(start_cluster_node(cli, root, ports[i], file, {}));
    }
    auto db = evstore::store::connect_cluster(file, std::chrono::seconds{30});
    if (!db)
      die("connect_cluster", db.error());
    if (auto ready = (*db)->wait_for_index(); !ready || !ready->complete)
      die("cluster index", ready ? caf::error{} : ready.error());
    rows.emplace_back(std::to_string(n) + (n == 1 ? " node" : " nodes"),
                      measure(**db, spec.tasks, runs, appends));
  }

  const auto& base = rows.front().second;
  std::printf("\n%-18s", "");
  for (const char* p : prefixes)
    std::printf(" %20s", (std::string{"\""} + p + "\" p50/p99 ms").c_str());
  std::printf(" %12s %12s %9s\n", "appends/s", "batched/s", "q x base");
  boost::json::object out;
  for (const auto& [name, f] : rows) {
    std::printf("%-18s", name.c_str());
    double ratio = 0;
    boost::json::object o;
    for (size_t q = 0; q < std::size(prefixes); ++q) {
      std::printf(" %9.3f / %8.3f", f.p50[q], f.p99[q]);
      ratio += f.p50[q] / base.p50[q] / std::size(prefixes);
      o[std::string{"query_"} + prefixes[q] + "_p50_ms"] = f.p50[q];
      o[std::string{"query_"} + prefixes[q] + "_p99_ms"] = f.p99[q];
    }
    std::printf(" %12.0f %12.0f %9.2f\n", f.appends, f.batched, ratio);
    o["appends_per_s"] = f.appends;
    o["batched_appends_per_s"] = f.batched;
    out[name] = std::move(o);
  }
  std::printf("(q x base: the mean over the prefixes of p50 / the in-process p50)\n");

  // Moving tasks: a third node added to two, its share moved by evstore rebalance.
  std::printf("\n%-34s %8s %9s %10s %9s %12s\n", "rebalance, a third node added", "tasks",
              "MB", "seconds", "MB/s", "x plain copy");
  for (size_t parallel : {size_t{1}, size_t{8}}) {
    const auto rdir = dir + "/rebalance-" + std::to_string(parallel);
    fs::create_directories(rdir);
    auto m = measure_rebalance(rdir, whole, *cred, cli, parallel);
    const auto label =
      std::to_string(parallel) + (parallel == 1 ? " task at a time" : " tasks side by side");
    std::printf("%-34s %8llu %9.1f %10.2f %9.1f %12.1f\n", label.c_str(),
                static_cast<unsigned long long>(m.tasks), m.bytes / 1e6, m.seconds,
                m.bytes / 1e6 / m.seconds, m.seconds / m.plain_copy_seconds);
    boost::json::object o;
    o["tasks"] = m.tasks;
    o["bytes"] = m.bytes;
    o["seconds"] = m.seconds;
    o["plain_copy_seconds"] = m.plain_copy_seconds;
    out["rebalance " + label] = std::move(o);
    fs::remove_all(rdir);
  }
  std::printf("(plain copy: the same task directories copied with std::filesystem and synced, no "
              "checks, no nodes)\n");
  if (!json_path.empty())
    std::ofstream(json_path) << boost::json::serialize(out) << "\n";
  fs::remove_all(dir);
  return 0;
}
