#pragma once

// A store's logs read directly, beside the store rather than through it: what `evstore verify`,
// `stats` and `tail` use, for any program that looks at a store another process writes (leveldb's
// dumpfile is the model). Nothing here writes, creates or locks anything. Files are opened the way
// the store opens them: relative to the root's directory, never through a symbolic link (a task
// directory or a log that is one is refused, as the store refuses it), never blocking on a FIFO,
// regular files only. Errors are values of category `evstore` (errc); a bad file throws nothing.
//
//   auto logs = evstore::log_inspector::open("./events");
//   if (!logs) { std::cerr << evstore::render(logs.error()) << "\n"; return 1; }
//   for (const auto& task : *logs->tasks()) {
//     auto log = logs->open_log(task);             // one descriptor, closed with `log`
//     if (log)
//       log->for_each_line([](const evstore::log_line& line) { /* line.status, line.problem */ });
//   }
//
// Also the line format's helpers, for programs that print events as the store writes them or take
// events as JSON lines.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/errc.hpp"
#include "messages/event.hpp"
#include "messages/export.hpp"

namespace evstore {

// ---- One line --------------------------------------------------------------------------------

/// `ev`'s line as the store writes it (docs/FORMAT.md), with its newline. An unset ts is written as
/// the current time.
EVSTORE_API std::string to_log_line(const event& ev);

/// True for a line of only spaces, tabs or a '\r': readers pass over it; it is neither an event nor
/// corrupt.
EVSTORE_API bool is_blank_line(std::string_view line);

/// The `data` member of a JSON object line exactly as written there (numbers keep every digit,
/// strings their escapes): for programs that take events as JSON lines and must not round numbers
/// through a DOM. A view into `line`; nullopt if `line` is not one JSON object by the readers' rules
/// or has no `data`.
EVSTORE_API std::optional<std::string_view> data_text(std::string_view line);

// ---- A log, line by line ---------------------------------------------------------------------

/// What the store's readers make of one line of a log.
enum class log_line_status {
  ok,            ///< an event
  blank,         ///< only whitespace: passed over
  corrupt,       ///< not JSON, or not a valid event: skipped and counted
  too_long,      ///< longer than any reader holds (64 MiB): corrupt to every reader
  future_schema, ///< a valid envelope with a schema_version above this library's: skipped, kept
  torn_tail,     ///< the last line, without its newline: an interrupted write, or one in flight
};

struct log_line {
  /// From 1.
  uint64_t number = 0;
  /// Byte offset of its first byte in the file.
  uint64_t offset = 0;
  /// Its length in bytes, without the newline.
  uint64_t length = 0;
  log_line_status status = log_line_status::ok;
  /// The event, when the status is ok; its task is the one whose log this is.
  event ev;
  /// What is wrong with the line, for people ("not a valid event"); "" when nothing is: an event, a
  /// blank line, a line of a future schema (a newer reader's, not damage). With
  /// log_checks::rust_crate, also why the Rust crate would skip an event.
  std::string problem;
};

/// Checks beyond the store's own.
struct log_checks {
  /// Also name the events the Rust crate would skip, and its compaction delete: types outside its
  /// list, no `data`, ids that are not uuids.
  bool rust_crate = false;
};

/// One log's counts, as a read of the task reports them, with its size and types.
struct log_stats {
  /// The file's size when it was opened.
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t events = 0;
  /// Corrupt lines and lines too long to read, as read_stats counts them.
  uint64_t corrupt_lines = 0;
  uint64_t future_schema_lines = 0;
  bool torn_tail = false;
  /// The distinct types of its events.
  std::set<std::string> types;
};

/// One task's log, open for reading: one file descriptor, closed when this is destroyed. Every walk
/// reads from the start to the end of the file as it is then.
class EVSTORE_API log_reader {
public:
  log_reader(log_reader&& other) noexcept;
  log_reader& operator=(log_reader&& other) noexcept;
  log_reader(const log_reader&) = delete;
  log_reader& operator=(const log_reader&) = delete;
  ~log_reader();

  const std::string& task() const {
    return task_;
  }

  /// "<root>/<task>/events.jsonl", for messages.
  const std::string& path() const {
    return path_;
  }

  /// Its size in bytes when it was opened.
  uint64_t size() const {
    return size_;
  }

  /// Calls `on_line` for every line in file order. A line too long to hold is reported without being
  /// read into memory. A read that fails ends the walk with errc::io_error; the lines before it were
  /// reported.
  caf::error for_each_line(const std::function<void(const log_line&)>& on_line,
                           log_checks checks = {}) const;

  /// Counts the whole log. Fails as for_each_line.
  caf::expected<log_stats> stats() const;

private:
  friend class log_inspector;
  log_reader(int fd, std::string task, std::string path, uint64_t size);

  int fd_ = -1;
  std::string task_;
  std::string path_;
  uint64_t size_ = 0;
};

/// A name in a store's root where a task directory could be.
struct task_entry {
  /// "" for the root itself, which holds the system-wide log.
  std::string task;
  /// A symbolic link in a task directory's place: the store does not read it, nor does open_log.
  bool symbolic_link = false;
  /// For messages: "<root>/<task>/events.jsonl" for a directory, the link itself for a link.
  std::string path;
};

/// A store's root, opened once for reading its logs.
class EVSTORE_API log_inspector {
public:
  /// Opens the store at `root` (which may itself be a symbolic link). errc::not_found if it does not
  /// exist, errc::unsupported_format if its format_version is not one this library reads.
  static caf::expected<log_inspector> open(const std::string& root);

  /// The root as given to open().
  const std::string& root() const;

  /// The tasks that have a log, as the store lists them with the system-wide log: sorted, "" first if
  /// the root holds one; a task directory or a log that is a symbolic link is not one.
  caf::expected<std::vector<std::string>> tasks() const;

  /// Every name a task could have: "" first, then, sorted, every task directory (with a log or
  /// without, a log the store cannot read included) and every symbolic link named like a task. For
  /// checking a store: what tasks() leaves out is what the store does not read.
  caf::expected<std::vector<task_entry>> entries() const;

  /// Opens `task`'s log. errc::not_found if it has none (never written, or removed since a listing);
  /// errc::invalid_task_id for a name no task has; errc::not_regular_file if the log or its task
  /// directory is a symbolic link, a directory, a FIFO or a device; errc::io_error if the system
  /// refuses.
  caf::expected<log_reader> open_log(const std::string& task) const;

private:
  struct root_handle;
  explicit log_inspector(std::shared_ptr<const root_handle> root);

  std::shared_ptr<const root_handle> root_;
};

} // namespace evstore
