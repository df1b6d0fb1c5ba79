#include "serve.hpp"

#include <cerrno>

#include <unistd.h>

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/node_gate.hpp"
#include "credential.hpp"
#include "messages/errc.hpp"
#include "src/storage/file_io.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

namespace {

/// The bytes of the credential CAF was configured with (a sealed copy; see credential.hpp).
/// An embedder may have configured any path (the usual one is /proc/self/fd/N, a link to the sealed
/// copy, so links are followed); a FIFO or a device there is refused, never waited on or read
/// without end. A key and its certificate are a few kilobytes.
caf::expected<std::string> read_configured_credential(const std::string& path) {
  constexpr size_t max_credential_bytes = 1 << 20;
  return read_small_file(path, max_credential_bytes);
}

} // namespace

caf::error check_node_ready(caf::actor_system& sys) {
  if (!sys.has_middleman() || !sys.has_openssl_manager()
      || sys.config().openssl_certificate.empty())
    return make_error(errc::invalid_argument,
                      "serving a store needs an actor system prepared with evstore::configure_node "
                      "(CAF's middleman and OpenSSL module, and the store's credential)");
  return caf::none;
}

caf::expected<node_endpoint> serve_store(caf::actor_system& sys, const store_actor& store,
                                         std::shared_ptr<const store_root> root,
                                         std::shared_ptr<store_lock> lock,
                                         const std::string& host, uint16_t port,
                                         const std::string& credential,
                                         node_serving serving) {
  if (auto err = check_node_ready(sys))
    return err;
  const std::string expected =
    credential.empty() ? root->display("", credential_file_name) : credential;
  auto own = read_credential(expected);
  if (!own)
    return own.error();
  auto configured = read_configured_credential(sys.config().openssl_certificate);
  if (!configured || *configured != *own)
    return make_error(errc::bad_credential,
                      "the actor system is configured with another credential than " + expected
                        + " (configure_node with the credential it serves with)");
  serving.root = root;
  auto published = serving.published;
  auto gate = spawn_node_gate(sys, store, std::move(serving));
  // The gate accepts exits only from a local sender (node_gate.cpp); anon_send_exit has none.
  auto stop_gate = [&] {
    caf::scoped_actor self{sys};
    self->send_exit(gate, caf::exit_reason::user_shutdown);
  };
  // reuse_addr: a node restarted on its configured port (a cluster member's is fixed) must not wait
  // for the connections of its previous life to leave TIME_WAIT.
  auto bound = caf::openssl::publish(gate, port, host.c_str(), true);
  if (!bound) {
    stop_gate();
    return make_error(errc::node_unavailable, "cannot listen on " + host + ":"
                                                + std::to_string(port) + ": "
                                                + sys.render(bound.error()));
  }
  node_endpoint where{host, *bound, static_cast<int64_t>(::getpid())};
  if (auto err = write_endpoint(*root, where)) {
    caf::anon_send(sys.openssl_manager().actor_handle(), caf::unpublish_atom::value,
                   caf::actor_cast<caf::actor_addr>(gate), *bound);
    stop_gate();
    return err;
  }
  // Runs as the gate serving last ends (after its store did, or on its own): nothing blocks there,
  // the port is closed by a message to the middleman and the file removal is a few system calls.
  // A gate replaced as a rebalance ended (node_gate.cpp) leaves all of it to its successor.
  auto mm = sys.openssl_manager().actor_handle();
  auto attach_teardown = [mm, root, where, lock, store](const node_actor& serving_gate) {
    auto addr = caf::actor_cast<caf::actor_addr>(serving_gate);
    // The store too: the gate ends with its store, and a gate that ended first (a peer may send
    // it an exit with exit_reason::kill, which no handler can refuse) leaves no store unreachable.
    caf::actor_cast<caf::abstract_actor*>(serving_gate)
      ->attach_functor([mm, addr, root, where, lock, store](const caf::error& reason) {
        if (is(reason, errc::rebalancing))
          return;
        caf::anon_send(mm, caf::unpublish_atom::value, addr, where.port);
        remove_endpoint(*root, where);
        caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
      });
  };
  attach_teardown(gate);
  published->set({host, *bound, std::move(attach_teardown)});
  return where;
}

} // namespace evstore
