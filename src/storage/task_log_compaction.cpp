// task_log::compact: the checks a rewrite of the log needs, then compaction.hpp's plan and
// replacement, then what the writer must forget and tell the index.

#include <fcntl.h>

#include "compaction.hpp"
#include "file_io.hpp"
#include "store_layout.hpp"
#include "task_log.hpp"

namespace evstore {

caf::expected<compact_result> task_log::compact(const retention_policy& policy, timestamp now_ts,
                                                bool dry_run) {
  if (cfg_.read_only && !dry_run) // a dry run only reads, so a read-only store may count
    return make_error(errc::read_only, "store is open read-only; cannot compact");
  if (auto err = validate(policy))
    return err;
  if (!dry_run) { // a dry run writes nothing, not even the repair of a torn tail load() makes
    // Two writers rewriting one file lose acknowledged events: if LOCK was deleted or replaced,
    // another process may hold a lock of its own, so this one stops rewriting.
    if (cfg_.lock)
      if (auto err = cfg_.lock->verify())
        return err;
    if (auto err = load())
      return err;
    close_file(); // after the rename, an open descriptor would point at the old file
  }
  // The log is read and replaced in the one directory held open, whatever happens to its name.
  auto dir = cfg_.root->open_task_dir(task_, false);
  if (!dir)
    return dir.error();
  if (!*dir)
    return compact_result{};
  auto log = cfg_.root->open_file_in(dir->get(), task_, events_file_name, O_RDONLY);
  if (!log)
    return log.error();
  if (!*log)
    return compact_result{};
  auto content = read_all(log->get(), path_);
  if (!content)
    return content.error();
  *log = unique_fd{};
  auto plan = plan_compaction(*content, policy, now_ts, cfg_.sketch_size);
  if (dry_run || !plan.changes_anything())
    return plan.counts;
  auto new_file_id = replace_log(*cfg_.root, dir->get(), task_, plan.kept, plan.corrupt);
  if (!new_file_id)
    return new_file_id.error();
  // Valid events removed, as the index counts them (future-schema lines are not indexed).
  const uint64_t removed_valid = count_ - plan.kept_valid;
  release(); // counts and recent ids are reloaded from the new file on next use
  known_ = file_extent{*new_file_id, plan.kept.size(), plan.kept_valid}; // ...but not re-read
  if (observer_)
    observer_->on_compacted(compacted{task_, removed_valid,
                                      task_summary{task_, *new_file_id, plan.kept_valid,
                                                   plan.kept.size(), std::move(plan.types)}});
  return plan.counts;
}

} // namespace evstore
