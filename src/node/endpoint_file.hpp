#pragma once

// Where a served store can be reached: <root>/NODE, written by the serving process beside LOCK once
// it listens, removed when it stops. Clients that know only the root find the node through it.
//
//   evstore-node 1
//   host 127.0.0.1
//   port 41234
//   pid 12345
//
// The serving process holds the store's lock, so a NODE file whose pid is not alive is stale (the
// node was killed): clients ignore it and the next node replaces it.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/optional.hpp>

#include "src/storage/store_files.hpp"

namespace evstore {

constexpr const char* endpoint_file_name = "NODE";
constexpr const char* endpoint_temp_file_name = "NODE.tmp";

struct node_endpoint {
  std::string host;
  uint16_t port = 0;
  int64_t pid = 0;
};

/// Writes (replacing) the root's endpoint file, atomically: a reader sees the old one or the new.
caf::error write_endpoint(const store_root& root, const node_endpoint& where);

/// The root's endpoint file; none if there is none. A file that does not parse is
/// errc::node_unavailable, naming it.
caf::expected<caf::optional<node_endpoint>> read_endpoint(const store_root& root);

/// Removes the root's endpoint file if it still names `where` (a later node's file is left alone).
void remove_endpoint(const store_root& root, const node_endpoint& where);

/// True if a process `pid` exists on this machine (kill(pid, 0): EPERM is another user's process,
/// alive).
bool process_alive(int64_t pid);

} // namespace evstore
