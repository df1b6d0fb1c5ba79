#include "index_actor.hpp"

#include <map>
#include <system_error>
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
  /// The save running (checkpoint_saver.hpp), if any: one at a time.
  caf::actor saver;
  /// The store ended: quit once the running save (if any) is done and the last one is started.
  bool closing = false;
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
    index->end_bulk(); // the pass that deferred ordering is complete: order every type once
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

  bool saves_checkpoints() const {
    return setup.root != nullptr;
  }
};

using index_pointer = index_actor::stateful_pointer<index_state>;

// Saves a checkpoint if anything changed and no save runs. Whatever the index holds of a task is
// true of some file (an identity and its first bytes), even mid-pass, and each entry is checked
// against the file at the next open: so a store closed before its pass completed (a command that
// appends one event) still saves what it learned. Only tasks that failed to load are left out.
// The index copies itself for the saver, which encodes and writes on a thread of its own: while a
// save runs, the index's memory is there twice (107 MB of index at 2 M pairs), and the encoded
// checkpoint besides (75 MB).
void save(index_pointer self) {
  auto& st = self->state;
  if (!st.saves_checkpoints() || st.saver || !st.dirty)
    return;
  checkpoint_job job;
  try {
    job.snapshot = std::make_shared<const type_index>(*st.index);
  } catch (const std::bad_alloc&) { // not saved: the old checkpoint (or none) stays, as correct
    return;
  }
  for (const auto& [task, why] : st.failed)
    job.excluded.insert(task);
  job.scope = checkpoint_scope{static_cast<uint32_t>(st.setup.sketch_size), st.setup.root_device};
  job.root = st.setup.root;
  job.lock = st.setup.lock;
  try {
    st.saver = spawn_checkpoint_saver(self, std::move(job));
  } catch (const std::system_error&) { // no thread to spare: try again at the next tick
    return;
  }
  st.dirty = false;
}

// The store ended: save what changed, after the save that runs (if any), then quit. The last saver
// outlives us, holding the lock until it is done.
void close_when_saved(index_pointer self) {
  auto& st = self->state;
  st.closing = true;
  if (st.saver)
    return; // its down message comes back here
  save(self);
  self->quit(st.exit_reason);
}

index_actor::behavior_type index_behavior(index_pointer self, index_setup setup) {
  auto& st = self->state;
  st.index = setup.initial ? setup.initial : std::make_shared<type_index>(setup.sketch_size);
  setup.initial = nullptr;
  if (setup.root) {
    st.keep_alive = caf::actor_cast<index_actor>(self);
    // An exit overtakes the notifications queued before it: save after them, not before.
    self->set_exit_handler([=](caf::exit_msg& msg) {
      self->state.exit_reason = std::move(msg.reason);
      self->send(self, close_atom::value);
    });
    self->set_down_handler([=](caf::down_msg& msg) {
      auto& st = self->state;
      if (msg.source != st.saver.address())
        return;
      st.saver = nullptr;
      if (msg.reason) // not saved: the old checkpoint (or none) stays, as correct; try again
        st.dirty = true;
      if (st.closing)
        close_when_saved(self);
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
      // Nothing plans until the pass is complete: its summaries (and appends meanwhile) leave each
      // type's order unsettled, to be merged in once instead of inserted one by one.
      st.index->begin_bulk();
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
    [=](close_atom) { close_when_saved(self); },
    [=](checkpoint_atom) {
      save(self);
      self->delayed_send(self, self->state.setup.checkpoint_interval, checkpoint_atom::value);
    },
  };
}

} // namespace

index_actor spawn_index(caf::actor_system& sys, index_setup setup) {
  return sys.spawn(index_behavior, std::move(setup));
}

} // namespace evstore
