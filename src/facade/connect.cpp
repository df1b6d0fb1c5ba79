// store::connect: the facade over a store served by another process (src/node/serve.cpp).
#include "store.hpp"

#include <future>
#include <thread>

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/node_client.hpp"
#include "actors/node_connector.hpp"
#include "caller_thread.hpp"
#include "messages/errc.hpp"
#include "src/node/endpoint_file.hpp"
#include "src/node/node_errors.hpp"
#include "src/storage/store_files.hpp"

namespace evstore {

caf::error node_error(caf::error err, std::chrono::milliseconds timeout) {
  if (err.category() != caf::atom("system") && err.category() != caf::atom("exit"))
    return err;
  if (err == caf::sec::request_timeout)
    return make_error(errc::node_unavailable,
                      "the node did not answer within " + std::to_string(timeout.count()) + " ms");
  if (err == caf::sec::request_receiver_down || err == caf::exit_reason::remote_link_unreachable
      || err == caf::sec::remote_linking_failed)
    return make_error(errc::node_unavailable, "the connection to the node was lost");
  return make_error(errc::node_unavailable, caf::to_string(err));
}

namespace {

/// Host and port of the node serving `root`, from its endpoint file.
caf::expected<node_endpoint> find_node(const std::string& root) {
  auto dir = store_root::open(root, false);
  if (!dir)
    return dir.error();
  auto where = read_endpoint(**dir);
  if (!where)
    return where.error();
  if (!*where)
    return make_error(errc::node_unavailable, "no node serves " + root + " (no NODE file)");
  if (!process_alive((*where)->pid))
    return make_error(errc::node_unavailable,
                      "no node serves " + root + ": its NODE file names process "
                        + std::to_string((*where)->pid) + ", which is gone");
  auto out = std::move(**where);
  // A node listening on every address is reached on loopback.
  if (out.host == "0.0.0.0" || out.host == "::" || out.host == "[::]")
    out.host = "127.0.0.1";
  return out;
}

} // namespace

caf::expected<std::unique_ptr<store>> store::connect(connect_options opts) {
  const caller_thread_release release; // the system and scoped actor made here (caller_thread.hpp)
  if (opts.root.empty() && opts.host.empty())
    return make_error(errc::invalid_argument, "connect needs a store root or a host and port");
  if (opts.timeout.count() <= 0)
    return make_error(errc::invalid_argument, "connect's timeout must be positive");
  node_endpoint where{opts.host, opts.port, 0};
  if (opts.host.empty()) {
    auto found = find_node(opts.root);
    if (!found)
      return found.error();
    where = std::move(*found);
  } else if (opts.port == 0) {
    return make_error(errc::invalid_argument, "connect needs the node's port with its host");
  }
  if (opts.credential.empty()) {
    if (opts.root.empty())
      return make_error(errc::invalid_argument,
                        "connecting by host needs the store's credential file (or its root)");
    opts.credential = node_credential_path(opts.root);
  }
  auto cfg = std::make_unique<system_config>();
  if (auto err = configure_node(*cfg, opts.credential))
    return err;
  auto sys = std::make_unique<caf::actor_system>(*cfg);
  // CAF's remote_actor waits without limit; a connector (actors/node_connector.hpp) probes the
  // address within the timeout before CAF's middleman makes its blocking connection, and the
  // request bounds the TLS handshake by the same timeout, so a stalled node cannot hang its client.
  caf::expected<store_actor> handle{caf::error{}};
  {
    auto connector = spawn_node_connector(*sys, where.host, where.port, opts.timeout);
    caf::scoped_actor self{*sys};
    self->request(connector, opts.timeout, caf::connect_atom::value)
      .receive(
        [&](const caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
          if (!ptr)
            handle = make_error(errc::node_unavailable, "nothing is served at " + where.host + ":"
                                                          + std::to_string(where.port));
          else if (!sys->assignable<store_actor>(ifs))
            handle = make_error(errc::node_unavailable,
                                where.host + ":" + std::to_string(where.port)
                                  + " serves something that is not an evstore store");
          else
            handle = caf::actor_cast<store_actor>(std::move(ptr));
        },
        [&](caf::error& err) {
          if (is(err, errc::node_unavailable)) // the probe's, naming the address
            handle = std::move(err);
          else
            handle = make_error(errc::node_unavailable,
                                "cannot connect to " + where.host + ":"
                                  + std::to_string(where.port) + ": "
                                  + (err == caf::sec::request_timeout
                                       ? "no answer within " + std::to_string(opts.timeout.count())
                                           + " ms"
                                       : sys->render(err)));
        });
    // The connection, once made, is the BASP broker's; the connector only makes connections.
    self->send_exit(connector, caf::exit_reason::user_shutdown);
  }
  if (!handle) {
    // CAF connects in a blocking call of a detached actor, which the actor system's destructor
    // waits for: to a host that drops packets, that is the kernel's connect timeout (minutes);
    // the probe keeps CAF from starting one, unless the host began dropping packets just after
    // it. So the system ends on a thread of its own, and the caller waits for that at most one
    // more timeout: usually nothing of it outlives the call, and a process that exits right after
    // does not free OpenSSL's state under CAF's multiplexer. That thread's end waits for this
    // thread's reference to CAF's logger (caller_thread.hpp): released first, or every failed
    // connect would wait out the second timeout.
    caf::logger::set_current_actor_system(nullptr);
    auto ended = std::make_shared<std::promise<void>>();
    auto done = ended->get_future();
    std::thread([sys = std::move(sys), cfg = std::move(cfg), ended]() mutable {
      sys.reset();
      cfg.reset();
      ended->set_value();
    }).detach();
    done.wait_for(opts.timeout);
    return handle.error();
  }
  *handle = spawn_node_client(*sys, *handle, opts.timeout);
  store_options shown;
  shown.root = opts.root;
  auto* raw = sys.get();
  std::unique_ptr<store> out{
    new store(std::move(cfg), std::move(sys), raw, std::move(*handle), std::move(shown))};
  out->remote_ = true;
  out->timeout_ = opts.timeout;
  return out;
}

} // namespace evstore
