#include "node_client.hpp"

#include <cstdint>
#include <functional>
#include <unordered_map>

#include <caf/typed_event_based_actor.hpp>

#include "messages/errc.hpp"

namespace evstore {

namespace {

struct client_state {
  /// The requests the node has not answered yet: how to fail each.
  std::unordered_map<uint64_t, std::function<void(const caf::error&)>> waiting;
  uint64_t next = 0;
};

using stateful_pointer = store_actor::stateful_pointer<client_state>;

template <class Reply, class Request>
caf::typed_response_promise<Reply> forward(stateful_pointer self, const store_actor& gate,
                                           Request&& x) {
  auto promise = self->template make_response_promise<Reply>();
  auto id = self->state.next++;
  self->state.waiting.emplace(id, [promise](const caf::error& err) mutable {
    promise.deliver(err);
  });
  self->request(gate, caf::infinite, std::forward<Request>(x))
    .then(
      [self, id, promise](Reply& reply) mutable {
        self->state.waiting.erase(id);
        promise.deliver(std::move(reply));
      },
      [self, id, promise](caf::error& err) mutable {
        self->state.waiting.erase(id);
        promise.deliver(std::move(err));
      });
  return promise;
}

store_actor::behavior_type client_behavior(stateful_pointer self, store_actor gate) {
  self->monitor(gate);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source != gate)
      return;
    auto lost = make_error(errc::node_unavailable, "the connection to the node was lost");
    for (auto& [id, fail] : self->state.waiting)
      fail(lost);
    self->state.waiting.clear();
    self->quit(caf::exit_reason::remote_link_unreachable);
  });
  return {
    [=](append_request& x) { return forward<append_result>(self, gate, std::move(x)); },
    [=](append_batch_request& x) {
      return forward<append_batch_result>(self, gate, std::move(x));
    },
    [=](read_request& x) { return forward<read_result>(self, gate, std::move(x)); },
    [=](compact_request& x) { return forward<compact_result>(self, gate, std::move(x)); },
    [=](compact_all_request& x) { return forward<compact_result>(self, gate, std::move(x)); },
    [=](list_tasks_request& x) { return forward<task_list>(self, gate, std::move(x)); },
    [=](cleanup_request& x) { return forward<cleanup_result>(self, gate, std::move(x)); },
    [=](query_request& x) { return forward<query_result>(self, gate, std::move(x)); },
    [=](stats_request& x) { return forward<index_stats>(self, gate, std::move(x)); },
    [=](await_index_request& x) { return forward<index_stats>(self, gate, std::move(x)); },
    [=](subscribe_request& x) { return forward<subscribed>(self, gate, std::move(x)); },
    [=](unsubscribe_request& x) { self->send(gate, std::move(x)); },
    [=](bus_stats_request& x) { return forward<bus_stats>(self, gate, std::move(x)); },
  };
}

} // namespace

store_actor spawn_node_client(caf::actor_system& sys, const store_actor& gate) {
  return sys.spawn(client_behavior, gate);
}

} // namespace evstore
