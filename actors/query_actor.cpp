#include <memory>

#include <caf/typed_event_based_actor.hpp>

#include "evstore/actors/writer_actor.hpp"
#include "query_order.hpp"
#include "store_workers.hpp"

namespace evstore {

namespace {

struct query_state {
  static inline const char* name = "evstore.query";
  size_t pending = 0;
  std::unique_ptr<latest_events> best;
  caf::typed_response_promise<query_result> promise;
};

using query_pointer = query_actor::stateful_pointer<query_state>;

void finish(query_pointer self, caf::error err = {}) {
  auto& st = self->state;
  if (err)
    st.promise.deliver(std::move(err));
  else {
    query_result result;
    st.best->take_into(result);
    st.promise.deliver(std::move(result));
  }
  self->quit();
}

// Sends each writer its share of the plan, straight to it, and merges the replies as they come.
void fan_out(query_pointer self, const std::string& prefix, uint64_t limit, query_plan& plan,
             const writer_handles& handles) {
  auto& st = self->state;
  st.pending = plan.fetches.size();
  for (size_t i = 0; i < plan.fetches.size(); ++i)
    self
      ->request(caf::actor_cast<writer_actor>(handles.writers[i]), caf::infinite,
                fetch_request{prefix, limit, plan.bound, std::move(plan.fetches[i])})
      .then(
        [=](fetch_result& res) {
          auto& st = self->state;
          // The limit applies to events after this merge, never to tasks.
          for (auto& e : res.events)
            st.best->offer(ranked_event{e.position, std::move(e.ev)});
          if (--st.pending == 0)
            finish(self);
        },
        [=](caf::error& err) {
          if (self->state.promise.pending())
            finish(self, std::move(err));
        });
}

query_actor::behavior_type query(query_pointer self, store_actor store, index_actor index) {
  return {
    [=](query_request& req) -> caf::result<query_result> {
      auto& st = self->state;
      st.promise = self->make_response_promise<query_result>();
      st.best = std::make_unique<latest_events>(req.limit);
      self->request(index, caf::infinite, plan_request{req.prefix, req.limit, req.since})
        .then(
          [=](query_plan& plan) {
            if (plan.fetches.empty())
              return finish(self);
            resolve_writers which;
            for (const auto& what : plan.fetches)
              which.tasks.push_back(what.task);
            auto shared_plan = std::make_shared<query_plan>(std::move(plan));
            self->request(store, caf::infinite, std::move(which))
              .then(
                [=](writer_handles& handles) {
                  fan_out(self, req.prefix, req.limit, *shared_plan, handles);
                },
                [=](caf::error& err) { finish(self, std::move(err)); });
          },
          [=](caf::error& err) { finish(self, std::move(err)); });
      return st.promise;
    },
  };
}

} // namespace

query_actor spawn_query_actor(store_actor::pointer store, index_actor index) {
  return store->spawn(query, caf::actor_cast<store_actor>(store), std::move(index));
}

} // namespace evstore
