#pragma once

// A task's events file moved between two stores byte for byte (evstore rebalance): digested,
// exported in chunks, written to an incoming copy beside the file's place, committed by a rename
// once the copy is whole and checked, and removed from the old store only if it is still the file
// that was copied. Every file is opened through the store root (no symbolic links, regular files
// only); the caller is the task's writer, the only actor touching the task's files.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "messages/rebalance.hpp"
#include "store_files.hpp"

namespace evstore {

constexpr const char* incoming_file_name = "events.incoming";

/// Size and CRC-32 of `name` in `task`'s directory (exists false if there is no such file).
caf::expected<task_digest> digest_task_file(const store_root& root, const std::string& task,
                                            const std::string& name);

/// Up to `max_bytes` of the task's events file from `offset` (fewer at its end; an empty string
/// past it). A missing file is errc::not_found.
caf::expected<std::string> read_task_bytes(const store_root& root, const std::string& task,
                                           uint64_t offset, uint64_t max_bytes);

/// Writes `bytes` at `offset` of the task's incoming copy, creating the task's directory, and the
/// copy afresh at offset 0. An offset past the copy's end (a chunk lost) is errc::invalid_argument.
/// Returns the copy's digest-less size (crc 0) so far.
caf::expected<task_digest> write_incoming(const store_root& root, const std::string& task,
                                          uint64_t offset, const std::string& bytes);

/// Makes the incoming copy the task's events file if it has `size` bytes and CRC `crc`: fsynced,
/// renamed over nothing (an events file already there is refused: errc::id_conflict), the
/// directories fsynced. errc::invalid_argument (the copy is removed) if it does not match.
caf::error commit_incoming(const store_root& root, const std::string& task, uint64_t size,
                           uint32_t crc);

/// Removes the task's events file if its digest is `size` and `crc` (errc::id_conflict otherwise:
/// it changed since it was copied), then the task's directory if nothing else is in it (an
/// events.corrupt stays, as cleanup keeps it). True if a file was removed.
caf::expected<bool> remove_task_file(const store_root& root, const std::string& task,
                                     uint64_t size, uint32_t crc);

} // namespace evstore
