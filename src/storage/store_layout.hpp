#pragma once

// Where things live under a store root (SPEC §2, docs/FORMAT.md):
//   <root>/format_version          "1\n"
//   <root>/LOCK                    advisory write lock, holds the writer's pid
//   <root>/index.checkpoint        what the index knew at its last save (a cache; never the truth)
//   <root>/events.jsonl            system-wide events (task "")
//   <root>/<task>/events.jsonl     one task's log
//   <root>/<task>/events.corrupt   unparsable lines moved out by compaction, byte for byte

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "store_files.hpp"

namespace evstore {

constexpr const char* events_file_name = "events.jsonl";
constexpr const char* corrupt_file_name = "events.corrupt";
constexpr const char* compact_temp_suffix = ".compact.tmp";
constexpr const char* compact_temp_file_name = "events.jsonl.compact.tmp";
constexpr const char* format_version_file_name = "format_version";
constexpr const char* format_version_temp_file_name = "format_version.tmp";
constexpr const char* lock_file_name = "LOCK";
constexpr const char* checkpoint_file_name = "index.checkpoint";
constexpr const char* checkpoint_temp_file_name = "index.checkpoint.tmp";
constexpr int store_format_version = 1;

/// Directory holding `task`'s files: the root itself for the system-wide task "".
std::string task_dir(const std::string& root, const std::string& task);

/// `task`'s log file.
std::string events_path(const std::string& root, const std::string& task);

/// Prepares `root` for use and returns its descriptor, through which every other file is opened.
/// Writable: creates it and `format_version` if missing (written to a temporary name, fsynced,
/// renamed, the directory fsynced). Both: refuse a `format_version` other than 1 with
/// errc::unsupported_format (an empty or torn one with how to repair it); read-only refuses a
/// missing root with errc::not_found.
caf::expected<std::shared_ptr<const store_root>> open_store_root(const std::string& root,
                                                                 bool read_only);

/// Task ids that have an events file (a regular file, in a real directory: symbolic links are not
/// part of the store), sorted; "" first if the system-wide file exists.
caf::expected<std::vector<std::string>> list_task_ids(const store_root& root);
caf::expected<std::vector<std::string>> list_task_ids(const std::string& root);

/// A task's events file as listed: its identity and size.
struct task_file {
  std::string task;
  /// file_io.hpp's file_id_of.
  uint64_t file_id = 0;
  uint64_t bytes = 0;
};

/// list_task_ids with each file's inode and size, from the same one stat per task.
caf::expected<std::vector<task_file>> list_task_files(const store_root& root);

/// Task directories under `root` (valid task ids, real directories), whether or not they hold an
/// events file.
caf::expected<std::vector<std::string>> list_task_dirs(const store_root& root);
caf::expected<std::vector<std::string>> list_task_dirs(const std::string& root);

/// Stats `task`'s events file into `out` (type, mode, inode, size and device) if it is a regular
/// file in a real directory (neither a symbolic link), and its identity into `*file_id` if given
/// (file_io.hpp's file_id_of); false otherwise. Opens nothing.
bool stat_events_file(const store_root& root, const std::string& task, struct stat& out,
                      uint64_t* file_id = nullptr);

/// True if `task` has an events file (as stat_events_file), and with `non_empty`, not an empty one.
bool task_has_events(const store_root& root, const std::string& task, bool non_empty = false);

/// Replaces the root's file `name` with `text` so that a crash leaves the old file or the new one,
/// whole: written to `temp_name` (a leftover removed first, never followed if a symlink), fsynced,
/// renamed over `name`, and the root fsynced.
caf::error replace_root_file(const store_root& root, const char* name, const char* temp_name,
                             std::string_view text);

/// The content of the root's file `name`, empty if there is none; what the root refuses to open (a
/// symbolic link, not a regular file) is an error.
caf::expected<std::string> read_root_file(const store_root& root, const char* name);

/// The device the root lives on (st_dev), 0 if unknown.
uint64_t device_of(const store_root& root);

/// fsyncs a directory so a rename or a new entry in it survives a crash.
caf::error fsync_dir(int dir_fd, const std::string& shown);

/// "<what> <path>: <strerror(errno)>" as an errc::io_error.
caf::error io_error(const std::string& what, const std::string& path, int err);

} // namespace evstore
