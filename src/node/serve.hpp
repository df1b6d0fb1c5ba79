#pragma once

// Serving a store: its gate published through CAF's middleman with TLS (CAF's OpenSSL module), on
// loopback unless asked otherwise, and <root>/NODE naming the endpoint for as long as it serves.

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/node_gate.hpp"
#include "actors/store_actor.hpp"
#include "endpoint_file.hpp"
#include "src/storage/store_lock.hpp"

namespace evstore {

/// errc::invalid_argument unless `sys` can serve: its middleman and OpenSSL module loaded, with a
/// credential (configure_node). Checked before a store is opened, so a refused serve opens nothing.
caf::error check_node_ready(caf::actor_system& sys);

/// Publishes a gate (node_gate.hpp) to `store` on host:port and writes the endpoint file. When the
/// store ends, the gate closes the port and removes the file (if it still names this node) while
/// it still holds a share of the store's `lock`, so no next node can have written its own file
/// yet. The system's credential must be `credential`, by default this store's node.pem
/// (errc::bad_credential otherwise: clients finding the node by its root would not trust it); a
/// cluster's node serves with the cluster's, and with `serving.ownership` its gate refuses the tasks
/// of other members (node_gate.hpp); `serving` also says whether it is moving tasks. On failure
/// nothing stays published and the store is left running: the caller stops it.
caf::expected<node_endpoint> serve_store(caf::actor_system& sys, const store_actor& store,
                                         std::shared_ptr<const store_root> root,
                                         std::shared_ptr<store_lock> lock,
                                         const std::string& host, uint16_t port,
                                         const std::string& credential = {},
                                         node_serving serving = {});

} // namespace evstore
