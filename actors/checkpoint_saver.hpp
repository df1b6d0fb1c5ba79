#pragma once

// The checkpoint saver: writes the index's checkpoint to disk beside the store's files. It runs on a
// thread of its own (detached), because writing and fsyncing up to hundreds of megabytes must not
// stall the index or the scheduler's threads that the writers share.

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/internal/atoms.hpp"
#include "messages/internal/store_protocol.hpp"
#include "src/storage/store_files.hpp"
#include "src/storage/store_lock.hpp"

namespace evstore {

using checkpoint_saver = caf::typed_actor<caf::replies_to<save_checkpoint>::with<bool>,
                                          caf::reacts_to<close_atom>>;

/// `lock` is held until the saver quits, so no other process opens the store for writing while a
/// checkpoint of this one is still being written.
checkpoint_saver spawn_checkpoint_saver(caf::actor_system& sys,
                                        std::shared_ptr<const store_root> root,
                                        std::shared_ptr<const store_lock> lock);

} // namespace evstore
