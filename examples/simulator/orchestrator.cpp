// The orchestrator: creates tasks (keeping about two per agent open), follows task:state:* live
// through a bus subscription, and every rebuild period rebuilds "latest state per task" with
// query_by_type_prefix("task:state:", 500), as the real orchestrator does after a restart or a
// missed notification. It measures that query and how far behind the writes its subscription runs.
#include "actors.hpp"

#include <cstdio>
#include <map>

#include <caf/timestamp.hpp>

#include <unistd.h>

namespace sim {

namespace {

using clock_type = std::chrono::steady_clock;

struct orchestrator_state {
  int created = 0;
  int merged = 0;
  int open = 0;
  uint64_t subscription = 0;
  std::map<std::string, std::string> live_state; // from the subscription
  clock_type::time_point start;
  clock_type::time_point last_progress;
  bool finishing = false;
};

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

} // namespace

caf::behavior orchestrator(caf::event_based_actor* self, evstore::store_actor store,
                           caf::actor scheduler, std::shared_ptr<counters> count, settings cfg,
                           std::shared_ptr<report> out) {
  auto st = std::make_shared<orchestrator_state>();
  st->start = st->last_progress = clock_type::now();
  const bool tty = ::isatty(STDERR_FILENO);

  auto create_task = [=] {
    int n = st->created++;
    ++st->open;
    auto task = task_name(n);
    auto decision = make_event(task, "orchestrator:decision", evstore::actor_kind::orchestrator,
                               {{"action", "create"}, {"turns", plan_for(cfg.seed, n).turns}});
    self->request(store, caf::infinite, evstore::append_request{std::move(decision), caf::none})
      .then([=](const evstore::append_result&) {
        ++count->events;
        auto created = make_event(task, "task:state:created", evstore::actor_kind::orchestrator, {});
        self->request(store, caf::infinite, evstore::append_request{std::move(created), caf::none})
          .then([=](const evstore::append_result&) {
            ++count->events;
            self->send(scheduler, submit_atom::value, task, n);
          });
      });
  };
  auto top_up = [=] {
    auto elapsed_s = ms_between(st->start, clock_type::now()) / 1000;
    while (st->created < cfg.tasks && st->open < 2 * cfg.agents && elapsed_s < cfg.duration_s)
      create_task();
  };
  auto finish = [=] {
    st->finishing = true;
    out->elapsed_s = ms_between(st->start, clock_type::now()) / 1000;
    self->send(store, evstore::unsubscribe_request{st->subscription});
    if (!cfg.quiet && tty)
      std::fprintf(stderr, "\n");
    self->quit();
  };

  self->set_error_handler([=](caf::error& err) {
    std::fprintf(stderr, "simulator: %s\n", evstore::render(err).c_str());
    self->quit(err);
  });

  evstore::subscribe_request sub;
  sub.filter.patterns = {"task:state:*"};
  sub.subscriber = caf::actor_cast<caf::strong_actor_ptr>(self);
  sub.buffer = 4096;
  self->request(store, caf::infinite, sub).then([=](const evstore::subscribed& s) {
    st->subscription = s.id;
    top_up();
    self->send(self, tick_atom::value);
  });

  return {
    [=](const evstore::bus_event& x) {
      caf::timespan lag = evstore::timestamp{caf::make_timestamp()} - *x.ev.ts;
      out->lag_ms.push_back(std::chrono::duration<double, std::milli>(lag).count());
      st->live_state[x.ev.task] = x.ev.type.substr(sizeof("task:state:") - 1);
      ++out->live_state_events;
      self->send(caf::actor_cast<evstore::bus_ack_receiver>(self->current_sender()),
                 evstore::bus_ack{x.subscription, 1});
    },
    [=](const evstore::caught_up&) {},
    [=](const evstore::lagged&) {},
    [=](merged_atom, const std::string&) {
      ++st->merged;
      --st->open;
      ++count->tasks_done;
      top_up();
    },
    [=](tick_atom) {
      if (st->finishing)
        return;
      auto now = clock_type::now();
      auto elapsed_s = ms_between(st->start, now) / 1000;
      if (elapsed_s >= cfg.duration_s || st->merged == cfg.tasks)
        return finish();
      auto t0 = clock_type::now();
      self->request(store, caf::infinite, evstore::query_request{"task:state:", 500, caf::none})
        .then([=](const evstore::query_result& res) {
          out->query_ms.push_back(ms_between(t0, clock_type::now()));
          std::map<std::string, std::string> latest; // ascending ts: the last one wins
          for (const auto& ev : res.events)
            latest[ev.task] = ev.type;
          out->tasks_seen_by_query = latest.size();
        });
      if (!cfg.quiet && ms_between(st->last_progress, now) >= 1000) {
        st->last_progress = now;
        std::fprintf(stderr, "%s[%5.1fs] %8llu events (%6.0f/s)  tasks merged %4d/%d  query p50 %.2f ms  lag p50 %.2f ms%s",
                     tty ? "\r" : "", elapsed_s,
                     static_cast<unsigned long long>(count->events.load()),
                     static_cast<double>(count->events.load()) / elapsed_s, st->merged, cfg.tasks,
                     median(out->query_ms), median(out->lag_ms), tty ? "" : "\n");
      }
      self->delayed_send(self, std::chrono::milliseconds(cfg.rebuild_ms), tick_atom::value);
    },
  };
}

} // namespace sim
