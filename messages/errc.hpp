#pragma once

// The project's error enum. Every failure that crosses an actor boundary or leaves the facade is a
// `caf::error` made from one of these codes, with a human-readable context naming the field or path.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "export.hpp"
namespace evstore {

enum class errc : uint8_t {
  none = 0,
  invalid_task_id,      // task id breaks SPEC §4 (slash, NUL, "..", too long, ...)
  invalid_type,         // event type is not colon-delimited lowercase segments
  invalid_actor,        // actor is not one of human/orchestrator/scheduler/agent/system
  invalid_timestamp,    // ts is not RFC 3339
  invalid_id,           // event id is not a lowercase hyphenated uuid
  invalid_event,        // a line or request that is not a well-formed event
  event_too_large,      // serialised line exceeds the configured limit
  version_conflict,     // expected version given on append does not match the task's count
  store_locked,         // another process holds the store's write lock
  unsupported_format,   // format_version names a format this library does not read
  read_only,            // a write was sent to a store opened read-only
  io_error,             // the operating system refused a file operation
  not_found,            // the store root or a task does not exist
  invalid_argument,     // a request parameter out of range
  id_conflict,          // a retried id names a stored event with different content
  not_regular_file,     // a store path is a symlink, FIFO, device or directory, not a regular file
  lock_lost,            // the LOCK file this process holds was removed or replaced behind it
  node_unavailable,     // no node serves the store, or it refused, dropped or did not answer in time
  bad_credential,       // a node credential that is missing, unreadable, too open or not a key pair
  wrong_node,           // a cluster node was asked for a task its membership gives to another node
  rebalancing,          // a cluster node is moving tasks between nodes (evstore rebalance): retry after
};

/// Returns the enumerator's name, e.g. "invalid_task_id".
EVSTORE_API std::string to_string(errc code);

/// Builds a `caf::error` of category "evstore" carrying `what` as its context.
EVSTORE_API caf::error make_error(errc code, std::string what);

/// Renders any error for people: "evstore: invalid_task_id: task id must not contain '/'" for ours,
/// CAF's own rendering for the rest. Needs no actor system.
EVSTORE_API std::string render(const caf::error& err);

/// True if `err` is ours and carries `code`.
EVSTORE_API bool is(const caf::error& err, errc code);

} // namespace evstore

CAF_ERROR_CODE_ENUM(evstore::errc, "evstore")
