#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "src/storage/store_layout.hpp"
#include "compact_all_worker.hpp"
#include "gather.hpp"

namespace evstore {

namespace {

/// Compactions in flight at once: enough to keep both disks and cores busy, few enough that a store
/// of 100,000 tasks does not spawn 100,000 writers at once.
constexpr size_t compaction_window = 8;

struct compact_all_state {
  static inline const char* name = "evstore.compact_all";
  size_t tasks = 0;
  compact_result total;
  /// Tasks whose compaction failed, with why; the others go on.
  std::vector<std::pair<std::string, caf::error>> failures;
};

using worker_pointer = compact_all_worker::stateful_pointer<compact_all_state>;

// One error for the caller: the first failure's code, every failed task named (the first ten with
// their reasons), and what the rest achieved, so a failing task never hides the others' results.
caf::error summarise(const compact_all_state& st) {
  const caf::error& first_err = st.failures.front().second;
  std::string what = "compaction failed for " + std::to_string(st.failures.size()) + " of "
                     + std::to_string(st.tasks) + " tasks:";
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

compact_all_worker::behavior_type compact_all_behavior(worker_pointer self,
                                                       store_internal_actor store, std::string root) {
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
      self->state.tasks = tasks->size();
      auto promise = self->make_response_promise<compact_result>();
      gather<compact_result>(
        std::move(*tasks), compaction_window,
        [=](const std::string& task) {
          return self->request(store, caf::infinite, compact_request{task, req.policy, req.dry_run});
        },
        [=](const std::string&, const compact_result& r) { self->state.total += r; },
        [=](const std::string& task, caf::error& err) {
          self->state.failures.emplace_back(task, std::move(err)); // one bad task stops no other
        },
        [=]() mutable {
          const auto& st = self->state;
          if (!st.failures.empty())
            promise.deliver(summarise(st));
          else
            promise.deliver(st.total);
          self->quit();
        });
      return promise;
    },
  };
}

} // namespace

compact_all_worker spawn_compact_all_worker(store_internal_actor::pointer store, std::string root) {
  return store->spawn(compact_all_behavior, caf::actor_cast<store_internal_actor>(store), std::move(root));
}

} // namespace evstore
