// evstore's simulator: an orchestrator, a scheduler and N agents, all actors embedding one store,
// running tasks through their life (created, queued, running, review, merge) for a while, then a
// summary of what was written and how fast the orchestrator's queries and subscription were.
//
//   simulator [--tasks 2000] [--agents 16] [--duration 10] [--seed 42] [--root ./events]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors.hpp"

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

} // namespace

int main(int argc, char** argv) {
  sim::settings cfg;
  CLI::App app{"evstore simulator: an orchestrator, a scheduler and agents on one embedded store"};
  app.add_option("--tasks", cfg.tasks, "tasks to run through their life")->check(CLI::PositiveNumber);
  app.add_option("--agents", cfg.agents, "agent actors")->check(CLI::PositiveNumber);
  app.add_option("--duration", cfg.duration_s, "seconds to run at most")->check(CLI::PositiveNumber);
  app.add_option("--seed", cfg.seed, "workload seed (same seed, same tasks)");
  app.add_option("--root", cfg.root, "store directory");
  app.add_option("--rebuild-ms", cfg.rebuild_ms, "how often the orchestrator queries the index")
    ->check(CLI::PositiveNumber);
  app.add_flag("--quiet", cfg.quiet, "no progress line");
  CLI11_PARSE(app, argc, argv);

  evstore::system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  evstore::store_options opts;
  opts.root = cfg.root;
  auto db = evstore::store::open(sys, opts);
  if (!db) {
    std::cerr << "simulator: " << evstore::render(db.error()) << "\n";
    return 1;
  }
  if (auto ready = (*db)->wait_for_index(); !ready) {
    std::cerr << "simulator: " << evstore::render(ready.error()) << "\n";
    return 1;
  }
  auto count = std::make_shared<sim::counters>();
  auto out = std::make_shared<sim::report>();
  auto store = (*db)->handle();
  auto scheduler = sys.spawn(sim::scheduler, store, count, cfg.seed);
  std::vector<caf::actor> agents;
  for (int i = 0; i < cfg.agents; ++i) {
    agents.push_back(sys.spawn(sim::agent, store, scheduler, count, cfg.seed, i));
    caf::anon_send(scheduler, agents.back());
  }
  auto orchestrator = sys.spawn(sim::orchestrator, store, scheduler, count, cfg, out);
  {
    caf::scoped_actor self{sys};
    self->monitor(orchestrator);
    self->receive([](const caf::down_msg&) {});
    for (auto& a : agents)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    self->send_exit(scheduler, caf::exit_reason::user_shutdown);
  }
  auto bus = (*db)->bus_statistics();
  auto index = (*db)->index_statistics();
  const auto events = count->events.load();
  std::printf("simulator: seed %llu, %d agents, %.1f s, store %s\n",
              static_cast<unsigned long long>(cfg.seed), cfg.agents, out->elapsed_s,
              cfg.root.c_str());
  std::printf("  events written        %llu (%.0f events/s), %llu append errors\n",
              static_cast<unsigned long long>(events), static_cast<double>(events) / out->elapsed_s,
              static_cast<unsigned long long>(count->append_errors.load()));
  std::printf("  tasks merged          %llu of %d\n",
              static_cast<unsigned long long>(count->tasks_done.load()), cfg.tasks);
  std::printf("  latest-state rebuilds %zu, query_by_type_prefix(\"task:state:\", 500) p50 %.3f ms, p99 %.3f ms\n",
              out->query_ms.size(), percentile(out->query_ms, 0.5), percentile(out->query_ms, 0.99));
  std::printf("  task:state:* live     %llu events, lag p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
              static_cast<unsigned long long>(out->live_state_events), percentile(out->lag_ms, 0.5),
              percentile(out->lag_ms, 0.99), out->lag_ms.empty() ? 0.0 : *std::max_element(out->lag_ms.begin(), out->lag_ms.end()));
  if (bus)
    std::printf("  bus                   %llu events seen, %llu delivered, %llu recoveries\n",
                static_cast<unsigned long long>(bus->events_seen),
                static_cast<unsigned long long>(bus->events_delivered),
                static_cast<unsigned long long>(bus->recoveries));
  if (index)
    std::printf("  index                 %llu tasks, %llu types, %llu events, %.1f MB in memory\n",
                static_cast<unsigned long long>(index->tasks),
                static_cast<unsigned long long>(index->types),
                static_cast<unsigned long long>(index->events),
                static_cast<double>(index->bytes) / 1e6);
  return count->append_errors.load() == 0 ? 0 : 1;
}
