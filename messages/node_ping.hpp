#pragma once

// A client's check that the node it waits on is alive (src/node/liveness.hpp): the node's gate
// answers it at once, itself, whatever the store is doing, so a client waiting for long work (a
// compaction of every task) tells a node at work from one gone silent.

#include <caf/meta/type_name.hpp>

namespace evstore {

/// Replied with a node_ping.
struct node_ping {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_ping&) {
  return f(caf::meta::type_name("evstore::node_ping"));
}

} // namespace evstore
