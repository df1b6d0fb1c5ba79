#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "store_layout.hpp"
#include "store_workers.hpp"

namespace evstore {

namespace {

/// Compactions in flight at once: enough to keep both disks and cores busy, few enough that a store
/// of 100,000 tasks does not spawn 100,000 writers at once.
constexpr size_t compaction_window = 8;

struct compact_all_state {
  static inline const char* name = "evstore.compact_all";
  std::vector<std::string> tasks;
  size_t next = 0;
  size_t in_flight = 0;
  compact_result total;
  caf::error first_error;
  caf::typed_response_promise<compact_result> promise;
};

using worker_pointer = compact_all_worker::stateful_pointer<compact_all_state>;

void pump(worker_pointer self, store_actor store, retention_policy policy) {
  auto& st = self->state;
  while (st.in_flight < compaction_window && st.next < st.tasks.size()) {
    ++st.in_flight;
    self->request(store, caf::infinite, compact_request{st.tasks[st.next++], policy})
      .then(
        [=](const compact_result& r) {
          auto& s = self->state;
          --s.in_flight;
          s.total.removed += r.removed;
          s.total.kept += r.kept;
          s.total.corrupt_moved += r.corrupt_moved;
          pump(self, store, policy);
        },
        [=](caf::error& err) {
          auto& s = self->state;
          --s.in_flight;
          if (!s.first_error)
            s.first_error = std::move(err); // keep going: one bad task must not stop the rest
          pump(self, store, policy);
        });
  }
  if (st.in_flight == 0 && st.next == st.tasks.size()) {
    if (st.first_error)
      st.promise.deliver(st.first_error);
    else
      st.promise.deliver(st.total);
    self->quit();
  }
}

compact_all_worker::behavior_type compact_all(worker_pointer self, store_actor store,
                                              std::string root) {
  return {
    [=](compact_all_request& req) -> caf::result<compact_result> {
      auto tasks = list_task_ids(root);
      if (!tasks) {
        self->quit();
        return tasks.error();
      }
      self->state.tasks = std::move(*tasks);
      self->state.promise = self->make_response_promise<compact_result>();
      pump(self, store, req.policy);
      return self->state.promise;
    },
  };
}

} // namespace

compact_all_worker spawn_compact_all_worker(store_actor::pointer store, std::string root) {
  return store->spawn(compact_all, caf::actor_cast<store_actor>(store), std::move(root));
}

} // namespace evstore
