#include "node_watch.hpp"

#include <string>

#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>

#include "messages/errc.hpp"
#include "messages/node_ping.hpp"

namespace evstore {

namespace {

struct watch_state {
  /// The client's question, answered once the node counts as gone or the watch ends.
  caf::response_promise asker;
  int misses = 0;
};

caf::behavior watch_behavior(caf::stateful_actor<watch_state>* self, caf::actor client,
                             caf::actor gate, std::chrono::milliseconds timeout) {
  self->monitor(client);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (self->state.asker.pending())
      self->state.asker.deliver(false);
    self->quit(msg.reason);
  });
  self->delayed_send(self, timeout, caf::tick_atom::value);
  return {
    [=](caf::get_atom) {
      self->state.asker = self->make_response_promise();
      return self->state.asker;
    },
    [=](caf::tick_atom) {
      self->request(gate, timeout, node_ping{})
        .then(
          [=](node_ping) {
            self->state.misses = 0;
            self->delayed_send(self, timeout, caf::tick_atom::value);
          },
          [=](caf::error& err) {
            auto& st = self->state;
            if (err != caf::sec::request_timeout) { // an answer all the same
              st.misses = 0;
              self->delayed_send(self, timeout, caf::tick_atom::value);
            } else if (++st.misses < node_watch_misses) {
              self->send(self, caf::tick_atom::value);
            } else {
              if (st.asker.pending())
                st.asker.deliver(make_error(
                  errc::node_unavailable,
                  "the node did not answer " + std::to_string(node_watch_misses)
                    + " checks in a row that it lives, each within "
                    + std::to_string(timeout.count()) + " ms, while long work was waited for"));
              self->quit();
            }
          });
    },
  };
}

} // namespace

caf::actor spawn_node_watch(caf::actor_system& sys, caf::actor client, caf::actor gate,
                            std::chrono::milliseconds timeout) {
  return sys.spawn(watch_behavior, std::move(client), std::move(gate), timeout);
}

} // namespace evstore
