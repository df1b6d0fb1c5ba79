#include "scale.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <type_traits>

#include <boost/json.hpp>

#include "bench_util.hpp"
#include "dataset.hpp"
#include "src/facade/store.hpp"
#include "src/storage/store_layout.hpp"

extern char** environ;

namespace bench {

namespace {

namespace fs = std::filesystem;

struct scale_query {
  const char* prefix;
  int limit;
};
constexpr scale_query queries[] = {{"task:state", 100}, {"", 100}, {"agent:message", 100}};
constexpr int query_count = sizeof(queries) / sizeof(queries[0]);

// One size's figures. Plain data: a child process writes it to its parent through a pipe.
struct scale_row {
  int tasks = 0;
  int events_per_task = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  double generate_s = 0;
  double cold_open_ms = 0; // store::open returned, no checkpoint
  double cold_indexed_ms = 0; // ... and the index complete
  double close_ms = 0; // the clean close after it (saves the checkpoint)
  uint64_t checkpoint_bytes = 0; // the checkpoint file that close left; 0: none
  double ckpt_open_ms = 0;
  double ckpt_indexed_ms = 0;
  double append_first_eps = 0;
  int append_first_n = 0;
  double append_warm_eps = 0;
  int append_warm_n = 0;
  uint64_t warm_live_writers = 0; // writers alive when the warm pass started (idle ones retire)
  double append_active_eps = 0;    // appends to 1,000 of the store's tasks, their writers warm
  double query_p50[query_count] = {};
  double query_p99[query_count] = {};
  uint64_t pairs = 0;
  uint64_t index_bytes = 0;
  double rss_indexed_mb = 0; // after the cold open's population
  double rss_mb = 0; // after appends and queries, store open
  double peak_rss_mb = 0;
  double cli_ms = -1; // -1: no CLI
  double cli_no_ckpt_ms = -1;
  double verify_floor_ms = -1; // listing the root and one statx per task's file, nothing else
};

struct generated {
  uint64_t events = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Runs `f` in a forked child and returns what it returned (false if the child failed). The parent
// starts no thread and opens no store, so forking it is safe, and every size starts from the same
// clean process.
template <class T, class F>
bool in_child(T& out, F f) {
  static_assert(std::is_trivially_copyable_v<T>);
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    close(fds[0]);
    T result = f();
    const char* p = reinterpret_cast<const char*>(&result);
    for (size_t done = 0; done < sizeof(T);) {
      auto n = write(fds[1], p + done, sizeof(T) - done);
      if (n <= 0)
        _exit(1);
      done += static_cast<size_t>(n);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(0);
  }
  close(fds[1]);
  char* p = reinterpret_cast<char*>(&out);
  size_t got = 0;
  while (got < sizeof(T)) {
    auto n = read(fds[0], p + got, sizeof(T) - got);
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got == sizeof(T) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string default_cli() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return {};
  // evstore-bench is <build>/bench/evstore-bench; the tool is <build>/evstore.
  for (auto candidate : {exe.parent_path().parent_path() / "evstore",
                         exe.parent_path().parent_path() / "tools" / "cli" / "evstore"})
    if (fs::exists(candidate))
      return candidate.string();
  return {};
}

// Median start-to-exit time of `evstore --root ROOT query task:state --limit 100`, output discarded;
// -1 if there is no tool or it fails.
double time_cli(const std::string& cli, const std::string& root, int runs = 5) {
  if (cli.empty())
    return -1;
  std::vector<std::string> args = {cli, "--root", root, "query", queries[0].prefix, "--limit",
                                   std::to_string(queries[0].limit)};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<double> times;
  for (int r = -1; r < runs; ++r) { // one warm-up run
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    auto t0 = clock_type::now();
    pid_t pid = 0;
    int status = 0;
    bool ok = posix_spawn(&pid, cli.c_str(), &actions, nullptr, argv.data(), environ) == 0
              && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double ms = ms_since(t0);
    posix_spawn_file_actions_destroy(&actions);
    if (!ok)
      return -1;
    if (r >= 0)
      times.push_back(ms);
  }
  return percentile(times, 0.5);
}

// The least any open that trusts a checkpoint no further than the files prove must spend: the
// store's own listing of the root with one statx per task's file (identity and size), and nothing
// read. A read-only `evstore query` cannot answer in less, whatever the index holds, because the
// writing process (or anyone) may have appended to any file since the checkpoint. Median of `runs`.
double verify_floor(const std::string& root, int runs = 5) {
  auto dir = evstore::open_store_root(root, true);
  if (!dir)
    return -1;
  std::vector<double> times;
  for (int r = -1; r < runs; ++r) { // one warm-up run
    auto t0 = clock_type::now();
    auto files = evstore::list_task_files(**dir);
    double ms = ms_since(t0);
    if (!files)
      return -1;
    if (r >= 0)
      times.push_back(ms);
  }
  return percentile(times, 0.5);
}

void progress(int tasks, const char* what) {
  std::fprintf(stderr, "scale %d tasks (pid %d): %s\n", tasks, static_cast<int>(getpid()), what);
}

// Opens the store and waits until its index is complete; the times of both in `open_ms`, `indexed_ms`.
std::unique_ptr<evstore::store> open_indexed(const std::string& root, double& open_ms,
                                             double& indexed_ms, evstore::index_stats* stats) {
  evstore::store_options opts;
  opts.root = root;
  auto t0 = clock_type::now();
  auto db = evstore::store::open(opts);
  if (!db)
    die("open " + root, db.error());
  open_ms = ms_since(t0);
  auto st = (*db)->wait_for_index();
  indexed_ms = ms_since(t0);
  if (!st || !st->complete)
    die("population of " + root, st ? caf::error{} : st.error());
  if (stats)
    *stats = *st;
  return std::move(*db);
}

// Waits (up to 10 s) until every writer has retired, so the next append to any task is a cold one.
void wait_for_idle_writers(evstore::store& db) {
  auto t0 = clock_type::now();
  while (ms_since(t0) < 10'000) {
    auto st = db.index_statistics();
    if (!st)
      die("index statistics", st.error());
    if (st->live_writers == 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "evstore-bench: writers still alive after 10 s; the first pass is not cold\n");
}

scale_row measure(const scale_spec& spec, const std::string& root, int tasks, const generated& gen) {
  scale_row row;
  row.tasks = tasks;
  row.events_per_task = static_cast<int>(spec.events / tasks);
  row.events = gen.events;
  row.bytes = gen.bytes;
  row.generate_s = gen.seconds;
  const std::string checkpoint = root + "/index.checkpoint";

  // Without a checkpoint: every file is read.
  progress(tasks, "open without a checkpoint");
  fs::remove(checkpoint);
  evstore::index_stats st;
  auto db = open_indexed(root, row.cold_open_ms, row.cold_indexed_ms, &st);
  row.pairs = st.entries;
  row.index_bytes = st.bytes;
  row.rss_indexed_mb = static_cast<double>(rss_bytes()) / 1e6;
  auto t0 = clock_type::now();
  db.reset();
  row.close_ms = ms_since(t0);
  std::error_code ec;
  auto size = fs::file_size(checkpoint, ec);
  row.checkpoint_bytes = ec ? 0 : size;

  // With the checkpoint the clean close saved (if the store saves one).
  progress(tasks, "open with the checkpoint");
  db = open_indexed(root, row.ckpt_open_ms, row.ckpt_indexed_ms, nullptr);

  // Appends: one to each task with every writer retired, then whole rounds over the same tasks.
  progress(tasks, "appends");
  wait_for_idle_writers(*db);
  row.append_first_n = tasks;
  row.append_first_eps = append_throughput(*db, tasks, tasks, 1024);
  const int rounds = std::max(1, (spec.warm_appends + tasks - 1) / tasks);
  row.append_warm_n = rounds * tasks;
  if (auto live = db->index_statistics())
    row.warm_live_writers = live->live_writers;
  row.append_warm_eps = append_throughput(*db, row.append_warm_n, tasks, 1024);
  // A working set: 1,000 of the store's tasks (its first), one round to wake their writers, then
  // as many appends as the warm pass over them. Whole rounds over 100,000 tasks come back to a
  // task after its writer retired (store_options::writer_idle_timeout), so the warm pass there
  // measures cold writers; this measures what an append costs in a big store when its task is
  // active, as an orchestrator's few running tasks among many finished ones are.
  const int active = std::min(tasks, 1000);
  append_throughput(*db, active, active, 1024);
  row.append_active_eps = append_throughput(*db, row.append_warm_n, active, 1024);

  progress(tasks, "queries");
  for (int q = 0; q < query_count; ++q) {
    std::vector<double> times;
    for (int r = -3; r < spec.query_runs; ++r) { // three warm-up runs
      auto tq = clock_type::now();
      auto res = db->query_by_type_prefix(queries[q].prefix, static_cast<uint64_t>(queries[q].limit));
      if (!res)
        die("query", res.error());
      if (r >= 0)
        times.push_back(ms_since(tq));
    }
    row.query_p50[q] = percentile(times, 0.5);
    row.query_p99[q] = percentile(times, 0.99);
  }
  row.rss_mb = static_cast<double>(rss_bytes()) / 1e6;
  row.peak_rss_mb = static_cast<double>(status_bytes("VmHWM:")) / 1e6;
  db.reset();

  progress(tasks, "evstore query");
  row.cli_ms = time_cli(spec.cli, root);
  row.verify_floor_ms = verify_floor(root);
  fs::remove(checkpoint);
  row.cli_no_ckpt_ms = time_cli(spec.cli, root);
  return row;
}

void print_table(const scale_spec& spec, const std::vector<scale_row>& rows) {
  std::printf("\nscale: %lld task events per size + %d system-wide, RLIMIT_NOFILE %d, files in the "
              "page cache (just written)\n",
              static_cast<long long>(spec.events), spec.system_events, spec.nofile);
  std::printf("%-44s", "");
  for (const auto& r : rows)
    std::printf(" %9d tasks", r.tasks);
  std::printf(" %10s\n", "x growth");
  auto line = [&](const std::string& what, auto get, const char* fmt) {
    std::printf("%-44s", what.c_str());
    for (const auto& r : rows) {
      double v = get(r);
      if (v < 0)
        std::printf(" %15s", "n/a");
      else
        std::printf(fmt, v);
    }
    double first = get(rows.front()), last = get(rows.back());
    if (rows.size() > 1 && first > 0 && last >= 0)
      std::printf(" %10.2f\n", last / first);
    else
      std::printf(" %10s\n", "");
  };
  const char* whole = " %15.0f";
  const char* one = " %15.1f";
  const char* three = " %15.3f";
  line("events per task", [](const scale_row& r) { return double(r.events_per_task); }, whole);
  line("events in the store", [](const scale_row& r) { return double(r.events); }, whole);
  line("store MB", [](const scale_row& r) { return double(r.bytes) / 1e6; }, one);
  line("generated in s", [](const scale_row& r) { return r.generate_s; }, one);
  line("no checkpoint: store::open returns, ms", [](const scale_row& r) { return r.cold_open_ms; }, one);
  line("no checkpoint: open + population, ms", [](const scale_row& r) { return r.cold_indexed_ms; }, one);
  line("no checkpoint: population rate, MB/s",
       [](const scale_row& r) { return double(r.bytes) / 1e6 / (r.cold_indexed_ms / 1000); }, one);
  line("clean close (saves the checkpoint), ms", [](const scale_row& r) { return r.close_ms; }, one);
  line("checkpoint file after close, KB (n/a: none)", [](const scale_row& r) {
    return r.checkpoint_bytes ? double(r.checkpoint_bytes) / 1e3 : -1.0;
  }, one);
  line("checkpoint: store::open returns, ms", [](const scale_row& r) { return r.ckpt_open_ms; }, one);
  line("checkpoint: open until index complete, ms", [](const scale_row& r) { return r.ckpt_indexed_ms; }, one);
  line("appends/s, first pass (1 per task, cold)", [](const scale_row& r) { return r.append_first_eps; }, whole);
  line("appends/s, warm (same tasks again)", [](const scale_row& r) { return r.append_warm_eps; }, whole);
  line("  warm appends measured", [](const scale_row& r) { return double(r.append_warm_n); }, whole);
  line("  writers alive when the warm pass started",
       [](const scale_row& r) { return double(r.warm_live_writers); }, whole);
  line("appends/s, to 1,000 of the tasks (their writers warm)",
       [](const scale_row& r) { return r.append_active_eps; }, whole);
  for (int q = 0; q < query_count; ++q) {
    std::string name = std::string{"query \""} + queries[q].prefix + "\" /" + std::to_string(queries[q].limit);
    line(name + " p50 ms", [q](const scale_row& r) { return r.query_p50[q]; }, three);
    line(name + " p99 ms", [q](const scale_row& r) { return r.query_p99[q]; }, three);
  }
  line("index (type, task) pairs", [](const scale_row& r) { return double(r.pairs); }, whole);
  line("index MB", [](const scale_row& r) { return double(r.index_bytes) / 1e6; }, one);
  line("index bytes per pair",
       [](const scale_row& r) { return double(r.index_bytes) / double(std::max<uint64_t>(r.pairs, 1)); }, one);
  line("RSS after population, MB", [](const scale_row& r) { return r.rss_indexed_mb; }, one);
  line("RSS after appends and queries, MB", [](const scale_row& r) { return r.rss_mb; }, one);
  line("peak RSS, MB", [](const scale_row& r) { return r.peak_rss_mb; }, one);
  line("`evstore query` start to exit, ms", [](const scale_row& r) { return r.cli_ms; }, one);
  line("  the same without a checkpoint, ms", [](const scale_row& r) { return r.cli_no_ckpt_ms; }, one);
  line("floor of a verified open (list + statx), ms", [](const scale_row& r) { return r.verify_floor_ms; }, one);
}

void write_json(const std::string& path, const std::vector<scale_row>& rows) {
  boost::json::array out;
  for (const auto& r : rows) {
    boost::json::object o{{"tasks", r.tasks},
                          {"events_per_task", r.events_per_task},
                          {"events", r.events},
                          {"bytes", r.bytes},
                          {"cold_open_ms", r.cold_open_ms},
                          {"cold_indexed_ms", r.cold_indexed_ms},
                          {"close_ms", r.close_ms},
                          {"checkpoint_bytes", r.checkpoint_bytes},
                          {"checkpoint_open_ms", r.ckpt_open_ms},
                          {"checkpoint_indexed_ms", r.ckpt_indexed_ms},
                          {"append_first_pass_events_per_s", r.append_first_eps},
                          {"append_warm_events_per_s", r.append_warm_eps},
                          {"warm_pass_live_writers", r.warm_live_writers},
                          {"append_active_1000_events_per_s", r.append_active_eps},
                          {"index_pairs", r.pairs},
                          {"index_bytes", r.index_bytes},
                          {"rss_after_population_mb", r.rss_indexed_mb},
                          {"rss_mb", r.rss_mb},
                          {"peak_rss_mb", r.peak_rss_mb},
                          {"cli_query_ms", r.cli_ms},
                          {"cli_query_no_checkpoint_ms", r.cli_no_ckpt_ms},
                          {"verify_floor_ms", r.verify_floor_ms}};
    for (int q = 0; q < query_count; ++q) {
      std::string key = std::string{"query_"} + queries[q].prefix + "_" + std::to_string(queries[q].limit);
      o[key + "_p50_ms"] = r.query_p50[q];
      o[key + "_p99_ms"] = r.query_p99[q];
    }
    out.push_back(std::move(o));
  }
  std::ofstream(path) << boost::json::serialize(out) << "\n";
}

} // namespace

int run_scale(scale_spec spec) {
  if (spec.nofile > 0) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = std::min<rlim_t>(static_cast<rlim_t>(spec.nofile), lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
      std::perror("evstore-bench: setrlimit(RLIMIT_NOFILE)");
    spec.nofile = static_cast<int>(lim.rlim_cur);
  }
  if (spec.cli.empty())
    spec.cli = default_cli();
  if (!spec.cli.empty() && access(spec.cli.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "evstore-bench: %s is not executable; `evstore query` is n/a\n",
                 spec.cli.c_str());
    spec.cli.clear();
  }
  std::vector<scale_row> rows;
  for (int tasks : spec.tasks) {
    if (tasks <= 0 || spec.events < tasks) {
      std::fprintf(stderr, "evstore-bench: %d tasks cannot share %lld events\n", tasks,
                   static_cast<long long>(spec.events));
      return 1;
    }
    const std::string root = spec.dir + "/scale-" + std::to_string(tasks);
    // What generating a store made, kept beside it for --scale-reuse.
    const std::string record = root + ".generated";
    generated gen;
    bool ok = false;
    if (spec.reuse && fs::exists(root)) {
      std::ifstream in{record, std::ios::binary};
      ok = in.read(reinterpret_cast<char*>(&gen), sizeof(gen)) && in.gcount() == sizeof(gen);
    }
    if (ok) {
      progress(tasks, "reusing the store an earlier run kept");
    } else {
      fs::remove_all(root);
      progress(tasks, "generating");
      ok = in_child(gen, [&] {
        dataset_spec ds;
        ds.tasks = tasks;
        ds.events_per_task = static_cast<int>(spec.events / tasks);
        ds.system_events = spec.system_events;
        ds.seed = spec.seed;
        auto t0 = clock_type::now();
        auto info = generate_dataset(root, ds);
        return generated{info.events, info.bytes, ms_since(t0) / 1000};
      });
      if (ok)
        std::ofstream(record, std::ios::binary)
          .write(reinterpret_cast<const char*>(&gen), sizeof(gen));
    }
    scale_row row;
    ok = ok && in_child(row, [&] { return measure(spec, root, tasks, gen); });
    if (!spec.keep) {
      fs::remove_all(root);
      fs::remove(record);
    }
    if (!ok) {
      std::fprintf(stderr, "evstore-bench: the run at %d tasks failed\n", tasks);
      return 1;
    }
    rows.push_back(row);
  }
  print_table(spec, rows);
  if (!spec.json_path.empty())
    write_json(spec.json_path, rows);
  return 0;
}

} // namespace bench
