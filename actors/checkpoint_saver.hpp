#pragma once

// The checkpoint saver: one save of the index's checkpoint, on a thread of its own (detached). It
// encodes a copy of the index and writes it beside the store's files (temp file, fsync, rename), so
// neither the encoding (most of a second at 2 M pairs) nor the writing stalls the index, whose
// queries go on meanwhile, or the scheduler's threads that the writers share. The index copies
// itself (a tenth of the encoding's time) and hands the copy over.

#include <memory>
#include <string>
#include <unordered_set>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "src/index/index_checkpoint.hpp"
#include "src/index/type_index.hpp"
#include "src/storage/store_files.hpp"
#include "src/storage/store_lock.hpp"

namespace evstore {

struct checkpoint_job {
  std::shared_ptr<const type_index> snapshot;
  /// Tasks left out: they failed to load, and what the index holds of them may not be their file's.
  std::unordered_set<std::string> excluded;
  checkpoint_scope scope;
  std::shared_ptr<const store_root> root;
  /// Checked before writing (another process may have taken the store over), and held until the
  /// save is done: no other process opens the store for writing while this one's checkpoint is
  /// being written.
  std::shared_ptr<const store_lock> lock;
};

/// Spawns one save, monitored by `parent`: the saver's down message says how it went (no error:
/// saved). One at a time: two saves would write the same temp file.
caf::actor spawn_checkpoint_saver(caf::local_actor* parent, checkpoint_job job);

} // namespace evstore
