#pragma once

// Typed notifications a writer sends, in order, to whoever indexes the store. Because each writer sends
// its own notifications through one mailbox, per-task order is the order of the writes on disk.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "evstore/messages/event.hpp"

namespace evstore {

/// One event was written to `task`'s log.
struct appended {
  std::string task;
  std::string type;
  timestamp ts{};
  /// Index among the task's valid events.
  uint64_t position = 0;
  /// Byte offset of the line in the task's file.
  uint64_t offset = 0;
};

/// What one task holds of one event type.
struct type_summary {
  std::string type;
  uint64_t count = 0;
  timestamp newest_ts{};
};

/// `task`'s log was rewritten by compaction; `types` is its complete new content by type, so an index
/// replaces what it knew of the task instead of rebuilding anything.
struct compacted {
  std::string task;
  uint64_t removed = 0;
  uint64_t remaining = 0;
  std::vector<type_summary> types;
};

/// A task's directory was removed by cleanup; it has no events any more.
struct task_removed {
  std::string task;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, appended& x) {
  return f(caf::meta::type_name("evstore::appended"), x.task, x.type, x.ts, x.position, x.offset);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, type_summary& x) {
  return f(caf::meta::type_name("evstore::type_summary"), x.type, x.count, x.newest_ts);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compacted& x) {
  return f(caf::meta::type_name("evstore::compacted"), x.task, x.removed, x.remaining, x.types);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_removed& x) {
  return f(caf::meta::type_name("evstore::task_removed"), x.task);
}

} // namespace evstore
