#include "index_actor.hpp"

#include <map>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "checkpoint_saver.hpp"
#include "messages/internal/atoms.hpp"
#include "src/index/index_checkpoint.hpp"

namespace evstore {

namespace {

struct deferred_plan {
  plan_request req;
  caf::typed_response_promise<query_plan> promise;
};

struct index_state {
  static inline const char* name = "evstore.index";
  index_setup setup;
  std::shared_ptr<type_index> index;
  /// False from a pass's start until its plan arrives: queries wait.
  bool plan_received = false;
  uint64_t population_total = 0;
  uint64_t population_loads = 0;
  std::unordered_set<std::string> pending; // tasks of the pass's plan not reported yet
  std::vector<deferred_plan> deferred;
  std::vector<caf::typed_response_promise<index_stats>> awaiting;
  /// Tasks whose file could not be loaded, with why: queries fail rather than answer without them.
  std::map<std::string, std::string> failed;
  /// Something changed since the last checkpoint was made.
  bool dirty = false;
  bool saving = false;
  checkpoint_saver saver;
  /// Ourselves, until we quit: when the store ends, nothing else refers to us, and CAF would
  /// destroy us as unreachable before the exit handler that saves the last checkpoint runs.
  index_actor keep_alive;
  caf::error exit_reason;

  caf::expected<query_plan> plan(const plan_request& req) const {
    if (!failed.empty()) {
      const auto& [task, why] = *failed.begin();
      if (task == listing_failure)
        return make_error(errc::io_error, "the index could not list the store's tasks: " + why);
      return make_error(errc::io_error, "the index is missing task '" + task + "': " + why);
    }
    return index->plan(req);
  }

  bool complete() const {
    return plan_received && pending.empty();
  }

  index_stats stats() const {
    auto out = index->stats();
    out.population_total = population_total;
    out.population_done = population_total - std::min<uint64_t>(population_total, pending.size());
    out.complete = complete() && failed.empty();
    out.checkpoint_tasks = setup.checkpoint_tasks;
    out.population_loads = population_loads;
    return out;
  }

  // A writer told us about `task`. A pass waits for each task of its plan to report after the
  // plan: the pass's own load of it (populate always reports) comes after the plan, so an earlier
  // report, of a file that may have changed since, never stands in for it.
  void reported(const std::string& task) {
    dirty = true;
    if (pending.erase(task))
      maybe_release();
  }

  // Answers the queries (and waiters) that waited for population, once it is complete.
  void maybe_release() {
    if (!complete())
      return;
    if (!awaiting.empty()) {
      auto st = stats();
      for (auto& a : awaiting)
        a.deliver(st);
      awaiting.clear();
    }
    for (auto& d : deferred) {
      auto p = plan(d.req);
      if (p)
        d.promise.deliver(std::move(*p));
      else
        d.promise.deliver(p.error());
    }
    deferred.clear();
  }

  // Everything the index knows, as a checkpoint's bytes. Runs in the index (the index must not
  // change while it is read); the writing happens on the saver's thread.
  std::string encode() const {
    checkpoint_encoder out{checkpoint_scope{static_cast<uint32_t>(setup.sketch_size),
                                            setup.root_device}};
    index->for_each_task([&](const task_summary& task) {
      if (!failed.count(task.task)) // what we hold of it may not be what its file holds
        out.add(task);
    });
    return out.finish();
  }
};

using index_pointer = index_actor::stateful_pointer<index_state>;

// Saves a checkpoint if anything changed. Whatever the index holds of a task is true of some file
// (an identity and its first bytes), even mid-pass, and each entry is checked against the file at
// the next open: so a store closed before its pass completed (a command that appends one event)
// still saves what it learned. Only tasks that failed to load are left out (encode).
void save(index_pointer self, bool last) {
  auto& st = self->state;
  if (!st.saver || (!last && st.saving) || !st.dirty) {
    if (last && st.saver)
      caf::anon_send(st.saver, close_atom::value);
    return;
  }
  st.dirty = false;
  st.saving = true;
  save_checkpoint req{st.encode(), last};
  if (last) { // nobody waits for the answer: the store is closing
    caf::anon_send(st.saver, std::move(req));
    return;
  }
  self->request(st.saver, caf::infinite, std::move(req))
    .then([=](bool) { self->state.saving = false; },
          [=](caf::error&) {
            // Not saved: the old checkpoint (or none) stays, which is as correct, only slower to
            // open with. Try again at the next tick.
            self->state.saving = false;
            self->state.dirty = true;
          });
}

index_actor::behavior_type index_behavior(index_pointer self, index_setup setup) {
  auto& st = self->state;
  st.index = setup.initial ? setup.initial : std::make_shared<type_index>(setup.sketch_size);
  setup.initial = nullptr;
  if (setup.root) {
    st.saver = spawn_checkpoint_saver(self->system(), setup.root, setup.lock);
    self->link_to(st.saver); // it learns of our end even if we never send it the last save
    st.keep_alive = caf::actor_cast<index_actor>(self);
    // An exit overtakes the notifications queued before it: save after them, not before.
    self->set_exit_handler([=](caf::exit_msg& msg) {
      if (msg.source == self->state.saver.address()) { // it failed: go on without checkpoints
        self->state.saver = nullptr;
        return;
      }
      self->state.exit_reason = std::move(msg.reason);
      self->send(self, close_atom::value);
    });
    if (setup.checkpoint_interval.count() > 0)
      self->delayed_send(self, setup.checkpoint_interval, checkpoint_atom::value);
  }
  st.setup = std::move(setup);
  return {
    [=](const task_summary& summary) {
      auto& st = self->state;
      st.index->apply(summary);
      st.failed.erase(summary.task);
      st.reported(summary.task);
    },
    [=](const task_extended& note) {
      auto& st = self->state;
      if (!st.index->apply(note))
        // The lines do not follow what the index knows: answering without them would be wrong.
        st.failed[note.task] = "the index's record of the task does not match its file; reopen "
                               "the store";
      else
        st.failed.erase(note.task);
      st.reported(note.task);
    },
    [=](population_failed& failure) {
      auto& st = self->state;
      st.failed[failure.task] = std::move(failure.reason);
      st.reported(failure.task);
    },
    [=](const appended& note) {
      self->state.index->apply(note);
      self->state.dirty = true;
    },
    [=](const compacted& note) {
      self->state.index->apply(note);
      self->state.dirty = true;
    },
    [=](const task_removed& note) {
      auto& st = self->state;
      st.index->remove_task(note.task);
      st.reported(note.task);
    },
    [=](population_start) -> known_files {
      auto& st = self->state;
      st.plan_received = false; // queries wait for this pass
      known_files out;
      st.index->for_each_file([&](const std::string& task, const file_extent& extent) {
        out.tasks.push_back(task);
        out.extents.push_back(extent);
      });
      return out;
    },
    [=](population_plan& plan) {
      auto& st = self->state;
      st.population_total = plan.listed;
      st.population_loads += plan.tasks.size();
      for (auto& task : plan.tasks)
        st.pending.insert(std::move(task));
      // A failed listing sends its (empty) plan first and the failure after it: any plan clears
      // an earlier pass's failure to list.
      st.failed.erase(listing_failure);
      st.plan_received = true;
      st.maybe_release();
    },
    [=](plan_request& req) -> caf::result<query_plan> {
      auto& st = self->state;
      if (st.complete())
        return st.plan(req);
      auto promise = self->make_response_promise<query_plan>();
      st.deferred.push_back(deferred_plan{std::move(req), promise});
      return promise;
    },
    [=](stats_request) -> index_stats { return self->state.stats(); },
    [=](await_index_request) -> caf::result<index_stats> {
      auto& st = self->state;
      if (st.complete())
        return st.stats();
      auto promise = self->make_response_promise<index_stats>();
      st.awaiting.push_back(promise);
      return promise;
    },
    [=](close_atom) {
      save(self, true);
      self->quit(self->state.exit_reason);
    },
    [=](checkpoint_atom) {
      save(self, false);
      self->delayed_send(self, self->state.setup.checkpoint_interval, checkpoint_atom::value);
    },
  };
}

} // namespace

index_actor spawn_index(caf::actor_system& sys, index_setup setup) {
  return sys.spawn(index_behavior, std::move(setup));
}

} // namespace evstore
