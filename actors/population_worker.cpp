#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "src/storage/store_layout.hpp"
#include "gather.hpp"
#include "population_worker.hpp"

namespace evstore {

namespace {

caf::behavior population_behavior(caf::event_based_actor* self, store_internal_actor store,
                                  index_actor index, std::string root, size_t window) {
  auto listed = list_task_ids(root);
  auto tasks = listed ? std::move(*listed) : std::vector<std::string>{};
  // The plan goes first, so the index knows what "complete" means before any summary counts.
  self->send(index, population_plan{tasks});
  gather<uint64_t>(
    std::move(tasks), std::max<size_t>(window, 1),
    [=](const std::string& task) {
      return self->request(store, caf::infinite, populate_request{task});
    },
    [](const std::string&, uint64_t) {},
    [=](const std::string& task, caf::error& err) {
      // An unreadable file: the index must not answer as if the task were empty.
      self->send(index, population_failed{task, render(err)});
    },
    [=] { self->quit(); });
  return {[](caf::unit_t) {}};
}

} // namespace

void spawn_population_worker(store_internal_actor::pointer store, index_actor index, std::string root,
                             size_t window) {
  store->spawn(population_behavior, caf::actor_cast<store_internal_actor>(store), std::move(index), std::move(root),
               window);
}

} // namespace evstore
