#pragma once

// The writer actor: sole owner of one task's log file. Its mailbox serialises every append, read,
// compaction and cleanup of that task, so no lock guards the file. Spawned by the store actor.

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/internal/atoms.hpp"
#include "messages/commands.hpp"
#include "messages/rebalance.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/internal/store_protocol.hpp"
#include "messages/store_stats.hpp"

namespace evstore {

using writer_actor = caf::typed_actor<
  caf::replies_to<append_request>::with<append_result>,
  caf::replies_to<read_request>::with<read_result>,
  caf::replies_to<compact_request>::with<compact_result>,
  // Removes the task's directory if it holds no events; replies 1 if it did.
  caf::replies_to<cleanup_request>::with<cleanup_result>,
  // A query's share: this task's best events for a prefix, as the index planned them.
  caf::replies_to<fetch_request>::with<fetch_result>,
  // Population: load the file (the summary goes to the index first); replies its size in bytes.
  caf::replies_to<populate_request>::with<uint64_t>,
  // Moving the task to another node (messages/rebalance.hpp): its file's digest, a chunk of it,
  // a chunk of an incoming copy (committed and loaded once whole), and its removal once copied.
  caf::replies_to<task_digest_request>::with<task_digest>,
  caf::replies_to<export_chunk_request>::with<task_chunk>,
  caf::replies_to<import_chunk_request>::with<task_digest>,
  caf::replies_to<release_task_request>::with<task_digest>,
  // Internal self-messages: group commit and idle checks.
  caf::reacts_to<sync_atom>, caf::reacts_to<idle_atom>>;

} // namespace evstore
