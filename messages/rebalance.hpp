#pragma once

// Moving tasks between a cluster's nodes (evstore rebalance; README: "Moving tasks when the
// membership changes"). The command sends these to each node's gate, which answers the first and
// the last itself and passes the rest to the task's writer, so a task's file is only ever touched
// by the one actor that owns it.

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace evstore {

/// Enter the rebalancing state for the membership file whose text this is: the node writes it to
/// <root>/REBALANCE (a restarted node resumes in the state) and from then on refuses every request
/// but statistics with errc::rebalancing. The same text again is a no-op; another while one is
/// under way is refused (finish or resume the first). Replies `rebalance_status`.
struct rebalance_begin_request {
  std::string membership_text;
};

/// Leave the state: take the membership named at the begin as the node's own (ownership and key),
/// remove REBALANCE, and take requests again. Every connection made before is dropped (the node's
/// gate is replaced), so each router checks the new key before it uses the node again. Replies
/// `rebalance_status`.
struct rebalance_end_request {
  std::string membership_text;
};

struct rebalance_status {
  bool rebalancing = false;
  /// The ownership key the node serves (during the state: the new membership's).
  std::string ownership_key;
};

/// From a node's gate to its store, one way: the node entered (or left) the rebalancing state. The
/// store then refuses its own requests as the gate refuses its peers' (every one but statistics,
/// with errc::rebalancing), so a program that embeds a cluster node and writes through its local
/// handle cannot change a task the move is copying, nor read one the move has just released. Sent
/// before the gate answers the begin: an append, read or compaction the store took before it
/// reaches the task's writer before anything the move asks of that writer. (A store restarted in
/// the state refuses from its start.) The store's own helpers are not refused (store_actor.cpp).
struct store_rebalancing {
  bool moving = false;
};

/// The tasks whose events file this node holds, the system-wide log ("") included, sorted; answered
/// in the rebalancing state too (a listing through the store's interface is refused then). Replies
/// `task_list`.
struct held_tasks_request {};

/// A task's events file as its node holds it, byte for byte: whether there is one, its size and the
/// CRC-32 of its bytes (zlib's).
struct task_digest_request {
  std::string task;
};

struct task_digest {
  bool exists = false;
  uint64_t size = 0;
  uint32_t crc = 0;
};

/// Up to `max_bytes` of the task's events file from `offset`. Replies `task_chunk`.
struct export_chunk_request {
  std::string task;
  uint64_t offset = 0;
  uint64_t max_bytes = 0;
};

struct task_chunk {
  std::string bytes;
};

/// Writes `bytes` at `offset` of the task's incoming copy (<task>/events.incoming, begun afresh at
/// offset 0). Once it holds `size` bytes it is fsynced and checked against `size` and `crc`, then
/// renamed to the task's events file and loaded into the index: the task is then on this node too,
/// byte for byte. A task whose events file already is that one is acknowledged without writing; a
/// different one is refused (errc::id_conflict): nothing is ever overwritten. Replies `task_digest`
/// (of the incoming copy so far, or of the events file once committed).
struct import_chunk_request {
  std::string task;
  uint64_t offset = 0;
  std::string bytes;
  uint64_t size = 0;
  uint32_t crc = 0;
};

/// Removes the task's events file if it still has `size` bytes and CRC `crc` (its copy was
/// committed on the new owner), drops it from the index, and removes the task's directory if
/// nothing else is in it. Replies `task_digest` (exists false once removed).
struct release_task_request {
  std::string task;
  uint64_t size = 0;
  uint32_t crc = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rebalance_begin_request& x) {
  return f(caf::meta::type_name("evstore::rebalance_begin_request"), x.membership_text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rebalance_end_request& x) {
  return f(caf::meta::type_name("evstore::rebalance_end_request"), x.membership_text);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_rebalancing& x) {
  return f(caf::meta::type_name("evstore::store_rebalancing"), x.moving);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rebalance_status& x) {
  return f(caf::meta::type_name("evstore::rebalance_status"), x.rebalancing, x.ownership_key);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_tasks_request&) {
  return f(caf::meta::type_name("evstore::held_tasks_request"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_digest_request& x) {
  return f(caf::meta::type_name("evstore::task_digest_request"), x.task);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_digest& x) {
  return f(caf::meta::type_name("evstore::task_digest"), x.exists, x.size, x.crc);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, export_chunk_request& x) {
  return f(caf::meta::type_name("evstore::export_chunk_request"), x.task, x.offset, x.max_bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_chunk& x) {
  return f(caf::meta::type_name("evstore::task_chunk"), x.bytes);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, import_chunk_request& x) {
  return f(caf::meta::type_name("evstore::import_chunk_request"), x.task, x.offset, x.bytes, x.size,
           x.crc);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_task_request& x) {
  return f(caf::meta::type_name("evstore::release_task_request"), x.task, x.size, x.crc);
}

} // namespace evstore
