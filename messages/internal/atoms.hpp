#pragma once

// All atoms of the project in one place (at most 10 characters each; equal text means equal type).

#include <caf/atom.hpp>

namespace evstore {

/// Writer self-message: fsync what was written and acknowledge the waiting appends (group commit).
using sync_atom = caf::atom_constant<caf::atom("evs_sync")>;

/// The store's idle sweep: its own timer, and what it tells a writer it routed nothing to for a whole
/// period (the writer then closes its file and asks to retire).
using idle_atom = caf::atom_constant<caf::atom("evs_idle")>;

/// The index actor's timer: time to save a checkpoint if anything changed.
using checkpoint_atom = caf::atom_constant<caf::atom("evs_ckpt")>;

/// Sent by an actor to itself when told to exit: it quits once the messages queued before it (an
/// exit overtakes them) are handled, so what they carried is saved.
using close_atom = caf::atom_constant<caf::atom("evs_close")>;

} // namespace evstore
