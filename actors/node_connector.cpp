#include "node_connector.hpp"

#include <memory>
#include <set>
#include <vector>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/middleman_actor.hpp>
#include <caf/send.hpp>

#include "src/node/tcp_probe.hpp"

namespace evstore {

namespace {

using reply = caf::response_promise;

struct connector_state {
  std::vector<reply> waiting;
};

/// Answers `connect_atom` with the address the probe reached (tcp_probe.hpp) or its error, once,
/// on a thread of its own: the probe blocks for up to `timeout`.
caf::behavior probe_behavior(caf::event_based_actor* self, std::string host, uint16_t port,
                             std::chrono::milliseconds timeout) {
  return {
    [=](caf::connect_atom) -> caf::result<std::string> {
      self->quit();
      auto reached = probe_tcp(host, port, timeout);
      if (!reached)
        return std::move(reached.error());
      return std::move(*reached);
    },
  };
}

caf::behavior connector_behavior(caf::stateful_actor<connector_state>* self, std::string host,
                                 uint16_t port, std::chrono::milliseconds timeout) {
  // This member's own OpenSSL middleman actor (CAF's, on a thread of its own, handing what it
  // connects to the system's one BASP broker as the shared one does), made at the first attempt:
  // the shared actor connects one request at a time, so a member whose host drops packets would
  // hold every other member's connection behind its own for the kernel's connect timeout (135 s
  // measured here), and a member that restarted meanwhile could not be reached until it ended.
  // Held outside the state, which is gone before attached functors run.
  auto own = std::make_shared<caf::io::middleman_actor>();
  // It ignores ordinary exits (as CAF's own does; its manager kills it at shutdown): killed when
  // this connector ends.
  self->attach_functor([own](const caf::error&) {
    if (*own)
      caf::anon_send_exit(*own, caf::exit_reason::kill);
  });
  return {
    [=](caf::connect_atom) {
      auto& st = self->state;
      auto promise = self->make_response_promise();
      st.waiting.push_back(promise);
      if (st.waiting.size() > 1)
        return promise; // an attempt is in flight: its answer is this asker's too
      auto answer_all = [self](auto&&... xs) {
        auto waiting = std::move(self->state.waiting);
        self->state.waiting.clear();
        for (auto& w : waiting)
          w.deliver(xs...);
      };
      auto prober = self->spawn<caf::detached>(probe_behavior, host, port, timeout);
      self->request(prober, caf::infinite, caf::connect_atom::value)
        .then(
          [=](std::string& reached) {
            if (!*own) {
              auto& sys = self->system();
              *own = caf::openssl::make_middleman_actor(
                sys, sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP")));
            }
            // No timeout here: the attempt ends when the middleman says so, however long that
            // takes (the TLS handshake does not block it; the askers have timeouts of their own).
            // The address the probe reached, not the name, which CAF would resolve again.
            self->request(*own, caf::infinite, caf::connect_atom::value, std::move(reached), port)
              .then([=](caf::node_id& node, caf::strong_actor_ptr& ptr,
                        std::set<std::string>& ifs) { answer_all(node, ptr, ifs); },
                    [=](caf::error& err) { answer_all(err); });
          },
          [=](caf::error& err) { answer_all(err); });
      return promise;
    },
  };
}

} // namespace

caf::actor spawn_node_connector(caf::actor_system& sys, std::string host, uint16_t port,
                                std::chrono::milliseconds timeout) {
  return sys.spawn(connector_behavior, std::move(host), port, timeout);
}

} // namespace evstore
