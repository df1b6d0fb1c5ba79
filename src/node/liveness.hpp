#pragma once

// How a client of a node tells a node at work from a node gone. Requests whose duration is the
// store's own work, growing with the store (compacting a task or all of them, removing empty
// tasks, waiting for the index), have no timeout: the facade, a router and the node client wait
// for them as long as the node works on them. Meanwhile the node client checks every `timeout`
// that the node still answers (actors/node_watch.hpp: a node_ping the gate answers itself); three
// checks in a row unanswered, each within `timeout` (a host gone, a process stopped, packets
// dropped), fail those requests, and only those, with errc::node_unavailable. Every other request
// fails once the client's timeout passes without an answer.
//
// A node whose scheduler's workers are all inside compactions longer than three timeouts answers
// late and is taken for gone: the long requests fail, as they did after one timeout before, while
// the node goes on. CAF's own BASP heartbeats with middleman.connection-timeout would do the
// check, but CAF 0.17.6 leaves an outgoing connection's last-seen time at zero until its first
// message arrives, so a heartbeat tick during a TLS handshake drops the new connection.

#include <type_traits>

#include "messages/commands.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

/// True for requests that wait for the store's work, not for the client's timeout (above).
template <class Request>
constexpr bool waits_for_the_work = std::is_same_v<Request, compact_request>
                                    || std::is_same_v<Request, compact_all_request>
                                    || std::is_same_v<Request, cleanup_request>
                                    || std::is_same_v<Request, await_index_request>;

} // namespace evstore
