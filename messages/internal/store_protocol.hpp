#pragma once

// What the store actor's own helpers ask of it, beyond the public interface: writers for a query's
// fetches, a population load routed to a task's writer, and a writer's request to retire.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>

#include "notifications.hpp"

namespace evstore {

/// A writer tells the router it has been idle after handling `handled` requests. The router retires it
/// only if it forwarded exactly that many, i.e. the writer's mailbox holds nothing from the router.
struct writer_idle {
  std::string task;
  uint64_t handled = 0;
  /// What the writer knew of its file, for the task's next writer; none if it had not loaded it.
  caf::optional<file_extent> extent;
};

/// Asks the store for the writers of `tasks` (spawning them as needed), so a query can send its
/// fetches straight to them. Each handle counts as one request routed to that writer: the asker must
/// send it exactly one request. Replies `writer_handles`, in the order of `tasks`.
struct resolve_writers {
  std::vector<std::string> tasks;
};

struct writer_handles {
  std::vector<caf::strong_actor_ptr> writers;
};

/// Sent to a writer during population: load the file and report its summary. Replies the file's
/// size in bytes.
struct populate_request {
  std::string task;
};

/// The population worker tells the store its pass is over: every load it asked for was answered
/// (and so reported to the index before), and the next pass may start.
struct population_done {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_done&) {
  return f(caf::meta::type_name("evstore::population_done"));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_idle& x) {
  return f(caf::meta::type_name("evstore::writer_idle"), x.task, x.handled, x.extent);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resolve_writers& x) {
  return f(caf::meta::type_name("evstore::resolve_writers"), x.tasks);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_handles& x) {
  return f(caf::meta::type_name("evstore::writer_handles"), x.writers);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, populate_request& x) {
  return f(caf::meta::type_name("evstore::populate_request"), x.task);
}

} // namespace evstore
