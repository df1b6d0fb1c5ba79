// evstore's test harness: a seeded random workload against a real store, checking invariants as it
// goes, for orchestrator authors who want to know the store keeps its promises under their load.
//
// Each round appends from several threads at once (realistic type mix, some events with ts in the
// past to force ties and out-of-order times), then, with writers paused, checks:
//  - every subscriber got each matching event published since it subscribed exactly once, in
//    per-task order (a tiny-buffer subscriber via recovery from disk; a drop-policy one counts what it
//    missed);
//  - random indexed queries (prefix, limit, since) equal an oracle built from read_task alone;
//  - compacting a random task keeps exactly the newest events the policy names;
//  - sometimes, the store reopened still answers the same.
// A violation prints the seed and round to replay and the run exits 1.
//
//   harness [--seed 1] [--duration 10] [--writers 4] [--tasks 40] [--root DIR] [--keep]
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "src/facade/store.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct settings {
  uint64_t seed = 1;
  double duration_s = 10;
  int writers = 4;
  int tasks = 40;
  int ops_per_round = 400;
  std::string root;
  bool keep = false;
};

const char* const types[] = {"agent:message", "agent:message", "agent:message", "agent:tokens",
                             "task:state:running", "task:state:review", "task:state:done",
                             "orchestrator:decision", "merge:queued", "merge:done"};
const char* const prefixes[] = {"", "agent:", "agent:message", "task:", "task:state:",
                                "task:state:done", "orchestrator:", "merge:", "nothing:"};

class harness {
public:
  explicit harness(settings cfg) : cfg_(std::move(cfg)), rng_(cfg_.seed) {
  }

  int run() {
    if (!open())
      return 1;
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
             < cfg_.duration_s
           && violations_ == 0) {
      ++round_;
      burst();
      check_subscribers();
      check_queries();
      check_compaction();
      if (rng_() % 4 == 0 && !reopen())
        break;
    }
    subs_.clear();
    db_.reset();
    std::cout << "harness: seed " << cfg_.seed << ", " << round_ << " rounds, " << appended_
              << " appends, " << queries_ << " queries checked against the oracle, " << delivered_
              << " deliveries checked, " << compactions_ << " compactions checked, " << reopens_
              << " reopens: " << (violations_ ? "VIOLATIONS" : "all invariants held") << "\n";
    return violations_ ? 1 : 0;
  }

private:
  struct watcher {
    std::string pattern;
    bool drop;
    std::unique_ptr<evstore::subscription> sub;
    std::set<std::string> expected; // matching ids published since it subscribed
  };

  void violation(const std::string& what) {
    ++violations_;
    std::cerr << "harness: VIOLATION in round " << round_ << ": " << what
              << " (replay: harness --seed " << cfg_.seed << ")\n";
  }

  bool fail(const caf::error& err, const char* during) {
    violation(std::string{during} + ": " + evstore::render(err));
    return false;
  }

  bool open() {
    evstore::store_options opts;
    opts.root = cfg_.root;
    auto db = evstore::store::open(opts);
    if (!db)
      return fail(db.error(), "open");
    db_ = std::move(*db);
    subs_.clear();
    for (auto [pattern, buffer, drop] :
         {std::tuple{"*", 1024u, false}, {"task:state:*", 4u, false}, {"agent:*", 8u, true}}) {
      evstore::subscribe_options opts;
      opts.filter.patterns = {pattern};
      opts.buffer = buffer;
      opts.drop_on_overflow = drop;
      auto sub = db_->subscribe(opts);
      if (!sub)
        return fail(sub.error(), "subscribe");
      subs_.push_back(watcher{pattern, drop, std::move(*sub), {}});
    }
    return true;
  }

  bool reopen() {
    subs_.clear();
    db_.reset();
    ++reopens_;
    return open();
  }

  // Several threads append at once; each records what it published.
  void burst() {
    std::mutex mtx;
    std::vector<evstore::event> published;
    std::vector<std::thread> threads;
    const auto round_seed = rng_();
    for (int w = 0; w < cfg_.writers; ++w)
      threads.emplace_back([&, w] {
        std::mt19937_64 rng{round_seed + static_cast<uint64_t>(w)};
        for (int i = 0; i < cfg_.ops_per_round / cfg_.writers; ++i) {
          evstore::event ev;
          ev.task = rng() % 10 == 0 ? "" : "task-" + std::to_string(rng() % cfg_.tasks);
          ev.type = types[rng() % std::size(types)];
          ev.actor = evstore::actor_kind::agent;
          ev.data = boost::json::object{{"n", i}, {"w", w}};
          if (rng() % 8 == 0) // in the past, on a coarse grid: ties and out-of-order times
            ev.ts = caf::make_timestamp() - std::chrono::seconds(rng() % 4);
          auto res = db_->publish(ev);
          std::lock_guard<std::mutex> guard{mtx};
          if (!res) {
            violation("append: " + evstore::render(res.error()));
            return;
          }
          published.push_back(std::move(res->ev));
        }
      });
    for (auto& t : threads)
      t.join();
    appended_ += published.size();
    for (auto& w : subs_)
      for (const auto& ev : published)
        if (matches(w.pattern, ev.type))
          w.expected.insert(ev.id);
  }

  // SPEC §3's pattern rule written out here on purpose: the harness is an oracle for the bus, so it
  // must not share the bus's matcher (and uses only the public API).
  static bool matches(const std::string& pattern, const std::string& type) {
    if (pattern == "*")
      return true;
    if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ":*") == 0)
      return type.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return type == pattern;
  }

  void check_subscribers() {
    for (auto& w : subs_) {
      std::set<std::string> got;
      std::map<std::string, uint64_t> next_position;
      uint64_t missed = 0;
      // Wait long for what is still due, then briefly for anything extra (a duplicate).
      auto due = [&] { return got.size() + missed < w.expected.size() ? 2000ms : 30ms; };
      while (auto d = w.sub->next(due())) {
        if (d->what == evstore::delivery::kind::lagged)
          missed += d->missed;
        if (d->what != evstore::delivery::kind::event)
          continue;
        ++delivered_;
        if (!got.insert(d->ev.id).second)
          violation("subscriber " + w.pattern + " got " + d->ev.id + " twice");
        if (!w.expected.count(d->ev.id))
          violation("subscriber " + w.pattern + " got " + d->ev.id + ", never published to it");
        auto [it, fresh] = next_position.emplace(d->ev.task, d->position + 1);
        if (!fresh && d->position < it->second)
          violation("subscriber " + w.pattern + " got task '" + d->ev.task + "' out of order");
        it->second = d->position + 1;
      }
      if (w.drop) {
        if (got.size() + missed != w.expected.size())
          violation("drop subscriber " + w.pattern + ": " + std::to_string(got.size())
                    + " delivered + " + std::to_string(missed) + " missed != "
                    + std::to_string(w.expected.size()) + " published");
      } else if (got != w.expected) {
        violation("subscriber " + w.pattern + " got " + std::to_string(got.size()) + " of "
                  + std::to_string(w.expected.size()) + " matching events");
      }
      w.expected.clear();
    }
  }

  // The oracle: every task read in full, ordered as SPEC §3 says, the last `limit` kept.
  std::vector<std::string> oracle(const std::string& prefix, uint64_t limit,
                                  caf::optional<evstore::timestamp> since) {
    std::vector<std::tuple<evstore::timestamp, std::string, uint64_t, std::string>> all;
    auto tasks = db_->list_tasks(/*include_system_log=*/true);
    if (!tasks) {
      fail(tasks.error(), "list_tasks");
      return {};
    }
    for (const auto& task : *tasks) {
      auto res = db_->read_task(task);
      if (!res) {
        fail(res.error(), "read_task");
        return {};
      }
      for (size_t i = 0; i < res->events.size(); ++i) {
        const auto& ev = res->events[i];
        if (ev.type.compare(0, prefix.size(), prefix) == 0 && (!since || ev.ts >= *since))
          all.emplace_back(*ev.ts, ev.task, i, ev.id);
      }
    }
    std::sort(all.begin(), all.end());
    std::vector<std::string> ids;
    for (size_t i = all.size() > limit ? all.size() - limit : 0; i < all.size(); ++i)
      ids.push_back(std::get<3>(all[i]));
    return ids;
  }

  void check_queries() {
    for (int q = 0; q < 6; ++q) {
      std::string prefix = prefixes[rng_() % std::size(prefixes)];
      uint64_t limit = std::vector<uint64_t>{0, 1, 7, 100, 500, 100000}[rng_() % 6];
      caf::optional<evstore::timestamp> since;
      if (rng_() % 3 == 0)
        since = caf::make_timestamp() - std::chrono::milliseconds(rng_() % 3000);
      auto res = db_->query_by_type_prefix(prefix, limit, since);
      if (!res) {
        fail(res.error(), "query");
        continue;
      }
      std::vector<std::string> ids;
      for (const auto& ev : res->events)
        ids.push_back(ev.id);
      ++queries_;
      if (ids != oracle(prefix, limit, since))
        violation("query('" + prefix + "', " + std::to_string(limit)
                  + (since ? ", since" : "") + ") differs from the oracle");
    }
  }

  void check_compaction() {
    auto task = "task-" + std::to_string(rng_() % cfg_.tasks);
    auto before = db_->read_task(task);
    if (!before) {
      fail(before.error(), "read before compaction");
      return;
    }
    evstore::retention_policy policy;
    policy.max_events = rng_() % 40;
    policy.max_age = caf::none;
    auto res = db_->compact_task(task, policy);
    auto after = db_->read_task(task);
    if (!res || !after) {
      fail(res ? after.error() : res.error(), "compaction");
      return;
    }
    ++compactions_;
    auto keep = std::min<size_t>(*policy.max_events, before->events.size());
    bool same = after->events.size() == keep
                && std::equal(after->events.begin(), after->events.end(),
                              before->events.end() - static_cast<ptrdiff_t>(keep));
    if (!same || res->removed != before->events.size() - keep)
      violation("compacting " + task + " to " + std::to_string(*policy.max_events)
                + " events did not keep exactly the newest ones");
  }

  settings cfg_;
  std::mt19937_64 rng_;
  std::unique_ptr<evstore::store> db_;
  std::vector<watcher> subs_;
  uint64_t round_ = 0, appended_ = 0, queries_ = 0, delivered_ = 0, compactions_ = 0, reopens_ = 0;
  uint64_t violations_ = 0;
};

} // namespace

int main(int argc, char** argv) {
  settings cfg;
  CLI::App app{"evstore harness: a random workload with invariants checked as it runs"};
  app.add_option("--seed", cfg.seed, "workload seed; a violation names it for replay");
  app.add_option("--duration", cfg.duration_s, "seconds to run")->check(CLI::PositiveNumber);
  app.add_option("--writers", cfg.writers, "appending threads")->check(CLI::PositiveNumber);
  app.add_option("--tasks", cfg.tasks, "distinct tasks")->check(CLI::PositiveNumber);
  app.add_option("--root", cfg.root, "store directory (default: a fresh temporary one)");
  app.add_flag("--keep", cfg.keep, "keep the temporary store afterwards");
  CLI11_PARSE(app, argc, argv);
  bool temporary = cfg.root.empty();
  if (temporary)
    cfg.root = (fs::temp_directory_path()
                / ("evstore-harness-" + std::to_string(cfg.seed) + "-" + std::to_string(::getpid())))
                 .string();
  int rc = harness{cfg}.run();
  if (temporary && !cfg.keep && rc == 0)
    fs::remove_all(cfg.root);
  else if (temporary)
    std::cerr << "harness: store kept in " << cfg.root << "\n";
  return rc;
}
