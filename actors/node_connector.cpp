#include "node_connector.hpp"

#include <set>
#include <vector>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/openssl/manager.hpp>

namespace evstore {

namespace {

using reply = caf::response_promise;

struct connector_state {
  std::vector<reply> waiting;
};

caf::behavior connector_behavior(caf::stateful_actor<connector_state>* self, std::string host,
                                 uint16_t port) {
  return {
    [=](caf::connect_atom) {
      auto& st = self->state;
      auto promise = self->make_response_promise();
      st.waiting.push_back(promise);
      if (st.waiting.size() > 1)
        return promise; // an attempt is in flight: its answer is this asker's too
      // No timeout here: the attempt ends when the middleman says so, however long that takes.
      self
        ->request(self->system().openssl_manager().actor_handle(), caf::infinite,
                  caf::connect_atom::value, host, port)
        .then(
          [=](caf::node_id& node, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
            auto waiting = std::move(self->state.waiting);
            self->state.waiting.clear();
            for (auto& w : waiting)
              w.deliver(node, ptr, ifs);
          },
          [=](caf::error& err) {
            auto waiting = std::move(self->state.waiting);
            self->state.waiting.clear();
            for (auto& w : waiting)
              w.deliver(err);
          });
      return promise;
    },
  };
}

} // namespace

caf::actor spawn_node_connector(caf::actor_system& sys, std::string host, uint16_t port) {
  return sys.spawn(connector_behavior, std::move(host), port);
}

} // namespace evstore
