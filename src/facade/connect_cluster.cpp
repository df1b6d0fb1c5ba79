// store::connect_cluster: the facade over a cluster of nodes (actors/cluster_router.hpp).
#include "store.hpp"

#include "actors/cluster_router.hpp"
#include "caller_thread.hpp"
#include "messages/errc.hpp"
#include "src/cluster/membership.hpp"

namespace evstore {

caf::expected<std::unique_ptr<store>> store::connect_cluster(const std::string& membership_file,
                                                             std::chrono::milliseconds timeout) {
  const caller_thread_release release; // the system made here (caller_thread.hpp)
  if (timeout.count() <= 0)
    return make_error(errc::invalid_argument, "connect_cluster's timeout must be positive");
  auto members = read_membership(membership_file);
  if (!members)
    return members.error();
  auto cfg = std::make_unique<system_config>();
  if (auto err = configure_node(*cfg, members->credential))
    return err;
  auto sys = std::make_unique<caf::actor_system>(*cfg);
  auto router = spawn_cluster_router(*sys, std::move(*members), timeout);
  store_options shown;
  shown.root = membership_file;
  auto* raw = sys.get();
  std::unique_ptr<store> out{
    new store(std::move(cfg), std::move(sys), raw, std::move(router), std::move(shown))};
  out->remote_ = true;
  // A first call may wait for a connection, the node's membership (cluster_router.cpp checks it
  // once per connection) and then the node's answer, each up to `timeout`; the router's own error,
  // naming the node, must arrive before the facade gives up.
  out->timeout_ = 3 * timeout + std::chrono::milliseconds{500};
  return out;
}

} // namespace evstore
