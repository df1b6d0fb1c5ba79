#pragma once

// Where things live under a store root (SPEC §2, FORMAT.md):
//   <root>/format_version          "1\n"
//   <root>/LOCK                    advisory write lock, holds the writer's pid
//   <root>/events.jsonl            system-wide events (task "")
//   <root>/<task>/events.jsonl     one task's log
//   <root>/<task>/events.corrupt   unparsable lines moved out by compaction, byte for byte

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace evstore {

constexpr const char* events_file_name = "events.jsonl";
constexpr const char* corrupt_file_name = "events.corrupt";
constexpr const char* compact_temp_suffix = ".compact.tmp";
constexpr const char* format_version_file_name = "format_version";
constexpr const char* lock_file_name = "LOCK";
constexpr int store_format_version = 1;

/// Directory holding `task`'s files: the root itself for the system-wide task "".
std::string task_dir(const std::string& root, const std::string& task);

/// `task`'s log file.
std::string events_path(const std::string& root, const std::string& task);

/// Prepares `root` for use. Writable: creates it and `format_version` if missing. Both: refuses a
/// `format_version` other than 1 with errc::unsupported_format; read-only refuses a missing root with
/// errc::not_found.
caf::error open_root(const std::string& root, bool read_only);

/// Task ids that have an events file, sorted; "" first if the system-wide file exists.
caf::expected<std::vector<std::string>> list_task_ids(const std::string& root);

/// Task directories under `root` (valid task ids only), whether or not they hold an events file.
caf::expected<std::vector<std::string>> list_task_dirs(const std::string& root);

/// fsyncs a directory so a rename or a new entry in it survives a crash.
caf::error fsync_dir(const std::string& dir);

/// "<what> <path>: <strerror(errno)>" as an errc::io_error.
caf::error io_error(const std::string& what, const std::string& path, int err);

} // namespace evstore
