// evstore-bench: generates a store, then measures in one run, against baselines measured in the same
// run (the full-scan algorithm and SQLite), the figures the project is tracked by: query latency,
// append throughput (write(2) and fsync with group commit), population speed with append latency
// meanwhile, and index memory; beside each query, the cost of its actor round trips alone (its
// floor). Prints a table; with --json FILE also writes the figures as JSON.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>
#include <caf/scoped_actor.hpp>

#include "actor_floor.hpp"
#include "bench_util.hpp"
#include "dataset.hpp"
#include "scale.hpp"
#include "src/facade/store.hpp"
#include "src/storage/full_scan.hpp"
#include "sqlite_baseline.hpp"

namespace fs = std::filesystem;
using namespace bench;

namespace {

std::vector<std::string> ids_of(const std::vector<evstore::event>& events) {
  std::vector<std::string> out;
  for (const auto& ev : events)
    out.push_back(ev.id);
  return out;
}

struct query_row {
  std::string prefix;
  int limit;
  double evstore_p50, evstore_p99, sqlite_p50, sqlite_p99, fullscan_ms;
  double fetches; // writers contacted per query
  double floor_p50; // empty request/reply round trips to as many actors (see actor_floor.hpp)
  bool match;
  size_t results;
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"evstore-bench: query, append and population figures against full scan and SQLite"};
  bench::dataset_spec spec;
  std::string dir;
  std::string json_path;
  int runs = 50;
  int fullscan_runs = 2;
  int append_events = 200'000;
  bool no_sqlite = false;
  bool keep = false;
  app.add_option("--tasks", spec.tasks, "tasks in the generated store")->capture_default_str();
  app.add_option("--events", spec.events_per_task, "events per task")->capture_default_str();
  app.add_option("--system-events", spec.system_events, "system-wide events")->capture_default_str();
  app.add_option("--seed", spec.seed, "dataset seed")->capture_default_str();
  app.add_option("--dir", dir, "work directory (default: a new one under the temp dir)");
  app.add_option("--runs", runs, "timed runs per query")->capture_default_str();
  app.add_option("--fullscan-runs", fullscan_runs, "runs of the full scan per query")
    ->capture_default_str();
  app.add_option("--append-events", append_events, "events per append-throughput measurement")
    ->capture_default_str();
  app.add_option("--json", json_path, "also write the figures as JSON to this file");
  app.add_flag("--no-sqlite", no_sqlite, "skip the SQLite baseline");
  app.add_flag("--keep", keep, "keep the work directory");
  bool scale = false;
  bench::scale_spec scale_spec;
  app.add_flag("--scale", scale,
               "scaling mode (issue 12): for each of --scale-tasks, a store of --scale-events "
               "events, measured in a process of its own; one table, a column per size");
  app.add_option("--scale-tasks", scale_spec.tasks, "task counts, e.g. 1000,10000,100000")
    ->delimiter(',')
    ->capture_default_str();
  app.add_option("--scale-events", scale_spec.events, "task events per size, split evenly")
    ->capture_default_str();
  app.add_option("--scale-runs", scale_spec.query_runs, "timed runs per query in --scale")
    ->capture_default_str();
  app.add_option("--scale-warm-appends", scale_spec.warm_appends,
                 "warm appends per size in --scale, at least (whole rounds over the tasks)")
    ->capture_default_str();
  app.add_flag("--scale-reuse", scale_spec.reuse,
               "--scale measures the stores an earlier --keep run left in --dir, if there");
  app.add_option("--nofile", scale_spec.nofile,
                 "--scale runs under this RLIMIT_NOFILE (soft; 0: as inherited)")
    ->capture_default_str();
  app.add_option("--cli", scale_spec.cli,
                 "the evstore tool --scale times (default: <build>/evstore beside bench/)");
  CLI11_PARSE(app, argc, argv);

  if (dir.empty()) {
    auto pattern = (fs::temp_directory_path() / "evstore-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      return 1;
    dir = pattern;
  }
  if (scale) {
    scale_spec.dir = dir;
    scale_spec.json_path = json_path;
    scale_spec.keep = keep;
    scale_spec.system_events = spec.system_events;
    scale_spec.seed = spec.seed;
    int status = bench::run_scale(scale_spec);
    if (!keep)
      fs::remove_all(dir);
    return status;
  }
  const std::string root = dir + "/store";
  fs::remove_all(root);

  auto t0 = clock_type::now();
  auto info = bench::generate_dataset(root, spec);
  std::printf("dataset: %d tasks x %d events + %d system-wide = %llu events, %.1f MB, generated in "
              "%.1f s\n",
              spec.tasks, spec.events_per_task, spec.system_events,
              static_cast<unsigned long long>(info.events), static_cast<double>(info.bytes) / 1e6,
              ms_since(t0) / 1000);

  // --- population: open the store, and append meanwhile -------------------------------------
  evstore::store_options opts;
  opts.root = root;
  auto open_t0 = clock_type::now();
  auto opened = evstore::store::open(opts);
  if (!opened)
    die("open", opened.error());
  auto& db = **opened;
  std::atomic<bool> populated{false};
  std::vector<double> append_lat_ms;
  std::thread appender([&] {
    std::mt19937_64 rng{7};
    for (int n = 0; !populated; ++n) {
      auto t = clock_type::now();
      if (auto r = db.append(bench_event(task_name(static_cast<int>(rng() % spec.tasks)), n)); !r)
        die("append during population", r.error());
      append_lat_ms.push_back(ms_since(t));
    }
  });
  auto st = db.wait_for_index();
  const double population_ms = ms_since(open_t0);
  populated = true;
  appender.join();
  if (!st || !st->complete)
    die("population", st ? caf::error{} : st.error());
  const double population_mb_s = static_cast<double>(info.bytes) / 1e6 / (population_ms / 1000);
  const double append_p99_during = percentile(append_lat_ms, 0.99);
  st = db.index_statistics();

  // --- queries ---------------------------------------------------------------------------------
  std::unique_ptr<bench::sqlite_baseline> sqlite;
  if (!no_sqlite) {
    sqlite = std::make_unique<bench::sqlite_baseline>(root, dir + "/baseline.sqlite");
    std::printf("sqlite: loaded in %.1f s (WAL, indexes on (type, ts) and (task))\n",
                sqlite->load_seconds());
  }
  std::vector<query_row> rows;
  for (auto [prefix, limit] : std::vector<std::pair<std::string, int>>{
         {"orchestrator:", 100}, {"task:state:", 500}, {"agent:", 100}, {info.single_task_type, 100}}) {
    query_row row{prefix, limit, 0, 0, 0, 0, 0, 0, 0, true, 0};
    std::vector<std::string> answer;
    std::vector<double> times;
    uint64_t fetches_before = 0;
    for (int r = -3; r < runs; ++r) { // three warm-up runs
      auto t = clock_type::now();
      auto res = db.query_by_type_prefix(prefix, static_cast<uint64_t>(limit));
      if (!res)
        die("query", res.error());
      if (r >= 0)
        times.push_back(ms_since(t));
      answer = ids_of(res->events);
      if (r == -1)
        fetches_before = db.index_statistics()->fetches_routed;
    }
    row.fetches = static_cast<double>(db.index_statistics()->fetches_routed - fetches_before) / runs;
    row.floor_p50 = bench::actor_fanout_floor_ms(db.system(), static_cast<int>(row.fetches + 0.5), runs);
    row.results = answer.size();
    row.evstore_p50 = percentile(times, 0.5);
    row.evstore_p99 = percentile(times, 0.99);
    times.clear();
    for (int r = 0; r < fullscan_runs; ++r) {
      auto t = clock_type::now();
      auto res = evstore::full_scan_query(root, prefix, static_cast<uint64_t>(limit));
      times.push_back(ms_since(t));
      row.match = row.match && res && ids_of(res->events) == answer;
    }
    row.fullscan_ms = percentile(times, 0.5);
    if (sqlite) {
      times.clear();
      for (int r = -3; r < runs; ++r) {
        auto t = clock_type::now();
        auto ids = sqlite->query(prefix, limit);
        if (r >= 0)
          times.push_back(ms_since(t));
        if (r == 0)
          row.match = row.match && ids == answer;
      }
      row.sqlite_p50 = percentile(times, 0.5);
      row.sqlite_p99 = percentile(times, 0.99);
    }
    rows.push_back(row);
  }

  // --- appends ---------------------------------------------------------------------------------
  // Writers that sat idle have retired, so the first append to each task reloads its file to learn
  // its count and size: the first pass measures that cold start, the second the steady state.
  const double written_cold_eps = append_throughput(db, append_events, spec.tasks, 1024);
  const double written_eps = append_throughput(db, append_events, spec.tasks, 1024);
  const uint64_t rss = rss_bytes();

  // --- reads in chunks -------------------------------------------------------------------------
  // A subscriber that fell behind reads its task back in chunks. One task of 20,000 events read
  // in chunks of 100 from the first on (each chunk goes on where the last stopped), against the
  // same chunks asked for last to first (none can go on from another: each reads the file from
  // its start to its chunk's end, half of what every chunk cost before on average, when each read
  // went on to the file's end) and against one read of the whole task. Fewer events if
  // --append-events asks for fewer (the test run of this program).
  const std::string long_task = "bench-long-task";
  const uint64_t chunk = 100;
  const int long_events = std::clamp(append_events / 100 * 100, 1000, 20'000);
  for (int i = 0; i < long_events; ++i)
    if (auto r = db.append(bench_event(long_task, i)); !r)
      die("append", r.error());
  auto read_chunk = [&](caf::scoped_actor& self, uint64_t from) {
    size_t got = 0;
    self->request(db.handle(), caf::infinite, evstore::read_request{long_task, from, chunk})
      .receive([&](evstore::read_result& r) { got = r.events.size(); },
               [&](caf::error& err) { die("read", err); });
    return got;
  };
  double chunks_forward_ms = 0, chunks_backward_ms = 0, whole_ms = 0;
  {
    caf::scoped_actor self{db.system()};
    const uint64_t chunks = long_events / chunk;
    auto t = clock_type::now();
    for (uint64_t c = 0; c < chunks; ++c)
      if (read_chunk(self, c * chunk) != chunk)
        die("read", evstore::make_error(evstore::errc::io_error, "a chunk came back short"));
    chunks_forward_ms = ms_since(t);
    t = clock_type::now();
    for (uint64_t c = chunks; c-- > 0;)
      if (read_chunk(self, c * chunk) != chunk)
        die("read", evstore::make_error(evstore::errc::io_error, "a chunk came back short"));
    chunks_backward_ms = ms_since(t);
    t = clock_type::now();
    auto whole = db.read_task(long_task);
    whole_ms = ms_since(t);
    if (!whole || whole->events.size() != static_cast<size_t>(long_events))
      die("read", evstore::make_error(evstore::errc::io_error, "the whole task came back short"));
  }
  opened->reset();

  // fsync durability on a fresh store: one event per fsync (one in flight), then group commit.
  evstore::store_options sync_opts;
  sync_opts.root = dir + "/fsync-store";
  sync_opts.ack = evstore::durability::fsynced;
  fs::remove_all(sync_opts.root);
  auto sync_db = evstore::store::open(sync_opts);
  if (!sync_db)
    die("open fsync store", sync_db.error());
  const int fsync_single_events = 300;
  const double fsync_single_eps = append_throughput(**sync_db, fsync_single_events, 10, 1);
  const int fsync_group_events = std::max(2000, append_events / 10);
  const double fsync_group_10_eps = append_throughput(**sync_db, fsync_group_events, 10, 1024);
  const double fsync_group_1000_eps
    = append_throughput(**sync_db, fsync_group_events, spec.tasks, 1024);
  sync_db->reset();

  // --- report ----------------------------------------------------------------------------------
  std::printf("\n%-22s %5s %7s %7s %8s %8s %8s %8s %11s %8s %10s %5s\n", "query", "limit",
              "results", "writers", "p50 ms", "p99 ms", "floor ms", "sqlite50", "fullscan ms",
              "x sqlite", "x fullscan", "match");
  for (const auto& r : rows)
    std::printf("%-22s %5d %7zu %7.0f %8.3f %8.3f %8.3f %8.3f %11.1f %8.1f %10.0f %5s\n",
                r.prefix.c_str(), r.limit, r.results, r.fetches, r.evstore_p50, r.evstore_p99,
                r.floor_p50, r.sqlite_p50, r.fullscan_ms,
                r.evstore_p50 > 0 && r.sqlite_p50 > 0 ? r.sqlite_p50 / r.evstore_p50 : 0.0,
                r.evstore_p50 > 0 ? r.fullscan_ms / r.evstore_p50 : 0.0, r.match ? "yes" : "NO");
  std::printf("\n%-58s %14s\n", "figure", "value");
  auto line = [](const char* what, double v, const char* unit) {
    std::printf("%-58s %14.1f %s\n", what, v, unit);
  };
  line("appends acknowledged after write(2), 4 clients, 1,024 in flight", written_eps, "events/s");
  line("  the same, first pass: every writer loads its file first", written_cold_eps, "events/s");
  line("appends after fsync, one in flight (one fsync per event)", fsync_single_eps, "events/s");
  line("appends after fsync, group commit, 10 tasks", fsync_group_10_eps, "events/s");
  line("appends after fsync, group commit, all tasks", fsync_group_1000_eps, "events/s");
  line("  group commit (10 tasks) / one fsync per event", fsync_group_10_eps / fsync_single_eps,
       "x");
  const std::string chunked = "a " + std::to_string(long_events)
                              + "-event task read in chunks of 100, each going on";
  line(chunked.c_str(), chunks_forward_ms, "ms");
  line("  the same chunks last to first (each from the file's start)", chunks_backward_ms, "ms");
  line("  one read of the whole task", whole_ms, "ms");
  line("  chunks from the start / chunks going on", chunks_backward_ms / chunks_forward_ms, "x");
  line("open + population of the store", population_ms, "ms");
  line("population scan rate", population_mb_s, "MB/s");
  line("append p99 latency during population", append_p99_during, "ms");
  std::printf("%-58s %14zu appends\n", "  appends made during population", append_lat_ms.size());
  line("index bytes", static_cast<double>(st->bytes), "B");
  line("index (type, task) pairs", static_cast<double>(st->entries), "");
  line("index bytes per pair", static_cast<double>(st->bytes) / std::max<uint64_t>(st->entries, 1),
       "B");
  line("process RSS after the run", static_cast<double>(rss) / 1e6, "MB");

  if (!json_path.empty()) {
    boost::json::array out;
    for (const auto& r : rows)
      out.push_back({{"query", r.prefix + "/" + std::to_string(r.limit)},
                     {"results", r.results},
                     {"writers_contacted", r.fetches},
                     {"evstore_p50_ms", r.evstore_p50},
                     {"evstore_p99_ms", r.evstore_p99},
                     {"actor_floor_p50_ms", r.floor_p50},
                     {"sqlite_p50_ms", r.sqlite_p50},
                     {"sqlite_p99_ms", r.sqlite_p99},
                     {"fullscan_ms", r.fullscan_ms},
                     {"match", r.match}});
    auto figure = [&](const char* name, double value, const char* unit) {
      out.push_back({{"figure", name}, {"value", value}, {"unit", unit}});
    };
    figure("append_written_events_per_s", written_eps, "events/s");
    figure("append_written_cold_events_per_s", written_cold_eps, "events/s");
    figure("append_fsync_single_events_per_s", fsync_single_eps, "events/s");
    figure("append_fsync_group_10_tasks_events_per_s", fsync_group_10_eps, "events/s");
    figure("append_fsync_group_all_tasks_events_per_s", fsync_group_1000_eps, "events/s");
    figure("read_in_chunks_going_on_ms", chunks_forward_ms, "ms");
    figure("read_in_chunks_each_from_the_start_ms", chunks_backward_ms, "ms");
    figure("read_whole_task_ms", whole_ms, "ms");
    figure("population_ms", population_ms, "ms");
    figure("population_mb_per_s", population_mb_s, "MB/s");
    figure("append_p99_ms_during_population", append_p99_during, "ms");
    figure("index_bytes", static_cast<double>(st->bytes), "B");
    figure("index_pairs", static_cast<double>(st->entries), "");
    figure("rss_bytes", static_cast<double>(rss), "B");
    std::ofstream(json_path) << boost::json::serialize(out) << "\n";
  }
  if (!keep)
    fs::remove_all(dir);
  bool all_match = std::all_of(rows.begin(), rows.end(), [](const query_row& r) { return r.match; });
  return all_match ? 0 : 2;
}
