#pragma once

// A cluster's membership file, and the rule that maps each task to the node that owns it.
//
//   # evstore cluster: one node per line, NAME HOST:PORT
//   credential cluster.pem      # the key pair every node and client presents and trusts
//   system alpha                # the node holding the system-wide log (default: see below)
//   alpha 10.0.0.1:7000
//   beta  10.0.0.2:7000
//   gamma [::1]:7000
//
// A relative credential path is relative to the file's own directory. Names are letters, digits,
// '.', '_' and '-'; "credential" and "system" are not names. Blank lines and '#' comments are
// ignored.
//
// Ownership is rendezvous hashing: a task belongs to the node with the highest
// weight(node name, task id), a 64-bit FNV-1a of "name\0task" run through a finalising mix. Adding
// a node moves to it only the tasks it now outweighs (about 1/N of them), and no task moves between
// the nodes that stay; the rule depends on names only, so moving a node to another address or
// listing the nodes in another order moves nothing. The system-wide log (the empty task id) lives
// on the `system` node, or without a `system` line on the owner of the empty id by the same rule.
//
// Changing the set of names changes owners; `evstore rebalance` moves the tasks
// (src/cluster/rebalance.hpp). What guards the data meanwhile: a node refuses to start on a root
// holding a task its file gives to another node (unless a rebalance is under way there), a router
// will not use any node while a node it reaches serves another ownership key or is moving tasks
// (cluster_router.cpp), and a node that ended a rebalance refuses to start under another file.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace evstore {

struct cluster_member {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

struct cluster_membership {
  std::vector<cluster_member> nodes;
  /// Absolute, or as written if the file was read from text without a directory.
  std::string credential;
  /// Index into `nodes` of the node holding the system-wide log.
  size_t system_node = 0;

  /// Index into `nodes` of the node with the highest weight for `task` (ties: the smaller name).
  size_t highest_weight(const std::string& task) const;

  /// Index into `nodes` of the node that owns `task`.
  size_t owner_of(const std::string& task) const;

  /// What decides every task's owner, as text: the names in byte order, then the system node
  /// ("alpha beta gamma; system beta"). Two files with the same key route every task alike,
  /// whatever their addresses, credentials or the order of their lines; a router compares it with
  /// each node's before using the node (cluster_router.cpp).
  std::string ownership_key() const;
};

/// The weight of `task` on the node named `node` (the rendezvous rule above).
uint64_t rendezvous_weight(const std::string& node, const std::string& task);

/// Parses a membership file's text; `dir` resolves a relative credential path. Errors
/// (errc::invalid_argument) name the line.
caf::expected<cluster_membership> parse_membership(const std::string& text, const std::string& dir);

/// Reads and parses the file at `path`; with `text`, also hands back the text it parsed (a
/// rebalance sends it to the nodes: read once, the text and the membership are the same file's).
caf::expected<cluster_membership> read_membership(const std::string& path,
                                                  std::string* text = nullptr);

} // namespace evstore
