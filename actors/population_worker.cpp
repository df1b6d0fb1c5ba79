#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "src/storage/store_layout.hpp"
#include "store_workers.hpp"

namespace evstore {

namespace {

struct population_state {
  static inline const char* name = "evstore.population";
  std::vector<std::string> tasks;
  size_t next = 0;
  size_t in_flight = 0;
};

using population_pointer = caf::stateful_actor<population_state>*;

void pump(population_pointer self, store_internal_actor store, index_actor index, size_t window) {
  auto& st = self->state;
  while (st.in_flight < window && st.next < st.tasks.size()) {
    ++st.in_flight;
    auto done = [=] {
      --self->state.in_flight;
      pump(self, store, index, window);
    };
    const auto& task = st.tasks[st.next++];
    self->request(store, caf::infinite, populate_request{task})
      .then([=](uint64_t) { done(); },
            [=](caf::error& err) {
              // An unreadable file: the index must not answer as if the task were empty.
              self->send(index, population_failed{task, render(err)});
              done();
            });
  }
  if (st.in_flight == 0 && st.next == st.tasks.size())
    self->quit();
}

caf::behavior population(population_pointer self, store_internal_actor store, index_actor index,
                         std::string root, size_t window) {
  auto tasks = list_task_ids(root);
  self->state.tasks = tasks ? std::move(*tasks) : std::vector<std::string>{};
  // The plan goes first, so the index knows what "complete" means before any summary counts.
  self->send(index, population_plan{self->state.tasks});
  pump(self, store, index, std::max<size_t>(window, 1));
  return {[](caf::unit_t) {}};
}

} // namespace

void spawn_population_worker(store_internal_actor::pointer store, index_actor index, std::string root,
                             size_t window) {
  store->spawn(population, caf::actor_cast<store_internal_actor>(store), std::move(index), std::move(root),
               window);
}

} // namespace evstore
