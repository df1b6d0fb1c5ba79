#include "node_gate.hpp"

#include <caf/typed_event_based_actor.hpp>

namespace evstore {

namespace {

store_actor::behavior_type gate_behavior(store_actor::pointer self, store_actor store) {
  self->monitor(store);
  self->set_down_handler([=](caf::down_msg& down) {
    if (down.source == store)
      self->quit(down.reason);
  });
  return {
    [=](append_request& x) { return self->delegate(store, std::move(x)); },
    [=](read_request& x) { return self->delegate(store, std::move(x)); },
    [=](compact_request& x) { return self->delegate(store, std::move(x)); },
    [=](compact_all_request& x) { return self->delegate(store, std::move(x)); },
    [=](list_tasks_request& x) { return self->delegate(store, std::move(x)); },
    [=](cleanup_request& x) { return self->delegate(store, std::move(x)); },
    [=](query_request& x) { return self->delegate(store, std::move(x)); },
    [=](stats_request& x) { return self->delegate(store, std::move(x)); },
    [=](await_index_request& x) { return self->delegate(store, std::move(x)); },
    [=](subscribe_request& x) { return self->delegate(store, std::move(x)); },
    [=](unsubscribe_request& x) { return self->delegate(store, std::move(x)); },
    [=](bus_stats_request& x) { return self->delegate(store, std::move(x)); },
  };
}

} // namespace

store_actor spawn_node_gate(caf::actor_system& sys, const store_actor& store) {
  return sys.spawn(gate_behavior, store);
}

} // namespace evstore
