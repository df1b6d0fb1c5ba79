#pragma once

// Plain reads and writes on a descriptor the caller already holds, retried when a signal interrupts
// them: the few POSIX loops the log needs, written once.

#include <cstddef>
#include <cstdint>
#include <string>

#include <sys/stat.h>

#include <caf/expected.hpp>

namespace evstore {

/// Writes all of `data`, retrying short writes. Returns 0 or the errno of the failed write; `done`
/// says how much got out either way, so a caller can take back a partial line.
int write_all(int fd, const char* data, size_t size, size_t& done);

/// Everything from the descriptor's position to the end; a failed read is an io_error naming
/// `shown`.
caf::expected<std::string> read_all(int fd, const std::string& shown);

/// The whole of a small file named by a path outside any store (a cluster's membership file, the
/// credential CAF was configured with). The path may be a symbolic link (a user's own file, where
/// links are common), but what it names must be a regular file of at most `max_bytes`: a FIFO
/// would block the caller and a device such as /dev/zero would be read until memory ran out, so
/// either is refused (errc::not_regular_file, or errc::invalid_argument when too large) and never
/// opened for long: it is looked at first and opened without blocking.
caf::expected<std::string> read_small_file(const std::string& path, size_t max_bytes);

/// Reads the line starting at `offset` (without its newline) into `out`. False if there is no whole
/// line there, or if it is longer than `max_bytes` (line_too_long, the readers' rule).
bool read_line_at(int fd, uint64_t offset, size_t max_bytes, std::string& out);

/// What identifies a log file across renames and reopens: its inode number mixed with its birth
/// time (statx's btime, where the file system keeps one), because an inode number alone comes back
/// for a file created after the old one was deleted (ext4 reuses the lowest free number), and a
/// checkpoint or a writer must never take that file for the one it knew. Never 0 for a file; 0 if
/// `fd` cannot be stat'ed.
uint64_t file_id_of(int fd);

/// The same identity from a statx result (stx_ino, and stx_btime if its mask says so).
uint64_t file_id_of(const struct statx& stx);

/// The size of the file behind `fd`, 0 if fstat fails.
uint64_t file_size(int fd);

/// True if a line starts at `offset`: it is 0, or the byte before it is a newline.
bool line_starts_at(int fd, uint64_t offset);

} // namespace evstore
