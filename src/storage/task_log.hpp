#pragma once

// One task's log file and everything done to it: append (with torn-tail repair, optimistic versions and
// duplicate detection), read, fetch, compact and cleanup. Plain code with no actors, so it is testable
// alone; the writer actor owns exactly one task_log per task and so serialises every call by its
// mailbox. The append and read paths are in task_log.cpp and compact() in task_log_compaction.cpp
// (over compaction.hpp); every scan of the log goes through log_file.hpp, the dedupe window is
// recent_ids.hpp and the fetch cache fetch_cache.hpp.

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/commands.hpp"
#include "messages/internal/notifications.hpp"
#include "messages/internal/query_protocol.hpp"
#include "messages/retention_policy.hpp"
#include "messages/store_stats.hpp"
#include "messages/timestamp.hpp"
#include "fd_budget.hpp"
#include "fetch_cache.hpp"
#include "recent_ids.hpp"
#include "store_files.hpp"
#include "store_lock.hpp"
#include "src/index/type_sketch.hpp"

namespace evstore {

/// Told, synchronously and in disk order, what happened to the file. The writer actor forwards each
/// call to the index as a typed notification.
class task_log_observer {
public:
  virtual ~task_log_observer() = default;
  /// The file was (re)loaded: its complete content by type. Taken by value, so the observer can
  /// pass it on without copying it (20 types' summaries per file at population).
  virtual void on_loaded(task_summary summary) = 0;
  /// The file was loaded from what was known of it (assume_known): only the lines after that.
  virtual void on_extended(task_extended extension) = 0;
  virtual void on_appended(const appended& note) = 0;
  virtual void on_compacted(const compacted& note) = 0;
  virtual void on_removed(const task_removed& note) = 0;
};

/// When the log's owner acknowledges appends, which decides what the log itself makes durable. The
/// store's own setting (store_options::ack) is the actors' to translate: storage knows no actor.
enum class log_durability : uint8_t {
  /// After write(2): the log syncs nothing.
  written,
  /// After sync(): the log also makes the names it creates durable before the first
  /// acknowledgement, and syncs what it wrote before it closes the file.
  synced,
};

struct task_log_config {
  log_durability ack = log_durability::written;
  size_t max_line_bytes = size_t{1} << 20;
  size_t dedupe_window = 10'000;
  bool read_only = false;
  /// See store_options::crate_types_only.
  bool crate_types_only = false;
  /// Line references per (type, task) in summaries.
  size_t sketch_size = default_sketch_size;
  /// Decoded events of recently fetched lines kept for the next query (0: none).
  size_t fetch_cache_lines = 0;
  /// At most this often, a fetch checks the file for changes made behind our back (see
  /// store_options::external_change_check); appends check every time.
  std::chrono::milliseconds external_change_check{0};
  /// Shared by all writers of a store; never null.
  std::shared_ptr<fd_budget> fds;
  /// The store root every file is opened through (no symlinks, regular files only); never null.
  std::shared_ptr<const store_root> root;
  /// The store's write lock, checked before every compaction, and held by every copy of this
  /// config while a writer may still touch a file; null for read-only stores.
  std::shared_ptr<const store_lock> lock;
};

class task_log {
public:
  /// Manages <root>/<task>/events.jsonl (or <root>/events.jsonl for task ""), opened through
  /// `cfg.root` (whose path `root` is, for messages). The caller guarantees
  /// that no other task_log for the same file exists in this process, and the store lock that no other
  /// process writes it. Touches nothing on disk until the first call.
  /// `observer` may be null; it must outlive this object.
  task_log(std::string root, std::string task, task_log_config cfg,
           task_log_observer* observer = nullptr);
  ~task_log();
  task_log(const task_log&) = delete;
  task_log& operator=(const task_log&) = delete;

  /// Validates and writes one event (write(2) only; see `sync`). Fills an empty id and a zero ts.
  caf::expected<append_result> append(append_request req);

  /// True if lines were written since the last sync.
  bool needs_sync() const {
    return dirty_;
  }

  /// fdatasync(2)s what was written.
  caf::error sync();

  /// Syncs the directories of names this log created and has not synced yet (synced durability;
  /// nothing otherwise). A writer calls it before it retires: the record of what is unsynced lives
  /// only here, and a new writer would find the names and never sync them.
  /// `dir_fd`: the task's directory if the caller has it open, else -1 (it is opened if needed).
  caf::error sync_created_names(int dir_fd = -1);

  /// After a failed sync: removes the lines written since the last good one and reloads.
  void discard_unsynced();

  /// Treats the task's directory and file names as not yet synced, so the next append syncs them:
  /// for a writer whose predecessor died owing such syncs.
  void assume_names_unsynced() {
    root_entry_unsynced_ = dir_entry_unsynced_ = true;
  }

  /// Valid events in file order from the `from`-th on, at most `max_events` of them, with counters
  /// of what was skipped: in the whole file, or, for a read that stopped at `max_events`, in the
  /// lines up to its last event. A read from where the previous one stopped resumes there.
  caf::expected<read_result> read(uint64_t from,
                                  uint64_t max_events = std::numeric_limits<uint64_t>::max());

  /// Rewrites the file under `policy` (temp file, fsync, rename, fsync dir) and moves unparsable lines
  /// to events.corrupt. Leaves the file alone if there is nothing to remove.
  /// With `dry_run`, only counts what it would remove and move aside, and writes nothing. A policy
  /// validate() refuses is invalid_argument.
  caf::expected<compact_result> compact(const retention_policy& policy, timestamp now,
                                        bool dry_run = false);

  /// Loads the file if it is not loaded yet (reporting its summary, or the lines after what was
  /// known), else reports that nothing changed (an empty task_extended); returns its size in bytes.
  caf::expected<uint64_t> populate();

  /// What the next load may take as read instead of reading it again: the file's identity and the
  /// events in its first bytes, as the index knows them (from a checkpoint, or from this task's
  /// previous writer). Used only if the file is still that one (file_id_of), at least that long, and a line
  /// starts where the known bytes end; the load then reads and reports only the lines after.
  void assume_known(const file_extent& known) {
    if (!loaded_) // a loaded log knows better
      known_ = known;
  }

  /// release(), and forgets what was assumed of the file too (assume_known): for a file removed or
  /// put in place by someone other than this log (a task moved between nodes).
  void forget_file() {
    release();
    known_.reset();
  }

  /// What this log knows of its file (loaded, or assumed and not yet checked), for the task's
  /// next writer.
  std::optional<file_extent> extent() const {
    if (!loaded_)
      return known_;
    return file_extent{file_id_, size_, count_};
  }

  /// Events matching `req.prefix` ranked at or above `req.bound`, at most `req.limit` of the best:
  /// by reading the planned lines if the file is still the planned one, else by a scan whose result
  /// says the plan was stale.
  caf::expected<fetch_result> fetch(const fetch_request& req);

  /// Removes the task's directory if it holds no events (no file or an empty one) and nothing else
  /// worth keeping. Never touches the root, i.e. the system-wide task.
  caf::expected<bool> remove_if_empty();

  /// Closes the file and forgets cached state (counts, recent ids); the next call reloads it.
  void release();

  bool has_open_file() const {
    return fd_ >= 0;
  }

  const std::string& task() const {
    return task_;
  }

  /// Valid events in the file, as of the last load or append.
  uint64_t event_count() const {
    return count_;
  }

private:
  /// Loads the file if needed (load_file); closes it afterwards unless it holds a slot or `keep_fd`.
  caf::error load(bool keep_fd = false);
  caf::error load_file();
  /// True if the file is no longer what we loaded and wrote (deleted, replaced or resized).
  bool changed_behind_our_back() const;
  /// changed_behind_our_back(), if a check is due (see task_log_config::external_change_check).
  bool changed_behind_our_back_if_due();
  /// Fills recent_ from the file's last lines; only retried appends (client-chosen ids)
  /// need it, so loads that serve population, reads and generated ids skip it.
  caf::error load_recent_ids();
  caf::error open_for_append();
  /// Opens the existing file (read-write unless read-only) if it is not open: false if there is
  /// none, an error if the root refuses it (not a regular file, a symbolic link on the way).
  caf::expected<bool> open_existing();
  /// open_existing(), false on any failure.
  bool open_for_reading();
  void close_file();
  /// The log's identity (file_id_of) and size now, without following a symlink; false if there is
  /// no such file.
  bool stat_log(uint64_t& file_id, uint64_t& size) const;
  /// The stored event a retried append names, or id_conflict if the retry differs from it.
  caf::expected<append_result> stored_duplicate(const event& retry, uint64_t position,
                                                uint64_t offset);
  /// The planned lines, or nothing if the file is not the planned one or a line is not as planned.
  std::optional<fetch_result> read_planned(const fetch_request& req);
  caf::expected<fetch_result> scan_for(const fetch_request& req);

  const std::string root_;
  const std::string task_;
  const std::string dir_;
  const std::string path_;
  const task_log_config cfg_;
  task_log_observer* const observer_;

  int fd_ = -1;
  /// fd_ was opened for writing (a file we may only read is opened read-only for loads and reads).
  bool fd_writable_ = false;
  bool holds_slot_ = false;
  bool dirty_ = false;
  /// The file's size at the last successful sync (or load): lines beyond it are not yet durable.
  uint64_t synced_size_ = 0;
  /// Names this log created whose directory was not synced yet (durability synced): the task's
  /// directory in the root, the events file in the task's directory. Kept until a sync succeeds, so
  /// a failed directory sync is retried by the next append instead of forgotten.
  bool root_entry_unsynced_ = false;
  bool dir_entry_unsynced_ = false;
  bool loaded_ = false;
  /// Loads that reported to the observer: populate() reports even when it loads nothing.
  uint64_t reports_ = 0;
  /// See assume_known(); consumed by the next load.
  std::optional<file_extent> known_;
  uint64_t count_ = 0; // valid events
  uint64_t size_ = 0;  // bytes
  uint64_t file_id_ = 0; // identity of the file (file_id_of), 0 if there is none
  uint64_t size_at_open_ = 0; // the file's size when fd_ was opened
  std::chrono::steady_clock::time_point last_change_check_{};
  /// Emptied whenever the file may have changed (release()).
  fetch_cache fetch_cache_{cfg_.fetch_cache_lines};
  /// Where a read that stopped at its `max_events` stopped: the file (file_id_of), the position
  /// of the next valid event, the last event's line (its offset and bytes: a resumed read checks
  /// the file still holds it there, so a file cut and written again in place is read from its
  /// start) and the counters of the lines up to it. The last few, so that subscribers catching up
  /// on one task side by side each go on from their own. Emptied whenever the file may have
  /// changed (release()).
  struct read_cursor {
    uint64_t file_id = 0;
    uint64_t position = 0;
    uint64_t last_offset = 0;
    std::string last_line;
    read_stats stats;
  };
  static constexpr size_t kept_read_cursors = 4;
  std::vector<read_cursor> read_cursors_; // oldest first
  /// Whether recent_ holds the file's last ids; only retried appends need them (load_recent_ids).
  bool ids_loaded_ = false;
  recent_ids recent_{cfg_.dedupe_window};
};

} // namespace evstore
