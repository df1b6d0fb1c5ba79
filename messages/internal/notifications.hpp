#pragma once

// Typed notifications a writer sends, in order, to whoever indexes the store. Because each writer sends
// its own notifications through one mailbox, per-task order is the order of the writes on disk.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "messages/event.hpp"

namespace evstore {

/// Where one event's line is: enough to rank it (SPEC §3 order) and to read it back with one pread.
struct line_ref {
  timestamp ts{};
  /// Index among the task's valid events.
  uint64_t position = 0;
  /// Byte offset of the line in the task's file.
  uint64_t offset = 0;
};

/// One event was written to `task`'s log.
struct appended {
  std::string task;
  std::string type;
  line_ref line;
  /// Identity of the file written (file_io.hpp's file_id_of: inode and birth time); offsets are
  /// meaningful only for this file.
  uint64_t file_id = 0;
  /// The file's size after this line: where the next line starts.
  uint64_t end = 0;
};

/// What one task holds of one event type: a summary whose size does not grow with events.
struct type_summary {
  std::string type;
  uint64_t count = 0;
  timestamp newest_ts{};
  /// The last few lines of this type in file order (oldest first), at most the sketch size.
  std::vector<line_ref> recent;
  /// Whether older lines exist beyond `recent`, and the highest-ranked of them (by ts, then position).
  bool has_older = false;
  timestamp older_max_ts{};
  uint64_t older_max_position = 0;
};

/// A task's complete content by type, as a writer found it when it loaded the file (on first use or
/// during population). Replaces whatever the index knew of the task.
struct task_summary {
  std::string task;
  uint64_t file_id = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  std::vector<type_summary> types;
};

/// `task`'s log was rewritten by compaction; `summary` is its complete new content, so an index
/// replaces what it knew of the task instead of rebuilding anything.
struct compacted {
  std::string task;
  uint64_t removed = 0;
  task_summary summary;
};

/// What is known to be in a task's file: its identity (file_id_of; 0: no file) and the `events` valid
/// events in its first `bytes` bytes, which end where a line ends. Kept by the store for a task
/// whose writer retired, and by the checkpoint, so that the task's next load reads only what came
/// after.
struct file_extent {
  uint64_t file_id = 0;
  uint64_t bytes = 0;
  uint64_t events = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_extent& x) {
  return f(caf::meta::type_name("evstore::file_extent"), x.file_id, x.bytes, x.events);
}

/// One line of a task_extended: its type and where it is.
struct typed_line {
  std::string type;
  line_ref line;
};

/// A writer found its task's file longer than the index knew it (from the checkpoint, or from the
/// task's previous writer) and read only the lines after what was known: the index extends its
/// summaries instead of replacing them. `from_events` and `from_bytes` of file `file_id` are what
/// the index must already know of the task; `events` and `bytes` are the file's totals after `lines`.
struct task_extended {
  std::string task;
  uint64_t file_id = 0;
  uint64_t from_events = 0;
  uint64_t from_bytes = 0;
  uint64_t events = 0;
  uint64_t bytes = 0;
  std::vector<typed_line> lines;
};

/// A task's directory was removed by cleanup; it has no events any more.
struct task_removed {
  std::string task;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, line_ref& x) {
  return f(caf::meta::type_name("evstore::line_ref"), x.ts, x.position, x.offset);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, appended& x) {
  return f(caf::meta::type_name("evstore::appended"), x.task, x.type, x.line, x.file_id,
           x.end);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, type_summary& x) {
  return f(caf::meta::type_name("evstore::type_summary"), x.type, x.count, x.newest_ts, x.recent,
           x.has_older, x.older_max_ts, x.older_max_position);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_summary& x) {
  return f(caf::meta::type_name("evstore::task_summary"), x.task, x.file_id, x.events, x.bytes,
           x.types);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, typed_line& x) {
  return f(caf::meta::type_name("evstore::typed_line"), x.type, x.line);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_extended& x) {
  return f(caf::meta::type_name("evstore::task_extended"), x.task, x.file_id, x.from_events,
           x.from_bytes, x.events, x.bytes, x.lines);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compacted& x) {
  return f(caf::meta::type_name("evstore::compacted"), x.task, x.removed, x.summary);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_removed& x) {
  return f(caf::meta::type_name("evstore::task_removed"), x.task);
}

/// A writer wrote `ev` at `position` of its task (after the fsync when appends wait for one).
struct event_written {
  event ev;
  uint64_t position = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_written& x) {
  return f(caf::meta::type_name("evstore::event_written"), x.ev, x.position);
}

} // namespace evstore
