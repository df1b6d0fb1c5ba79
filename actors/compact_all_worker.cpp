#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "src/storage/store_layout.hpp"
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
  /// Tasks whose compaction failed, with why; the others go on.
  std::vector<std::pair<std::string, caf::error>> failures;
  caf::typed_response_promise<compact_result> promise;
};

using worker_pointer = compact_all_worker::stateful_pointer<compact_all_state>;

// One error for the caller: the first failure's code, every failed task named (the first ten with
// their reasons), and what the rest achieved, so a failing task never hides the others' results.
caf::error summarise(const compact_all_state& st) {
  const caf::error& first_err = st.failures.front().second;
  std::string what = "compaction failed for " + std::to_string(st.failures.size()) + " of "
                     + std::to_string(st.tasks.size()) + " tasks:";
  size_t listed = 0;
  for (const auto& [task, err] : st.failures) {
    what += listed++ < 10 ? " '" + task + "' (" + render(err) + ");" : " '" + task + "';";
  }
  what += " the others were compacted (" + std::to_string(st.total.removed) + " events removed, "
          + std::to_string(st.total.kept) + " kept, " + std::to_string(st.total.corrupt_moved)
          + " corrupt lines moved)";
  if (first_err.category() == caf::atom("evstore"))
    return make_error(static_cast<errc>(first_err.code()), std::move(what));
  return make_error(errc::io_error, std::move(what));
}

void pump(worker_pointer self, store_internal_actor store, compact_all_request req) {
  auto& st = self->state;
  while (st.in_flight < compaction_window && st.next < st.tasks.size()) {
    ++st.in_flight;
    auto task = st.tasks[st.next++];
    self->request(store, caf::infinite, compact_request{task, req.policy, req.dry_run})
      .then(
        [=](const compact_result& r) {
          auto& s = self->state;
          --s.in_flight;
          s.total.removed += r.removed;
          s.total.kept += r.kept;
          s.total.corrupt_moved += r.corrupt_moved;
          pump(self, store, req);
        },
        [=](caf::error& err) {
          auto& s = self->state;
          --s.in_flight;
          s.failures.emplace_back(task, std::move(err)); // keep going: one bad task stops no other
          pump(self, store, req);
        });
  }
  if (st.in_flight == 0 && st.next == st.tasks.size()) {
    if (!st.failures.empty())
      st.promise.deliver(summarise(st));
    else
      st.promise.deliver(st.total);
    self->quit();
  }
}

compact_all_worker::behavior_type compact_all(worker_pointer self, store_internal_actor store,
                                              std::string root) {
  return {
    [=](compact_all_request& req) -> caf::result<compact_result> {
      if (auto err = validate(req.policy)) { // once, not once per task
        self->quit();
        return err;
      }
      auto tasks = list_task_ids(root);
      if (!tasks) {
        self->quit();
        return tasks.error();
      }
      self->state.tasks = std::move(*tasks);
      self->state.promise = self->make_response_promise<compact_result>();
      pump(self, store, req);
      return self->state.promise;
    },
  };
}

} // namespace

compact_all_worker spawn_compact_all_worker(store_internal_actor::pointer store, std::string root) {
  return store->spawn(compact_all, caf::actor_cast<store_internal_actor>(store), std::move(root));
}

} // namespace evstore
