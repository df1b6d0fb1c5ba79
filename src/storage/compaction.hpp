#pragma once

// The two halves of compacting a task's log (SPEC §3, docs/FORMAT.md), apart so that each is testable
// alone: which lines a retention policy keeps (plain text in, text out), and how the new log takes
// the old one's place on disk without ever leaving a half-written log or losing a corrupt line.
// task_log::compact (task_log_compaction.cpp) runs them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "messages/commands.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/retention_policy.hpp"
#include "messages/timestamp.hpp"
#include "store_files.hpp"

namespace evstore {

struct compaction_plan {
  /// The new log: the lines kept, byte for byte, each with its newline.
  std::string kept;
  /// Lines no reader can use (unparsable, or too long to read), byte for byte, for events.corrupt.
  std::string corrupt;
  /// Lines removed by the policy, kept, and moved aside.
  compact_result counts;
  /// Valid events among the kept lines: what the index counts (future-schema lines it does not).
  uint64_t kept_valid = 0;
  /// Per type, the new log's summary (positions and offsets in `kept`).
  std::vector<type_summary> types;

  /// False if the log would stay as it is: nothing to remove and nothing to move aside.
  bool changes_anything() const {
    return counts.removed > 0 || counts.corrupt_moved > 0;
  }
};

/// What `policy` keeps of `content`, a log whose every line ends in a newline (a torn tail is
/// terminated first). Blank lines are dropped. A line whose ts cannot be read (a later schema's may
/// lack one) is never removed for its age, though it counts towards max_events. `sketch_size` as
/// for summaries.
compaction_plan plan_compaction(std::string_view content, const retention_policy& policy,
                                timestamp now, size_t sketch_size);

/// Makes `kept` `task`'s log, in its directory `dir_fd`: written to a temporary name and fsynced,
/// `corrupt` appended to events.corrupt and fsynced, renamed over events.jsonl, the directory
/// fsynced. If a step before the rename fails, nothing has changed: the temporary file is removed
/// and events.corrupt put back as it was. Returns the new log's identity (file_id_of).
caf::expected<uint64_t> replace_log(const store_root& root, int dir_fd, const std::string& task,
                                    std::string_view kept, std::string_view corrupt);

} // namespace evstore
