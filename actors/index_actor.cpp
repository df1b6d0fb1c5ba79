#include "index_actor.hpp"

#include <map>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "src/index/type_index.hpp"

namespace evstore {

namespace {

struct deferred_plan {
  plan_request req;
  caf::typed_response_promise<query_plan> promise;
};

struct index_state {
  static inline const char* name = "evstore.index";
  std::unique_ptr<type_index> index;
  bool plan_received = false;
  uint64_t population_total = 0;
  std::unordered_set<std::string> pending; // listed tasks not summarised yet
  std::vector<deferred_plan> deferred;
  std::vector<caf::typed_response_promise<index_stats>> awaiting;
  /// Tasks whose file could not be loaded, with why: queries fail rather than answer without them.
  std::map<std::string, std::string> failed;

  caf::expected<query_plan> plan(const plan_request& req) const {
    if (!failed.empty())
      return make_error(errc::io_error, "the index is missing task '" + failed.begin()->first
                                          + "': " + failed.begin()->second);
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
    return out;
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
};

using index_pointer = index_actor::stateful_pointer<index_state>;

index_actor::behavior_type index_behavior(index_pointer self, size_t sketch_size) {
  self->state.index = std::make_unique<type_index>(sketch_size);
  return {
    [=](const task_summary& summary) {
      auto& st = self->state;
      st.index->apply(summary);
      st.failed.erase(summary.task);
      if (st.pending.erase(summary.task))
        st.maybe_release();
    },
    [=](population_failed& failure) {
      auto& st = self->state;
      st.failed[failure.task] = std::move(failure.reason);
      if (st.pending.erase(failure.task))
        st.maybe_release();
    },
    [=](const task_extended& note) {
      auto& st = self->state;
      if (!st.index->apply(note))
        // The lines do not follow what the index knows: answering without them would be wrong.
        st.failed[note.task] = "the index's record of the task does not match its file; reopen "
                               "the store";
      else
        st.failed.erase(note.task);
      if (st.pending.erase(note.task))
        st.maybe_release();
    },
    [=](const appended& note) { self->state.index->apply(note); },
    [=](const compacted& note) { self->state.index->apply(note); },
    [=](const task_removed& note) {
      auto& st = self->state;
      st.index->remove_task(note.task);
      if (st.pending.erase(note.task))
        st.maybe_release();
    },
    [=](population_plan& plan) {
      auto& st = self->state;
      st.population_total = plan.tasks.size();
      // Tasks whose writer already reported (it loaded for an early append) are done already.
      for (auto& task : plan.tasks)
        if (!st.index->knows(task))
          st.pending.insert(std::move(task));
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
  };
}

} // namespace

index_actor spawn_index(caf::actor_system& sys, size_t sketch_size) {
  return sys.spawn(index_behavior, sketch_size);
}

} // namespace evstore
