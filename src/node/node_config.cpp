// configure_node, ensure_node_credential and node_credential_path (src/facade/node.hpp).
#include "src/facade/node.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "credential.hpp"
#include "src/storage/store_layout.hpp"

namespace evstore {

void openssl_error_queue_anchor(); // openssl_error_queue.cpp

std::string node_credential_path(const std::string& root) {
  return root + "/" + credential_file_name;
}

caf::expected<std::string> ensure_node_credential(const std::string& root) {
  auto dir = open_store_root(root, false);
  if (!dir)
    return dir.error();
  if (auto err = ensure_credential(**dir))
    return err;
  return node_credential_path(root);
}

caf::error configure_node(caf::actor_system_config& cfg, const std::string& credential) {
  openssl_error_queue_anchor();
  auto sealed = sealed_credential_copy(credential);
  if (!sealed)
    return sealed.error();
  cfg.load<caf::io::middleman>();
  cfg.load<caf::openssl::manager>();
  // One file is the key, the certificate and the only trust anchor: a peer must present this very
  // certificate and prove it holds its key.
  cfg.openssl_certificate = *sealed;
  cfg.openssl_key = *sealed;
  cfg.openssl_cafile = *sealed;
  return caf::none;
}

} // namespace evstore
