#pragma once

// A task's events file, opened for reading through the store root (no symbolic links, regular files
// only: store_files.hpp) and read line by line (line_reader.hpp), a failed read being an io_error that
// names the file. Every scan of a log (a writer's load, its recent ids, a read, a fetch's scan, the
// full scan) is this one sequence.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "src/format/line_reader.hpp"
#include "store_files.hpp"
#include "store_layout.hpp"

namespace evstore {

class log_file {
public:
  /// Opens `task`'s events file read-only. A missing file or task directory is an empty log_file,
  /// not an error (cleanup may have removed it); what the root refuses to open is its error.
  static caf::expected<log_file> open(const store_root& root, const std::string& task);

  /// False if the task has no events file.
  explicit operator bool() const {
    return static_cast<bool>(fd_);
  }

  /// The file's identity (file_io.hpp's file_id_of), which tells it from the file a compaction
  /// renames over it; 0 if unknown.
  uint64_t file_id() const;

  /// Calls `on_line(const raw_line&)` for every line in file order. As for every reader, a
  /// `too_long` line must be counted as corrupt.
  template <class OnLine>
  caf::error for_each_line(OnLine&& on_line) const {
    return for_each_line_from(0, std::forward<OnLine>(on_line));
  }

  /// for_each_line from the line starting at byte `start` on; `on_line` may stop the reading by
  /// returning false.
  template <class OnLine>
  caf::error for_each_line_from(uint64_t start, OnLine&& on_line) const {
    if (int err = evstore::for_each_line(fd_.get(), start, std::forward<OnLine>(on_line)))
      return io_error("cannot read", shown_, err);
    return caf::none;
  }

  /// True if the file holds the line `text`, newline included, at byte `offset`.
  bool holds_line_at(uint64_t offset, std::string_view text) const;

private:
  log_file(unique_fd fd, std::string shown) : fd_(std::move(fd)), shown_(std::move(shown)) {
  }

  unique_fd fd_;
  std::string shown_; // the path errors name
};

/// Opens `task`'s events file, calls `on_line` for each of its lines and closes it. False if the
/// task has no events file (then `on_line` is never called).
template <class OnLine>
caf::expected<bool> for_each_log_line(const store_root& root, const std::string& task,
                                      OnLine&& on_line) {
  auto log = log_file::open(root, task);
  if (!log)
    return log.error();
  if (!*log)
    return false;
  if (auto err = log->for_each_line(std::forward<OnLine>(on_line)))
    return err;
  return true;
}

} // namespace evstore
