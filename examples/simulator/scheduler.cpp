// The scheduler: queues submitted tasks, hands each to an idle agent, sends finished work to review
// (some tasks get changes requested once and run again), and merges one task at a time. Every state
// change is an event, appended before the step that depends on it, so each task's log is in order.
#include "actors.hpp"

#include <deque>
#include <functional>
#include <set>

namespace sim {

namespace {

struct scheduler_state {
  std::deque<std::pair<std::string, int>> queue;
  std::vector<caf::actor> idle;
  std::deque<std::string> merges;
  bool merging = false;
  std::set<int> retried;
  caf::actor orchestrator;
};

using append_fn
  = std::function<void(const std::string&, const char*, boost::json::object, std::function<void()>)>;

// Merges the next queued task, one at a time: merge:started, merge:done, task:state:done.
void merge_next(caf::event_based_actor* self, std::shared_ptr<scheduler_state> st,
                append_fn append) {
  if (st->merging || st->merges.empty())
    return;
  st->merging = true;
  auto task = st->merges.front();
  st->merges.pop_front();
  append(task, "merge:started", {{"branch", task}}, [=] {
    append(task, "merge:done", {{"branch", task}, {"conflicts", 0}}, [=] {
      append(task, "task:state:done", {}, [=] {
        st->merging = false;
        self->send(st->orchestrator, merged_atom::value, task);
        merge_next(self, st, append);
      });
    });
  });
}

} // namespace

caf::behavior scheduler(caf::event_based_actor* self, evstore::store_actor store,
                        std::shared_ptr<counters> count, uint64_t seed) {
  auto st = std::make_shared<scheduler_state>();
  // Appends, then runs `next` once the store acknowledged it.
  append_fn append = [=](const std::string& task, const char* type, boost::json::object data,
                    std::function<void()> next) {
    auto ev = make_event(task, type, evstore::actor_kind::scheduler, std::move(data));
    self->request(store, caf::infinite, evstore::append_request{std::move(ev), caf::none})
      .then(
        [=](const evstore::append_result&) {
          ++count->events;
          if (next)
            next();
        },
        [=](const caf::error&) {
          ++count->append_errors;
          if (next)
            next();
        });
  };
  auto dispatch = [=] {
    while (!st->idle.empty() && !st->queue.empty()) {
      auto agent = st->idle.back();
      st->idle.pop_back();
      auto [task, number] = st->queue.front();
      st->queue.pop_front();
      self->send(agent, assign_atom::value, task, number);
    }
  };
  return {
    [=](caf::actor agent) { // an agent joins
      st->idle.push_back(std::move(agent));
      dispatch();
    },
    [=](submit_atom, const std::string& task, int number) {
      st->orchestrator = caf::actor_cast<caf::actor>(self->current_sender());
      append(task, "task:state:queued", {}, [=] {
        st->queue.emplace_back(task, number);
        dispatch();
      });
    },
    [=](finished_atom, const std::string& task, int number, caf::actor agent) {
      st->idle.push_back(std::move(agent));
      dispatch();
      append(task, "task:state:review", {}, [=] {
        if (plan_for(seed, number).needs_retry && st->retried.insert(number).second)
          return append(task, "task:state:changes_requested", {{"reason", "tests fail"}}, [=] {
            st->queue.emplace_back(task, number);
            dispatch();
          });
        append(task, "merge:queued", {{"branch", task}}, [=] {
          st->merges.push_back(task);
          merge_next(self, st, append);
        });
      });
    },
  };
}

} // namespace sim
