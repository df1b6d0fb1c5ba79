#include "query_actor.hpp"

#include <memory>
#include <vector>

#include <caf/typed_event_based_actor.hpp>

#include "gather.hpp"
#include "writer_actor.hpp"
#include "messages/errc.hpp"
#include "src/index/query_order.hpp"


namespace evstore {

namespace {

// A file compacted, deleted or cut between planning and fetching invalidates the plan's bound; the
// query then plans again from the index, which the writer updated before replying. Files changing
// under every attempt are pathological, so the retries are bounded.
constexpr int max_plan_attempts = 4;

struct query_state {
  static inline const char* name = "evstore.query";
  query_request req;
  int attempts = 0;
  bool stale = false;
  std::unique_ptr<latest_events> best;
  caf::typed_response_promise<query_result> promise;
};

using query_pointer = query_actor::stateful_pointer<query_state>;

void run(query_pointer self, store_internal_actor store, index_actor index);

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
void fan_out(query_pointer self, store_internal_actor store, index_actor index,
             std::shared_ptr<query_plan> plan, std::shared_ptr<writer_handles> handles) {
  std::vector<size_t> shares(plan->fetches.size());
  for (size_t i = 0; i < shares.size(); ++i)
    shares[i] = i;
  gather<fetch_result>(
    std::move(shares), 0,
    [=](size_t i) {
      const auto& st = self->state;
      return self->request(caf::actor_cast<writer_actor>(handles->writers[i]), caf::infinite,
                           fetch_request{st.req.prefix, st.req.limit, plan->bound,
                                         std::move(plan->fetches[i]), st.req.exact_type});
    },
    [=](size_t, fetch_result& res) {
      auto& st = self->state;
      // The limit applies to events after this merge, never to tasks.
      for (auto& e : res.events)
        st.best->offer(ranked_event{e.position, std::move(e.ev)});
      st.stale |= res.stale_plan;
    },
    [=](size_t, caf::error& err) {
      // The first error is the answer: quitting drops the other fetches' handlers, so the query
      // never waits for thousands of writers to learn it failed.
      finish(self, std::move(err));
    },
    [=] {
      if (!self->state.stale)
        return finish(self);
      if (self->state.attempts < max_plan_attempts)
        return run(self, store, index);
      finish(self, make_error(errc::io_error,
                              "task files kept changing behind the store during a query"));
    });
}

// One attempt: plan, find the writers, fan out.
void run(query_pointer self, store_internal_actor store, index_actor index) {
  auto& st = self->state;
  ++st.attempts;
  st.stale = false;
  st.best = std::make_unique<latest_events>(st.req.limit);
  self->request(index, caf::infinite, plan_request{st.req.prefix, st.req.limit, st.req.since, st.req.exact_type})
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
              fan_out(self, store, index, shared_plan,
                      std::make_shared<writer_handles>(std::move(handles)));
            },
            [=](caf::error& err) { finish(self, std::move(err)); });
      },
      [=](caf::error& err) { finish(self, std::move(err)); });
}

query_actor::behavior_type query_behavior(query_pointer self, store_internal_actor store, index_actor index) {
  return {
    [=](query_request& req) -> caf::result<query_result> {
      auto& st = self->state;
      st.promise = self->make_response_promise<query_result>();
      st.req = std::move(req);
      run(self, store, index);
      return st.promise;
    },
  };
}

} // namespace

query_actor spawn_query_actor(store_internal_actor::pointer store, index_actor index) {
  return store->spawn(query_behavior, caf::actor_cast<store_internal_actor>(store), std::move(index));
}

} // namespace evstore
