#pragma once

// A store as a CAF node: served from the process that owns it, reached from any other through CAF's
// middleman over TLS (CAF's OpenSSL module), with the same typed messages as in-process.
//
// Who may connect: the processes that can read the store's credential, <root>/node.pem, a key and
// a self-signed certificate created mode 0600 with the first serve. Node and client each present it
// and trust nothing else, so a peer without it (another local user, another machine) fails the TLS
// handshake before a single message is read.
//
// An embedder that serves the store it opens on its own actor system:
//
//   evstore::system_config cfg;
//   auto cred = evstore::ensure_node_credential(root);           // creates it once
//   if (auto err = evstore::configure_node(cfg, *cred)) ...      // before the system starts
//   caf::actor_system sys{cfg};
//   evstore::store_options opts; opts.root = root; opts.serve = true;
//   auto h = evstore::spawn_store(sys, opts);                   // listening on 127.0.0.1

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/export.hpp"

namespace evstore {

/// The credential file of the store at `root`.
EVSTORE_API std::string node_credential_path(const std::string& root);

/// Creates the store at `root` if it is missing (as a writable open does), and its node credential
/// if it has none; returns the credential's path. A credential that is there is checked, not
/// replaced: errc::bad_credential if group or others may read it or it holds no key pair.
EVSTORE_API caf::expected<std::string> ensure_node_credential(const std::string& root);

/// Prepares `cfg`, before its actor system starts, to serve stores and to connect to them: loads
/// CAF's middleman and OpenSSL module, and makes `credential` both the identity this process
/// presents and the only one it trusts. The file is checked first (errc::bad_credential,
/// errc::not_regular_file): CAF's module would throw on a bad one inside its middleman.
EVSTORE_API caf::error configure_node(caf::actor_system_config& cfg, const std::string& credential);

/// How store::connect reaches a node.
struct connect_options {
  /// The store's directory: the node is found through <root>/NODE (a stale one, whose process is
  /// gone, is errc::node_unavailable) and trusted through <root>/node.pem.
  std::string root;
  /// Or a node by address (another machine, or a store directory this process cannot see); then
  /// `credential` names a copy of the store's credential.
  std::string host;
  uint16_t port = 0;
  /// The credential file; empty: <root>/node.pem.
  std::string credential;
  /// How long connecting, and then any one request, may take before it fails with
  /// errc::node_unavailable (a node that died or stalls never hangs its clients). Compactions,
  /// cleanup_orphaned_tasks and wait_for_index take as long as the node works on them: they fail
  /// only once the node leaves a check that it lives unanswered for this long (one such check
  /// every `timeout` while they wait).
  std::chrono::milliseconds timeout{5000};
};

} // namespace evstore
