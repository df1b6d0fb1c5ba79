#include "node_watch.hpp"

#include <string>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>

#include "messages/errc.hpp"
#include "messages/node_ping.hpp"

namespace evstore {

namespace {

caf::behavior watch_behavior(caf::event_based_actor* self, caf::actor client, caf::actor gate,
                             std::chrono::milliseconds timeout) {
  self->monitor(client);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); });
  self->delayed_send(self, timeout, caf::tick_atom::value);
  return {
    [=](caf::tick_atom) {
      self->request(gate, timeout, node_ping{})
        .then([=](node_ping) { self->delayed_send(self, timeout, caf::tick_atom::value); },
              [=](caf::error& err) {
                // Any other error is an answer (a gate gone is the client's own monitor's news).
                if (err == caf::sec::request_timeout)
                  self->send_exit(client, make_error(errc::node_unavailable,
                                                     "the node did not answer a check that it "
                                                     "lives within "
                                                       + std::to_string(timeout.count())
                                                       + " ms while long work was waited for"));
                self->quit();
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
