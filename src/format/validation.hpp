#pragma once

// Input checks of SPEC §4. Each returns a default (empty) error when the input is acceptable, else an
// error whose context names the field and what is wrong with it.

#include <cstddef>
#include <string_view>

#include <caf/error.hpp>

#include "messages/event.hpp"

namespace evstore {

/// Longest task id, in bytes.
constexpr size_t max_task_id_bytes = 255;

/// Longest event type, in bytes.
constexpr size_t max_type_bytes = 255;

/// Names under the store's root that belong to the store itself, so no task may take them (a task
/// "events.jsonl" would turn the system-wide log into a directory): the system-wide log, its
/// corrupt-line file and compaction temp file, LOCK, format_version and its temp file.
/// Keep in step with store_layout.hpp and docs/FORMAT.md.
constexpr const char* reserved_task_ids[] = {
  "events.jsonl", "events.corrupt", "events.jsonl.compact.tmp", "LOCK", "format_version",
  "format_version.tmp", "index.checkpoint", "index.checkpoint.tmp",
  // A served store's endpoint and credential (src/node/).
  "NODE", "NODE.tmp", "node.pem", "node.pem.tmp",
  // A cluster node's rebalance state and adopted membership, and the system-wide log's incoming
  // copy while it moves (src/cluster/rebalance.hpp, src/storage/task_transfer.hpp).
  "REBALANCE", "REBALANCE.tmp", "MEMBERSHIP", "MEMBERSHIP.tmp", "events.incoming"};

/// "" (system-wide) or 1-255 bytes of valid UTF-8 without '/', '\\', NUL or control characters,
/// not "." or "..", and none of reserved_task_ids.
caf::error validate_task_id(std::string_view task);

/// Colon-delimited non-empty segments of [a-z0-9_-], e.g. "task:state:running".
caf::error validate_type(std::string_view type);

/// Checks that `data` is something every reader reads back as it is (docs/FORMAT.md, "data"):
/// nesting at most 126 deep, numbers finite as doubles, valid UTF-8 in every string and key, no
/// lone surrogate.
/// Errors are errc::invalid_event, "data: number is not finite" and the like.
caf::error validate_data(const json_payload& data);

/// Checks an event about to be appended: task, type, id (empty or a lowercase hyphenated uuid), actor
/// (one of the enumerators: a peer may send any byte), schema_version and data, so that its line
/// decodes back to the same event. A ts must have a four-digit year in UTC (0000 to 9999).
caf::error validate_for_append(const event& ev);

} // namespace evstore
