#pragma once

// The bytes of an index checkpoint: what the index knew of every task (its file's identity, size and
// event count, and its per-type summaries), so that a store reopening reads only what changed since
// instead of every file. A cache, never the truth: the population at open compares every entry with
// the file on disk and uses it only where identity and size still match (docs/FORMAT.md).
//
// Layout: a fixed 40-byte header (magic, format version, sketch size, the root's device, payload
// length, CRC-32 of the payload), then the payload: the type names once, then per task its name,
// file identity and totals and per type a summary with variable-length integers, the line
// references' seconds relative to the summary's newest. A checkpoint that is truncated, bit-flipped,
// of another version, sketch size or file system is refused whole.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <caf/error.hpp>

#include "messages/internal/notifications.hpp"

namespace evstore {

/// Bumped whenever the payload's layout changes: an older checkpoint is then ignored, not misread.
constexpr uint32_t checkpoint_format_version = 1;

/// What a checkpoint must agree with to be used at all.
struct checkpoint_scope {
  /// Line references per (type, task): summaries of another size would plan differently.
  uint32_t sketch_size = 0;
  /// The device of the store's root: file identities mean nothing on another file system (a copy).
  uint64_t root_device = 0;
};

/// Builds a checkpoint's bytes one task at a time.
class checkpoint_encoder {
public:
  explicit checkpoint_encoder(checkpoint_scope scope);

  void add(const task_summary& task);

  /// The whole checkpoint, header first. Leaves the encoder empty.
  std::string finish();

private:
  uint32_t type_index_of(const std::string& type);

  checkpoint_scope scope_;
  std::string types_;
  uint64_t type_count_ = 0;
  std::string tasks_;
  uint64_t task_count_ = 0;
  std::unordered_map<std::string, uint32_t> type_ids_;
};

/// Decodes `bytes`, calling `on_task` once per task (the summary may be moved from). An error
/// (errc::unsupported_format for another version or scope, errc::io_error for damage) means
/// nothing may be trusted; tasks already handed out must then be discarded by the caller.
caf::error decode_checkpoint(std::string_view bytes, const checkpoint_scope& scope,
                             const std::function<void(task_summary&)>& on_task);

} // namespace evstore
