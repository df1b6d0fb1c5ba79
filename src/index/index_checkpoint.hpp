#pragma once

// The bytes of an index checkpoint: what the index knew of every task (its file's identity, size and
// event count, and its per-type summaries), so that a store reopening reads only what changed since
// instead of every file. A cache, never the truth: the population at open compares every entry with
// the file on disk and uses it only where identity and size still match (docs/FORMAT.md).
//
// Layout: a fixed 40-byte header (magic, format version, sketch size, the root's device, payload
// length, CRC-32 of the payload), then the payload: the type names once, then per task its name,
// file identity and totals, its pair records as the index holds them (type_index.cpp, "pair
// records"), and the few summaries the records keep whole. A checkpoint that is truncated,
// bit-flipped, of another version, sketch size or file system, or whose records do not parse, is
// refused whole.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "messages/internal/notifications.hpp"
#include "type_index.hpp"

namespace evstore {

/// Bumped whenever the payload's layout changes: an older checkpoint is then ignored, not misread.
/// 2: the index's own pair records, byte for byte (1: one summary per pair, decoded and encoded
/// again at every load and save).
constexpr uint32_t checkpoint_format_version = 2;

/// What a checkpoint must agree with to be used at all.
struct checkpoint_scope {
  /// Line references per (type, task): summaries of another size would plan differently.
  uint32_t sketch_size = 0;
  /// The device of the store's root: file identities mean nothing on another file system (a copy).
  uint64_t root_device = 0;
};

/// The whole checkpoint of `index` (header first), leaving out the tasks `keep` says no to.
std::string encode_checkpoint(const type_index& index, const checkpoint_scope& scope,
                              const std::function<bool(std::string_view task)>& keep = {});

/// Decodes `bytes` into `into`, an empty index of scope.sketch_size (between its begin_bulk and
/// end_bulk), calling `on_task` with each task's name and file before it is adopted; an error it
/// returns stops the decoding and is returned. An error (errc::unsupported_format for another
/// version or scope, errc::io_error for damage) means nothing may be trusted: `into` must then be
/// discarded by the caller.
caf::error decode_checkpoint(
  std::string_view bytes, const checkpoint_scope& scope, type_index& into,
  const std::function<caf::error(std::string_view task, const file_extent& file)>& on_task);

/// The same, handing out each task's summaries, and only once the whole checkpoint decoded (nothing
/// on an error): for tests and tools that look inside one.
caf::error decode_checkpoint(std::string_view bytes, const checkpoint_scope& scope,
                             const std::function<void(task_summary&)>& on_task);

} // namespace evstore
