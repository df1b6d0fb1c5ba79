// An agent: works one task at a time, streaming agent:message and agent:tokens events, one append in
// flight (each step starts when the store acknowledged the previous one), then reports to the
// scheduler.
#include "actors.hpp"

#include <caf/event_based_actor.hpp>

namespace sim {

namespace {

constexpr const char* words[] = {"refactor", "test",  "parser", "index", "merge", "review",
                                 "fix",      "build", "bench",  "trace", "patch", "plan"};

std::string sentence(std::mt19937_64& rng) {
  std::string out;
  auto n = 8 + rng() % 40;
  for (size_t i = 0; i < n; ++i) {
    out += words[rng() % std::size(words)];
    out += ' ';
  }
  return out;
}

struct agent_state {
  std::string task;
  int number = 0;
  task_plan plan{};
  int turn = 0;
  std::mt19937_64 rng;
};

} // namespace

caf::behavior agent(caf::event_based_actor* self, evstore::store_actor store,
                    caf::actor scheduler, std::shared_ptr<counters> count, uint64_t seed,
                    int agent_number) {
  auto name = "agent-" + std::to_string(agent_number);
  auto state = std::make_shared<agent_state>();
  auto append = [=](evstore::event ev) {
    self->request(store, caf::infinite, evstore::append_request{std::move(ev), caf::none})
      .then(
        [=](const evstore::append_result&) {
          ++count->events;
          self->send(self, step_atom::value);
        },
        [=](const caf::error&) {
          ++count->append_errors;
          self->send(self, step_atom::value);
        });
  };
  return {
    [=](assign_atom, const std::string& task, int number) {
      auto& st = *state;
      st.task = task;
      st.number = number;
      st.plan = plan_for(seed, number);
      st.turn = 0;
      st.rng.seed(seed ^ (static_cast<uint64_t>(number) << 20));
      append(make_event(task, "task:state:running", evstore::actor_kind::agent,
                        {{"agent", name}}));
    },
    [=](step_atom) {
      auto& st = *state;
      if (st.task.empty())
        return;
      auto turn = st.turn++;
      if (turn < st.plan.turns) {
        if (turn % st.plan.tokens_every == st.plan.tokens_every - 1)
          return append(make_event(st.task, "agent:tokens", evstore::actor_kind::agent,
                                   {{"input", 500 + st.rng() % 4000},
                                    {"output", 100 + st.rng() % 1500},
                                    {"agent", name}}));
        return append(make_event(st.task, "agent:message", evstore::actor_kind::agent,
                                 {{"role", turn % 2 ? "assistant" : "tool"},
                                  {"text", sentence(st.rng)},
                                  {"turn", turn}}));
      }
      // Done: hand the task back for review and merging.
      auto task = std::move(st.task);
      st.task.clear();
      self->send(scheduler, finished_atom::value, task, st.number, caf::actor{self});
    },
  };
}

} // namespace sim
